package collector

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/groq-exporter/groq_exporter/groq"
)

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
