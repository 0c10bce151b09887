package collector

import (
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// series is one translated upstream sample, ready to become a const metric.
type series struct {
	family Family
	labels map[string]string // upstream labels; __name__ and other "__" labels are left out
	extra  []labelPair       // labels the exporter sets (percentile); they win over upstream ones
	value  float64
	src    *nameInfo // the upstream name it comes from; nil for a custom query's
}

// rankOf orders the upstream names of one family: when two give the same
// series, the lower rank is kept. A custom query's series have no name.
func rankOf(n *nameInfo) int {
	if n == nil {
		return 0
	}
	return n.rank
}

// drops counts the series of an answer that are not exported, by reason,
// with one example of each for the log.
type drops struct {
	count   map[string]int
	example map[string]string
}

func newDrops() *drops { return &drops{count: map[string]int{}, example: map[string]string{}} }

func (d *drops) add(reason, example string) {
	d.count[reason]++
	if _, ok := d.example[reason]; !ok {
		d.example[reason] = example
	}
}

type labelPair struct{ name, value string }

// build turns translated series into const gauges. Every family gets one
// label set, the union over its series (a label a series lacks is ""), so that
// inconsistent upstream labels cannot break the exposition; series that end up
// identical are collapsed to one, and counted in d: as duplicate when they
// come from the same upstream name (the first is kept), as name_collision
// when from two (the one of lower rank is kept, whatever the order).
// It returns the metrics and how many each family has.
func build(all []series, d *drops) ([]prometheus.Metric, map[string]int) {
	families := map[string]int{}
	byFamily := map[string][]int{}
	var order []string
	for i, s := range all {
		if _, ok := byFamily[s.family.Name]; !ok {
			order = append(order, s.family.Name)
		}
		byFamily[s.family.Name] = append(byFamily[s.family.Name], i)
	}
	metrics := make([]prometheus.Metric, 0, len(all))
	for _, name := range order {
		idx := byFamily[name]
		f := all[idx[0]].family

		// Name every label the family's series carry, once. Series mostly
		// carry the same labels: a series whose labels are all known already
		// is checked by lookups, without walking its map.
		set := map[string]bool{}
		upstream := map[string]bool{}
		var known []string
		for _, i := range idx {
			for _, p := range all[i].extra {
				set[p.name] = true
			}
			labels := all[i].labels
			n := 0
			if _, ok := labels["__name__"]; ok {
				n++
			}
			for _, k := range known {
				if _, ok := labels[k]; ok {
					n++
				}
			}
			if n == len(labels) {
				continue
			}
			for k := range labels {
				if !strings.HasPrefix(k, "__") && !upstream[k] {
					upstream[k] = true
					known = append(known, k)
				}
			}
		}
		slices.Sort(known)
		exported := exportLabelNames(known, set) // upstream label name → exported label name
		labelNames := make([]string, 0, len(set))
		for n := range set {
			labelNames = append(labelNames, n)
		}
		sort.Strings(labelNames)
		pos := make(map[string]int, len(labelNames))
		for i, n := range labelNames {
			pos[n] = i
		}
		at := make([]int, len(known)) // where each upstream label goes among labelNames
		for j, k := range known {
			at[j] = pos[exported[k]]
		}
		desc, ok := descs.get(f.Name, f.Help, labelNames)
		if !ok {
			for _, i := range idx { // cannot happen: the names are sanitized
				d.add(dropInvalid, name)
				if all[i].src != nil {
					all[i].src.drop(dropInvalid, 1)
				}
			}
			continue
		}
		seen := newDedup(len(idx))
		kept := make([]keptSeries, 0, len(idx))
		block := make([]string, len(idx)*len(labelNames)) // every series' label values, in one allocation
		for _, i := range idx {
			s := all[i]
			values := block[:len(labelNames):len(labelNames)]
			block = block[len(labelNames):]
			for j, k := range known {
				if v, ok := s.labels[k]; ok {
					values[at[j]] = v
				}
			}
			for _, p := range s.extra {
				values[pos[p.name]] = p.value
			}
			if !validUTF8(values) {
				d.add(dropInvalid, name)
				if s.src != nil {
					s.src.drop(dropInvalid, 1)
				}
				continue
			}
			j, dup := seen.seen(values, len(kept))
			if !dup {
				kept = append(kept, keptSeries{values, s.value, i})
				continue
			}
			lost, won := s.src, all[kept[j].from].src
			if rankOf(lost) < rankOf(won) {
				lost, won = won, lost
				kept[j] = keptSeries{values, s.value, i}
			}
			if lost == won {
				example := name
				if lost != nil {
					example = lost.name
					lost.drop(dropDuplicate, 1)
				}
				d.add(dropDuplicate, example)
				continue
			}
			d.add(dropNameCollision, lost.name+" → "+name+", as "+won.name+" is")
			lost.drop(dropNameCollision, 1)
			if lost.detail == "" {
				lost.detail = " → " + name + ", as " + won.name + " is"
			}
		}
		// In the order the registry sorts them into on every scrape, so that
		// its sort finds them sorted: sorted once per refresh, not per scrape.
		slices.SortFunc(kept, func(a, b keptSeries) int { return slices.Compare(a.values, b.values) })
		fb := newFamilyBuilder(desc, labelNames, len(kept))
		for _, k := range kept {
			metrics = append(metrics, fb.add(k.values, k.value))
			if src := all[k.from].src; src != nil {
				src.kept++
			}
		}
		families[name] += len(kept)
	}
	return metrics, families
}

// descCache keeps the Desc of each family and label set across refreshes:
// making one (and checking it) cost more than the rest of a small refresh.
type descCache struct {
	mu sync.Mutex
	m  map[string]*prometheus.Desc
}

// maxDescs bounds the cache; past it, it starts again empty.
const maxDescs = 1024

var descs = &descCache{m: map[string]*prometheus.Desc{}}

// get returns the Desc of a gauge family with these label names, or false if
// client_golang refuses them.
func (c *descCache) get(name, help string, labelNames []string) (*prometheus.Desc, bool) {
	key := name + "\x00" + help + "\x00" + strings.Join(labelNames, "\x00")
	c.mu.Lock()
	d, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return d, true
	}
	d = prometheus.NewDesc(name, help, labelNames, nil)
	if _, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, 0, make([]string, len(labelNames))...); err != nil {
		return nil, false
	}
	c.mu.Lock()
	if len(c.m) >= maxDescs {
		clear(c.m)
	}
	c.m[key] = d
	c.mu.Unlock()
	return d, true
}

