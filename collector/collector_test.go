package collector

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/groq-exporter/groq_exporter/config"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/groq-exporter/groq_exporter/groq"
)

var update = flag.Bool("update", false, "rewrite the golden .metrics files in testdata/")

// fixedNow makes durations 0 and timestamps fixed, so golden files are exact.
var fixedNow = time.Unix(1764430000, 0)

// fakeGroq serves whatever answer() returns and counts the calls.
type fakeGroq struct {
	calls  atomic.Int64
	mu     sync.Mutex
	status int
	body   []byte
	header http.Header
	block  chan struct{} // if set, each request waits for it
}

func (f *fakeGroq) set(status int, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *fakeGroq) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	status, body := f.status, f.body
	for k, v := range f.header {
		w.Header()[k] = v
	}
	f.mu.Unlock()
	if r.URL.Path != "/api/v1/query" || r.URL.Query().Get("query") == "" {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestCollector returns a collector reading from f, with a fixed clock.
func newTestCollector(t *testing.T, f *fakeGroq, opts Options) (*Collector, *prometheus.Registry) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := groq.New(groq.Config{URL: srv.URL, HTTPClient: srv.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return fixedNow }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return c, reg
}

// exposition renders what reg would serve, in the text format, without the
// families named in skip.
func exposition(t *testing.T, reg prometheus.Gatherer, skip ...string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if slices.Contains(skip, mf.GetName()) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func compareGolden(t *testing.T, got, golden string) {
	t.Helper()
	path := filepath.Join("testdata", golden)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./collector -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (go test ./collector -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// assertLint fails the test for every problem client_golang's linter finds
// in what reg serves (names, units, help).
func assertLint(t *testing.T, reg prometheus.Gatherer) {
	t.Helper()
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestGolden runs each recorded Groq answer through the collector and compares
// the exposition byte for byte with its golden file.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		fixture, golden string
		status          int
	}{
		{"all_families.json", "all_families.metrics", 200},
		{"spellings.json", "spellings.metrics", 200},
		{"odd_values.json", "odd_values.metrics", 200},
		{"messy_labels.json", "messy_labels.metrics", 200},
		{"empty.json", "empty.metrics", 200},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := &fakeGroq{}
			f.set(tc.status, fixture(t, tc.fixture))
			c, reg := newTestCollector(t, f, Options{})
			c.Refresh(context.Background())
			compareGolden(t, exposition(t, reg), tc.golden)
			assertLint(t, reg)
		})
	}
}

// TestUpstreamErrors: every class of failure gives groq_up 0 and a scrape
// that still works, with the self-metrics present, and counts one failed
// run under its reason in groq_refresh_errors_total.
func TestUpstreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		reason string
	}{
		{"bad key", 401, `{"status":"error","errorType":"unauthorized","error":"invalid API key"}`, "auth"},
		{"forbidden", 403, `{"status":"error","errorType":"forbidden","error":"no access"}`, "auth"},
		{"no feature", 404, `404 page not found`, "not_found"},
		{"rate limited", 429, `{"status":"error","errorType":"429","error":"too many requests"}`, "rate_limited"},
		{"groq failure", 503, `<html><body>Service Unavailable</body></html>`, "server_error"},
		{"query rejected", 422, `{"status":"error","errorType":"422","error":"cannot parse query"}`, "query_rejected"},
		{"html from a proxy", 200, `<!DOCTYPE html><html><body>Login</body></html>`, "bad_body"},
		{"empty body", 200, ``, "bad_body"},
		{"truncated JSON", 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"requests:rate1m"`, "bad_body"},
		{"status error", 200, `{"status":"error","errorType":"execution","error":"query timed out"}`, "query_rejected"},
		{"wrong result type", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`, "bad_body"},
		{"scalar result", 200, `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`, "bad_body"},
		{"redirect", 307, ``, "redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGroq{}
			f.set(tc.status, []byte(tc.body))
			c, reg := newTestCollector(t, f, Options{})
			c.Refresh(context.Background())
			compareGolden(t, exposition(t, reg, refreshErrorsName), "down.metrics")
			want := ""
			for _, r := range Reasons {
				n := 0
				if r == tc.reason {
					n = 1
				}
				want += fmt.Sprintf("groq_refresh_errors_total{reason=%q} %d\n", r, n)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader("# HELP groq_refresh_errors_total "+refreshErrorsHelp+
				"\n# TYPE groq_refresh_errors_total counter\n"+want), refreshErrorsName); err != nil {
				t.Error(err)
			}
			if got := c.RefreshErrors(); len(got) != 1 || got[tc.reason] != 1 {
				t.Errorf("RefreshErrors() = %v, want %s: 1", got, tc.reason)
			}
			if st := c.Status(); st.Up || st.LastError == "" {
				t.Errorf("status = %+v, want down with an error", st)
			}
		})
	}
}

