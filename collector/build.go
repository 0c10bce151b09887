package collector

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/groq-exporter/groq_exporter/groq"
)

// series is one translated upstream sample, ready to become a const metric.
type series struct {
	family *Family     // shared by the series of a name, read-only
	labels groq.Labels // upstream labels, sorted; build leaves out __name__ and other "__" labels
	extra  []labelPair // labels the exporter sets (percentile); they win over upstream ones
	value  float64
	src    *nameInfo // the upstream name it comes from; nil for a custom query's
	sample int       // its sample in the answer; -1 if it is computed from several (a percentile of buckets)
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
// It returns the metrics, sorted within each family as the registry sorts
// them, and how many each family has.
//
// A builder is kept across the refreshes of one query, with the layout of
// each family and its scratch space. One refresh of a query runs at a time.
func (b *builder) build(all []series, d *drops) ([]prometheus.Metric, map[string]int) {
	b.all, b.d = all, d
	b.gauges, b.metrics = make([]gauge, len(all)), make([]prometheus.Metric, 0, len(all))
	b.sampleOf = b.sampleOf[:0]
	// New blocks, as the last build's are still served; as large as the
	// last build used, so that one of each mostly does.
	b.strings.reset()
	b.pairs.reset()
	b.ptrs.reset()
	defer func() { b.all, b.d, b.gauges, b.metrics = nil, nil, nil, nil }()

	// Each series' family, numbered in the order the answer first names
	// them; then every family's series, in the answer's order, side by side.
	sc := &b.scratch
	if sc.family == nil {
		sc.family = map[string]int{}
	}
	clear(sc.family)
	sc.families, sc.count = sc.families[:0], sc.count[:0]
	famOf := grow(sc.famOf, len(all))
	sc.famOf = famOf
	last := -1 // the series of one family mostly come together
	for i := range all {
		name := all[i].family.Name
		f := last
		if f < 0 || sc.families[f].Name != name {
			var ok bool
			if f, ok = sc.family[name]; !ok {
				f = len(sc.families)
				sc.family[name] = f
				sc.families, sc.count = append(sc.families, *all[i].family), append(sc.count, 0)
			}
			last = f
		}
		famOf[i] = f
		sc.count[f]++
	}
	idx := grow(sc.idx, len(all))
	sc.idx = idx
	start := sc.start[:0]
	next := 0
	for _, n := range sc.count {
		start = append(start, next)
		next += n
	}
	sc.start = start
	for i, f := range famOf {
		idx[start[f]] = i
		start[f]++
	}

	families := make(map[string]int, len(sc.families))
	next = 0
	for f, fam := range sc.families {
		of := idx[next : next+sc.count[f]]
		next += sc.count[f]
		lay := b.layout(fam, of)
		if lay.desc == nil { // cannot happen: the names are sanitized
			for _, i := range of {
				b.drop(dropInvalid, i)
			}
			continue
		}
		families[fam.Name] += b.family(lay, of)
	}
	return b.metrics, families
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

// builder makes the gauges of a refresh, from blocks allocated once per
// refresh or once per family, never per series.
type builder struct {
	constant []labelPair         // labels every series gets (the organization), after its own
	layouts  map[string]*layout  // by family name, kept across refreshes
	orders   map[string]*ordered // by label name, kept across refreshes

	// What the last answer built into, for the next answer with the same
	// series in the same order to reuse; nil if it cannot be.
	last *lastBuild

	// Of the build under way.
	all      []series
	d        *drops
	gauges   []gauge // one per series of all, taken in turn
	metrics  []prometheus.Metric
	strings  arena[string]         // the families' label values
	pairs    arena[dto.LabelPair]  // and label pairs
	ptrs     arena[*dto.LabelPair] // and each gauge's labels
	sampleOf []int                 // the sample of each of metrics; -1 if computed from several

	scratch struct { // what a build needs only while it runs, kept for the next
		family     map[string]int // family name → its number
		families   []Family
		count      []int // series per family
		start      []int
		famOf, idx []int
		seen       map[string]bool
		upstream   []string
		extraNames []string
		values     [][]string
		pairOf     [][]dto.LabelPair
		ids        []map[string]uint32 // value → number, per label
		raw        [][]string          // number → value, per label
		rows       []uint32
		cur, prev  []string
		at, extra  []int
		constantAt []int
		order      []uint32
		rank       [][]uint32
		invalid    [][]bool
		valid      []int
		keys       []uint64
		shift      []int
	}
}

// arena hands out slices of a block, and allocates another when it runs
// out: the blocks of every family of a build in one or two allocations.
type arena[T any] struct {
	block []T
	used  int // by the build under way
	size  int // what the last build used
}

// reset starts a new build: the slices handed out so far stay with the last.
func (a *arena[T]) reset() {
	a.block, a.size, a.used = nil, max(a.used, a.size/2), 0
}

// take returns a slice of n zero values.
func (a *arena[T]) take(n int) []T {
	if len(a.block) < n {
		a.block = make([]T, max(n, a.size-a.used))
	}
	s := a.block[:n:n]
	a.block = a.block[n:]
	a.used += n
	return s
}

// grow returns s with length n, cleared, allocating only if it must.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func (b *builder) drop(reason string, i int) {
	name := b.all[i].family.Name
	b.d.add(reason, name)
	if src := b.all[i].src; src != nil {
		src.drop(reason, 1)
	}
}

// family appends the gauges of the series all[idx], laid out by lay, to
// b.metrics, and returns how many it kept.
//
// Each label's values are numbered as they come, then ranked: a series is a
// row of ranks, sorted and compared as numbers, and each label pair is made
// once for all the series that share it.
func (b *builder) family(lay *layout, idx []int) int {
	all, width, sc := b.all, len(lay.names), &b.scratch
	for len(sc.ids) < width {
		sc.ids, sc.raw = append(sc.ids, map[string]uint32{}), append(sc.raw, nil)
		sc.rank, sc.invalid = append(sc.rank, nil), append(sc.invalid, nil)
	}
	ids, raw := sc.ids[:width], sc.raw[:width]
	for j := range width {
		clear(ids[j])
		raw[j] = raw[j][:0]
	}
	rows := grow(sc.rows, len(idx)*width)
	cur, prevValues := grow(sc.cur, width), grow(sc.prev, width)
	at, extraAt := sc.at[:0], sc.extra[:0] // where prev's labels and prevExtra go among the names; -1: left out
	constantAt := sc.constantAt[:0]
	for _, p := range b.constant {
		constantAt = append(constantAt, lay.extraAt[p.name])
	}
	sc.constantAt = constantAt
	var prev groq.Labels
	var prevExtra []labelPair
	for n, i := range idx {
		s := &all[i]
		clear(cur)
		if n == 0 || !sameNames(s.labels, prev) {
			at = at[:0]
			for _, l := range s.labels {
				j, ok := lay.at[l.Name]
				if !ok {
					j = -1
				}
				at = append(at, j)
			}
			prev = s.labels
		}
		for k, l := range s.labels {
			if j := at[k]; j >= 0 {
				cur[j] = l.Value
			}
		}
		if n == 0 || !sameExtra(s.extra, prevExtra) {
			extraAt = extraAt[:0]
			for _, p := range s.extra {
				extraAt = append(extraAt, lay.extraAt[p.name])
			}
			prevExtra = s.extra
		}
		for k, p := range s.extra { // the exporter's labels win
			cur[extraAt[k]] = p.value
		}
		for k, p := range b.constant {
			cur[constantAt[k]] = p.value
		}
		row := rows[n*width : (n+1)*width]
		for j, v := range cur {
			if n > 0 && v == prevValues[j] {
				row[j] = rows[(n-1)*width+j]
				continue
			}
			id, ok := ids[j][v]
			if !ok {
				id = uint32(len(raw[j]))
				ids[j][v] = id
				raw[j] = append(raw[j], v)
			}
			row[j] = id
		}
		cur, prevValues = prevValues, cur
	}
	sc.rows, sc.cur, sc.prev, sc.at, sc.extra = rows, cur, prevValues, at, extraAt

	// Rank each label's values, into one block of every label's sorted
	// values. A value that is not UTF-8 (client_golang refuses it) makes its
	// series invalid.
	distinct := 0
	for _, vs := range raw {
		distinct += len(vs)
	}
	block := b.strings.take(distinct)
	values := grow(sc.values, width) // rank → value, per label
	sc.values = values
	rank, invalid := sc.rank[:width], sc.invalid[:width]
	for j, vs := range raw {
		order := b.order(lay.names[j], vs)
		rank[j] = grow(rank[j], len(vs))
		values[j], block = block[:len(vs):len(vs)], block[len(vs):]
		bad := false
		for r, id := range order {
			rank[j][id] = uint32(r)
			values[j][r] = vs[id]
			bad = bad || !utf8.ValidString(vs[id])
		}
		invalid[j] = invalid[j][:0]
		if bad {
			invalid[j] = grow(invalid[j], len(vs))
			for r, v := range values[j] {
				invalid[j][r] = !utf8.ValidString(v)
			}
		}
	}
	valid := sc.valid[:0] // as places in idx
	for n, i := range idx {
		row := rows[n*width : (n+1)*width]
		ok := true
		for j, id := range row {
			row[j] = rank[j][id]
			ok = ok && (len(invalid[j]) == 0 || !invalid[j][row[j]])
		}
		if !ok {
			b.drop(dropInvalid, i)
			continue
		}
		valid = append(valid, n)
	}
	sc.valid = valid

	// In the order the registry sorts them into on every gathering, so that
	// its sort finds them sorted; identical series side by side, in the
	// answer's order.
	rowOf := func(n int) []uint32 { return rows[n*width : (n+1)*width] }
	b.sortRows(valid, rows, values, len(idx))

	// One label pair per label value, shared by its series.
	pairBlock := b.pairs.take(distinct)
	pairOf := grow(sc.pairOf, width) // per label, by rank
	sc.pairOf = pairOf
	for j, vs := range values {
		pairOf[j], pairBlock = pairBlock[:len(vs):len(vs)], pairBlock[len(vs):]
		for r := range vs {
			pairOf[j][r].Name, pairOf[j][r].Value = &lay.names[j], &vs[r]
		}
	}
	ptrs := b.ptrs.take(len(valid) * width)
	count := 0
	for g := 0; g < len(valid); {
		// Of identical series, the one of lowest rank is kept, then the
		// first in the answer.
		end, keep := g+1, valid[g]
		for ; end < len(valid) && slices.Equal(rowOf(valid[end]), rowOf(valid[g])); end++ {
			if rankOf(all[idx[valid[end]]].src) < rankOf(all[idx[keep]].src) {
				keep = valid[end]
			}
		}
		for _, n := range valid[g:end] {
			if n != keep {
				b.collapse(idx[n], idx[keep])
			}
		}
		g = end

		var labels []*dto.LabelPair
		if width > 0 {
			labels, ptrs = ptrs[:width:width], ptrs[width:]
			for j, r := range rowOf(keep) {
				labels[j] = &pairOf[j][r]
			}
		}
		s := &all[idx[keep]]
		gg := &b.gauges[0]
		b.gauges = b.gauges[1:]
		gg.desc, gg.labels, gg.value = lay.desc, labels, s.value
		gg.gauge.Value = &gg.value
		b.metrics = append(b.metrics, gg)
		b.sampleOf = append(b.sampleOf, s.sample)
		if s.src != nil {
			s.src.kept++
		}
		count++
	}
	return count
}

// order returns the numbers of values (of the label called name) in the
// order of the values. A label mostly has the same values in every family and
// every answer, in the same order: those are sorted once.
func (b *builder) order(name string, values []string) []uint32 {
	o := b.orders[name]
	if o != nil && slices.Equal(o.values, values) {
		return o.order
	}
	if b.orders == nil || len(b.orders) >= maxLayouts {
		b.orders = map[string]*ordered{}
	}
	o = &ordered{values: slices.Clone(values), order: make([]uint32, len(values))}
	for k := range o.order {
		o.order[k] = uint32(k)
	}
	slices.SortFunc(o.order, func(a, b uint32) int { return strings.Compare(values[a], values[b]) })
	b.orders[name] = o
	return o.order
}

// ordered is a label's values, as family numbers them, and their order.
type ordered struct {
	values []string
	order  []uint32
}

// sortRows sorts ns, places among the size rows of len(values) ranks each,
// by their rows and then by place. When the ranks and the place fit in 64
// bits, as they do but for families of many labels of many values, each row
// is sorted as one number.
func (b *builder) sortRows(ns []int, rows []uint32, values [][]string, size int) {
	width, sc := len(values), &b.scratch
	shift := grow(sc.shift, width)
	sc.shift = shift
	placeBits := bits.Len(uint(size))
	total := placeBits
	for j, vs := range values {
		shift[j] = bits.Len(uint(len(vs)))
		total += shift[j]
	}
	if total > 64 {
		slices.SortFunc(ns, func(a, b int) int {
			if c := slices.Compare(rows[a*width:(a+1)*width], rows[b*width:(b+1)*width]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		return
	}
	keys := grow(sc.keys, len(ns))
	sc.keys = keys
	for k, n := range ns {
		var key uint64
		for j, r := range rows[n*width : (n+1)*width] {
			key = key<<shift[j] | uint64(r)
		}
		keys[k] = key<<placeBits | uint64(n)
	}
	slices.Sort(keys)
	for k, key := range keys {
		ns[k] = int(key & (1<<placeBits - 1))
	}
}

// collapse counts the series all[i], identical to all[kept], which is kept.
func (b *builder) collapse(i, kept int) {
	name := b.all[i].family.Name
	lost, won := b.all[i].src, b.all[kept].src
	if lost == won {
		example := name
		if lost != nil {
			example = lost.name
			lost.drop(dropDuplicate, 1)
		}
		b.d.add(dropDuplicate, example)
		return
	}
	b.d.add(dropNameCollision, lost.name+" → "+name+", as "+won.name+" is")
	lost.drop(dropNameCollision, 1)
	if lost.detail == "" {
		lost.detail = " → " + name + ", as " + won.name + " is"
	}
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

// gauge is a const gauge, as prometheus.NewConstMetric makes one, whose
// protobuf form is laid out in blocks shared by its whole family.
type gauge struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	gauge  dto.Gauge
	value  float64
}

func (g *gauge) Desc() *prometheus.Desc { return g.desc }

// Write hands out the shared protobuf parts, as client_golang's const
// metrics do: the registry only reads them.
func (g *gauge) Write(out *dto.Metric) error {
	out.Label = g.labels
	out.Gauge = &g.gauge
	return nil
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

// lastBuild is what an answer built into: its series' labels, the drops of
// translating and building them, and the gauges.
type lastBuild struct {
	labels   labelSets // of each sample of the answer
	drops    *drops    // those of the translation and the build, not the decoding
	gauges   []*gauge
	sampleOf []int // the sample of each gauge
	families map[string]int
	models   []string
	names    map[string]*nameInfo
}

// remember keeps what the answer of samples built into for reuse, unless a
// gauge comes from several samples.
func (b *builder) remember(samples []groq.Sample, metrics []prometheus.Metric, d *drops, families map[string]int, models []string, names map[string]*nameInfo) {
	b.last = nil
	if slices.Contains(b.sampleOf, -1) {
		return
	}
	last := &lastBuild{labels: encodeLabelSets(samples), drops: d, gauges: make([]*gauge, len(metrics)),
		sampleOf: slices.Clone(b.sampleOf), families: families, models: models, names: names}
	for k, m := range metrics {
		last.gauges[k] = m.(*gauge)
	}
	b.last = last
}

// reuse returns the gauges of samples if they have the labels of the last
// answer's, in the same order: the same series with new values, which is
// what a refresh mostly finds. Translating and building them again would
// give the same gauges, as only the values differ.
func (b *builder) reuse(samples []groq.Sample) ([]prometheus.Metric, *lastBuild) {
	last := b.last
	if last == nil || !last.labels.equal(samples) {
		return nil, nil
	}
	gauges := make([]gauge, len(last.gauges))
	metrics := make([]prometheus.Metric, len(last.gauges))
	for k, g := range last.gauges {
		n := &gauges[k]
		n.desc, n.labels, n.value = g.desc, g.labels, samples[last.sampleOf[k]].Value
		n.gauge.Value = &n.value
		metrics[k], last.gauges[k] = n, n
	}
	return metrics, last
}

// labelSets are the label sets of an answer's samples, kept as bytes: as
// much memory as the labels themselves, but nothing for the garbage
// collector to scan. Each string is its length (a uvarint) and its bytes.
type labelSets struct {
	bytes []byte
	end   []int // where each sample's labels end in bytes
}

func encodeLabelSets(samples []groq.Sample) labelSets {
	size := 0
	for _, s := range samples {
		for _, l := range s.Labels {
			size += len(l.Name) + len(l.Value) + 2
		}
	}
	ls := labelSets{bytes: make([]byte, 0, size), end: make([]int, len(samples))}
	for i, s := range samples {
		for _, l := range s.Labels {
			ls.bytes = binary.AppendUvarint(ls.bytes, uint64(len(l.Name)))
			ls.bytes = append(ls.bytes, l.Name...)
			ls.bytes = binary.AppendUvarint(ls.bytes, uint64(len(l.Value)))
			ls.bytes = append(ls.bytes, l.Value...)
		}
		ls.end[i] = len(ls.bytes)
	}
	return ls
}

// equal says whether samples have these label sets, in this order.
func (ls labelSets) equal(samples []groq.Sample) bool {
	if len(samples) != len(ls.end) {
		return false
	}
	b := ls.bytes
	for i, s := range samples {
		for _, l := range s.Labels {
			var ok bool
			if b, ok = cut(b, l.Name); !ok {
				return false
			}
			if b, ok = cut(b, l.Value); !ok {
				return false
			}
		}
		if len(ls.bytes)-len(b) != ls.end[i] { // it has more labels
			return false
		}
	}
	return true
}

// cut returns what follows s at the start of b, encoded as encodeLabelSets
// encodes it, or false if b does not start with it.
func cut(b []byte, s string) ([]byte, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n != uint64(len(s)) || uint64(len(b)-w) < n || string(b[w:w+len(s)]) != s {
		return nil, false
	}
	return b[w+len(s):], true
}
