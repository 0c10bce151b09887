package collector

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

// Fuzz targets. Plain `go test` runs the seeds below and the corpus in
// testdata/fuzz/<Target>; `go test -fuzz=<Target>` searches for more.

// fuzzSamples is a Querier that returns fixed samples.
type fuzzSamples []groq.Sample

func (s fuzzSamples) QueryAnswer(context.Context, string) (*groq.Answer, error) {
	return &groq.Answer{Samples: s}, nil
}

// percentileRE matches a percentile as percentileLabel writes it:
// p<percent> with 0 <= percent <= 100, without redundant zeros.
var percentileRE = regexp.MustCompile(`^p(100|[1-9]?[0-9](\.[0-9]*[1-9])?)$`)

// labelValueRE matches any value percentileLabel returns.
var labelValueRE = regexp.MustCompile(`^[a-z0-9.-]([a-z0-9._-]{0,62}[a-z0-9.-])?$`)

// FuzzNormalizePercentile: any string becomes a label value (or an error,
// exactly when nothing is left of it); a percentile is written p<percent>,
// 0 <= percent <= 100, and nothing else is; the value normalizes to itself,
// however it is cased.
func FuzzNormalizePercentile(f *testing.F) {
	for _, s := range []string{"p99", "99", "0.99", "P99", "99th", "p999", "99.9", "p99_9", "0.999", "p50", "50", "0.5",
		"p100", "100", "p0", "0", "", "p", ".", "0.", ".5", "1e2", "-5", "p99.90", "q0.5", "percentile95", "p 99", "٩٩", "p0.001", "0100",
		"median", "max", "p1000", "1.0", "q1", "q99", "p__99", "0099999999999999997", "p0.99999999999999997", "_9_", "0.5th"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, isPercentile := normalizePercentile(s)
		got, err := percentileLabel(s)
		if got != out || (err != nil) != (out == "") {
			t.Fatalf("percentileLabel(%q) = %q, %v; normalizePercentile gives %q", s, got, err, out)
		}
		if out == "" {
			if strings.Trim(sanitizePercentile(s), "_") != "" {
				t.Fatalf("percentileLabel(%q) fails, but something is left of it", s)
			}
			return
		}
		if !labelValueRE.MatchString(out) {
			t.Fatalf("percentileLabel(%q) = %q, not a sanitized label value", s, out)
		}
		if isPercentile != percentileRE.MatchString(out) {
			t.Fatalf("percentileLabel(%q) = %q, a percentile: %v", s, out, isPercentile)
		}
		if isPercentile {
			if v, err := strconv.ParseFloat(out[1:], 64); err != nil || !(v >= 0 && v <= 100) {
				t.Fatalf("percentileLabel(%q) = %q, out of [0, 100]", s, out)
			}
		}
		if again, again2 := normalizePercentile(out); again != out || again2 != isPercentile {
			t.Fatalf("percentileLabel(%q) = %q (percentile %v), but percentileLabel(%q) = %q (percentile %v)",
				s, out, isPercentile, out, again, again2)
		}
		if upper, _ := normalizePercentile(asciiUpper(s)); upper != out {
			t.Fatalf("percentileLabel(%q) = %q, but of its upper case %q", s, out, upper)
		}
	})
}

