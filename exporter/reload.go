package exporter

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
)

// Names of the reload gauges, served with a configuration file only.
const (
	ReloadSuccessName   = "groq_config_last_reload_successful"
	ReloadTimestampName = "groq_config_last_reload_success_timestamp_seconds"
)

// ConfigNames are the metric names the exporter exports on its own, which no
// custom query may take.
func ConfigNames() config.Names {
	reserved := append(collector.SelfMetrics(), "groq_exporter_build_info", ReloadSuccessName, ReloadTimestampName, RefusedName)
	for _, n := range reserved {
		// OpenMetrics names a counter's family without _total: a gauge of
		// that name would be a second TYPE line for it.
		if base, ok := strings.CutSuffix(n, "_total"); ok {
			reserved = append(reserved, base)
		}
	}
	return config.Names{
		Builtin:          collector.BuiltinFamilies(),
		Reserved:         reserved,
		ReservedPrefixes: []string{"go_", "process_"},
		ReservedLabels:   collector.ReservedLabels(),
	}
}

// LoadConfig reads and validates file; "" is the default configuration.
func LoadConfig(file string) (*config.Config, error) {
	if file == "" {
		return config.Default(), nil
	}
	return config.Load(file, ConfigNames())
}

// Reloader loads the configuration file into the Organizations, on start and
// again on SIGHUP or POST /-/reload. A file that does not load leaves the
// running configuration in place. It serves the reload gauges.
type Reloader struct {
	File   string // "" without a configuration file: nothing to reload
	orgs   *Organizations
	logger log.Logger

	mu                 sync.Mutex // one load at a time
	success, timestamp prometheus.Gauge
	loads              atomic.Uint64 // counts loads, after their gauges are set
}

// NewReloader returns a Reloader of file into orgs.
func NewReloader(file string, orgs *Organizations, logger log.Logger) *Reloader {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Reloader{
		File: file, orgs: orgs, logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: ReloadSuccessName,
			Help: "1 if the last load of --config.file succeeded, else 0 (the previous configuration stays in use).",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: ReloadTimestampName,
			Help: "Unix time of the last successful load of --config.file.",
		}),
	}
}

// Reload loads the file and swaps in the organizations and queries it
// describes, all at once, or returns why it cannot.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := LoadConfig(r.File)
	if err == nil {
		err = r.orgs.Apply(cfg, r.File)
	}
	defer r.loads.Add(1) // after the gauges: scrapes stop reusing the self-metrics
	if err != nil {
		r.success.Set(0)
		return err
	}
	r.success.Set(1)
	r.timestamp.SetToCurrentTime()
	if r.File != "" {
		level.Info(r.logger).Log("msg", "Loaded the configuration file", "file", r.File,
			"organizations", len(cfg.Organizations), "queries", len(cfg.Queries), "builtin", cfg.Builtin.Enabled)
	}
	return nil
}

// Loads counts the loads so far, successful or not; 0 for a nil Reloader.
func (r *Reloader) Loads() uint64 {
	if r == nil {
		return 0
	}
	return r.loads.Load()
}

// ReloadLogged is what SIGHUP and POST /-/reload call: Reload, logged.
func (r *Reloader) ReloadLogged() error {
	if r.File == "" {
		level.Info(r.logger).Log("msg", "No --config.file: nothing to reload")
		return nil
	}
	if err := r.Reload(); err != nil {
		level.Error(r.logger).Log("msg", "Reloading the configuration failed; the previous one stays in use", "err", err)
		return err
	}
	return nil
}

// Describe and Collect serve the reload gauges.
func (r *Reloader) Describe(ch chan<- *prometheus.Desc) {
	r.success.Describe(ch)
	r.timestamp.Describe(ch)
}

func (r *Reloader) Collect(ch chan<- prometheus.Metric) {
	r.success.Collect(ch)
	r.timestamp.Collect(ch)
}
