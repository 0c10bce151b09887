package collector

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/groq-exporter/groq_exporter/config"
)

const namespace = "groq"

// The names of every self-metric this package exports, all of them (the
// list no family translated from Groq and no custom query may take is made of
// these), and the help texts of those Collect makes; groq_up and
// groq_last_refresh_success_timestamp_seconds say more once custom queries
// share the refresh. The help texts of the reason vocabularies come from
// their tables (reasons.go).
const (
	upName            = namespace + "_up"
	durationName      = namespace + "_scrape_duration_seconds"
	lastSuccessName   = namespace + "_last_refresh_success_timestamp_seconds"
	droppedName       = namespace + "_series_dropped"
	querySuccessName  = namespace + "_query_success"
	queryDurationName = namespace + "_query_duration_seconds"
	partialName       = namespace + "_response_partial"
	refreshErrorsName = namespace + "_refresh_errors_total"
	apiRequestsName   = namespace + "_api_requests_total"
	apiRetriesName    = namespace + "_api_retries_total"

	upHelp               = "1 if the last refresh from Groq succeeded, else 0."
	upHelpQueries        = "1 if the last refresh from Groq succeeded for the built-in families (without them: if Groq answered any query), else 0; a failing custom query shows in groq_query_success, not here."
	durationHelp         = "How long the last refresh from Groq took, in seconds. Groq is asked at most once per --groq.cache-ttl; scrapes in between are served from the cache."
	lastSuccessHelp      = "Unix time of the last successful refresh from Groq; 0 if there was none."
	lastSuccessHelpQuery = "Unix time of the last refresh in which Groq could be read (as groq_up says); 0 if there was none."
	partialHelp          = "1 if Groq said its last answer is partial (some of its storage did not answer, so series may be missing), else 0."
	querySuccessHelp     = "1 if the last run of the custom query against Groq succeeded, else 0."
	queryDurationHelp    = "How long the last run of the custom query against Groq took, in seconds."
)

// SelfMetrics lists the names of the metrics about the exporter itself that
// this package exports. No custom query may take them.
func SelfMetrics() []string {
	return []string{upName, durationName, lastSuccessName, droppedName, querySuccessName, queryDurationName,
		partialName, apiRequestsName, apiRetriesName, refreshErrorsName}
}

// ReservedLabels lists the label names that Groq's series or this package's
// own metrics carry, which an organization's labels may not take.
func ReservedLabels() []string {
	out := []string{"percentile", "reason", "query", "exported_" + config.OrganizationLabel}
	for n := range groqLabels {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// configNames are the metric names this package exports on its own, for the
// validation of custom queries (config.Config.Validate).
func configNames() config.Names {
	return config.Names{Builtin: BuiltinFamilies(), Reserved: SelfMetrics()}
}

// selfSeries is one series of a self-metric, its Desc and labels made once
// per Collector (as client_golang makes them), so that a Collect sends the
// self-metrics without making their labels again: with many organizations,
// making them was most of the allocations of gathering an organization.
type selfSeries struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	counter *dto.Counter // a counter's created timestamp; nil for a gauge
}

func newSelfSeries(desc *prometheus.Desc, vt prometheus.ValueType, labelValues ...string) selfSeries {
	var m dto.Metric
	if err := prometheus.MustNewConstMetric(desc, vt, 0, labelValues...).Write(&m); err != nil {
		panic(err) // a const metric writes without error
	}
	s := selfSeries{desc: desc, labels: m.Label}
	if vt == prometheus.CounterValue {
		s.counter = &dto.Counter{CreatedTimestamp: timestamppb.Now()}
	}
	return s
}

// sample is a selfSeries with the value one Collect sends.
type sample struct {
	series  *selfSeries
	value   float64
	gauge   dto.Gauge
	counter dto.Counter
}

func (s *sample) Desc() *prometheus.Desc { return s.series.desc }

// Write hands out the sample's parts, as client_golang's const metrics do:
// the registry only reads them.
func (s *sample) Write(out *dto.Metric) error {
	out.Label = s.series.labels
	if s.series.counter != nil {
		out.Counter = &s.counter
	} else {
		out.Gauge = &s.gauge
	}
	return nil
}

// samples are the self-metrics of one Collect, in one allocation.
type samples []sample

// send sends s with value v as the next of ss.
func (ss *samples) send(ch chan<- prometheus.Metric, s *selfSeries, v float64) {
	*ss = (*ss)[:len(*ss)+1] // within the capacity made for the Collect: no sample moves
	p := &(*ss)[len(*ss)-1]
	p.series, p.value = s, v
	if s.counter != nil {
		p.counter.Value, p.counter.CreatedTimestamp = &p.value, s.counter.CreatedTimestamp
	} else {
		p.gauge.Value = &p.value
	}
	ch <- p
}