// asciiUpper upper-cases ASCII letters only: strings.ToUpper also maps some
// other letters onto ASCII ones (ſ → S).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// FuzzTranslateName: any upstream series name is either dropped as one the
// naming rule cannot translate, or lands in a family with a valid metric name
// (no colon), with a valid percentile label exactly when its name has a
// percentile segment; a documented name lands in its documented family.
func FuzzTranslateName(f *testing.F) {
	for _, s := range []string{"requests:rate1m", "requests:increase1m", "requests:rate5m", "ttft_latency_seconds:p99:rate5m",
		"e2e_latency_seconds:0.95:rate5m", "tokens_in:p50:rate1m", "tokens_out:p50", "queue_latency_seconds::rate5m",
		"queue_latency_seconds:p99.9:rate5m", "requests:p99:rate5m", ":::", "", "up", "tokens_in:p50:rate5m:x",
		"model_project_id_status_code:requests:rate5m", "le_model_project_id:e2e_latency_seconds_bucket:rate5m",
		"model:tokens_in:p99:rate5m", "cached_tokens:median:rate5m", "a:b:c:d:e", "1a:rate5m", "x:max:rate-5m"} {
		f.Add(s)
	}
	metricNameRE := regexp.MustCompile(`^groq_[a-zA-Z_][a-zA-Z0-9_]*$`)
	f.Fuzz(func(t *testing.T, name string) {
		d := newDrops()
		out, names := (&builtinRules{}).translate([]groq.Sample{{Labels: groq.LabelsFromMap(map[string]string{"__name__": name, "model": "m", "le": "+Inf"}), Value: 1}}, d)
		ni := names[name]
		switch ni.reason {
		case "":
		case dropBadName:
			if len(out) != 0 || d.count[dropBadName] != 1 {
				t.Fatalf("%q dropped as bad_name, yet %d series out, drops %v", name, len(out), d.count)
			}
			return
		default:
			t.Fatalf("%q dropped for unexpected reason %q", name, ni.reason)
		}
		if ni.parsed.bucket {
			if len(out) != len(bucketPercentiles) {
				t.Fatalf("%q: a bucket gives %d series", name, len(out))
			}
		} else if len(out) != 1 {
			t.Fatalf("%q: %d series out", name, len(out))
		}
		if !metricNameRE.MatchString(out[0].family.Name) {
			t.Fatalf("%q became family %q", name, out[0].family.Name)
		}
		if f, doc := ni.parsed.documented(); doc && *out[0].family != f {
			t.Fatalf("%q is documented as %s, became %s", name, f.Name, out[0].family.Name)
		}
		hasPct := ni.parsed.hasPercentile || ni.parsed.bucket
		if hasPct != (len(out[0].extra) == 1) {
			t.Fatalf("%q: family %s, extra labels %v", name, out[0].family.Name, out[0].extra)
		}
		if hasPct && !labelValueRE.MatchString(out[0].extra[0].value) {
			t.Fatalf("%q: percentile label %q", name, out[0].extra[0].value)
		}
	})
}

// FuzzRefresh drives the whole translation with whatever Groq might answer:
// the body is decoded as the client decodes it, and if it decodes, the
// collector must turn it into an exposition that a registry gathers without
// error, that Prometheus's text parser reads back, and that accounts for every
// upstream series (exported, or counted in groq_series_dropped).
func FuzzRefresh(f *testing.F) {
	for _, s := range fuzzRefreshSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		samples, err := groq.DecodeVector(bytes.NewReader(body))
		if err != nil {
			return
		}
		checkExposition(t, samples)
	})
}

// FuzzRefreshLabels reaches the label handling more directly than JSON can:
// two series with arbitrary names, label names and values.
func FuzzRefreshLabels(f *testing.F) {
	f.Add("requests:rate1m", "model", "llama", "requests:rate1m", "status_code", "200")
	f.Add("ttft_latency_seconds:p99:rate5m", "percentile", "x", "ttft_latency_seconds:p99:rate5m", "exported_percentile", "y")
	f.Add("tokens_in:p50:rate5m", "a-b", "1", "tokens_in:p50:rate5m", "a_b", "2")
	f.Add("requests:increase1m", "__name__", "x", "requests:increase1m", "", "\xff")
	f.Add("e2e_latency_seconds:99:rate5m", "0day", "v", "e2e_latency_seconds:0.99:rate5m", "_0day", "w")
	f.Fuzz(func(t *testing.T, name1, label1, value1, name2, label2, value2 string) {
		checkExposition(t, []groq.Sample{
			{Labels: groq.LabelsFromMap(map[string]string{"__name__": name1, label1: value1, "model": "m"}), Value: 1},
			{Labels: groq.LabelsFromMap(map[string]string{"__name__": name2, label2: value2, "model": "m"}), Value: math.NaN()},
		})
	})
}

