package exporter

import (
	"cmp"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// An orgOrder is several organizations' families merged by name, as
// prometheus.Gatherers merges them: one family per name, its series sorted
// as client_golang sorts them. It holds where each series is in the
// snapshots rather than the series, so that a later view whose refreshed
// organizations have the series they had (new values; Groq's series change
// only when a model or a status code comes or goes) reuses the order: a pass
// over the refreshed organizations' labels instead of a sort of every
// series.
type orgOrder struct {
	orgs  []*organization // the set it orders
	snaps []*orgSnapshot  // of orgs[i]: where the series are
	fams  []orderedFamily // sorted by name; shared by the orders reused from this one
	ok    bool            // false (and fams nil): a name has two HELPs or TYPEs
}

type orderedFamily struct {
	name, help string
	typ        dto.MetricType
	series     []seriesRef
}

// seriesRef is series i of family f of snapshot s.
type seriesRef struct{ s, f, i int32 }

func (o *orgOrder) metric(r seriesRef) *dto.Metric {
	return o.snaps[r.s].families[r.f].Metric[r.i]
}

// newOrgOrder merges the families of snaps, the snapshots of orgs.
func newOrgOrder(orgs []*organization, snaps []*orgSnapshot) *orgOrder {
	o := &orgOrder{orgs: orgs, snaps: snaps, ok: true}
	byName := map[string]int{}
	var sources []int // of o.fams[j]
	for s, snap := range snaps {
		if snap == nil {
			continue
		}
		for f, mf := range snap.families {
			j, seen := byName[mf.GetName()]
			switch {
			case !seen:
				j = len(o.fams)
				byName[mf.GetName()] = j
				o.fams = append(o.fams, orderedFamily{name: mf.GetName(), help: mf.GetHelp(), typ: mf.GetType()})
				sources = append(sources, 0)
			case o.fams[j].help != mf.GetHelp() || o.fams[j].typ != mf.GetType():
				return &orgOrder{orgs: orgs, snaps: snaps}
			}
			for i := range mf.Metric {
				o.fams[j].series = append(o.fams[j].series, seriesRef{int32(s), int32(f), int32(i)})
			}
			sources[j]++
		}
	}
	for j := range o.fams {
		if sources[j] > 1 {
			slices.SortFunc(o.fams[j].series, func(a, b seriesRef) int { return compareMetrics(o.metric(a), o.metric(b)) })
		}
	}
	slices.SortFunc(o.fams, func(a, b orderedFamily) int { return strings.Compare(a.name, b.name) })
	return o
}

// of returns the order of v's snapshots: o if they are o's; o with v's
// snapshots if v is of o's set and each snapshot that differs has the
// series of the one it replaces; else nil.
func (o *orgOrder) of(v *view) *orgOrder {
	if !slices.Equal(v.orgs, o.orgs) || len(v.snaps) != len(o.snaps) {
		return nil
	}
	next := o
	for i, snap := range v.snaps {
		if snap == o.snaps[i] {
			continue
		}
		if !sameSeriesOf(o.snaps[i], snap) {
			return nil
		}
		if next == o {
			next = &orgOrder{orgs: o.orgs, snaps: slices.Clone(o.snaps), fams: o.fams, ok: o.ok}
		}
		next.snaps[i] = snap
	}
	return next
}

// sameSeriesOf reports whether b has the families of a (names, HELP, TYPE)
// with the same series, values aside.
func sameSeriesOf(a, b *orgSnapshot) bool {
	if a == nil || b == nil || len(a.families) != len(b.families) {
		return false
	}
	for f, am := range a.families {
		bm := b.families[f]
		if am.GetName() != bm.GetName() || am.GetHelp() != bm.GetHelp() || am.GetType() != bm.GetType() || len(am.Metric) != len(bm.Metric) {
			return false
		}
		for i, m := range am.Metric {
			if !sameSeries(m, bm.Metric[i]) {
				return false
			}
		}
	}
	return true
}

// families returns the merged families, pointing at the series of o's
// snapshots; nil if !o.ok.
func (o *orgOrder) families() []*dto.MetricFamily {
	if !o.ok {
		return nil
	}
	out := make([]*dto.MetricFamily, len(o.fams))
	for j, f := range o.fams {
		name, help, typ := f.name, f.help, f.typ
		mf := &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: make([]*dto.Metric, len(f.series))}
		for k, r := range f.series {
			mf.Metric[k] = o.metric(r)
		}
		out[j] = mf
	}
	return out
}

// interleave merges two lists of families, each sorted by name, into one
// sorted by name. ok is false when both have a name.
func interleave(a, b []*dto.MetricFamily) (out []*dto.MetricFamily, ok bool) {
	out = make([]*dto.MetricFamily, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch an, bn := a[0].GetName(), b[0].GetName(); {
		case an < bn:
			out, a = append(out, a[0]), a[1:]
		case bn < an:
			out, b = append(out, b[0]), b[1:]
		default:
			return nil, false
		}
	}
	return append(append(out, a...), b...), true
}

// compareMetrics orders series as client_golang does when it gathers: by
// number of labels, then by label values in label-name order, then by
// timestamp, none last.
func compareMetrics(a, b *dto.Metric) int {
	if len(a.Label) != len(b.Label) {
		return cmp.Compare(len(a.Label), len(b.Label))
	}
	for i, l := range a.Label {
		if c := strings.Compare(l.GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	switch {
	case a.TimestampMs == nil && b.TimestampMs == nil:
		return 0
	case a.TimestampMs == nil:
		return 1
	case b.TimestampMs == nil:
		return -1
	}
	return cmp.Compare(a.GetTimestampMs(), b.GetTimestampMs())
}