type keptSeries struct {
	values []string // label values, in the order of the family's sorted label names
	value  float64
	from   int // its index in all: no pointer, for the sort's and the GC's sake
}

// gauge is a const gauge, as prometheus.NewConstMetric makes one, whose
// protobuf form is laid out in blocks shared by its whole family: a refresh
// then costs about one allocation per series rather than a dozen.
type gauge struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	gauge  *dto.Gauge
}

func (g *gauge) Desc() *prometheus.Desc { return g.desc }

// Write hands out the shared protobuf parts, as client_golang's const
// metrics do: the registry only reads them.
func (g *gauge) Write(out *dto.Metric) error {
	out.Label = g.labels
	out.Gauge = g.gauge
	return nil
}

// familyBuilder makes the gauges of one family from blocks allocated once.
type familyBuilder struct {
	desc   *prometheus.Desc
	names  []string // sorted, as NewConstMetric would sort the label pairs
	pairs  []dto.LabelPair
	ptrs   []*dto.LabelPair
	gauges []dto.Gauge
	values []float64
	out    []gauge
	n      int
}

func newFamilyBuilder(desc *prometheus.Desc, names []string, size int) *familyBuilder {
	return &familyBuilder{desc: desc, names: names,
		pairs: make([]dto.LabelPair, size*len(names)), ptrs: make([]*dto.LabelPair, size*len(names)),
		gauges: make([]dto.Gauge, size), values: make([]float64, size), out: make([]gauge, size)}
}

// add makes the next gauge; labelValues are in the order of names and are
// kept, not copied.
func (b *familyBuilder) add(labelValues []string, v float64) prometheus.Metric {
	i, k := b.n, len(b.names)
	b.n++
	var labels []*dto.LabelPair
	if k > 0 {
		labels = b.ptrs[i*k : (i+1)*k : (i+1)*k]
		for j := range k {
			p := &b.pairs[i*k+j]
			p.Name, p.Value = &b.names[j], &labelValues[j]
			labels[j] = p
		}
	}
	b.values[i] = v
	b.gauges[i].Value = &b.values[i]
	g := &b.out[i]
	g.desc, g.labels, g.gauge = b.desc, labels, &b.gauges[i]
	return g
}

// dedup tells whether a series' label values were seen before in its family,
// and where it was kept, by hash, falling back to the joined values only for
// a hash collision.
type dedup struct {
	seed  maphash.Seed
	first map[uint64]seenAt
	more  map[string]int
}

type seenAt struct {
	values []string
	index  int
}

func newDedup(size int) *dedup {
	return &dedup{seed: maphash.MakeSeed(), first: make(map[uint64]seenAt, size)}
}

// seen returns where values were kept before, or records them at index.
func (d *dedup) seen(values []string, index int) (int, bool) {
	var h maphash.Hash
	h.SetSeed(d.seed)
	for _, v := range values {
		h.WriteString(v)
		h.WriteByte(0xff) // never in UTF-8, so ("a", "") and ("", "a") differ
	}
	sum := h.Sum64()
	prev, ok := d.first[sum]
	if !ok {
		d.first[sum] = seenAt{values, index}
		return 0, false
	}
	if slices.Equal(prev.values, values) {
		return prev.index, true
	}
	if d.more == nil {
		d.more = map[string]int{}
	}
	key := strings.Join(values, "\xff")
	if j, ok := d.more[key]; ok {
		return j, true
	}
	d.more[key] = index
	return 0, false
}

func validUTF8(values []string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// dropInvalid: a series client_golang would refuse (a label value that is not UTF-8).
const dropInvalid = "invalid"

// exportLabelNames gives each upstream label name (sorted) its own exported
// name and adds it to taken, which holds the exporter's own labels. A name
// that is valid and free keeps it; the others are sanitized and, if that name
// is taken (by the exporter, as "percentile" is, or by another upstream label,
// as "a_b" is for "a-b"), prefixed with "exported_" until it is free. The
// result depends only on the set of names, never on map order, so two labels
// can never share a name and overwrite each other's values.
func exportLabelNames(keys []string, taken map[string]bool) map[string]string {
	exported := make(map[string]string, len(keys))
	for _, k := range keys {
		if !taken[k] && sanitizeLabelName(k) == k {
			exported[k] = k
			taken[k] = true
		}
	}
	for _, k := range keys {
		if _, ok := exported[k]; ok {
			continue
		}
		n := sanitizeLabelName(k)
		for taken[n] {
			n = "exported_" + n
		}
		exported[k] = n
		taken[n] = true
	}
	return exported
}

// sanitizeLabelName makes any upstream label name a valid Prometheus label
// name ([a-zA-Z_][a-zA-Z0-9_]*), as Prometheus's own relabelling would.
func sanitizeLabelName(s string) string {
	ok := s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	for len(b) > 1 && b[0] == '_' && b[1] == '_' { // "__" is reserved for Prometheus's own labels
		b = b[1:]
	}
	return string(b)
}