// checkExposition refreshes a collector from samples twice (the exposition
// must not depend on map order), gathers it and checks the invariants.
func checkExposition(t *testing.T, samples []groq.Sample) {
	t.Helper()
	first := expose(t, samples)
	if second := expose(t, samples); second != first {
		t.Fatalf("exposition differs between two refreshes of the same answer:\n%s\n---\n%s", first, second)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(first))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, first)
	}
	var exported, dropped int
	for name, mf := range families {
		if name == "groq_series_dropped" {
			for _, m := range mf.Metric {
				dropped += int(m.GetGauge().GetValue())
			}
			continue
		}
		if !slices.Contains(SelfMetrics(), name) {
			exported += len(mf.Metric)
			for _, m := range mf.Metric {
				checkLabels(t, name, m)
			}
		}
	}
	if exported+dropped != len(samples) {
		t.Fatalf("%d series from Groq, %d exported + %d dropped:\n%s", len(samples), exported, dropped, first)
	}
}

func checkLabels(t *testing.T, family string, m *dto.Metric) {
	t.Helper()
	for _, lp := range m.Label {
		if !utf8.ValidString(lp.GetValue()) {
			t.Fatalf("%s: label %s has a value that is not UTF-8", family, lp.GetName())
		}
		if strings.HasPrefix(lp.GetName(), "__") {
			t.Fatalf("%s: reserved label %s", family, lp.GetName())
		}
	}
}

