package collector

import (
	"hash/maphash"
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestExportLabelNames: every upstream label gets a name of its own, the same
// whatever order the labels come in, so that two labels that sanitize to one
// name (a-b and a_b) or that clash with the exporter's percentile label cannot
// overwrite each other's values and make the exposition flap between scrapes.
func TestExportLabelNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []string // sorted, as build passes them
		extra []string
		want  map[string]string
	}{
		{"valid names kept", []string{"model", "status_code"}, nil,
			map[string]string{"model": "model", "status_code": "status_code"}},
		{"sanitized", []string{"0day", "a-b", "model"}, []string{"percentile"},
			map[string]string{"0day": "_0day", "a-b": "a_b", "model": "model"}},
		{"sanitized name taken by a valid one", []string{"a-b", "a_b"}, nil,
			map[string]string{"a-b": "exported_a_b", "a_b": "a_b"}},
		{"exporter label", []string{"percentile"}, []string{"percentile"},
			map[string]string{"percentile": "exported_percentile"}},
		{"exporter label and its exported_ name", []string{"exported_percentile", "percentile"}, []string{"percentile"},
			map[string]string{"exported_percentile": "exported_percentile", "percentile": "exported_exported_percentile"}},
		{"three into one", []string{"a b", "a-b", "a_b"}, nil,
			map[string]string{"a_b": "a_b", "a b": "exported_a_b", "a-b": "exported_exported_a_b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, e := range tc.extra {
				taken[e] = true
			}
			got := exportLabelNames(tc.keys, taken)
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, n := range got {
				if !taken[n] {
					t.Errorf("%q not marked taken", n)
				}
			}
		})
	}
}

// TestGaugeAsConstMetric: the gauges build lays out in blocks write exactly
// what prometheus.NewConstMetric's would.
func TestGaugeAsConstMetric(t *testing.T) {
	names := []string{"model", "percentile", "status_code"}
	desc := prometheus.NewDesc("groq_test", "help", names, nil)
	rows := [][]string{{"llama", "p99", "200"}, {"", "p50", ""}, {"é", "p99.9", "\x00"}}
	fb := newFamilyBuilder(desc, names, len(rows))
	for i, values := range rows {
		v := float64(i) + 0.5
		got, want := fb.add(values, v), prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, values...)
		var gm, wm dto.Metric
		if err := got.Write(&gm); err != nil {
			t.Fatal(err)
		}
		if err := want.Write(&wm); err != nil {
			t.Fatal(err)
		}
		if gm.String() != wm.String() || got.Desc() != want.Desc() {
			t.Errorf("row %d: got %v, want %v", i, &gm, &wm)
		}
	}
	noLabels := prometheus.NewDesc("groq_test", "help", nil, nil)
	var m dto.Metric
	if err := newFamilyBuilder(noLabels, nil, 1).add(nil, 1).Write(&m); err != nil || len(m.Label) != 0 || m.GetGauge().GetValue() != 1 {
		t.Errorf("no labels: %v, %v", &m, err)
	}
}

// TestDedup: equal label values are duplicates; different ones never are,
// even when their hashes collide.
func TestDedup(t *testing.T) {
	d := newDedup(4)
	for _, tc := range []struct {
		values []string
		seen   bool
	}{
		{[]string{"a", ""}, false},
		{[]string{"", "a"}, false},
		{[]string{"a", ""}, true},
		{[]string{"a"}, false},
	} {
		if _, got := d.seen(tc.values, 0); got != tc.seen {
			t.Errorf("seen(%q) = %v, want %v", tc.values, got, tc.seen)
		}
	}
	// Force collisions: every series hashes alike once first holds its hash.
	d = newDedup(1)
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString("x")
	h.WriteByte(0xff)
	d.first[h.Sum64()] = seenAt{[]string{"y"}, 0} // as if ("y") had hashed as ("x") does
	if _, seen := d.seen([]string{"x"}, 1); seen {
		t.Error("a collision with other values is taken for the same values")
	}
	if j, seen := d.seen([]string{"x"}, 2); !seen || j != 1 {
		t.Error("a collision with other values is not handled by the full key")
	}
}
