package collector_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestBuildAllocs keeps a refresh cheap: translating and building 10,000
// series costs about one allocation per series (the label values), not the
// dozen that one prometheus.NewConstMetric per series costs.
func TestBuildAllocs(t *testing.T) {
	samples, err := groq.DecodeVector(bytes.NewReader(groqtest.Vector(10000)))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(3, func() { collector.TranslateAndBuild(samples) })
	if perSeries := allocs / float64(len(samples)); perSeries > 2 {
		t.Errorf("%.1f allocations per series, want at most 2", perSeries)
	}
}

// TestBuildSorted: build hands out each family's gauges in the order the
// registry sorts them into on every scrape, so that that sort has nothing to
// do (the scrape benchmark against a plain registry depends on it).
func TestBuildSorted(t *testing.T) {
	samples, err := groq.DecodeVector(bytes.NewReader(groqtest.Vector(3 * groqtest.PerModel)))
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(samples)
	metrics, _ := collector.TranslateAndBuild(samples)
	var prev []string
	var prevDesc *prometheus.Desc
	for _, m := range metrics {
		values, _ := collector.LabelValues(t, m)
		if m.Desc() == prevDesc && slices.Compare(prev, values) >= 0 {
			t.Fatalf("%v comes after %v", values, prev)
		}
		prev, prevDesc = values, m.Desc()
	}
}
