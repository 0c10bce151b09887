package collector

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/groq-exporter/groq_exporter/groq"
)

// familySpec is one exported gauge family translated from Groq's series: its
// name, its HELP, and whether its series carry a percentile.
type familySpec struct {
	Name       string // exported name, e.g. groq_ttft_latency_seconds
	Help       string
	percentile bool // one upstream series per percentile: adds the percentile label
}

// The built-in families. Upstream names are recording-rule style with colons
// (requests:rate1m, ttft_latency_seconds:p99:rate5m); exported names carry none.
var builtinFamilies = map[string]familySpec{
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

// builtinRules are what decides which of Groq's series the built-in
// translation exports.
type builtinRules struct {
	// documentedOnly keeps the documented families only.
	documentedOnly bool
	// families, if set, keeps only these documented families (exported names).
	families []string
	// reserved are exported names no family may take: the self-metrics and
	// the custom queries.
	reserved map[string]bool
	// memo keeps how each name translates across refreshes (the names of an
	// answer rarely change); names whose translation depends on their series'
	// labels (the older scheme) are not kept. One refresh of a collector runs
	// at a time, so it needs no lock.
	memo map[string]*translation
	// names is how many names the last answer had: a size hint.
	names int
}

// translation is how one name translates, whatever its series.
type translation struct {
	seg      []string
	parsed   parsedName
	ok       bool // the naming rule translates it
	family   familySpec
	doc      bool
	exported string
	help     string
	extra    []labelPair // the percentile label; shared by every series of the name, read-only
}

// maxMemo bounds the names kept; past it, the memo starts again empty.
const maxMemo = 4096

// translationOf returns how ni translates, from the memo when it can.
func (r *builtinRules) translationOf(ni *nameInfo) *translation {
	if t, ok := r.memo[ni.name]; ok && ni.labels == nil {
		return t
	}
	t := &translation{seg: ni.seg}
	if t.seg != nil {
		t.parsed, t.ok = parseName(t.seg, ni.labels)
	}
	if t.ok {
		t.family, t.doc = t.parsed.documented()
		t.exported = t.parsed.exported()
		t.help = t.parsed.undocumentedHelp(ni.name)
		if t.parsed.hasPercentile {
			t.extra = []labelPair{{"percentile", t.parsed.percentile}}
		}
	}
	if ni.labels == nil {
		if r.memo == nil || len(r.memo) >= maxMemo {
			r.memo = map[string]*translation{}
		}
		r.memo[ni.name] = t
	}
	return t
}

// nameInfo is what one refresh learnt of one upstream series name: how it
// translates (memoised: an answer has thousands of series but a few dozen
// names) and what became of its series.
type nameInfo struct {
	name   string
	seg    []string        // nil: not two to four segments
	labels map[string]bool // label names of its series, when parsing needs them
	parsed parsedName
	t      *translation
	family familySpec  // its exported family, when reason is ""
	extra  []labelPair // the percentile label; shared by its series, read-only
	reason string      // why none of its series is exported
	rank   int         // among the names of its family: the lowest wins a collision
	detail string      // more words for the log and the status page

	series  int            // in the answer
	kept    int            // exported
	dropped map[string]int // by reason
}

// canonical says whether the name spells its percentile as it is exported
// (p99, not 0.99), or has none.
func (n *nameInfo) canonical() bool {
	return !n.parsed.hasPercentile || n.seg[len(n.seg)-2] == n.parsed.percentile
}

// translate maps the samples of the built-in selector's answer onto their
// families by the naming rule (names.go), and computes the percentiles of
// histogram buckets. It returns the series to build and what became of each
// name; series it refuses are counted in d.
func (r *builtinRules) translate(samples []groq.Sample, d *drops) ([]series, map[string]*nameInfo) {
	names := make(map[string]*nameInfo, r.names)
	var block []nameInfo                  // where the nameInfos are allocated, a few at a time
	of := make([]*nameInfo, len(samples)) // each sample's name
	var last *nameInfo                    // series of one name mostly come together
	limit, over := lastName(samples)
	for i, s := range samples {
		name := s.Labels.Get("__name__")
		if over != nil && name > limit {
			of[i] = over
			continue
		}
		ni := last
		if ni == nil || ni.name != name {
			ni = names[name]
		}
		if ni == nil {
			if len(block) == cap(block) {
				block = make([]nameInfo, 0, max(r.names, 16))
			}
			block = append(block, nameInfo{name: name})
			ni = &block[len(block)-1]
			if t, ok := r.memo[name]; ok {
				ni.seg = t.seg
			} else if seg, ok := splitName(name); ok {
				ni.seg = seg
				if needsLabels(seg) {
					ni.labels = map[string]bool{}
				}
			}
			names[name] = ni
		}
		last, of[i] = ni, ni
		ni.series++
		if ni.labels != nil {
			for _, l := range s.Labels {
				ni.labels[l.Name] = true
			}
		}
	}
	r.names = len(names)
	r.resolve(names)

	out := make([]series, 0, len(samples))
	var hists histograms
	for i, s := range samples {
		ni := of[i]
		switch {
		case ni == over: // counted, and not kept for the status page
			d.add(ni.reason, s.Labels.Get("__name__")+ni.detail, nil)
		case ni.reason != "":
			d.add(ni.reason, ni.name+ni.detail, ni)
		case ni.parsed.bucket:
			hists.add(ni, s, d)
		default:
			out = append(out, series{family: &ni.family, labels: s.Labels, extra: ni.extra, value: s.Value, src: ni, sample: i})
		}
	}
	return hists.quantiles(out), names
}

// maxNames bounds the upstream names of one answer that are translated:
// each may be a family, with its HELP, layout and status, and an answer of
// a family per series would hold far more than its body. Groq documents
// seven families; an answer names a few dozen.
const maxNames = 2000

// lastName returns, for an answer of more than maxNames upstream names, the
// last of the first maxNames in name order, and what the series of the
// names after it become: dropped as too_many_names. Only the names are
// gathered to find it, not what the translation keeps of each name.
func lastName(samples []groq.Sample) (string, *nameInfo) {
	if len(samples) <= maxNames {
		return "", nil
	}
	seen := map[string]struct{}{}
	last := ""
	for i, s := range samples {
		if name := s.Labels.Get("__name__"); i == 0 || name != last {
			seen[name], last = struct{}{}, name
		}
	}
	if len(seen) <= maxNames {
		return "", nil
	}
	sorted := slices.Sorted(maps.Keys(seen))
	return sorted[maxNames-1], &nameInfo{reason: dropTooManyNames,
		detail: fmt.Sprintf(" (one of %d names past the first %d)", len(sorted)-maxNames, maxNames)}
}

// resolve translates each name, and gives each family its HELP and each name
// its rank within its family.
func (r *builtinRules) resolve(names map[string]*nameInfo) {
	type candidate struct {
		exported string
		ni       *nameInfo
		doc      bool
	}
	candidates := make([]candidate, 0, len(names))
	for _, ni := range names {
		t := r.translationOf(ni)
		ni.t = t
		if !t.ok {
			ni.reason = dropBadName
			continue
		}
		ni.parsed = t.parsed
		f, doc, exported := t.family, t.doc, t.exported
		switch {
		case (r.documentedOnly || len(r.families) > 0) && !doc, len(r.families) > 0 && !slices.Contains(r.families, f.Name):
			ni.reason = dropUnknownName
		case r.reserved[exported]:
			ni.reason, ni.detail = dropNameCollision, " → "+exported+", a name the exporter already serves"
		default:
			candidates = append(candidates, candidate{exported, ni, doc})
		}
	}
	// By family, and in each: documented names first, then the current
	// scheme before the older, series before buckets, then by name: the
	// order is the answer's content only, never the order of the series in
	// it.
	first := func(x, y bool) int { // x before y
		switch {
		case x == y:
			return 0
		case x:
			return -1
		}
		return 1
	}
	slices.SortFunc(candidates, func(a, b candidate) int {
		if c := strings.Compare(a.exported, b.exported); c != 0 {
			return c
		}
		if c := first(a.doc, b.doc); c != 0 {
			return c
		}
		if c := first(a.ni.parsed.level == "", b.ni.parsed.level == ""); c != 0 {
			return c
		}
		if c := first(!a.ni.parsed.bucket, !b.ni.parsed.bucket); c != 0 {
			return c
		}
		if c := first(a.ni.canonical(), b.ni.canonical()); c != 0 {
			return c // p99 before 0.99
		}
		return strings.Compare(a.ni.name, b.ni.name)
	})
	for i := 0; i < len(candidates); {
		head := candidates[i]
		f := familySpec{Name: head.exported, Help: head.ni.t.help}
		if head.doc {
			f = head.ni.t.family
		}
		for rank := 0; i < len(candidates) && candidates[i].exported == head.exported; i, rank = i+1, rank+1 {
			ni := candidates[i].ni
			ni.rank, ni.family, ni.extra = rank, f, ni.t.extra
		}
	}
}