// TestStaleValues: after a failure the last good values are served until
// they are older than MaxStale, then dropped; a recovery brings them back.
func TestStaleValues(t *testing.T) {
	f := &fakeGroq{}
	f.set(200, fixture(t, "odd_values.json"))
	c, reg := newTestCollector(t, f, Options{MaxStale: 5 * time.Minute})
	now := fixedNow
	c.now = func() time.Time { return now }

	c.Refresh(context.Background())
	good := exposition(t, reg)
	if !strings.Contains(good, `groq_requests_rate1m{model="zero",status_code="200"} 0`) {
		t.Fatalf("first refresh not served:\n%s", good)
	}

	f.set(500, []byte(`{"status":"error","errorType":"500","error":"boom"}`))
	now = now.Add(time.Minute)
	c.Refresh(context.Background())
	stale := exposition(t, reg)
	if !strings.Contains(stale, "\ngroq_up 0\n") || !strings.Contains(stale, `groq_requests_rate1m{model="zero",status_code="200"} 0`) {
		t.Errorf("within max-stale, want groq_up 0 and the last values:\n%s", stale)
	}

	now = now.Add(5 * time.Minute)
	c.Refresh(context.Background())
	gone := exposition(t, reg)
	if strings.Contains(gone, "groq_requests_rate1m") || !strings.Contains(gone, "\ngroq_up 0\n") {
		t.Errorf("past max-stale, want values dropped and groq_up 0:\n%s", gone)
	}

	f.set(200, fixture(t, "odd_values.json"))
	now = now.Add(time.Minute)
	c.Refresh(context.Background())
	if back := exposition(t, reg); !strings.Contains(back, "\ngroq_up 1\n") || !strings.Contains(back, "groq_requests_rate1m") {
		t.Errorf("after recovery, want values back:\n%s", back)
	}
}

// TestVanishedModel: a model Groq stops returning disappears from /metrics.
func TestVanishedModel(t *testing.T) {
	f := &fakeGroq{}
	f.set(200, fixture(t, "all_families.json"))
	c, reg := newTestCollector(t, f, Options{CacheTTL: 0})
	c.Refresh(context.Background())
	if got := exposition(t, reg); !strings.Contains(got, `model="openai/gpt-oss-120b"`) {
		t.Fatal("model missing from the first answer")
	}
	f.set(200, bytes.ReplaceAll(fixture(t, "all_families.json"), []byte("openai/gpt-oss-120b"), []byte("llama-3.3-70b-versatile")))
	c.Refresh(context.Background())
	got := exposition(t, reg)
	if strings.Contains(got, "gpt-oss") {
		t.Errorf("vanished model still served:\n%s", got)
	}
	if !strings.Contains(got, `groq_series_dropped{reason="duplicate"} 21`) {
		t.Errorf("want the 21 colliding series counted as duplicates:\n%s", got)
	}
}

// TestCoalescing: concurrent scrapes share one call; Groq is asked at most
// once per TTL; a TTL of 0 asks on every refresh.
func TestCoalescing(t *testing.T) {
	f := &fakeGroq{block: make(chan struct{})}
	f.set(200, fixture(t, "all_families.json"))
	c, _ := newTestCollector(t, f, Options{CacheTTL: 30 * time.Second})
	now := fixedNow
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { c.Refresh(context.Background()) })
	}
	for f.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(f.block)
	wg.Wait()
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("100 concurrent refreshes made %d calls to Groq, want 1", n)
	}

	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	advance(29 * time.Second)
	c.Refresh(context.Background())
	if n := f.calls.Load(); n != 1 {
		t.Errorf("a refresh within the TTL called Groq (%d calls)", n)
	}
	advance(2 * time.Second)
	c.Refresh(context.Background())
	if n := f.calls.Load(); n != 2 {
		t.Errorf("a refresh after the TTL made %d calls in all, want 2", n)
	}

	c.ttl = 0
	c.Refresh(context.Background())
	c.Refresh(context.Background())
	if n := f.calls.Load(); n != 4 {
		t.Errorf("with TTL 0, two refreshes made %d calls in all, want 4", n)
	}
}

// TestSelector: the built-in families travel in one selector, which
// restrictions narrow.
func TestSelector(t *testing.T) {
	for _, tc := range []struct {
		families []string
		models   string
		want     string
	}{
		{nil, "", `{__name__=~"requests:(increase1m|rate1m)|(e2e_latency_seconds|queue_latency_seconds|tokens_in|tokens_out|ttft_latency_seconds):[^:]+:rate5m"}`},
		{[]string{"groq_requests_rate1m"}, "llama.*", `{__name__=~"requests:(rate1m)",model=~"llama.*"}`},
		{[]string{"groq_tokens_in"}, "", `{__name__=~"(tokens_in):[^:]+:rate5m"}`},
	} {
		if got := builtinSelector(tc.families, tc.models); got != tc.want {
			t.Errorf("builtinSelector(%v, %q) = %s, want %s", tc.families, tc.models, got, tc.want)
		}
	}
	if _, err := New(nil, Options{Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_nope"}}}); err == nil {
		t.Error("an unknown family was accepted")
	}
}

func TestNormalizePercentile(t *testing.T) {
	for in, want := range map[string]string{
		"p99": "p99", "99": "p99", "0.99": "p99", "P99": "p99", "99th": "p99", "q99": "p99",
		"p95": "p95", "0.95": "p95", "p50": "p50", "50": "p50", "0.5": "p50", ".5": "p50",
		"p999": "p99.9", "99.9": "p99.9", "p99_9": "p99.9", "0.999": "p99.9", "p9999": "p99.99",
		"p5": "p5", "0.05": "p5", "p100": "p100", "p99.90": "p99.9", "0_99": "p99",
	} {
		got, err := NormalizePercentile(in)
		if err != nil || got != want {
			t.Errorf("NormalizePercentile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "p", "pXX", "max", "p-1", "0", "p0", "1.2.3", "150.5", "0.", "p 99"} {
		if got, err := NormalizePercentile(in); err == nil {
			t.Errorf("NormalizePercentile(%q) = %q, want an error", in, got)
		}
	}
}
