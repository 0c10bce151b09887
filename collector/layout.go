package collector

import (
	"iter"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// exportedLabel is one label a series is exported with, before its name is
// made a valid label name.
type exportedLabel struct {
	upstream    bool // Groq's; else the exporter's (extra or constant), whose names are another namespace
	name, value string
}

// exportedLabels yields the labels s is exported with, in the order in which
// a later one wins over an earlier one of the same name and namespace: its
// upstream labels but Prometheus's own ("__name__" and any "__" one), then
// the exporter's: its extra ones (percentile), then the constant ones (the
// organization). This is the one walk over a series' labels; the layout of a
// family and its rows are both made from it.
func (s *series) exportedLabels(constant []labelPair) iter.Seq[exportedLabel] {
	return func(yield func(exportedLabel) bool) {
		for _, l := range s.labels {
			if !strings.HasPrefix(l.Name, "__") && !yield(exportedLabel{true, l.Name, l.Value}) {
				return
			}
		}
		for _, p := range s.extra {
			if !yield(exportedLabel{false, p.name, p.value}) {
				return
			}
		}
		for _, p := range constant {
			if !yield(exportedLabel{false, p.name, p.value}) {
				return
			}
		}
	}
}

// sameShape says whether two series carry the same label names, in the same
// order: most series of a family carry those of the one before them, and
// what was found for that one holds.
func sameShape(a, b *series) bool {
	if len(a.labels) != len(b.labels) || len(a.extra) != len(b.extra) {
		return false
	}
	for i := range a.labels {
		if a.labels[i].Name != b.labels[i].Name {
			return false
		}
	}
	for i := range a.extra {
		if a.extra[i].name != b.extra[i].name {
			return false
		}
	}
	return true
}

// layout is where the labels of a family's series go. A family's label names
// rarely change: it is kept across refreshes, and only checked.
type layout struct {
	help     string
	upstream []string         // the series' label names, sorted; "__" ones left out
	extra    []string         // the exporter's label names (percentile, organization), sorted
	names    []string         // the exported label names, sorted
	at       map[string]int   // an upstream label name → its place in names
	extraAt  map[string]int   // the exporter's label name → its place in names
	small    []placed         // in place of at and extraAt, for a part of a split family (a few labels)
	desc     *prometheus.Desc // nil if client_golang refuses the names
}

// placed is a label and its place among the names.
type placed struct {
	upstream bool
	name     string
	j        int
}

// place is where label l goes among the names.
func (l *layout) place(e exportedLabel) int {
	if l.small != nil {
		for _, p := range l.small {
			if p.upstream == e.upstream && p.name == e.name {
				return p.j
			}
		}
	}
	if e.upstream {
		return l.at[e.name]
	}
	return l.extraAt[e.name]
}

// maxLayouts bounds the layouts kept; past it, they start again empty.
const maxLayouts = 1024

// maxUnionCost bounds what one label set for a whole family may cost: the
// labels it gives series that lack them (as "") may take at most this many
// times the bytes of the label names the series carry. Past it the family is
// split by label names (build).
const maxUnionCost = 3

// names collects the label names the series b.all[idx] are exported with,
// sorted, each namespace on its own, and says whether one label set for them
// all stays within maxUnionCost.
func (b *builder) names(idx []int) (upstream, extra []string, union bool) {
	sc := &b.scratch
	upstream, extra = sc.upstream[:0], sc.extraNames[:0]
	sc.seen = emptied(sc.seen, len(idx))
	carried := 0 // bytes of the label names the series carry
	var prev *series
	run := 0 // series with the labels of prev
	flush := func() {
		for l := range prev.exportedLabels(b.constant) {
			l.value = ""
			n, ok := sc.seen[l]
			if !ok {
				if l.upstream {
					upstream = append(upstream, l.name)
				} else {
					extra = append(extra, l.name)
				}
			}
			sc.seen[l] = n + run
			carried += run * (len(l.name) + 4)
		}
	}
	for _, i := range idx {
		s := &b.all[i]
		if prev != nil && !sameShape(s, prev) {
			flush()
			run = 0
		}
		prev = s
		run++
	}
	if prev != nil {
		flush()
	}
	lacking := 0 // bytes of the label names one label set adds to series that lack them
	for l, n := range sc.seen {
		lacking += max(len(idx)-n, 0) * (len(l.name) + 4)
	}
	slices.Sort(upstream)
	slices.Sort(extra)
	upstream, extra = slices.Compact(upstream), slices.Compact(extra)
	sc.upstream, sc.extraNames = upstream, extra
	return upstream, extra, lacking <= maxUnionCost*carried
}

// layout returns the layout of family f for series with these label names
// (as names returns them), kept across refreshes; or, for a part of a split
// family, one whose upstream label names are exported as the whole family
// exports them (exported), so that no two parts can give the same series.
func (b *builder) layout(f familySpec, upstream, extra []string, exported map[string]string) *layout {
	cached := exported == nil
	if l := b.layouts[f.Name]; cached && l != nil && l.help == f.Help && slices.Equal(l.upstream, upstream) && slices.Equal(l.extra, extra) {
		return l
	}
	upstream, extra = slices.Clone(upstream), slices.Clone(extra)
	if cached {
		exported = familyLabelNames(upstream, extra)
	}
	l := &layout{help: f.Help, upstream: upstream, extra: extra}
	l.names = slices.Clone(extra)
	for _, u := range upstream {
		l.names = append(l.names, exported[u])
	}
	slices.Sort(l.names)
	if !cached { // a part of a split family: no maps, which would cost more than its series
		l.small = make([]placed, 0, len(upstream)+len(extra))
		for _, u := range upstream {
			j, _ := slices.BinarySearch(l.names, exported[u])
			l.small = append(l.small, placed{true, u, j})
		}
		for _, e := range extra {
			j, _ := slices.BinarySearch(l.names, e)
			l.small = append(l.small, placed{false, e, j})
		}
		return l
	}
	l.at, l.extraAt = make(map[string]int, len(upstream)), make(map[string]int, len(extra))
	place := make(map[string]int, len(l.names))
	for j, n := range l.names {
		place[n] = j
	}
	for _, u := range upstream {
		l.at[u] = place[exported[u]]
	}
	for _, e := range extra {
		l.extraAt[e] = place[e]
	}
	desc := prometheus.NewDesc(f.Name, f.Help, l.names, nil)
	if _, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, 0, make([]string, len(l.names))...); err == nil {
		l.desc = desc
	}
	if b.layouts == nil || len(b.layouts) >= maxLayouts {
		b.layouts = map[string]*layout{}
	}
	b.layouts[f.Name] = l
	return l
}

// familyLabelNames is the exported name of each of a family's upstream
// label names, none of them one of the exporter's (extra).
func familyLabelNames(upstream, extra []string) map[string]string {
	taken := make(map[string]bool, len(extra)+len(upstream))
	for _, e := range extra {
		taken[e] = true
	}
	return exportLabelNames(upstream, taken)
}
