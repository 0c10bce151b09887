package collector

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/config"

	"github.com/groq-exporter/groq_exporter/groq"
)

// blockingQuerier counts how many queries run at once.
type blockingQuerier struct {
	running, most atomic.Int64
	calls         atomic.Int64
	release       chan struct{}
}

func (q *blockingQuerier) QueryAnswer(ctx context.Context, expr string) (*groq.Answer, error) {
	n := q.running.Add(1)
	defer q.running.Add(-1)
	for {
		m := q.most.Load()
		if n <= m || q.most.CompareAndSwap(m, n) {
			break
		}
	}
	q.calls.Add(1)
	if expr == "slow" {
		<-ctx.Done() // only its own timeout ends it
		return nil, ctx.Err()
	}
	select {
	case <-q.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, nil
}

// TestConcurrencyBound: the queries of a refresh run at most Concurrency at
// a time; a query's own timeout ends it without ending the others.
func TestConcurrencyBound(t *testing.T) {
	q := &blockingQuerier{release: make(chan struct{})}
	var queries []config.Query
	for i := range 9 {
		queries = append(queries, config.Query{Name: fmt.Sprintf("groq_q%d", i), Help: "Q.", Query: fmt.Sprintf("q%d", i)})
	}
	queries = append(queries, config.Query{Name: "groq_slow", Help: "Slow.", Query: "slow", Timeout: config.Duration(time.Millisecond)})
	c, err := New(q, Options{Builtin: &config.Builtin{}, Concurrency: 3, Queries: queries})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Refresh(context.Background()); close(done) }()
	close(q.release)
	<-done
	if most := q.most.Load(); most > 3 || most < 1 {
		t.Errorf("%d queries ran at once, want at most 3", most)
	}
	if n := q.calls.Load(); n != 10 {
		t.Errorf("%d queries ran, want 10", n)
	}
	st := c.Status()
	for _, qs := range st.Queries {
		if wantUp := qs.Name != "groq_slow"; qs.Up != wantUp {
			t.Errorf("query %s up = %v, want %v (%s)", qs.Name, qs.Up, wantUp, qs.LastError)
		}
	}
}

// TestNewRejects: names that would break the exposition are refused even
// when the config package was bypassed.
func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Builtin: &config.Builtin{}}, "nothing to export"},
		{Options{Queries: []config.Query{{Name: "groq_requests_rate1m", Help: "h", Query: "x"}}}, "is a built-in family"},
		{Options{Queries: []config.Query{{Name: "groq_up", Help: "h", Query: "x"}}}, "one of the exporter's own metrics"},
		{Options{Queries: []config.Query{{Name: "groq_x", Help: "h", Query: "x"}, {Name: "groq_x", Help: "h", Query: "y"}}}, "duplicate name"},
		{Options{Queries: []config.Query{{Name: "groq:x", Help: "h", Query: "x"}}}, "not a valid metric name"},
		{Options{Queries: []config.Query{{Name: "groq_x", Help: "h", Query: "x", StaticLabels: map[string]string{"organization": "o"}}}}, "is reserved"},
		{Options{Queries: []config.Query{{Name: "groq_x", Query: "x"}}}, "help is missing"},
	} {
		if _, err := New(nil, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
	// A built-in family that is switched off may be rebuilt by a query.
	if _, err := New(nil, Options{Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_tokens_in"}}, Queries: []config.Query{{Name: "groq_requests_rate1m", Help: "h", Query: "x"}}}); err != nil {
		t.Errorf("a query named after a switched-off family: %v", err)
	}
}
