package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/groq-exporter/groq_exporter/config"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/groq-exporter/groq_exporter/groq"
)

// answer is what queryServer sends for one query.
type answer struct {
	status int
	body   string
}

// sample is one series of a vector answer.
type sample struct {
	labels map[string]string
	value  string
}

func vector(samples ...sample) answer {
	type vs struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	res := make([]vs, 0, len(samples))
	for _, s := range samples {
		res = append(res, vs{Metric: s.labels, Value: [2]any{1764430000, s.value}})
	}
	b, err := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": res}})
	if err != nil {
		panic(err)
	}
	return answer{200, string(b)}
}

func failure(status int, msg string) answer {
	return answer{status, fmt.Sprintf(`{"status":"error","errorType":"%d","error":%q}`, status, msg)}
}

// queryServer answers each MetricsQL expression with its own answer, and
// counts the calls per expression.
type queryServer struct {
	mu      sync.Mutex
	answers map[string]answer // by expression; "" is the answer to any other
	calls   map[string]int
}

func newQueryServer(t *testing.T, answers map[string]answer) (*queryServer, *groq.Client) {
	t.Helper()
	s := &queryServer{answers: answers, calls: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client, err := groq.New(groq.Config{URL: srv.URL, HTTPClient: srv.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s, client
}

func (s *queryServer) set(expr string, a answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[expr] = a
}

func (s *queryServer) callsTo(expr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[expr]
}

func (s *queryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	expr := r.URL.Query().Get("query")
	s.mu.Lock()
	a, ok := s.answers[expr]
	if !ok {
		a = s.answers[""]
	}
	s.calls[expr]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

// fixedCollector returns a collector on client with a fixed clock, and a
// plain registry serving it.
func fixedCollector(t *testing.T, client Querier, opts Options) (*Collector, *prometheus.Registry) {
	t.Helper()
	c, err := New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return fixedNow }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return c, reg
}

// compareMetrics compares the named families of g with want, in the text format.
func compareMetrics(t *testing.T, g prometheus.Gatherer, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(g, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

const (
	errorRatioExpr = `sum by (model) (requests:rate1m{status_code!~"2.."}) / sum by (model) (requests:rate1m)`
	tokensExpr     = `sum by (model) (tokens_out:p50:rate5m)`
)

var builtinAnswer = vector(
	sample{map[string]string{"__name__": "requests:rate1m", "model": "llama", "status_code": "200"}, "2"},
)

// TestCustomQueries: the built-in set and two custom queries in one refresh;
// labels kept, renamed and added as configured; one query failing leaves the
// others served and sets groq_up 0, with groq_query_success telling which.
func TestCustomQueries(t *testing.T) {
	srv, client := newQueryServer(t, map[string]answer{
		"": builtinAnswer,
		errorRatioExpr: vector(
			sample{map[string]string{"model": "llama"}, "0.25"},
			sample{map[string]string{"model": "qwen"}, "0"},
		),
		tokensExpr: failure(422, "unknown series"),
	})
	c, reg := fixedCollector(t, client, Options{Queries: []config.Query{
		{Name: "groq_error_ratio", Help: "Error ratio.", Query: errorRatioExpr,
			Labels: []string{"model"}, RenameLabels: map[string]string{"model": "llm"}, StaticLabels: map[string]string{"team": "ml"}},
		{Name: "groq_output_tokens", Help: "Output tokens.", Query: tokensExpr},
	}})
	c.Refresh(context.Background())

	compareMetrics(t, reg, `
# HELP groq_error_ratio Error ratio.
# TYPE groq_error_ratio gauge
groq_error_ratio{llm="llama",team="ml"} 0.25
groq_error_ratio{llm="qwen",team="ml"} 0
# HELP groq_requests_rate1m Average requests per second to Groq over the last minute, by model and HTTP status code (Groq series requests:rate1m).
# TYPE groq_requests_rate1m gauge
groq_requests_rate1m{model="llama",status_code="200"} 2
# HELP groq_query_success 1 if the last run of the custom query against Groq succeeded, else 0.
# TYPE groq_query_success gauge
groq_query_success{query="groq_error_ratio"} 1
groq_query_success{query="groq_output_tokens"} 0
# HELP groq_up 1 if every query of the last refresh from Groq succeeded (the built-in families and each custom query), else 0; groq_query_success tells the custom queries apart.
# TYPE groq_up gauge
groq_up 0
# HELP groq_last_refresh_success_timestamp_seconds Unix time of the last refresh from Groq in which every query succeeded; 0 if there was none.
# TYPE groq_last_refresh_success_timestamp_seconds gauge
groq_last_refresh_success_timestamp_seconds 0
`, "groq_error_ratio", "groq_requests_rate1m", "groq_output_tokens", "groq_query_success", "groq_up",
		"groq_last_refresh_success_timestamp_seconds")
	if n := testutil.CollectAndCount(c, "groq_query_duration_seconds"); n != 2 {
		t.Errorf("%d groq_query_duration_seconds series, want one per custom query", n)
	}
	st := c.Status()
	if st.Up || st.LastError != "query groq_output_tokens: query: Groq rejected the query (HTTP 422): unknown series" {
		t.Errorf("status: up %v, last error %q", st.Up, st.LastError)
	}
	if len(st.Queries) != 2 || !st.Queries[0].Up || st.Queries[0].Series != 2 || st.Queries[1].Up {
		t.Errorf("status of the queries: %+v", st.Queries)
	}
	for _, expr := range []string{errorRatioExpr, tokensExpr, c.expr} {
		if n := srv.callsTo(expr); n != 1 {
			t.Errorf("%d calls for %s, want 1", n, expr)
		}
	}

	srv.set(tokensExpr, vector(sample{map[string]string{"model": "llama"}, "310"}))
	c.Refresh(context.Background())
	compareMetrics(t, reg, `
# HELP groq_output_tokens Output tokens.
# TYPE groq_output_tokens gauge
groq_output_tokens{model="llama"} 310
# HELP groq_up 1 if every query of the last refresh from Groq succeeded (the built-in families and each custom query), else 0; groq_query_success tells the custom queries apart.
# TYPE groq_up gauge
groq_up 1
`, "groq_output_tokens", "groq_up")
}

// TestCustomQueryLabels: with no labels listed every result label is kept
// (renamed where asked, __name__ dropped); series that the kept labels no
// longer tell apart are collapsed and counted; a static label wins over a
// result label of the same name.
func TestCustomQueryLabels(t *testing.T) {
	_, client := newQueryServer(t, map[string]answer{
		"all": vector(
			sample{map[string]string{"__name__": "requests:rate1m", "model": "a", "status_code": "200", "team": "upstream"}, "1"},
		),
		"some": vector(
			sample{map[string]string{"model": "a", "status_code": "200"}, "1"},
			sample{map[string]string{"model": "a", "status_code": "500"}, "2"},
		),
	})
	c, reg := fixedCollector(t, client, Options{Builtin: &config.Builtin{}, Queries: []config.Query{
		{Name: "groq_all", Help: "All labels.", Query: "all",
			RenameLabels: map[string]string{"status_code": "code"}, StaticLabels: map[string]string{"team": "ml"}},
		{Name: "groq_some", Help: "Model only.", Query: "some", Labels: []string{"model"}},
	}})
	c.Refresh(context.Background())
	compareMetrics(t, reg, `
# HELP groq_all All labels.
# TYPE groq_all gauge
groq_all{code="200",exported_team="upstream",model="a",team="ml"} 1
# HELP groq_some Model only.
# TYPE groq_some gauge
groq_some{model="a"} 1
# HELP groq_series_dropped Series in Groq's last answer that are not exported, by reason (unknown_name, bad_percentile, duplicate, invalid).
# TYPE groq_series_dropped gauge
groq_series_dropped{reason="bad_percentile"} 0
groq_series_dropped{reason="duplicate"} 1
groq_series_dropped{reason="invalid"} 0
groq_series_dropped{reason="unknown_name"} 0
`, "groq_all", "groq_some", "groq_series_dropped")
	if n := testutil.CollectAndCount(c, "groq_requests_rate1m"); n != 0 {
		t.Errorf("built-in families switched off, yet %d series", n)
	}
}

// TestQueryStaleness: each query keeps its own last good values: one that
// starts failing is served until MaxStale, then dropped, while the others
// go on.
func TestQueryStaleness(t *testing.T) {
	srv, client := newQueryServer(t, map[string]answer{
		"":  builtinAnswer,
		"a": vector(sample{map[string]string{"model": "llama"}, "1"}),
		"b": vector(sample{map[string]string{"model": "llama"}, "2"}),
	})
	c, reg := fixedCollector(t, client, Options{MaxStale: 5 * time.Minute, Queries: []config.Query{
		{Name: "groq_a", Help: "A.", Query: "a"},
		{Name: "groq_b", Help: "B.", Query: "b"},
	}})
	now := fixedNow
	c.now = func() time.Time { return now }
	c.Refresh(context.Background())

	srv.set("b", failure(503, "overloaded"))
	now = now.Add(time.Minute)
	c.Refresh(context.Background())
	const a, b, builtin = `groq_a{model="llama"} 1`, `groq_b{model="llama"} 2`, `groq_requests_rate1m{model="llama",status_code="200"} 2`
	got := exposition(t, reg)
	for _, want := range []string{a, b, builtin, "groq_up 0", `groq_query_success{query="groq_b"} 0`} {
		if !strings.Contains(got, want) {
			t.Errorf("within max-stale, want %q:\n%s", want, got)
		}
	}

	now = now.Add(5 * time.Minute)
	c.Refresh(context.Background())
	got = exposition(t, reg)
	if !strings.Contains(got, a) || !strings.Contains(got, builtin) || strings.Contains(got, "groq_b{") {
		t.Errorf("past max-stale, want groq_b dropped and the others served:\n%s", got)
	}
}

// TestOrganizations: two organizations in a Group, one up, one whose key
// Groq refuses. Every series and self-metric says which organization it is
// of; the failing one does not hide the other.
func TestOrganizations(t *testing.T) {
	_, good := newQueryServer(t, map[string]answer{
		"": vector(
			sample{map[string]string{"__name__": "requests:rate1m", "model": "llama", "status_code": "200", "organization": "upstream"}, "2"},
		),
		"up_ratio": vector(sample{map[string]string{}, "1"}),
	})
	_, bad := newQueryServer(t, map[string]answer{"": failure(401, "invalid API key")})
	queries := []config.Query{{Name: "groq_ratio", Help: "Ratio.", Query: "up_ratio"}}
	prod, err := New(good, Options{Organization: "prod", Queries: queries, Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_requests_rate1m"}}})
	if err != nil {
		t.Fatal(err)
	}
	staging, err := New(bad, Options{Organization: "staging", Queries: queries, Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_requests_rate1m"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Collector{prod, staging} {
		c.now = func() time.Time { return fixedNow }
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prod, staging)
	prod.Refresh(context.Background())
	staging.Refresh(context.Background())

	compareMetrics(t, reg, `
# HELP groq_ratio Ratio.
# TYPE groq_ratio gauge
groq_ratio{organization="prod"} 1
# HELP groq_requests_rate1m Average requests per second to Groq over the last minute, by model and HTTP status code (Groq series requests:rate1m).
# TYPE groq_requests_rate1m gauge
groq_requests_rate1m{exported_organization="upstream",model="llama",organization="prod",status_code="200"} 2
# HELP groq_query_success 1 if the last run of the custom query against Groq succeeded, else 0.
# TYPE groq_query_success gauge
groq_query_success{organization="prod",query="groq_ratio"} 1
groq_query_success{organization="staging",query="groq_ratio"} 0
# HELP groq_up 1 if every query of the last refresh from Groq succeeded (the built-in families and each custom query), else 0; groq_query_success tells the custom queries apart.
# TYPE groq_up gauge
groq_up{organization="prod"} 1
groq_up{organization="staging"} 0
# HELP groq_last_refresh_success_timestamp_seconds Unix time of the last refresh from Groq in which every query succeeded; 0 if there was none.
# TYPE groq_last_refresh_success_timestamp_seconds gauge
groq_last_refresh_success_timestamp_seconds{organization="prod"} 1.76443e+09
groq_last_refresh_success_timestamp_seconds{organization="staging"} 0
# HELP groq_series_dropped Series in Groq's last answer that are not exported, by reason (unknown_name, bad_percentile, duplicate, invalid).
# TYPE groq_series_dropped gauge
groq_series_dropped{organization="prod",reason="bad_percentile"} 0
groq_series_dropped{organization="prod",reason="duplicate"} 0
groq_series_dropped{organization="prod",reason="invalid"} 0
groq_series_dropped{organization="prod",reason="unknown_name"} 0
groq_series_dropped{organization="staging",reason="bad_percentile"} 0
groq_series_dropped{organization="staging",reason="duplicate"} 0
groq_series_dropped{organization="staging",reason="invalid"} 0
groq_series_dropped{organization="staging",reason="unknown_name"} 0
`, "groq_ratio", "groq_requests_rate1m", "groq_query_success", "groq_up", "groq_last_refresh_success_timestamp_seconds", "groq_series_dropped")
	if n, err := testutil.GatherAndCount(reg, "groq_scrape_duration_seconds"); err != nil || n != 2 {
		t.Errorf("%d groq_scrape_duration_seconds series, want one per organization", n)
	}
	assertLint(t, reg)
}

// blockingQuerier counts how many queries run at once.
type blockingQuerier struct {
	running, most atomic.Int64
	calls         atomic.Int64
	release       chan struct{}
}

func (q *blockingQuerier) Query(ctx context.Context, expr string) ([]groq.Sample, error) {
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
