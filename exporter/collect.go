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
	seen := make(map[*prometheus.Desc]descInfo, len(names.last))
	ch := make(chan prometheus.Metric, 256)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	defer func() {
		for range ch { // drained if we stopped early
		}
	}()
	byDesc := map[*prometheus.Desc]*dto.MetricFamily{}
	byName := map[string]*dto.MetricFamily{}
	for m := range ch {
		desc := m.Desc()
		mf := byDesc[desc]
		if mf == nil {
			info, ok := names.last[desc]
			if !ok {
				if info.name, info.help, info.unit, ok = readDesc(desc); !ok {
					return nil, false
				}
			}
			seen[desc] = info
			name, help, unit := info.name, info.help, info.unit
			if mf = byName[name]; mf == nil {
				mf = &dto.MetricFamily{Name: &name, Help: &help}
				if unit != "" {
					mf.Unit = &unit
				}
				byName[name] = mf
				mfs = append(mfs, mf)
			} else if mf.GetHelp() != help {
				return nil, false
			}
			byDesc[desc] = mf
		}
		dm := &dto.Metric{}
		if err := m.Write(dm); err != nil {
			return nil, false
		}
		var t dto.MetricType
		switch {
		case dm.Gauge != nil:
			t = dto.MetricType_GAUGE
		case dm.Counter != nil:
			t = dto.MetricType_COUNTER
		case dm.Untyped != nil:
			t = dto.MetricType_UNTYPED
		default: // summaries and histograms: none here; the registry knows them
			return nil, false
		}
		switch {
		case mf.Type == nil:
			mf.Type = t.Enum()
		case *mf.Type != t:
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
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	names.last = seen // the Descs of this gathering alone: it does not grow
	return mfs, true
}

// descNames is what the Descs of one collector's last gathering read as.
type descNames struct {
	mu   sync.Mutex
	last map[*prometheus.Desc]descInfo
}

type descInfo struct{ name, help, unit string }

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
