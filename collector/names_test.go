package collector_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestNamesTable: the status carries, for each upstream name, its series
// count and the family it became or why not; drops are logged at warn once,
// and at debug while they stay the same.
func TestNamesTable(t *testing.T) {
	var logs bytes.Buffer
	c, _, gw := newTestCollector(t, collector.Options{Logger: log.NewLogfmtLogger(&logs),
		Queries: []config.Query{{Name: "groq_up_rate5m", Help: "A custom query taking a name Groq's series would take.", Query: "up_rate5m"}}})
	gw.SetAnswer("up_rate5m")
	set(gw, groqtest.Fault{Query: `{__name__=~".+:.+"}`, Status: 200, Text: string(fixture(t, "added_families.json")),
		Header: map[string]string{"Content-Type": "application/json"}})
	c.Refresh(context.Background())
	st := c.Status()
	if !st.Up {
		t.Fatalf("down: %s", st.LastError)
	}
	got := map[string]collector.NameStatus{}
	for _, n := range st.Names {
		got[n.Name] = n
	}
	for name, want := range map[string]struct {
		family, reason, note string
	}{
		"requests:rate1m":                   {family: "groq_requests_rate1m"},
		"requests:increase5m":               {family: "groq_requests_increase5m"},
		"cached_tokens:p99:rate5m":          {family: "groq_cached_tokens"},
		"ttft_latency_seconds:p95:rate1m":   {family: "groq_ttft_latency_seconds"},
		"ttft_latency_seconds:p99:rate1m":   {family: "groq_ttft_latency_seconds", reason: "name_collision", note: "as ttft_latency_seconds:p99:rate5m is"},
		"model_status_code:requests:rate1m": {family: "groq_requests_rate1m", reason: "name_collision", note: "as requests:rate1m is"},
		"scrape:duration_seconds":           {reason: "name_collision", note: "a name the exporter already serves"},
		"up:rate5m":                         {reason: "name_collision", note: "→ groq_up_rate5m"}, // the custom query's
		"a:b:c:d:e":                         {reason: "bad_name"},
		"x:p99:rate5m:y":                    {reason: "bad_name"},
		"9lives:rate5m":                     {reason: "bad_name"},
	} {
		n, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: not in the table", name)
		case n.Series != 1 || n.Family != want.family || want.reason != "" && n.Dropped[want.reason] != 1 || !strings.Contains(n.Note, want.note):
			t.Errorf("%s: %+v, want family %q, dropped as %q, note %q", name, n, want.family, want.reason, want.note)
		case want.reason == "" && n.Exported != 1:
			t.Errorf("%s: %d exported, want 1", name, n.Exported)
		}
	}
	if !strings.Contains(logs.String(), `level=warn msg="Series from Groq not exported" reason=name_collision count=4`) ||
		!strings.Contains(logs.String(), `level=warn msg="Series from Groq not exported" reason=bad_name count=3`) {
		t.Errorf("drops not logged at warn:\n%s", logs.String())
	}
	logs.Reset()
	collector.SetCacheTTL(c, 0)
	c.Refresh(context.Background())
	if strings.Contains(logs.String(), "level=warn") || !strings.Contains(logs.String(), "reason=name_collision") {
		t.Errorf("the same drops again are logged at warn, or not at all:\n%s", logs.String())
	}
}

// TestPartialAndBadSeries: an answer Groq calls partial is served and
// flagged, with Groq's warnings logged once; series that do not decode are
// dropped alone and counted.
func TestPartialAndBadSeries(t *testing.T) {
	var logs bytes.Buffer
	c, reg, gw := newTestCollector(t, collector.Options{Logger: log.NewLogfmtLogger(&logs)})
	set(gw, answer(200, fixture(t, "partial_bad_values.json")))
	c.Refresh(context.Background())
	st := c.Status()
	if !st.Up || !st.Partial {
		t.Errorf("status up %v, partial %v; want both", st.Up, st.Partial)
	}
	for _, reason := range []string{groq.DropBadValue, groq.DropBadLabel, groq.DropNoValue} {
		if st.Dropped[reason] != 1 {
			t.Errorf("dropped[%s] = %d, want 1", reason, st.Dropped[reason])
		}
	}
	out := logs.String()
	for _, want := range []string{`level=warn msg="Groq's answer is partial`, `storage node vmstorage-2 did not answer in 5s`,
		`reason=bad_value count=1 example=`, `1e400`} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not say %q:\n%s", want, out)
		}
	}
	if e := collector.Exposition(t, reg); !strings.Contains(e, "\ngroq_response_partial 1\n") {
		t.Errorf("groq_response_partial is not 1:\n%s", e)
	}
	// A complete answer clears the flag, and says so.
	logs.Reset()
	collector.SetCacheTTL(c, 0)
	set(gw, answer(200, fixture(t, "all_families.json")))
	c.Refresh(context.Background())
	if c.Status().Partial || !strings.Contains(logs.String(), "complete again") {
		t.Errorf("partial %v after a complete answer; log:\n%s", c.Status().Partial, logs.String())
	}
}

// TestGroqsOwnWords: Groq's error message, in its gateway's form and in
// VictoriaMetrics' form, is the error the status shows.
func TestGroqsOwnWords(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{401, `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`, "Invalid API Key"},
		{429, `{"error":{"message":"Rate limit reached for metrics","type":"rate_limit_exceeded"}}`, "Rate limit reached for metrics"},
		{422, `{"status":"error","errorType":"422","error":"cannot parse \"{__name__=~\": unexpected end"}`, "cannot parse"},
		{200, `{"status":"error","errorType":"timeout","error":"query timed out after 5s"}`, "query timed out after 5s"},
	} {
		c, _, gw := newTestCollector(t, collector.Options{})
		set(gw, answer(tc.status, []byte(tc.body)))
		c.Refresh(context.Background())
		if st := c.Status(); st.Up || !strings.Contains(st.LastError, tc.want) {
			t.Errorf("HTTP %d %s: status error %q, want Groq's words %q", tc.status, tc.body, st.LastError, tc.want)
		}
	}
}
