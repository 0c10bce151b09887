package collector

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/groq-exporter/groq_exporter/groq"
)

// bucketPercentiles are the percentiles computed from a histogram's buckets,
// as Groq's documented families give them.
var bucketPercentiles = []struct {
	q     float64
	label string
}{{0.5, "p50"}, {0.95, "p95"}, {0.99, "p99"}}

// bucket is one bucket of a histogram: its upper bound (le) and the
// cumulative count (or rate) of observations up to it.
type bucket struct {
	upperBound, count float64
}

// bucketQuantile is Prometheus's histogram_quantile for one label set
// (promql/quantile.go): buckets sorted by upper bound, the highest one +Inf
// or the answer is NaN, buckets with the same bound merged, counts made
// monotonic (a count below the one before it is raised to it), linear
// interpolation inside the bucket where the rank falls, the lower bound of a
// first bucket 0 unless its upper bound is at most 0, and the highest finite
// bound when the rank falls into +Inf. No observations is NaN. buckets is
// reordered.
func bucketQuantile(q float64, buckets []bucket) float64 {
	if math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(+1)
	}
	if len(buckets) == 0 {
		return math.NaN()
	}
	slices.SortFunc(buckets, func(a, b bucket) int {
		switch {
		case a.upperBound < b.upperBound:
			return -1
		case a.upperBound > b.upperBound:
			return 1
		}
		return 0
	})
	if !math.IsInf(buckets[len(buckets)-1].upperBound, +1) {
		return math.NaN()
	}
	buckets = coalesceBuckets(buckets)
	ensureMonotonic(buckets)
	if len(buckets) < 2 {
		return math.NaN()
	}
	observations := buckets[len(buckets)-1].count
	if observations == 0 {
		return math.NaN()
	}
	rank := q * observations
	b := sort.Search(len(buckets)-1, func(i int) bool { return buckets[i].count >= rank })
	if b == len(buckets)-1 {
		return buckets[len(buckets)-2].upperBound
	}
	if b == 0 && buckets[0].upperBound <= 0 {
		return buckets[0].upperBound
	}
	var start float64
	end, count := buckets[b].upperBound, buckets[b].count
	if b > 0 {
		start = buckets[b-1].upperBound
		count -= buckets[b-1].count
		rank -= buckets[b-1].count
	}
	return start + (end-start)*(rank/count)
}

// coalesceBuckets merges sorted buckets with the same upper bound, adding
// their counts (a histogram split over label sets that were summed).
func coalesceBuckets(buckets []bucket) []bucket {
	out := buckets[:1]
	for _, b := range buckets[1:] {
		if last := &out[len(out)-1]; b.upperBound == last.upperBound {
			last.count += b.count
		} else {
			out = append(out, b)
		}
	}
	return out
}

// ensureMonotonic raises each count that is below the one before it (rates of
// buckets computed at slightly different moments) and evens out differences
// within floating-point noise, as Prometheus does.
func ensureMonotonic(buckets []bucket) {
	prev := buckets[0].count
	for i := 1; i < len(buckets); i++ {
		switch curr := buckets[i].count; {
		case curr == prev:
		case almostEqual(prev, curr, smallDeltaTolerance), curr < prev:
			buckets[i].count = prev
		default:
			prev = curr
		}
	}
}

// smallDeltaTolerance is Prometheus's relative tolerance for bucket counts.
const smallDeltaTolerance = 1e-12

// almostEqual is Prometheus's: a and b differ by less than epsilon, relative.
func almostEqual(a, b, epsilon float64) bool {
	minNormal := math.Float64frombits(0x0010000000000000)
	if a == b {
		return true
	}
	absSum := math.Abs(a) + math.Abs(b)
	diff := math.Abs(a - b)
	if a == 0 || b == 0 || absSum < minNormal {
		return diff < epsilon*minNormal
	}
	return diff/math.Min(absSum, math.MaxFloat64) < epsilon
}

// histograms gathers bucket series by label set (all labels but le), in the
// order the answer first names each, to compute their percentiles.
type histograms struct {
	byKey map[string]*histogram
	order []*histogram
}

type histogram struct {
	ni      *nameInfo
	labels  groq.Labels // without le
	buckets []bucket
}

func (h *histograms) add(ni *nameInfo, s groq.Sample, d *drops) {
	le, err := strconv.ParseFloat(s.Labels.Get("le"), 64)
	if err != nil {
		d.add(groq.DropBadLabel, ni.name+": le "+strconv.Quote(s.Labels.Get("le"))+" is not a number", ni)
		return
	}
	labels := make(groq.Labels, 0, len(s.Labels)-1)
	var key strings.Builder
	for _, l := range s.Labels {
		if l.Name != "le" {
			labels = append(labels, l)
			key.WriteString(l.Name + "\xff" + l.Value + "\xff")
		}
	}
	hg := h.byKey[key.String()]
	if hg == nil {
		hg = &histogram{ni: ni, labels: labels}
		if h.byKey == nil {
			h.byKey = map[string]*histogram{}
		}
		h.byKey[key.String()] = hg
		h.order = append(h.order, hg)
	}
	hg.buckets = append(hg.buckets, bucket{le, s.Value})
}

// quantiles appends to out the percentiles of every histogram.
func (h *histograms) quantiles(out []series) []series {
	for _, hg := range h.order {
		for _, p := range bucketPercentiles {
			out = append(out, series{family: &hg.ni.family, labels: hg.labels, value: bucketQuantile(p.q, slices.Clone(hg.buckets)),
				extra: []labelPair{{"percentile", p.label}}, src: hg.ni, sample: -1})
		}
	}
	return out
}
