package collector

import "sort"

// UpstreamName is one series name, or family of series names, that Groq
// documents and the built-in families translate.
type UpstreamName struct {
	// Base is the series name (requests:rate1m) or, for a family with one
	// series per percentile, the name's first segment (ttft_latency_seconds).
	Base string
	// Percentile says the family has one series per percentile, named
	// <Base>:<percentile>:rate5m.
	Percentile bool
	// Exported is the name of the gauge family the series become.
	Exported string
}

// Series returns the name of the upstream series for percentile p, spelled
// as Groq spells it (p99); p is ignored for a name without percentiles.
func (n UpstreamName) Series(p string) string {
	if !n.Percentile {
		return n.Base
	}
	return n.Base + ":" + p + ":rate5m"
}

// DocumentedSeries lists the upstream names Groq documents, sorted by Base:
// the names the built-in families are translated from, for tests and
// stand-ins that must produce what Groq serves.
func DocumentedSeries() []UpstreamName {
	out := make([]UpstreamName, 0, len(builtinFamilies))
	for base, f := range builtinFamilies {
		out = append(out, UpstreamName{Base: base, Percentile: f.percentile, Exported: f.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out
}
