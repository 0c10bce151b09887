package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/groq"
)

// layout is where the labels of a family's series go. A family's label names
// rarely change: it is kept across refreshes, and only checked.
type layout struct {
	help     string
	upstream []string         // the series' label names, sorted; "__" ones left out
	extra    []string         // the exporter's label names (percentile, organization), sorted
	names    []string         // the exported label names, sorted
	at       map[string]int   // an upstream label name → its place in names
	extraAt  map[string]int   // the exporter's label name → its place in names
	desc     *prometheus.Desc // nil if client_golang refuses the names
}

// maxLayouts bounds the layouts kept; past it, they start again empty.
const maxLayouts = 1024

// layout returns the layout of family f, whose series are b.all[idx].
func (b *builder) layout(f Family, idx []int) *layout {
	all := b.all
	// Series mostly carry the same label names as the one before them,
	// and those are not looked at again.
	sc := &b.scratch
	upstream, extra := sc.upstream[:0], sc.extraNames[:0]
	if sc.seen == nil {
		sc.seen = map[string]bool{}
	}
	clear(sc.seen)
	seen := sc.seen
	var prev groq.Labels
	var prevExtra []labelPair
	for n, i := range idx {
		s := all[i]
		if n == 0 || !sameNames(s.labels, prev) {
			for _, l := range s.labels {
				if !strings.HasPrefix(l.Name, "__") && !seen[l.Name] {
					seen[l.Name] = true
					upstream = append(upstream, l.Name)
				}
			}
			prev = s.labels
		}
		if n == 0 || !sameExtra(s.extra, prevExtra) {
			for _, p := range s.extra {
				if !slices.Contains(extra, p.name) {
					extra = append(extra, p.name)
				}
			}
			prevExtra = s.extra
		}
	}
	for _, p := range b.constant {
		if !slices.Contains(extra, p.name) {
			extra = append(extra, p.name)
		}
	}
	slices.Sort(upstream)
	slices.Sort(extra)
	sc.upstream, sc.extraNames = upstream, extra
	if l := b.layouts[f.Name]; l != nil && l.help == f.Help && slices.Equal(l.upstream, upstream) && slices.Equal(l.extra, extra) {
		return l
	}
	upstream, extra = slices.Clone(upstream), slices.Clone(extra)

	taken := make(map[string]bool, len(extra))
	for _, e := range extra {
		taken[e] = true
	}
	exported := exportLabelNames(upstream, taken) // upstream label name → exported label name
	l := &layout{help: f.Help, upstream: upstream, extra: extra,
		at: make(map[string]int, len(upstream)), extraAt: make(map[string]int, len(extra))}
	for n := range taken {
		l.names = append(l.names, n)
	}
	slices.Sort(l.names)
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

// sameNames says whether two label sets have the same names, in order.
func sameNames(a, b groq.Labels) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// sameExtra says whether two sets of the exporter's labels have the same names, in order.
func sameExtra(a, b []labelPair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name {
			return false
		}
	}
	return true
}
