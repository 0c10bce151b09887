package collector

import (
	"regexp"
	"sort"
	"strings"
)

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

// The naming rule. Groq's series names are recording-rule style,
// [level:]metric[:percentile]:operation, and each becomes a gauge family:
//
//	metric:operation                  → groq_<metric>_<operation>
//	metric:percentile:operation       → groq_<metric>{percentile="p99"}
//	level:metric:operation            → groq_<metric>_<operation>
//	level:metric:percentile:operation → groq_<metric>{percentile="p99"}
//	level:metric_bucket:operation     → groq_<metric>{percentile="p50|p95|p99"}, by histogram_quantile
//	                                    over the buckets (le) of each label set
//
// A level is the older scheme's first segment, the series' aggregation labels
// joined by "_" (model_project_id_status_code): it is recognised when it is
// made of label names of the series of that name (or of Groq's own labels,
// in case an empty one is missing), and dropped. In a name of three segments
// whose middle one is a percentile spelling, the first is the metric; else a
// first segment that is a level is one, and otherwise the middle segment is
// the percentile, kept as spelled (sanitised) when it is not one: "max",
// "avg". The seven documented names translate as they always did.
var (
	metricSegmentRE    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	operationSegmentRE = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)
)

// groqLabels are label names Groq's series carry; a level may name them even
// when no series of its name has them (a label whose value is empty is absent).
var groqLabels = map[string]bool{"model": true, "project_id": true, "status_code": true, "le": true}

// bucketSuffix ends the metric segment of a histogram's bucket series.
const bucketSuffix = "_bucket"

// parsedName is an upstream name taken apart by the naming rule.
type parsedName struct {
	level, metric, percentile, operation string
	hasPercentile, bucket                bool
}

// splitName cuts a series name at its colons; ok is false when it has fewer
// than two or more than four segments.
func splitName(name string) ([]string, bool) {
	n := strings.Count(name, ":") + 1
	if n < 2 || n > 4 {
		return nil, false
	}
	return strings.Split(name, ":"), true
}

// needsLabels says whether parsing the name needs the label names of its
// series: when its first segment may be a level, or it may be a bucket.
func needsLabels(seg []string) bool {
	if len(seg) == 4 || strings.Contains(seg[len(seg)-2], bucketSuffix) {
		return true
	}
	if len(seg) == 3 {
		_, isPct := normalizePercentile(seg[1])
		return !isPct
	}
	return false
}

// parseName applies the naming rule to the segments of a name; labels are the
// label names of its series (nil when needsLabels is false). ok is false for
// a name the rule cannot translate.
func parseName(seg []string, labels map[string]bool) (p parsedName, ok bool) {
	for _, s := range seg {
		if s == "" {
			return p, false
		}
	}
	switch len(seg) {
	case 2:
		p.metric, p.operation = seg[0], seg[1]
	case 3:
		if _, isPct := normalizePercentile(seg[1]); !isPct && isLevel(seg[0], labels) {
			p.level, p.metric, p.operation = seg[0], seg[1], seg[2]
		} else {
			p.metric, p.percentile, p.operation, p.hasPercentile = seg[0], seg[1], seg[2], true
		}
	case 4:
		if !isLevel(seg[0], labels) {
			return p, false
		}
		p.level, p.metric, p.percentile, p.operation, p.hasPercentile = seg[0], seg[1], seg[2], seg[3], true
	default:
		return p, false
	}
	if !metricSegmentRE.MatchString(p.metric) || !operationSegmentRE.MatchString(p.operation) {
		return p, false
	}
	if p.hasPercentile {
		pct, err := percentileLabel(p.percentile)
		if err != nil {
			return p, false
		}
		p.percentile = pct
	} else if base, ok := strings.CutSuffix(p.metric, bucketSuffix); ok && base != "" && labels["le"] {
		p.metric, p.bucket = base, true
	}
	return p, true
}

// exported is the name of the family the parsed name becomes.
func (p parsedName) exported() string {
	if p.hasPercentile || p.bucket {
		return namespace + "_" + p.metric
	}
	return namespace + "_" + p.metric + "_" + p.operation
}

// documented says whether the name is one Groq documents, and returns its
// curated family.
func (p parsedName) documented() (familySpec, bool) {
	if p.level != "" || p.bucket {
		return familySpec{}, false
	}
	if p.hasPercentile {
		f, ok := builtinFamilies[p.metric]
		return f, ok && f.percentile && p.operation == "rate5m"
	}
	f, ok := builtinFamilies[p.metric+":"+p.operation]
	return f, ok && !f.percentile
}

// pattern is the name with its percentile segment written <percentile>, for
// the HELP of a family Groq does not document.
func (p parsedName) pattern(name string) string {
	if !p.hasPercentile {
		return name
	}
	seg := strings.Split(name, ":")
	seg[len(seg)-2] = "<percentile>"
	return strings.Join(seg, ":")
}

// undocumentedHelp is the HELP of a family translated from a name Groq does
// not document.
func (p parsedName) undocumentedHelp(name string) string {
	switch {
	case p.bucket:
		return "Groq's " + p.metric + " at the given percentile, by histogram_quantile over the buckets (Groq series " + name + ", not documented by Groq)."
	case p.hasPercentile:
		return "Groq's " + p.metric + " at the given percentile (Groq series " + p.pattern(name) + ", not documented by Groq)."
	}
	return "Groq's " + p.metric + " " + p.operation + " (Groq series " + name + ", not documented by Groq)."
}

// isLevel says whether seg is label names joined by "_", each a label name of
// the series (labels) or one of Groq's.
func isLevel(seg string, labels map[string]bool) bool {
	// from[i]: seg[i:] is such a list.
	from := make([]bool, len(seg)+1)
	from[len(seg)] = true
	for i := len(seg) - 1; i >= 0; i-- {
		for j := i + 1; j <= len(seg); j++ {
			if j < len(seg) && seg[j] != '_' {
				continue
			}
			next := j == len(seg) || j+1 <= len(seg) && from[j+1] && j+1 < len(seg)
			if tok := seg[i:j]; next && (labels[tok] || groqLabels[tok]) {
				from[i] = true
				break
			}
		}
	}
	return from[0]
}
