package collector

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/prometheus/client_golang/prometheus"
)

// selectorMatcher reads a selector as builtinSelector and allSelector write
// it, {__name__=~"…"} with an optional ,model=~"…", and matches a series'
// name and model against it, anchored, as MetricsQL does.
func selectorMatcher(t *testing.T, sel string) func(name, model string) bool {
	t.Helper()
	m := regexp.MustCompile(`^\{__name__=~("(?:[^"\\]|\\.)*")(?:,model=~("(?:[^"\\]|\\.)*"))?\}$`).FindStringSubmatch(sel)
	if m == nil {
		t.Fatalf("not a selector of the built-in families: %s", sel)
	}
	compile := func(quoted string) *regexp.Regexp {
		if quoted == "" {
			return regexp.MustCompile(".*")
		}
		s, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return regexp.MustCompile("^(?:" + s + ")$")
	}
	name, model := compile(m[1]), compile(m[2])
	return func(n, mo string) bool { return name.MatchString(n) && model.MatchString(mo) }
}

// upstreamNames are names Groq gives the series of family f (keyed by its
// upstream name in the family table), in spellings the naming rule reads.
func upstreamNames(key string, f familySpec) []string {
	if f.percentile {
		return []string{key + ":p99:rate5m", key + ":p50:rate5m", key + ":0.95:rate5m", key + ":p99.9:rate5m"}
	}
	return []string{key}
}

// TestSelector: the selector of documented_only and of builtin.families
// fetches every documented family's series and nothing else, whatever the
// shape of a family in the table; names are matched against the selector,
// not compared with a string.
func TestSelector(t *testing.T) {
	// A family without a percentile that is not requests:<op>, as Groq
	// could add one, joins the table for the test.
	builtinFamilies["tokens:rate1m"] = familySpec{Name: "groq_tokens_rate1m", Help: "Tokens per second."}
	defer delete(builtinFamilies, "tokens:rate1m")

	others := []string{"requests:rate5m", "requests:rate1m_x", "xrequests:rate1m", "tokens:rate5m", "tokens",
		"ttft_latency_seconds:p99:rate1m", "ttft_latency_seconds:p99", "cached_tokens:p99:rate5m",
		"model_status_code:requests:rate1m", "e2e_latency_seconds_bucket:rate5m", "tokens_in:p99:rate5m:x"}
	for key, f := range builtinFamilies {
		t.Run(f.Name, func(t *testing.T) {
			match := selectorMatcher(t, builtinSelector(nil, ""))
			one := selectorMatcher(t, builtinSelector([]string{f.Name}, "llama.*"))
			for _, n := range upstreamNames(key, f) {
				if !match(n, "any") {
					t.Errorf("documented_only does not fetch %s", n)
				}
				if !one(n, "llama-3") || one(n, "mixtral") {
					t.Errorf("families: [%s] with models llama.* does not fetch %s of llama-3 alone", f.Name, n)
				}
			}
			for k, g := range builtinFamilies {
				for _, n := range upstreamNames(k, g) {
					if k != key && one(n, "llama-3") {
						t.Errorf("families: [%s] fetches %s, of %s", f.Name, n, g.Name)
					}
				}
			}
			for _, n := range others {
				if match(n, "any") || one(n, "llama-3") {
					t.Errorf("the selector fetches %s, no documented family's", n)
				}
			}
		})
	}
	// The family the test added is exported under documented_only and
	// builtin.families, not only fetched.
	for _, b := range []config.Builtin{{Enabled: true, DocumentedOnly: true}, {Enabled: true, Families: []string{"groq_tokens_rate1m"}}} {
		samples := []groq.Sample{{Labels: groq.Labels{{Name: "__name__", Value: "tokens:rate1m"}, {Name: "model", Value: "m"}}, Value: 3}}
		c, err := New(&answers{list: []*groq.Answer{{Samples: samples}}}, Options{Builtin: &b})
		if err != nil {
			t.Fatal(err)
		}
		if !selectorMatcher(t, BuiltinExpr(c))("tokens:rate1m", "m") {
			t.Errorf("%+v: the selector does not fetch tokens:rate1m", b)
		}
		RefreshInPlace(c)
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		if exp := Exposition(t, reg); !strings.Contains(exp, `groq_tokens_rate1m{model="m"} 3`) {
			t.Errorf("%+v: tokens:rate1m is not exported:\n%s", b, exp)
		}
	}
	if !selectorMatcher(t, allSelector(""))("anything:new", "m") || selectorMatcher(t, allSelector(""))("up", "m") {
		t.Error("the selector of every family does not fetch exactly the names with a colon")
	}
	if _, err := New(nil, Options{Builtin: &config.Builtin{Enabled: true, Families: []string{"groq_nope"}}}); err == nil {
		t.Error("an unknown family was accepted")
	}
}

