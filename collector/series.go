package collector

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/printable"
)

// series is one translated upstream sample, ready to become a const metric.
type series struct {
	family *familySpec // shared by the series of a name, read-only
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
// with one example of each for the log, and by upstream name for the status
// page. Every series translating and building leave out is counted by add,
// and only there.
type drops struct {
	count   map[string]int
	example map[string]string
}

func newDrops() *drops { return &drops{count: map[string]int{}, example: map[string]string{}} }

// add counts one series left out for reason, and keeps the first example,
// fit for a log line: escaped and capped (a name of a megabyte must not
// make a log line of a megabyte); src is the upstream name it comes from
// (nil for a custom query's series).
func (d *drops) add(reason, example string, src *nameInfo) {
	d.count[reason]++
	if _, ok := d.example[reason]; !ok {
		d.example[reason] = printable.String(example, maxShownNote)
	}
	if src != nil {
		if src.dropped == nil {
			src.dropped = map[string]int{}
		}
		src.dropped[reason]++
	}
}

type labelPair struct{ name, value string }

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
