package collector

import (
	"encoding/binary"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/groq"
)

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
	split    []string
}

// remember keeps what the answer of samples built into for reuse, unless a
// gauge comes from several samples.
func (b *builder) remember(samples []groq.Sample, metrics []prometheus.Metric, d *drops, families map[string]int, models []string, names map[string]*nameInfo) {
	b.last = nil
	if slices.Contains(b.sampleOf, -1) {
		return
	}
	last := &lastBuild{labels: encodeLabelSets(samples), drops: d, gauges: make([]*gauge, len(metrics)),
		sampleOf: slices.Clone(b.sampleOf), families: families, models: models, names: names, split: b.split}
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