func TestNormalizePercentile(t *testing.T) {
	for in, want := range map[string]string{
		"p99": "p99", "99": "p99", "0.99": "p99", "P99": "p99", "99th": "p99", "q0.99": "p99", "percentile_99": "p99",
		"p95": "p95", "0.95": "p95", "p50": "p50", "50": "p50", "0.5": "p50", ".5": "p50", "median": "p50", "Median": "p50",
		"p999": "p99.9", "99.9": "p99.9", "p99_9": "p99.9", "0.999": "p99.9", "p9999": "p99.99", "p9995": "p99.95", "99.9th": "p99.9",
		"p5": "p5", "0.05": "p5", "p05": "p5", "p100": "p100", "100": "p100", "p99.90": "p99.9", "0_99": "p99", "p 99": "p99",
		// p0 and the whole range, in every form
		"p0": "p0", "0": "p0", "0th": "p0", "0.0": "p0", "q0": "p0", "q1": "p100", "q1.0": "p100", "100th": "p100", "p01": "p1",
		// a "p" says percent, so the canonical forms below 1 read back as themselves
		"p0.5": "p0.5", "p0.99": "p0.99", "p.5": "p0.5", "0.005": "p0.5", "1st": "p1",
		// not percentiles: kept, sanitized
		"max": "max", "MAX": "max", "avg": "avg", "min": "min", "p": "p", "pXX": "pxx", "p-1": "p-1", "-5": "-5",
		"1.2.3": "1.2.3", "150.5": "150.5", "0.": "0.", "1e2": "1e2", " p99x ": "p99x", "p/99?": "p99", "p/9x?": "p_9x",
		// ambiguous: kept as spelled, not turned into another percentile
		// one, bare, is the 1st percentile as a percent and the 100th as a fraction
		"1": "1", "1.0": "1.0", "01": "01", "1.00": "1.00", "001.0": "001.0",
		"p1000": "p1000", "p150": "p150", "p0999": "p0999", "0100": "0100", "q99": "q99", "q1.5": "q1.5", "q0.5th": "q0.5th",
		"0099999999999999997":          "0099999999999999997",
		"p0.99999999999999997":         "p0.99999999999999997",
		"p__99":                        "p__99",
		strings.Repeat("x", 70):        strings.Repeat("x", 63) + "-",
		"0." + strings.Repeat("9", 70): "0." + strings.Repeat("9", 61) + "-",
	} {
		got, err := percentileLabel(in)
		if err != nil || got != want {
			t.Errorf("percentileLabel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "_", "٩٩", "\xff"} {
		if got, err := percentileLabel(in); err == nil {
			t.Errorf("percentileLabel(%q) = %q, want an error", in, got)
		}
	}
}

// TestNamingRule: every shape of name, and what it becomes.
func TestNamingRule(t *testing.T) {
	for _, tc := range []struct {
		name     string
		labels   []string // of its series
		exported string   // "" when it cannot be translated
		pct      string
		doc      bool
	}{
		{"requests:rate1m", nil, "groq_requests_rate1m", "", true},
		{"requests:increase1m", nil, "groq_requests_increase1m", "", true},
		{"ttft_latency_seconds:p99:rate5m", nil, "groq_ttft_latency_seconds", "p99", true},
		{"ttft_latency_seconds:0.99:rate5m", nil, "groq_ttft_latency_seconds", "p99", true},
		{"ttft_latency_seconds:p99:rate1m", nil, "groq_ttft_latency_seconds", "p99", false},
		{"cached_tokens:p99:rate5m", nil, "groq_cached_tokens", "p99", false},
		{"cached_tokens:max:rate5m", []string{"model"}, "groq_cached_tokens", "max", false},
		{"requests:increase5m", nil, "groq_requests_increase5m", "", false},
		{"model_project_id_status_code:requests:rate5m", []string{"model", "project_id", "status_code"}, "groq_requests_rate5m", "", false},
		{"model_project_id_status_code:requests:rate5m", []string{"model"}, "groq_requests_rate5m", "", false}, // Groq's labels
		{"region_model:requests:rate5m", []string{"model", "region"}, "groq_requests_rate5m", "", false},
		{"region_model:requests:rate5m", []string{"model"}, "groq_region_model", "requests", false}, // no level: a percentile kept
		{"model:tokens_in:p99:rate5m", []string{"model"}, "groq_tokens_in", "p99", false},
		{"le_model_project_id:e2e_latency_seconds_bucket:rate5m", []string{"le", "model", "project_id"}, "groq_e2e_latency_seconds", "", false},
		{"requests_bucket:rate5m", []string{"model"}, "groq_requests_bucket_rate5m", "", false}, // no le: not a histogram
		{"region:tokens_in:p99:rate5m", []string{"model"}, "", "", false},                       // four segments, no level
		{"a:b:c:d:e", nil, "", "", false},
		{"up", nil, "", "", false},
		{"x::rate5m", nil, "", "", false},
		{"9x:rate5m", nil, "", "", false},
		{"x:rate-5m", nil, "", "", false},
	} {
		labels := map[string]bool{}
		for _, l := range tc.labels {
			labels[l] = true
		}
		seg, ok := splitName(tc.name)
		var p parsedName
		if ok {
			p, ok = parseName(seg, labels)
		}
		if !ok {
			if tc.exported != "" {
				t.Errorf("%s %v: not translated, want %s", tc.name, tc.labels, tc.exported)
			}
			continue
		}
		_, doc := p.documented()
		if p.exported() != tc.exported || p.percentile != tc.pct || doc != tc.doc {
			t.Errorf("%s %v: %s{percentile=%q} documented %v, want %s{percentile=%q} documented %v",
				tc.name, tc.labels, p.exported(), p.percentile, doc, tc.exported, tc.pct, tc.doc)
		}
	}
}

// TestBucketQuantile: Prometheus's histogram_quantile, case by case.
func TestBucketQuantile(t *testing.T) {
	inf := math.Inf(+1)
	for _, tc := range []struct {
		name    string
		q       float64
		buckets []bucket
		want    float64
	}{
		{"interpolated", 0.5, []bucket{{0.1, 1}, {0.5, 6}, {1, 9}, {inf, 10}}, 0.42},
		{"unsorted", 0.5, []bucket{{inf, 10}, {1, 9}, {0.5, 6}, {0.1, 1}}, 0.42},
		{"first bucket from 0", 0.05, []bucket{{0.1, 1}, {inf, 10}}, 0.05},
		{"into +Inf: the highest finite bound", 0.99, []bucket{{0.1, 1}, {0.5, 6}, {inf, 10}}, 0.5},
		{"no +Inf bucket", 0.5, []bucket{{0.1, 1}, {0.5, 6}}, math.NaN()},
		{"only +Inf", 0.5, []bucket{{inf, 10}}, math.NaN()},
		{"no observations", 0.5, []bucket{{0.1, 0}, {inf, 0}}, math.NaN()},
		{"a count that goes down is raised", 0.5, []bucket{{0.1, 2}, {0.2, 1.5}, {0.4, 4}, {inf, 4}}, 0.1},
		{"the same bound twice is merged", 0.5, []bucket{{0.5, 1}, {0.5, 1}, {1, 4}, {inf, 4}}, 0.5},
		{"a first bound at or below 0", 0.1, []bucket{{-1, 1}, {1, 4}, {inf, 4}}, -1},
		{"q above 1", 1.5, []bucket{{1, 1}, {inf, 1}}, inf},
		{"q below 0", -0.5, []bucket{{1, 1}, {inf, 1}}, math.Inf(-1)},
	} {
		got := bucketQuantile(tc.q, tc.buckets)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want) || math.Abs(got-tc.want) < 1e-9) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
