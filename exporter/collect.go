package exporter

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// collectFamilies gathers c's metrics into families as a
// prometheus.Registry with c alone registered gathers them (families sorted
// by name, series sorted as client_golang sorts them), without the
// registry's consistency check and hash of every series: an organization's
// collector already built its series valid and distinct, and that second
// pass was a fifth of the CPU of a refresh. ok is false when anything is
// not as the collector promises (a Desc that cannot be read, a series that
// cannot be written, a name with two HELP or types, two series alike): the
// caller then gathers through a registry, which says what is wrong.
//
// names keeps what each Desc reads as from one gathering to the next (nil:
// nothing kept): a collector keeps its Descs across refreshes, and reading
// one costs a fmt.Sprintf.
func collectFamilies(c prometheus.Collector, names *descNames) (mfs []*dto.MetricFamily, ok bool) {
	if names == nil {
		names = &descNames{}
	}
	names.mu.Lock()
	defer names.mu.Unlock()
	seen := make(map[*prometheus.Desc]*descInfo, len(names.last))
	ch := make(chan prometheus.Metric, 256)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	defer func() {
		for range ch { // drained if we stopped early
		}
	}()
	// The families, the series and their lists are carved from blocks
	// sized as the last gathering was: a few allocations for an
	// organization rather than one or two per family and one per series.
	fams := make([]dto.MetricFamily, names.families)
	lists := make([]*dto.Metric, names.total)
	var slab []dto.Metric
	var n int
	byDesc := make(map[*prometheus.Desc]*dto.MetricFamily, len(names.last))
	byName := make(map[string]*dto.MetricFamily, len(names.last))
	for m := range ch {
		desc := m.Desc()
		mf := byDesc[desc]
		if mf == nil {
			info := names.last[desc]
			if info == nil {
				name, help, unit, ok := readDesc(desc)
				if !ok {
					return nil, false
				}
				info = &descInfo{name: &name, help: &help}
				if unit != "" {
					info.unit = &unit
				}
			}
			seen[desc] = info
			if mf = byName[*info.name]; mf == nil {
				if len(fams) > 0 {
					mf, fams = &fams[0], fams[1:]
				} else {
					mf = &dto.MetricFamily{}
				}
				mf.Name, mf.Help, mf.Unit = info.name, info.help, info.unit
				if h := info.series; h <= len(lists) {
					mf.Metric, lists = lists[:0:h], lists[h:] // past h, append moves the list out
				}
				byName[*info.name] = mf
				mfs = append(mfs, mf)
			} else if mf.GetHelp() != *info.help {
				return nil, false
			}
			byDesc[desc] = mf
		}
		if len(slab) == 0 {
			slab = make([]dto.Metric, max(names.total-n, 64))
		}
		dm := &slab[0]
		slab = slab[1:]
		n++
		if err := m.Write(dm); err != nil {
			return nil, false
		}
		var t *dto.MetricType
		switch {
		case dm.Gauge != nil:
			t = &gaugeType
		case dm.Counter != nil:
			t = &counterType
		case dm.Untyped != nil:
			t = &untypedType
		default: // summaries and histograms: none here; the registry knows them
			return nil, false
		}
		switch {
		case mf.Type == nil:
			mf.Type = t
		case *mf.Type != *t:
			return nil, false
		}
		mf.Metric = append(mf.Metric, dm)
	}
	for _, mf := range mfs {
		if !slices.IsSortedFunc(mf.Metric, compareMetrics) {
			slices.SortFunc(mf.Metric, compareMetrics)
		}
		for i := 1; i < len(mf.Metric); i++ {
			if sameSeries(mf.Metric[i-1], mf.Metric[i]) {
				return nil, false
			}
		}
	}
	for _, info := range seen {
		info.series = len(byName[*info.name].Metric)
	}
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	names.last, names.total, names.families = seen, n, len(mfs) // the Descs of this gathering alone: it does not grow
	return mfs, true
}

// The types of the families collectFamilies gathers, shared by them all.
var gaugeType, counterType, untypedType = dto.MetricType_GAUGE, dto.MetricType_COUNTER, dto.MetricType_UNTYPED

// descNames is what the Descs of one collector's last gathering read as,
// and how many series and families it had.
type descNames struct {
	mu              sync.Mutex
	last            map[*prometheus.Desc]*descInfo
	total, families int // series and families
}

// descInfo is what a Desc reads as; the strings are shared by the families
// of every gathering, which never write them. series is the number of
// series of its family in the last gathering.
type descInfo struct {
	name, help, unit *string
	series           int
}

// sameSeries reports whether a and b have the same labels, which the
// registry refuses in one family.
func sameSeries(a, b *dto.Metric) bool {
	if len(a.Label) != len(b.Label) {
		return false
	}
	for i, l := range a.Label {
		if l.GetName() != b.Label[i].GetName() || l.GetValue() != b.Label[i].GetValue() {
			return false
		}
	}
	return true
}

// readDesc reads the name, HELP and unit of desc from its String, the only
// way client_golang shows them: Desc{fqName: "…", help: "…", unit: "…", …}.
// A Desc that reads otherwise (e.g. another client_golang) is not ok.
func readDesc(desc *prometheus.Desc) (name, help, unit string, ok bool) {
	s := desc.String()
	field := func(key string) (string, bool) {
		if !strings.HasPrefix(s, key) {
			return "", false
		}
		s = s[len(key):]
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", false
		}
		s = s[len(q):]
		v, err := strconv.Unquote(q)
		return v, err == nil
	}
	var okName, okHelp, okUnit bool
	name, okName = field("Desc{fqName: ")
	help, okHelp = field(", help: ")
	unit, okUnit = field(", unit: ")
	return name, help, unit, okName && okHelp && okUnit && name != ""
}
