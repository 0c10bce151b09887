package collector

import (
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/config"
)

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
		"p99": "p99", "99": "p99", "0.99": "p99", "P99": "p99", "99th": "p99", "q0.99": "p99", "percentile_99": "p99",
		"p95": "p95", "0.95": "p95", "p50": "p50", "50": "p50", "0.5": "p50", ".5": "p50", "median": "p50", "Median": "p50",
		"p999": "p99.9", "99.9": "p99.9", "p99_9": "p99.9", "0.999": "p99.9", "p9999": "p99.99", "p9995": "p99.95", "99.9th": "p99.9",
		"p5": "p5", "0.05": "p5", "p05": "p5", "p100": "p100", "100": "p100", "p99.90": "p99.9", "0_99": "p99", "p 99": "p99",
		// p0 and the whole range, in every form
		"p0": "p0", "0": "p0", "0th": "p0", "0.0": "p0", "q0": "p0", "1.0": "p100", "1": "p1", "q1": "p100", "100th": "p100",
		// a "p" says percent, so the canonical forms below 1 read back as themselves
		"p0.5": "p0.5", "p0.99": "p0.99", "p.5": "p0.5", "0.005": "p0.5", "1st": "p1",
		// not percentiles: kept, sanitized
		"max": "max", "MAX": "max", "avg": "avg", "min": "min", "p": "p", "pXX": "pxx", "p-1": "p-1", "-5": "-5",
		"1.2.3": "1.2.3", "150.5": "150.5", "0.": "0.", "1e2": "1e2", " p99x ": "p99x", "p/99?": "p99", "p/9x?": "p_9x",
		// ambiguous: kept as spelled, not turned into another percentile
		"p1000": "p1000", "p150": "p150", "p0999": "p0999", "0100": "0100", "q99": "q99", "q1.5": "q1.5", "q0.5th": "q0.5th",
		"0099999999999999997":          "0099999999999999997",
		"p0.99999999999999997":         "p0.99999999999999997",
		"p__99":                        "p__99",
		strings.Repeat("x", 70):        strings.Repeat("x", 63) + "-",
		"0." + strings.Repeat("9", 70): "0." + strings.Repeat("9", 61) + "-",
	} {
		got, err := NormalizePercentile(in)
		if err != nil || got != want {
			t.Errorf("NormalizePercentile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "_", "٩٩", "\xff"} {
		if got, err := NormalizePercentile(in); err == nil {
			t.Errorf("NormalizePercentile(%q) = %q, want an error", in, got)
		}
	}
}
