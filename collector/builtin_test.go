package collector

import (
	"testing"
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
	if _, err := New(nil, Options{Families: []string{"groq_nope"}}); err == nil {
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
