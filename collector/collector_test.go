package collector_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

var update = flag.Bool("update", false, "rewrite the golden .metrics files in testdata/")

// fixedNow makes durations 0 and timestamps fixed, so golden files are exact.
var fixedNow = time.Unix(1764430000, 0)

// answer is Groq's answer with status and body (a recorded one, say), in place of the fake's series.
func answer(status int, body []byte) groqtest.Fault {
	f := groqtest.Fault{Status: status, Text: string(body), Header: map[string]string{"Content-Type": "application/json"}}
	if len(body) == 0 {
		f.Body = groqtest.EmptyBody
	}
	return f
}

// set makes the fake Groq answer every request with a from now on.
func set(gw *groqtest.GatewayServer, a groqtest.Fault) {
	gw.ClearFaults()
	gw.Inject(a)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestCollector returns a collector reading from a fake Groq, with a fixed clock.
func newTestCollector(t *testing.T, opts collector.Options) (*collector.Collector, *prometheus.Registry, *groqtest.GatewayServer) {
	t.Helper()
	gw := groqtest.FakeForTest(t)
	client, err := groq.New(groq.Config{URL: gw.BaseURL(), HTTPClient: gw.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, reg := fixedCollector(t, client, opts)
	return c, reg, gw
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
		opts            collector.Options
	}{
		{"all_families.json", "all_families.metrics", 200, collector.Options{}},
		{"spellings.json", "spellings.metrics", 200, collector.Options{}},
		{"odd_values.json", "odd_values.metrics", 200, collector.Options{}},
		{"messy_labels.json", "messy_labels.metrics", 200, collector.Options{}},
		{"empty.json", "empty.metrics", 200, collector.Options{}},
		// families Groq adds, collisions between names and with the exporter's own metrics, untranslatable names
		{"added_families.json", "added_families.metrics", 200, collector.Options{Reserved: []string{"groq_exporter_build_info"}}},
		// the same answer, with the export kept to the documented families
		{"added_families.json", "documented_only.metrics", 200, collector.Options{Builtin: &config.Builtin{Enabled: true, DocumentedOnly: true}}},
		// the older scheme: levels of label names, histogram buckets made percentiles
		{"older_scheme.json", "older_scheme.metrics", 200, collector.Options{}},
		// every percentile spelling
		{"percentiles.json", "percentiles.metrics", 200, collector.Options{}},
		// series that do not decode, in a partial answer
		{"partial_bad_values.json", "partial_bad_values.metrics", 200, collector.Options{}},
		// a family whose series carry too different label names for one label set: each set keeps its own
		{"label_sets.json", "label_sets.metrics", 200, collector.Options{}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			c, reg, gw := newTestCollector(t, tc.opts)
			set(gw, answer(tc.status, fixture(t, tc.fixture)))
			c.Refresh(context.Background())
			compareGolden(t, collector.Exposition(t, reg), tc.golden)
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
		{"wrong result type", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`, "result_type"},
		{"scalar result", 200, `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`, "result_type"},
		{"redirect", 307, ``, "redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, reg, gw := newTestCollector(t, collector.Options{})
			set(gw, answer(tc.status, []byte(tc.body)))
			c.Refresh(context.Background())
			compareGolden(t, collector.Exposition(t, reg, "groq_refresh_errors_total"), "down.metrics")
			exp := collector.Exposition(t, reg)
			for _, r := range collector.RefreshReasons() {
				n := 0
				if r == tc.reason {
					n = 1
				}
				if line := fmt.Sprintf("groq_refresh_errors_total{reason=%q} %d\n", r, n); !strings.Contains(exp, line) {
					t.Errorf("the exposition lacks %q:\n%s", line, exp)
				}
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
	c, reg, gw := newTestCollector(t, collector.Options{MaxStale: 5 * time.Minute})
	set(gw, answer(200, fixture(t, "odd_values.json")))
	now := fixedNow
	collector.SetClock(c, func() time.Time { return now })

	c.Refresh(context.Background())
	good := collector.Exposition(t, reg)
	if !strings.Contains(good, `groq_requests_rate1m{model="zero",status_code="200"} 0`) {
		t.Fatalf("first refresh not served:\n%s", good)
	}

	set(gw, answer(500, []byte(`{"status":"error","errorType":"500","error":"boom"}`)))
	now = now.Add(time.Minute)
	c.Refresh(context.Background())
	stale := collector.Exposition(t, reg)
	if !strings.Contains(stale, "\ngroq_up 0\n") || !strings.Contains(stale, `groq_requests_rate1m{model="zero",status_code="200"} 0`) {
		t.Errorf("within max-stale, want groq_up 0 and the last values:\n%s", stale)
	}

	now = now.Add(5 * time.Minute)
	c.Refresh(context.Background())
	gone := collector.Exposition(t, reg)
	if strings.Contains(gone, "groq_requests_rate1m") || !strings.Contains(gone, "\ngroq_up 0\n") {
		t.Errorf("past max-stale, want values dropped and groq_up 0:\n%s", gone)
	}

	set(gw, answer(200, fixture(t, "odd_values.json")))
	now = now.Add(time.Minute)
	c.Refresh(context.Background())
	if back := collector.Exposition(t, reg); !strings.Contains(back, "\ngroq_up 1\n") || !strings.Contains(back, "groq_requests_rate1m") {
		t.Errorf("after recovery, want values back:\n%s", back)
	}
}

// TestVanishedModel: a model Groq stops returning disappears from /metrics.
func TestVanishedModel(t *testing.T) {
	c, reg, gw := newTestCollector(t, collector.Options{CacheTTL: 0})
	set(gw, answer(200, fixture(t, "all_families.json")))
	c.Refresh(context.Background())
	if got := collector.Exposition(t, reg); !strings.Contains(got, `model="openai/gpt-oss-120b"`) {
		t.Fatal("model missing from the first answer")
	}
	set(gw, answer(200, bytes.ReplaceAll(fixture(t, "all_families.json"), []byte("openai/gpt-oss-120b"), []byte("llama-3.3-70b-versatile"))))
	c.Refresh(context.Background())
	got := collector.Exposition(t, reg)
	if strings.Contains(got, "gpt-oss") {
		t.Errorf("vanished model still served:\n%s", got)
	}
	if !strings.Contains(got, `groq_series_dropped{reason="duplicate"} 21`) {
		t.Errorf("want the 21 colliding series counted as duplicates:\n%s", got)
	}
}
