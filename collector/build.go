package collector

import (
	"cmp"
	"maps"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// build turns translated series into const gauges. A family gets one label
// set, the union over its series (a label a series lacks is ""), so that
// inconsistent upstream labels cannot break the exposition, as long as the
// labels that adds cost at most maxUnionCost times those the series carry;
// past that (series that each carry a label no other has would make the
// exposition grow as the square of the answer) each set of its series with
// the same label names gets its own, and the family is reported in b.split.
// Series that end up identical are collapsed to one, and counted in d: as
// duplicate when they come from the same upstream name (the first is kept),
// as name_collision when from two (the one of lower rank is kept, whatever
// the order). It returns the metrics, sorted within each family as the
// registry sorts them, and how many each family has.
//
// A builder is kept across the refreshes of one query, with the layout of
// each family and its scratch space. One refresh of a query runs at a time.
func (b *builder) build(all []series, d *drops) ([]prometheus.Metric, map[string]int) {
	b.all, b.d = all, d
	b.gauges, b.metrics = make([]gauge, len(all)), make([]prometheus.Metric, 0, len(all))
	b.sampleOf, b.split = b.sampleOf[:0], nil
	// New blocks, as the last build's are still served; as large as the
	// last build used, so that one of each mostly does.
	b.strings.reset()
	b.pairs.reset()
	b.ptrs.reset()
	defer func() { b.all, b.d, b.gauges, b.metrics = nil, nil, nil, nil }()

	families := b.byFamily()
	out := make(map[string]int, len(families))
	for _, f := range families {
		out[f.family.Name] += b.buildFamily(f.family, f.idx)
	}
	return b.metrics, out
}

// familySeries is a family and its series, as places in b.all.
type familySeries struct {
	family familySpec
	idx    []int
}

// byFamily returns the families of b.all, in the order the answer first
// names them, each with its series in the answer's order.
func (b *builder) byFamily() []familySeries {
	all, sc := b.all, &b.scratch
	sc.family = emptied(sc.family, len(sc.families))
	families, count := sc.families[:0], sc.count[:0]
	famOf := grow(sc.famOf, len(all))
	last := -1 // the series of one family mostly come together
	for i := range all {
		name := all[i].family.Name
		f := last
		if f < 0 || families[f].family.Name != name {
			var ok bool
			if f, ok = sc.family[name]; !ok {
				f = len(families)
				sc.family[name] = f
				families, count = append(families, familySeries{family: *all[i].family}), append(count, 0)
			}
			last = f
		}
		famOf[i] = f
		count[f]++
	}
	// Every family's series side by side in one block.
	idx := grow(sc.idx, len(all))
	next := 0
	for f, n := range count {
		families[f].idx = idx[next : next : next+n]
		next += n
	}
	for i, f := range famOf {
		families[f].idx = append(families[f].idx, i)
	}
	sc.families, sc.count, sc.famOf, sc.idx = families, count, famOf, idx
	return families
}

// emptied returns m, or a new map if m was used for far more than n
// entries: clearing a map costs its size, and a small family after a large
// one must not pay for it.
func emptied[K comparable, V any](m map[K]V, n int) map[K]V {
	if m == nil || len(m) > 4*n+64 {
		return make(map[K]V, n)
	}
	clear(m)
	return m
}

// buildFamily appends the gauges of family f, whose series are b.all[idx],
// to b.metrics, and returns how many it kept.
func (b *builder) buildFamily(f familySpec, idx []int) int {
	upstream, extra, union := b.names(idx)
	if union {
		lay := b.layout(f, upstream, extra, nil)
		if lay.desc == nil { // cannot happen: the names are sanitized
			for _, i := range idx {
				b.drop(dropInvalid, i)
			}
			return 0
		}
		return b.family(lay, idx)
	}
	// Each set of series with the same label names on its own: a family's
	// series need not share their label names in the exposition, and the
	// registry checks them only when it is pedantic, as it is not here.
	b.split = append(b.split, f.Name)
	desc := prometheus.NewDesc(f.Name, f.Help, nil, nil)
	exported := familyLabelNames(upstream, extra)
	kept := 0
	for _, group := range b.shapes(idx) {
		upstream, extra, _ := b.names(group)
		lay := b.layout(f, upstream, extra, exported)
		lay.desc = desc
		kept += b.family(lay, group)
	}
	return kept
}

// maxLabelSets bounds the sets of label names a split family is exported
// with: each costs a layout and label pairs of its own, and a family's series
// have a handful.
const maxLabelSets = 100

// shapes splits the series b.all[idx] by their label names, in the order of
// the first series of each. Past maxLabelSets, the sets that come last in
// the order of their names are dropped, their series counted as
// too_many_label_sets.
func (b *builder) shapes(idx []int) [][]int {
	groups := map[string]int{}
	var out [][]int
	var key strings.Builder
	var prev *series
	g := 0
	for _, i := range idx {
		s := &b.all[i]
		if prev == nil || !sameShape(s, prev) {
			key.Reset()
			for l := range s.exportedLabels(nil) {
				if !l.upstream {
					key.WriteByte(0xfe)
				}
				key.WriteString(l.name)
				key.WriteByte(0xff)
			}
			var ok bool
			if g, ok = groups[key.String()]; !ok {
				g = len(out)
				groups[key.String()] = g
				out = append(out, nil)
			}
			prev = s
		}
		out[g] = append(out[g], i)
	}
	if len(out) > maxLabelSets {
		keys := slices.Sorted(maps.Keys(groups))
		for _, k := range keys[maxLabelSets:] {
			for _, i := range out[groups[k]] {
				b.drop(dropTooManyLabelSets, i)
			}
			out[groups[k]] = nil
		}
		out = slices.DeleteFunc(out, func(g []int) bool { return g == nil })
	}
	return out
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
	split    []string              // the families whose series carry label sets of their own

	scratch struct { // what a build needs only while it runs, kept for the next
		family     map[string]int // family name → its place in families
		families   []familySeries
		count      []int // series per family
		famOf, idx []int
		seen       map[exportedLabel]int // label name → series that carry it
		upstream   []string
		extraNames []string
		values     [][]string
		pairOf     [][]dto.LabelPair
		ids        []map[string]uint32 // value → number, per label
		raw        [][]string          // number → value, per label
		rows       []uint32
		cur, prev  []string
		at         []int
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

// drop counts the series b.all[i], which is not exported.
func (b *builder) drop(reason string, i int) {
	b.d.add(reason, b.all[i].family.Name, b.all[i].src)
}

// family appends the gauges of the series all[idx], laid out by lay, to
// b.metrics, and returns how many it kept, in four steps: each series
// becomes a row of numbers, one per label (rows); each label's values are
// ranked, so that a row sorts as numbers (rank); the rows are sorted as the
// registry sorts them (sortRows); identical rows are collapsed and each kept
// row becomes a gauge whose label pairs it shares with the family (emit).
func (b *builder) family(lay *layout, idx []int) int {
	rows, raw := b.rows(lay, idx)
	values, valid := b.rank(lay, idx, rows, raw)
	b.sortRows(valid, rows, values, len(idx))
	return b.emit(lay, idx, rows, values, valid)
}

// rows numbers each label's values as they come: the row of series n of idx
// is rows[n*width:(n+1)*width], and raw[j] turns label j's numbers back
// into values.
func (b *builder) rows(lay *layout, idx []int) (rows []uint32, raw [][]string) {
	all, width, sc := b.all, len(lay.names), &b.scratch
	for len(sc.ids) < width {
		sc.ids, sc.raw = append(sc.ids, map[string]uint32{}), append(sc.raw, nil)
		sc.rank, sc.invalid = append(sc.rank, nil), append(sc.invalid, nil)
	}
	ids, raw := sc.ids[:width], sc.raw[:width]
	for j := range width {
		ids[j] = emptied(ids[j], len(idx))
		raw[j] = raw[j][:0]
	}
	rows = grow(sc.rows, len(idx)*width)
	cur, prevValues := grow(sc.cur, width), grow(sc.prev, width)
	at := sc.at[:0] // where the labels of series prev go among the names
	var prev *series
	for n, i := range idx {
		s := &all[i]
		clear(cur)
		if prev == nil || !sameShape(s, prev) {
			at = at[:0]
			for l := range s.exportedLabels(b.constant) {
				at = append(at, lay.place(l))
			}
			prev = s
		}
		k := 0
		for l := range s.exportedLabels(b.constant) { // a later label wins
			cur[at[k]] = l.value
			k++
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
	sc.rows, sc.cur, sc.prev, sc.at = rows, cur, prevValues, at
	return rows, raw
}

// rank sorts each label's values into one block (values[j] holds label j's
// values, sorted), turns the numbers of rows into ranks, and returns the
// places in idx of the valid rows: a value that is not UTF-8 (client_golang
// refuses it) makes its series invalid, and dropped.
func (b *builder) rank(lay *layout, idx []int, rows []uint32, raw [][]string) (values [][]string, valid []int) {
	width, sc := len(lay.names), &b.scratch
	distinct := 0
	for _, vs := range raw {
		distinct += len(vs)
	}
	block := b.strings.take(distinct)
	values = grow(sc.values, width) // rank → value, per label
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
	valid = sc.valid[:0]
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
	return values, valid
}

// emit appends a gauge for each distinct row of valid, sorted, to
// b.metrics, with one label pair per label value shared by its series, and
// returns how many.
func (b *builder) emit(lay *layout, idx []int, rows []uint32, values [][]string, valid []int) int {
	all, width, sc := b.all, len(lay.names), &b.scratch
	rowOf := func(n int) []uint32 { return rows[n*width : (n+1)*width] }
	distinct := 0
	for _, vs := range values {
		distinct += len(vs)
	}
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
	if len(values) == 1 { // as in most parts of a split family: nothing to sort, nothing to keep
		return onlyOne
	}
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

// onlyOne is the order of a single value.
var onlyOne = []uint32{0}

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
		}
		b.d.add(dropDuplicate, example, lost)
		return
	}
	b.d.add(dropNameCollision, lost.name+" → "+name+", as "+won.name+" is", lost)
	if lost.detail == "" {
		lost.detail = " → " + name + ", as " + won.name + " is"
	}
}
