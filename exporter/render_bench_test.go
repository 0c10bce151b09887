package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// BenchmarkGather builds the gzipped OpenMetrics answer of one organization
// of n series: its snapshot interleaved with the live self-metrics by name
// (what the exporter does), the same through prometheus.Gatherers, and, for
// scale, the encoding and gzip of the answer alone.
func BenchmarkGather(b *testing.B) {
	for _, n := range []int{69, 2300, 23000} {
		g := groqtest.FakeForTest(b, testKey)
		g.SetSeries(groqtest.VectorSamples(n)...)
		api := collector.NewAPIMetrics()
		orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, CacheTTL: time.Hour, MaxStale: time.Hour, Observer: api})
		if err := orgs.Apply(config.Default(), ""); err != nil {
			b.Fatal(err)
		}
		orgs.Refresh(context.Background())
		live := prometheus.NewRegistry()
		live.MustRegister(api, prometheus.NewGoCollector())
		k := answerKey{expfmt.NewFormat(expfmt.TypeOpenMetrics), true}
		for _, way := range []string{"merge", "gatherers", "encode-only"} {
			b.Run(fmt.Sprintf("series=%d/%s", n, way), func(b *testing.B) {
				x := newExposition(live, nil, func() uint64 { return 0 }, log.NewNopLogger())
				x.viaGatherers = way == "gatherers"
				v := orgs.view()
				mfs, _ := x.gather(v)
				b.ReportAllocs()
				for b.Loop() {
					if way == "encode-only" {
						encode(mfs, k, x.logger)
					} else {
						x.build(k, v)
					}
				}
			})
		}
		orgs.Close()
	}
}

// BenchmarkRefreshRound refreshes 200 organizations of 69 series once each,
// and one of 13,800 for comparison
// (--groq.cache-ttl=0: every refresh asks the fake Groq and takes a
// snapshot), as one TTL of the scale row does, and builds the /metrics
// answer once: a CPU profile of it shows the per-organization costs;
// snapshots taken straight from the collectors (what the exporter does) and
// through their registries.
func BenchmarkRefreshRound(b *testing.B) {
	for _, c := range []struct{ orgs, series int }{{200, 69}, {1, 200 * 69}} {
		b.Run(fmt.Sprintf("orgs=%d", c.orgs), func(b *testing.B) { refreshRound(b, c.orgs, c.series) })
	}
}

func refreshRound(b *testing.B, n, series int) {
	g := groqtest.FakeForTest(b, testKey)
	g.SetSeries(groqtest.VectorSamples(series)...)
	api := collector.NewAPIMetrics()
	orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, MaxStale: time.Hour, Observer: api})
	cfg := config.Default()
	for i := range n {
		cfg.Organizations = append(cfg.Organizations, config.Organization{Name: fmt.Sprintf("org-%03d", i), URL: g.BaseURL(), APIKey: testKey,
			Labels: map[string]string{"team": fmt.Sprintf("team-%d", i%10)}})
	}
	if err := orgs.Apply(cfg, ""); err != nil {
		b.Fatal(err)
	}
	defer orgs.Close()
	live := prometheus.NewRegistry()
	live.MustRegister(api)
	x := newExposition(live, nil, func() uint64 { return 0 }, log.NewNopLogger())
	k := answerKey{expfmt.NewFormat(expfmt.TypeTextPlain), true}
	for _, way := range []string{"collect", "registry"} {
		b.Run(way, func(b *testing.B) {
			viaRegistry = way == "registry"
			defer func() { viaRegistry = false }()
			b.ReportAllocs()
			for b.Loop() {
				orgs.Refresh(context.Background())
				x.build(k, orgs.view())
			}
		})
	}
}

// BenchmarkScrapeTTL0 scrapes /metrics of one organization of n series with
// --groq.cache-ttl=0 (the fake Groq asked on every scrape), asking for
// gzipped OpenMetrics as Prometheus does.
func BenchmarkScrapeTTL0(b *testing.B) {
	for _, n := range []int{69, 23000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			g := groqtest.FakeForTest(b, testKey)
			g.SetSeries(groqtest.VectorSamples(n)...)
			api := collector.NewAPIMetrics()
			orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, Observer: api})
			if err := orgs.Apply(config.Default(), ""); err != nil {
				b.Fatal(err)
			}
			defer orgs.Close()
			live, runtime := prometheus.NewRegistry(), prometheus.NewRegistry()
			live.MustRegister(api)
			runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			h := metricsHandler(orgs, live, runtime, nil, nil, log.NewNopLogger())
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
				req.Header.Set("Accept-Encoding", "gzip")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
