package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	dto "github.com/prometheus/client_model/go"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/exporter"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// benchSizes are the answers the scrape benchmarks serve: about three
// models, 92 and 920 models of groqtest.PerModel series each.
var benchSizes = []int{69, 2300, 23000}

// promAccept is what Prometheus sends when it scrapes; with gzip.
const promAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// benchExporter wires the /metrics handler as run does (the same reloader,
// collectors and registry), against a loopback Groq that answers n series,
// and fills the cache with one scrape; it stays fresh for the benchmark, so
// that later scrapes do not call Groq.
func benchExporter(tb testing.TB, n int) http.Handler {
	tb.Helper()
	upstream := groqtest.FakeForTest(tb)
	upstream.SetSeries(groqtest.VectorSamples(n)...)
	apiMetrics := collector.NewAPIMetrics()
	orgs := exporter.NewOrganizations(exporter.Settings{URL: upstream.BaseURL(), Key: "gsk_bench", Timeout: 10 * time.Second,
		MaxResponseBytes: 8 << 20, CacheTTL: time.Hour, MaxStale: collector.DefaultMaxStale, Observer: apiMetrics})
	tb.Cleanup(orgs.Close)
	rl := exporter.NewReloader("", orgs, log.NewNopLogger())
	if err := rl.Reload(); err != nil {
		tb.Fatal(err)
	}
	reg, runtime := prometheus.NewRegistry(), prometheus.NewRegistry()
	reg.MustRegister(apiMetrics, versioncollector.NewCollector(exporter.Name))
	runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := exporter.NewHandler(exporter.HandlerOpts{MetricsPath: defaultMetricsPath, CacheTTL: time.Hour,
		Orgs: orgs, Reloader: rl, Gatherer: reg, Runtime: runtime, Logger: log.NewNopLogger()})
	mux.ServeHTTP(&discard{h: http.Header{}}, scrapeRequest())
	check := prometheus.NewRegistry()
	check.MustRegister(orgs)
	mfs, err := check.Gather()
	if i := slices.IndexFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == "groq_up" }); err != nil || i < 0 ||
		mfs[i].GetMetric()[0].GetGauge().GetValue() != 1 {
		tb.Fatalf("the refresh failed (%v)", err)
	}
	return mux
}

func scrapeRequest() *http.Request {
	req := httptest.NewRequest(http.MethodGet, defaultMetricsPath, nil)
	req.Header.Set("Accept", promAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	return req
}

// staticHandler serves, to every request, the headers and bytes h served to
// one scrape: the floor of any exporter of the same exposition.
func staticHandler(h http.Handler) http.Handler {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, scrapeRequest())
	header, body := w.Result().Header, w.Body.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	})
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
	req := scrapeRequest()
	b.ReportAllocs()
	var n int
	for b.Loop() {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		n = w.n
	}
	b.ReportMetric(float64(n), "bytes/scrape")
}

// BenchmarkScrapeFromCache: one /metrics scrape as Prometheus asks for it
// (OpenMetrics, gzip), served from the cache (Groq is not asked), through the
// exporter's handler.
func BenchmarkScrapeFromCache(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("series="+strconv.Itoa(n), func(b *testing.B) { benchScrape(b, benchExporter(b, n)) })
	}
}

// BenchmarkScrapeStatic: the bytes the exporter served, served again as they
// are: the floor for the benchmark above.
func BenchmarkScrapeStatic(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("series="+strconv.Itoa(n), func(b *testing.B) { benchScrape(b, staticHandler(benchExporter(b, n))) })
	}
}
