package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/exporter"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// benchSeries is how many Groq series the scrape benchmarks serve.
const benchSeries = 10000

// benchExporter wires the /metrics handler as run does (the same reloader,
// collectors and registry), against a loopback Groq that answers 10,000
// series, and fills the cache with one scrape; it stays fresh for the
// benchmark, so that later scrapes do not call Groq.
func benchExporter(tb testing.TB) (http.Handler, *prometheus.Registry) {
	tb.Helper()
	upstream := groqtest.FakeForTest(tb)
	upstream.SetSeries(groqtest.VectorSamples(benchSeries)...)
	apiMetrics := collector.NewAPIMetrics()
	orgs := exporter.NewOrganizations(exporter.Settings{URL: upstream.BaseURL(), Key: "gsk_bench", Timeout: 10 * time.Second,
		MaxResponseBytes: 8 << 20, CacheTTL: time.Hour, MaxStale: collector.DefaultMaxStale, Observer: apiMetrics})
	rl := exporter.NewReloader("", orgs, log.NewNopLogger())
	if err := rl.Reload(); err != nil {
		tb.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(orgs, apiMetrics, versioncollector.NewCollector(exporter.Name),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := exporter.NewHandler(exporter.HandlerOpts{MetricsPath: defaultMetricsPath, CacheTTL: time.Hour,
		Orgs: orgs, Reloader: rl, Gatherer: reg, Logger: log.NewNopLogger()})
	w := &discard{h: http.Header{}}
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, defaultMetricsPath, nil))
	mfs, err := reg.Gather()
	if i := slices.IndexFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == "groq_up" }); err != nil || i < 0 ||
		mfs[i].GetMetric()[0].GetGauge().GetValue() != 1 {
		tb.Fatalf("the refresh failed (%v)", err)
	}
	return mux, reg
}

// constGauges is the floor: a collector of ready-made const gauges.
type constGauges []prometheus.Metric

func (c constGauges) Describe(chan<- *prometheus.Desc) {}

func (c constGauges) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// floorHandler serves, from a plain registry, the same Groq series as const
// gauges built directly: what any client_golang exporter of these 10,000
// series costs at least.
func floorHandler(tb testing.TB, from prometheus.Gatherer) http.Handler {
	tb.Helper()
	mfs, err := from.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var gauges constGauges
	for _, mf := range mfs {
		if !slices.Contains(collector.BuiltinFamilies(), mf.GetName()) {
			continue // self-metrics
		}
		var names []string
		for _, lp := range mf.Metric[0].Label {
			names = append(names, lp.GetName())
		}
		desc := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil)
		for _, m := range mf.Metric {
			values := make([]string, 0, len(m.Label))
			for _, lp := range m.Label {
				values = append(values, lp.GetValue())
			}
			gauges = append(gauges, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...))
		}
	}
	if len(gauges) != benchSeries {
		tb.Fatalf("floor has %d gauges, want %d", len(gauges), benchSeries)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(gauges)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// discard is a ResponseWriter that only counts, so that the benchmarks
// measure the handlers rather than a growing buffer.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func benchScrape(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, defaultMetricsPath, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	b.ReportAllocs()
	var n int
	for b.Loop() {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		n = w.n
	}
	b.ReportMetric(float64(n), "bytes/scrape")
}

// BenchmarkScrapeFromCache10k: one /metrics scrape served from the cache
// (Groq is not asked) with 10,000 Groq series, through the exporter's handler.
func BenchmarkScrapeFromCache10k(b *testing.B) {
	h, _ := benchExporter(b)
	benchScrape(b, h)
}

// BenchmarkScrapeFloor10k: the same 10,000 series as const gauges in a plain
// client_golang registry, served by promhttp: the floor for the benchmark above.
func BenchmarkScrapeFloor10k(b *testing.B) {
	_, reg := benchExporter(b)
	benchScrape(b, floorHandler(b, reg))
}
