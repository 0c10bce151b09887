package exporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
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
				x := newExposition(live, func() uint64 { return 0 }, log.NewNopLogger())
				x.viaGatherers = way == "gatherers"
				v := orgs.view()
				mfs := x.gather(v)
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