func expose(t *testing.T, samples []groq.Sample) string {
	t.Helper()
	c, err := New(fuzzSamples(samples), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Refresh(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	// The duration and the timestamp differ between refreshes.
	return Exposition(t, reg, "groq_scrape_duration_seconds", "groq_last_refresh_success_timestamp_seconds")
}

var fuzzRefreshSeeds = []string{
	`{"status":"success","data":{"resultType":"vector","result":[]}}`,
	`{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[
	 {"metric":{"__name__":"requests:rate1m","model":"llama-3.3-70b","status_code":"200"},"value":[1764430000,"12.5"]},
	 {"metric":{"__name__":"requests:increase1m","model":"llama-3.3-70b","status_code":"429"},"value":[1764430000,"3"]},
	 {"metric":{"__name__":"e2e_latency_seconds:p99:rate5m","model":"llama-3.3-70b"},"value":[1764430000,"1.25"]},
	 {"metric":{"__name__":"ttft_latency_seconds:0.95:rate5m","model":"llama-3.3-70b"},"value":[1764430000,"NaN"]},
	 {"metric":{"__name__":"queue_latency_seconds:99.9:rate5m","model":"llama-3.3-70b"},"value":[1764430000,"+Inf"]},
	 {"metric":{"__name__":"tokens_in:p50:rate5m","model":"llama-3.3-70b","region":"us"},"value":[1764430000,"-Inf"]},
	 {"metric":{"__name__":"tokens_out:p50:rate5m","model":"llama-3.3-70b"},"value":[1764430000,"512"]}
	]},"stats":{"seriesFetched":"7"}}`,
	// duplicates, unknown names, bad percentiles, odd label names
	`{"status":"success","data":{"resultType":"vector","result":[
	 {"metric":{"__name__":"requests:rate1m","model":"a","status_code":"200"},"value":[1,"1"]},
	 {"metric":{"__name__":"requests:rate1m","model":"a","status_code":"200"},"value":[1,"2"]},
	 {"metric":{"__name__":"requests:rate5m","model":"a"},"value":[1,"1"]},
	 {"metric":{"__name__":"tokens_in:pXX:rate5m","model":"a"},"value":[1,"1"]},
	 {"metric":{"__name__":"tokens_in:p50:rate5m","model":"a","percentile":"p1","exported_percentile":"p2"},"value":[1,"1"]},
	 {"metric":{"__name__":"tokens_out:p50:rate5m","model":"a","a-b":"1","a_b":"2","0x":"3","":"4","__x":"5"},"value":[1,"1"]},
	 {"metric":{"__name__":"tokens_out:p95:rate5m","model":"\ud800\u00e9\u0000"},"value":[1,"1"]},
	 {"metric":null,"value":[1,"1"]}
	]}}`,
	`{"status":"error","errorType":"bad_data","error":"parse error"}`,
	`{"status":"success","data":{"resultType":"matrix","result":[]}}`,
	`<html>502</html>`,
}

// answers is a Querier that returns its answers in turn, the last one again
// once they run out.
type answers struct {
	mu   sync.Mutex
	list []*groq.Answer
}

func (q *answers) QueryAnswer(context.Context, string) (*groq.Answer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := q.list[0]
	if len(q.list) > 1 {
		q.list = q.list[1:]
	}
	return a, nil
}

// FuzzRefreshAfter: what a refresh serves, and what the status page shows
// of it, do not depend on the answer before it, whether the refresh reuses
// that answer's gauges (the same series with new values) or builds its own.
func FuzzRefreshAfter(f *testing.F) {
	for _, a := range fuzzRefreshSeeds {
		for _, b := range fuzzRefreshSeeds[:3] {
			f.Add([]byte(a), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		first, err := groq.DecodeAnswer(bytes.NewReader(a))
		if err != nil {
			return
		}
		second, err := groq.DecodeAnswer(bytes.NewReader(b))
		if err != nil {
			return
		}
		revalued := *first // the same series, new values
		revalued.Samples = slices.Clone(first.Samples)
		for i := range revalued.Samples {
			revalued.Samples[i].Value = float64(i) + 0.5
		}
		for _, org := range []string{"", "prod"} {
			checkRefreshAfter(t, org, first, second)
			checkRefreshAfter(t, org, first, &revalued)
			checkRefreshAfter(t, org, &revalued, first)
		}
	})
}

// checkRefreshAfter refreshes a collector from before then after, and
// another from after only, and fails if they serve or tell differently.
func checkRefreshAfter(t *testing.T, org string, before, after *groq.Answer) {
	t.Helper()
	collect := func(list ...*groq.Answer) (string, Status) {
		opts := Options{Organization: org, Queries: []config.Query{{Name: "groq_custom", Help: "h", Query: "custom"}}}
		var each []*groq.Answer // each query of a refresh takes one
		for _, a := range list {
			each = append(each, a, a)
		}
		c, err := New(&answers{list: each}, opts)
		if err != nil {
			t.Fatal(err)
		}
		for range list {
			RefreshInPlace(c)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		st := c.Status()
		st.LastRefresh, st.LastSuccess, st.Duration = time.Time{}, time.Time{}, 0
		st.History = st.History[:1] // the refreshes before differ; the last one must not
		st.History[0].Time, st.History[0].Duration = time.Time{}, 0
		for i := range st.Queries {
			st.Queries[i].LastSuccess, st.Queries[i].Duration = time.Time{}, 0
		}
		return Exposition(t, reg, "groq_scrape_duration_seconds", "groq_last_refresh_success_timestamp_seconds", "groq_query_duration_seconds"), st
	}
	got, gotStatus := collect(before, after)
	want, wantStatus := collect(after)
	if got != want {
		t.Fatalf("after another answer, a refresh serves\n%s\nbut on its own\n%s", got, want)
	}
	if !reflect.DeepEqual(gotStatus, wantStatus) {
		t.Fatalf("after another answer, a refresh's status is\n%+v\nbut on its own\n%+v", gotStatus, wantStatus)
	}
}
