//go:build integration

package collector_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// vmFixtures are loaded together into VictoriaMetrics: the documented
// scheme, families Groq adds, the older scheme with histogram buckets, and
// every percentile spelling.
var vmFixtures = []string{"all_families.json", "added_families.json", "older_scheme.json", "percentiles.json"}

// importableName: what the Prometheus text format VictoriaMetrics imports
// takes as a metric name (a name starting with a digit is tested by the
// hermetic golden files only).
var importableName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// TestVictoriaMetrics runs the collector against a real VictoriaMetrics, the
// database behind Groq's API, loaded with every scheme at once, and compares
// /metrics with its golden file: what a new user with such an organization
// gets. The percentiles computed from buckets agree with VictoriaMetrics'
// own histogram_quantile. It also measures what the one selector costs
// against the documented-only one.
func TestVictoriaMetrics(t *testing.T) {
	vm := groqtest.VictoriaMetricsForTest(t)
	now := groqtest.RoundTime(time.Now()) // in the past, as instant queries see it
	var text bytes.Buffer
	for _, f := range vmFixtures {
		for _, s := range groqtest.RecordedSamples(t, filepath.Join("testdata", f)) {
			if importableName.MatchString(s.Name()) {
				writeImportLine(&text, s, now)
			}
		}
	}
	ctx := context.Background()
	if err := vm.Import(ctx, text.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := vm.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	gw := groqtest.GatewayForTest(t, vm)

	reg, c := vmCollector(t, gw, collector.Options{Reserved: []string{"groq_exporter_build_info"}})
	if st := c.Status(); !st.Up {
		t.Fatalf("down: %s", st.LastError)
	}
	got := collector.Exposition(t, reg)
	compareGolden(t, got, "victoriametrics.metrics")
	assertLint(t, reg)

	// The percentiles of the buckets, as VictoriaMetrics computes them.
	for _, p := range []struct {
		q     string
		label string
	}{{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		want, err := vm.Query(ctx, `histogram_quantile(`+p.q+`, le_model_project_id:e2e_latency_seconds_bucket:rate5m)`)
		if err != nil || len(want) != 2 {
			t.Fatalf("VictoriaMetrics' histogram_quantile: %v, %v", want, err)
		}
		for _, w := range want {
			line := fmt.Sprintf(`groq_e2e_latency_seconds{model="%s",percentile="%s",project_id="%s"} `, w.Labels["model"], p.label, w.Labels["project_id"])
			i := strings.Index(got, line)
			if i < 0 {
				t.Fatalf("no %s in /metrics", line)
			}
			v, err := strconv.ParseFloat(strings.Fields(got[i+len(line):])[0], 64)
			if err != nil || math.Abs(v-w.Value) > 1e-9 {
				t.Errorf("%s%v, VictoriaMetrics says %v", line, v, w.Value)
			}
		}
	}

	// What the one call costs: every recording-rule style name against the
	// documented ones only.
	all := gw.Calls()[len(gw.Calls())-1]
	_, _ = vmCollector(t, gw, collector.Options{Builtin: &config.Builtin{Enabled: true, DocumentedOnly: true}})
	documented := gw.Calls()[len(gw.Calls())-1]
	names := 0
	for _, n := range c.Status().Names {
		names += n.Series
	}
	t.Logf("%s: %d series, %d bytes; %s: %d bytes", all.Query(), names, all.Written, documented.Query(), documented.Written)
}

func vmCollector(t *testing.T, gw *groqtest.GatewayServer, opts collector.Options) (*prometheus.Registry, *collector.Collector) {
	t.Helper()
	client, err := groq.New(groq.Config{URL: gw.BaseURL(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, reg := fixedCollector(t, client, opts)
	c.Refresh(context.Background())
	return reg, c
}

// writeImportLine writes s in the Prometheus text format, stamped at t.
func writeImportLine(b *bytes.Buffer, s groqtest.Sample, t time.Time) {
	b.WriteString(s.Name() + "{")
	for i, k := range slices.Sorted(maps.Keys(s.Labels)) {
		if k == "__name__" {
			continue
		}
		if i > 0 && b.Bytes()[b.Len()-1] != '{' {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "%s=%q", k, s.Labels[k])
	}
	fmt.Fprintf(b, "} %s %d\n", strconv.FormatFloat(s.Value, 'g', -1, 64), t.UnixMilli())
}
