package exporter

import (
	"net/http"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// RefusedName counts the scrapes refused with a 400: a scrape job that names
// no organization, or one the configuration does not have, or that names one
// on the metrics path.
const RefusedName = "groq_exporter_scrapes_refused_total"

// Why a scrape is refused: the label values of RefusedName.
const (
	refusedMissing  = "missing_organization"
	refusedRepeated = "repeated_organization"
	refusedEmpty    = "empty_organization"
	refusedAddress  = "address_not_name"
	refusedUnknown  = "unknown_organization"
	refusedRemoved  = "removed_organization"
	refusedOnMetric = "organization_on_metrics_path"
)

var refusedReasons = []string{refusedMissing, refusedRepeated, refusedEmpty, refusedAddress, refusedUnknown, refusedRemoved, refusedOnMetric}

// Refusals counts the scrapes refused, by reason (every reason from 0), and
// logs each at debug level with what was asked: a misconfigured scrape job
// shows as a counter that rises once per scrape interval, and the debug log
// says which. A nil *Refusals only answers the 400.
type Refusals struct {
	counter *prometheus.CounterVec
	logger  log.Logger
}

// NewRefusals returns the counter of refused scrapes; register it with the
// exporter's own metrics.
func NewRefusals(logger log.Logger) *Refusals {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: RefusedName,
		Help: "Scrapes of /probe or of the metrics path refused with a 400, by reason: " +
			"missing_organization, repeated_organization, empty_organization, address_not_name (a URL where a name goes), " +
			"unknown_organization, removed_organization (by a reload during the scrape), organization_on_metrics_path.",
	}, []string{"reason"})
	for _, r := range refusedReasons {
		c.WithLabelValues(r)
	}
	return &Refusals{counter: c, logger: logger}
}

// refuse answers r with a 400 saying problem, and counts and logs it.
func (f *Refusals) refuse(w http.ResponseWriter, r *http.Request, reason, problem string) {
	if f != nil {
		f.counter.WithLabelValues(reason).Inc()
		level.Debug(f.logger).Log("msg", "Scrape refused", "path", r.URL.Path, "reason", reason, "from", r.RemoteAddr, "err", problem)
	}
	http.Error(w, problem, http.StatusBadRequest)
}

// Describe implements prometheus.Collector.
func (f *Refusals) Describe(ch chan<- *prometheus.Desc) { f.counter.Describe(ch) }

// Collect implements prometheus.Collector.
func (f *Refusals) Collect(ch chan<- prometheus.Metric) { f.counter.Collect(ch) }
