package collector

import (
	"sort"
	"strings"

	"github.com/groq-exporter/groq_exporter/groq"
)

// Family is one exported gauge family translated from Groq's series.
type Family struct {
	Name       string // exported name, e.g. groq_ttft_latency_seconds
	Help       string
	percentile bool // one upstream series per percentile: adds the percentile label
}

// The built-in families. Upstream names are recording-rule style with colons
// (requests:rate1m, ttft_latency_seconds:p99:rate5m); exported names carry none.
var builtinFamilies = map[string]Family{
	"requests:increase1m": {Name: "groq_requests_increase1m",
		Help: "Requests made to Groq within the last minute, by model and HTTP status code (Groq series requests:increase1m)."},
	"requests:rate1m": {Name: "groq_requests_rate1m",
		Help: "Average requests per second to Groq over the last minute, by model and HTTP status code (Groq series requests:rate1m)."},
	"e2e_latency_seconds": {Name: "groq_e2e_latency_seconds", percentile: true,
		Help: "End-to-end request latency in seconds at the given percentile, 5-minute average (Groq series e2e_latency_seconds:<percentile>:rate5m)."},
	"ttft_latency_seconds": {Name: "groq_ttft_latency_seconds", percentile: true,
		Help: "Time to first token in seconds at the given percentile, 5-minute average (Groq series ttft_latency_seconds:<percentile>:rate5m)."},
	"queue_latency_seconds": {Name: "groq_queue_latency_seconds", percentile: true,
		Help: "Time requests wait in Groq's queue before processing, in seconds at the given percentile, 5-minute average (Groq series queue_latency_seconds:<percentile>:rate5m)."},
	"tokens_in": {Name: "groq_tokens_in", percentile: true,
		Help: "Input tokens per request at the given percentile, 5-minute average (Groq series tokens_in:<percentile>:rate5m)."},
	"tokens_out": {Name: "groq_tokens_out", percentile: true,
		Help: "Output tokens per request at the given percentile, 5-minute average (Groq series tokens_out:<percentile>:rate5m)."},
}

// BuiltinFamilies lists the exported names of the built-in families, sorted.
func BuiltinFamilies() []string {
	names := make([]string, 0, len(builtinFamilies))
	for _, f := range builtinFamilies {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return names
}

// builtinSelector is the one MetricsQL selector that fetches every built-in
// series in a single call. The percentile segment is matched by pattern, so a
// new percentile or another spelling of one needs no code change.
// An empty families list selects them all; modelRegex, if set, restricts the
// models (fully anchored, as MetricsQL anchors regexes).
func builtinSelector(families []string, modelRegex string) string {
	var requests, percentiles []string
	for upstream, f := range builtinFamilies {
		if len(families) > 0 && !contains(families, f.Name) {
			continue
		}
		if f.percentile {
			percentiles = append(percentiles, upstream)
		} else {
			requests = append(requests, strings.TrimPrefix(upstream, "requests:"))
		}
	}
	sort.Strings(requests)
	sort.Strings(percentiles)
	var alts []string
	if len(requests) > 0 {
		alts = append(alts, "requests:("+strings.Join(requests, "|")+")")
	}
	if len(percentiles) > 0 {
		alts = append(alts, "("+strings.Join(percentiles, "|")+"):[^:]+:rate5m")
	}
	sel := `{__name__=~"` + strings.Join(alts, "|") + `"`
	if modelRegex != "" {
		sel += `,model=~` + quote(modelRegex)
	}
	return sel + "}"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Reasons a series Groq returned is not exported; the values of the reason
// label of groq_series_dropped.
const (
	dropUnknownName   = "unknown_name"
	dropBadPercentile = "bad_percentile"
	dropDuplicate     = "duplicate"
)

// translateBuiltin maps one upstream sample onto its family and labels. The
// percentile becomes a label; every other upstream label is kept.
func translateBuiltin(s groq.Sample) (series, string) {
	name := s.Labels["__name__"]
	f, ok := builtinFamilies[name]
	var pct string
	if !ok {
		parts := strings.Split(name, ":")
		if len(parts) != 3 || parts[2] != "rate5m" {
			return series{}, dropUnknownName
		}
		if f, ok = builtinFamilies[parts[0]]; !ok || !f.percentile {
			return series{}, dropUnknownName
		}
		var err error
		if pct, err = NormalizePercentile(parts[1]); err != nil {
			return series{}, dropBadPercentile
		}
	}
	out := series{family: f, value: s.Value, labels: s.Labels}
	if f.percentile {
		out.extra = []labelPair{{"percentile", pct}}
	}
	return out, ""
}
