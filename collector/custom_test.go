package collector_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/config"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// series is one sample of Groq's answer, with labels given as name, value pairs.
func series(value float64, labels ...string) groqtest.Sample {
	m := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		m[labels[i]] = labels[i+1]
	}
	return groqtest.Sample{Labels: m, Value: value}
}

// failure is Groq's error answer with status and message, for one query.
func failure(expr string, status int, msg string) groqtest.Fault {
	return groqtest.Fault{Query: expr, Status: status, Text: fmt.Sprintf(`{"status":"error","errorType":"%d","error":%q}`, status, msg)}
}

// newQueryServer starts a fake Groq that answers the built-in selector from builtin, and returns a
// client of it.
func newQueryServer(t *testing.T, builtin ...groqtest.Sample) (*groqtest.GatewayServer, *groq.Client) {
	t.Helper()
	gw := groqtest.FakeForTest(t)
	gw.SetSeries(builtin...)
	client, err := groq.New(groq.Config{URL: gw.BaseURL(), HTTPClient: gw.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return gw, client
}

// fixedCollector returns a collector on client with a fixed clock, and a
// plain registry serving it.
func fixedCollector(t *testing.T, client collector.Querier, opts collector.Options) (*collector.Collector, *prometheus.Registry) {
	t.Helper()
	c, err := collector.New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	collector.SetClock(c, func() time.Time { return fixedNow })
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

var builtinAnswer = series(2, "__name__", "requests:rate1m", "model", "llama", "status_code", "200")

// TestCustomQueries: the built-in set and two custom queries in one refresh;
// labels kept, renamed and added as configured; one query failing leaves the
// others served and groq_up 1 (Groq answered the built-in families), with
// groq_query_success and its own reason telling which query failed.
func TestCustomQueries(t *testing.T) {
	srv, client := newQueryServer(t, builtinAnswer)
	srv.SetAnswer(errorRatioExpr, series(0.25, "model", "llama"), series(0, "model", "qwen"))
	srv.Inject(failure(tokensExpr, 422, "unknown series"))
	c, reg := fixedCollector(t, client, collector.Options{Queries: []config.Query{
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
# HELP groq_up 1 if the last refresh from Groq succeeded for the built-in families (without them: if Groq answered any query), else 0; a failing custom query shows in groq_query_success, not here.
# TYPE groq_up gauge
groq_up 1
# HELP groq_last_refresh_success_timestamp_seconds Unix time of the last refresh in which Groq could be read (as groq_up says); 0 if there was none.
# TYPE groq_last_refresh_success_timestamp_seconds gauge
groq_last_refresh_success_timestamp_seconds 1.76443e+09
`, "groq_error_ratio", "groq_requests_rate1m", "groq_output_tokens", "groq_query_success", "groq_up",
		"groq_last_refresh_success_timestamp_seconds")
	if n := testutil.CollectAndCount(c, "groq_query_duration_seconds"); n != 2 {
		t.Errorf("%d groq_query_duration_seconds series, want one per custom query", n)
	}
	if got := c.RefreshErrors(); len(got) != 1 || got["query_rejected"] != 1 {
		t.Errorf("failed runs by reason %v, want query_rejected 1", got)
	}
	st := c.Status()
	if !st.Up || st.LastError != "" {
		t.Errorf("status: up %v, last error %q; want up, no error: Groq answered", st.Up, st.LastError)
	}
	if len(st.Queries) != 2 || !st.Queries[0].Up || st.Queries[0].Series != 2 || st.Queries[1].Up ||
		st.Queries[1].LastError != "query: Groq rejected the query (HTTP 422): unknown series" {
		t.Errorf("status of the queries: %+v", st.Queries)
	}
	for _, expr := range []string{errorRatioExpr, tokensExpr, collector.BuiltinExpr(c)} {
		if n := srv.CallsFor(expr); n != 1 {
			t.Errorf("%d calls for %s, want 1", n, expr)
		}
	}

	srv.ClearFaults()
	srv.SetAnswer(tokensExpr, series(310, "model", "llama"))
	c.Refresh(context.Background())
	compareMetrics(t, reg, `
# HELP groq_output_tokens Output tokens.
# TYPE groq_output_tokens gauge
groq_output_tokens{model="llama"} 310
# HELP groq_up 1 if the last refresh from Groq succeeded for the built-in families (without them: if Groq answered any query), else 0; a failing custom query shows in groq_query_success, not here.
# TYPE groq_up gauge
groq_up 1
`, "groq_output_tokens", "groq_up")
}

// TestGroqUpIsGroq: groq_up says whether Groq could be read. A custom query
// that Groq answers with a matrix (as for a range selector, which the
// configuration refuses, but a backend may answer any query so) fails on its own, with
// reason result_type and groq_query_success 0, while groq_up stays 1; without
// the built-in families, groq_up is 0 only when Groq answered no query.
func TestGroqUpIsGroq(t *testing.T) {
	const rangeExpr = "answered_with_a_matrix"
	matrix := groqtest.Fault{Query: rangeExpr, Text: `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"model":"llama"},"values":[[1764430000,"1"]]}]}}`}
	queries := []config.Query{{Name: "groq_window", Help: "A matrix.", Query: rangeExpr}}
	for _, tc := range []struct {
		name    string
		builtin *config.Builtin
		faults  []groqtest.Fault
		up      string
		reasons map[string]int
	}{
		{"built-in families served, the query's result a matrix", nil, []groqtest.Fault{matrix}, "1", map[string]int{"result_type": 1}},
		{"no built-in family, the query's result a matrix", &config.Builtin{}, []groqtest.Fault{matrix}, "1", map[string]int{"result_type": 1}},
		{"no built-in family, Groq failing", &config.Builtin{}, []groqtest.Fault{{Status: 503}}, "0", map[string]int{"server_error": 1}},
		{"built-in families failing, the query refused", nil,
			[]groqtest.Fault{failure(rangeExpr, 422, "bad"), {Status: 503}}, "0", map[string]int{"server_error": 1, "query_rejected": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, client := newQueryServer(t, builtinAnswer)
			srv.Inject(tc.faults...)
			c, reg := fixedCollector(t, client, collector.Options{Builtin: tc.builtin, Queries: queries})
			c.Refresh(context.Background())
			got := collector.Exposition(t, reg)
			for _, want := range []string{"groq_up " + tc.up, `groq_query_success{query="groq_window"} 0`} {
				if !strings.Contains(got, want+"\n") {
					t.Errorf("want %q:\n%s", want, got)
				}
			}
			if got := c.RefreshErrors(); fmt.Sprint(got) != fmt.Sprint(tc.reasons) {
				t.Errorf("failed runs by reason %v, want %v", got, tc.reasons)
			}
			if st := c.Status(); st.Queries[0].LastError == "" || (tc.up == "1") != (st.LastError == "") {
				t.Errorf("status: Groq's error %q, the query's %q", st.LastError, st.Queries[0].LastError)
			}
		})
	}
}

// TestCustomQueryLabels: with no labels listed every result label is kept
// (renamed where asked, __name__ dropped); series that the kept labels no
// longer tell apart are collapsed and counted; a static label wins over a
// result label of the same name.
func TestCustomQueryLabels(t *testing.T) {
	srv, client := newQueryServer(t)
	srv.SetAnswer("all", series(1, "__name__", "requests:rate1m", "model", "a", "status_code", "200", "team", "upstream"))
	srv.SetAnswer("some", series(1, "model", "a", "status_code", "200"), series(2, "model", "a", "status_code", "500"))
	c, reg := fixedCollector(t, client, collector.Options{Builtin: &config.Builtin{}, Queries: []config.Query{
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
# HELP groq_series_dropped Series in Groq's last answer that are not exported, by reason: bad_name (the naming rule cannot translate it), name_collision (another upstream name gives the same series, or the name is taken), unknown_name (not a documented family the configuration keeps), bad_value, bad_label, no_value (not decodable), duplicate, invalid, too_many_names (past the first 2000 names of an answer), too_many_label_sets (a family's series past 100 different sets of label names).
# TYPE groq_series_dropped gauge
groq_series_dropped{reason="bad_label"} 0
groq_series_dropped{reason="bad_name"} 0
groq_series_dropped{reason="bad_value"} 0
groq_series_dropped{reason="duplicate"} 1
groq_series_dropped{reason="invalid"} 0
groq_series_dropped{reason="name_collision"} 0
groq_series_dropped{reason="no_value"} 0
groq_series_dropped{reason="too_many_label_sets"} 0
groq_series_dropped{reason="too_many_names"} 0
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
	srv, client := newQueryServer(t, builtinAnswer)
	srv.SetAnswer("a", series(1, "model", "llama"))
	srv.SetAnswer("b", series(2, "model", "llama"))
	c, reg := fixedCollector(t, client, collector.Options{MaxStale: 5 * time.Minute, Queries: []config.Query{
		{Name: "groq_a", Help: "A.", Query: "a"},
		{Name: "groq_b", Help: "B.", Query: "b"},
	}})
	now := fixedNow
	collector.SetClock(c, func() time.Time { return now })
	c.Refresh(context.Background())

	srv.Inject(failure("b", 503, "overloaded"))
	now = now.Add(time.Minute)
	c.Refresh(context.Background())
	const a, b, builtin = `groq_a{model="llama"} 1`, `groq_b{model="llama"} 2`, `groq_requests_rate1m{model="llama",status_code="200"} 2`
	got := collector.Exposition(t, reg)
	for _, want := range []string{a, b, builtin, "groq_up 1", `groq_query_success{query="groq_b"} 0`} {
		if !strings.Contains(got, want) {
			t.Errorf("within max-stale, want %q:\n%s", want, got)
		}
	}

	now = now.Add(5 * time.Minute)
	c.Refresh(context.Background())
	got = collector.Exposition(t, reg)
	if !strings.Contains(got, a) || !strings.Contains(got, builtin) || strings.Contains(got, "groq_b{") {
		t.Errorf("past max-stale, want groq_b dropped and the others served:\n%s", got)
	}
}

// TestOrganizations: two organizations in a Group, one up, one whose key
// Groq refuses. Every series and self-metric says which organization it is
// of; the failing one does not hide the other.
func TestOrganizations(t *testing.T) {
	goodSrv, good := newQueryServer(t, series(2, "__name__", "requests:rate1m", "model", "llama", "status_code", "200", "organization", "upstream"))
	goodSrv.SetAnswer("up_ratio", series(1))
	badSrv, bad := newQueryServer(t)
	badSrv.SetKeys("gsk_anotherOrganization") // the client sends none: every query is refused with 401
	queries := []config.Query{{Name: "groq_ratio", Help: "Ratio.", Query: "up_ratio"}}
	prod, err := collector.New(good, collector.Options{Organization: "prod", Queries: queries, Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_requests_rate1m"}}})
	if err != nil {
		t.Fatal(err)
	}
	staging, err := collector.New(bad, collector.Options{Organization: "staging", Queries: queries, Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_requests_rate1m"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*collector.Collector{prod, staging} {
		collector.SetClock(c, func() time.Time { return fixedNow })
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
# HELP groq_up 1 if the last refresh from Groq succeeded for the built-in families (without them: if Groq answered any query), else 0; a failing custom query shows in groq_query_success, not here.
# TYPE groq_up gauge
groq_up{organization="prod"} 1
groq_up{organization="staging"} 0
# HELP groq_last_refresh_success_timestamp_seconds Unix time of the last refresh in which Groq could be read (as groq_up says); 0 if there was none.
# TYPE groq_last_refresh_success_timestamp_seconds gauge
groq_last_refresh_success_timestamp_seconds{organization="prod"} 1.76443e+09
groq_last_refresh_success_timestamp_seconds{organization="staging"} 0
# HELP groq_series_dropped Series in Groq's last answer that are not exported, by reason: bad_name (the naming rule cannot translate it), name_collision (another upstream name gives the same series, or the name is taken), unknown_name (not a documented family the configuration keeps), bad_value, bad_label, no_value (not decodable), duplicate, invalid, too_many_names (past the first 2000 names of an answer), too_many_label_sets (a family's series past 100 different sets of label names).
# TYPE groq_series_dropped gauge
groq_series_dropped{organization="prod",reason="bad_label"} 0
groq_series_dropped{organization="prod",reason="bad_name"} 0
groq_series_dropped{organization="prod",reason="bad_value"} 0
groq_series_dropped{organization="prod",reason="duplicate"} 0
groq_series_dropped{organization="prod",reason="invalid"} 0
groq_series_dropped{organization="prod",reason="name_collision"} 0
groq_series_dropped{organization="prod",reason="no_value"} 0
groq_series_dropped{organization="prod",reason="too_many_label_sets"} 0
groq_series_dropped{organization="prod",reason="too_many_names"} 0
groq_series_dropped{organization="prod",reason="unknown_name"} 0

groq_series_dropped{organization="staging",reason="bad_label"} 0
groq_series_dropped{organization="staging",reason="bad_name"} 0
groq_series_dropped{organization="staging",reason="bad_value"} 0
groq_series_dropped{organization="staging",reason="duplicate"} 0
groq_series_dropped{organization="staging",reason="invalid"} 0
groq_series_dropped{organization="staging",reason="name_collision"} 0
groq_series_dropped{organization="staging",reason="no_value"} 0
groq_series_dropped{organization="staging",reason="too_many_label_sets"} 0
groq_series_dropped{organization="staging",reason="too_many_names"} 0
groq_series_dropped{organization="staging",reason="unknown_name"} 0
`, "groq_ratio", "groq_requests_rate1m", "groq_query_success", "groq_up", "groq_last_refresh_success_timestamp_seconds", "groq_series_dropped")
	if n, err := testutil.GatherAndCount(reg, "groq_scrape_duration_seconds"); err != nil || n != 2 {
		t.Errorf("%d groq_scrape_duration_seconds series, want one per organization", n)
	}
	assertLint(t, reg)
}

// TestRefreshHistory: the status keeps the last 20 refreshes, newest first,
// each with its outcome, series and the bytes read from Groq.
func TestRefreshHistory(t *testing.T) {
	srv, client := newQueryServer(t, builtinAnswer)
	c, _ := fixedCollector(t, client, collector.Options{})
	for i := 0; i < 25; i++ {
		if i == 24 {
			srv.Inject(groqtest.Fault{Status: 503})
		}
		c.Refresh(context.Background())
	}
	h := c.Status().History
	if len(h) != collector.HistoryLength {
		t.Fatalf("%d refreshes in the history, want %d", len(h), collector.HistoryLength)
	}
	if h[0].Up || h[0].Reason != "server_error" || h[0].Bytes != 0 {
		t.Errorf("newest refresh %+v, want failed with server_error and no bytes", h[0])
	}
	if !h[1].Up || h[1].Series != 1 || h[1].Bytes < 50 {
		t.Errorf("a successful refresh %+v, want up with 1 series and the answer's bytes", h[1])
	}
}
