package collector

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
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
			map[string]string{"exported_percentile": "exported_percentile", "percentile": "exported_percentile_2"}},
		{"three into one", []string{"a b", "a-b", "a_b"}, nil,
			map[string]string{"a_b": "a_b", "a b": "exported_a_b", "a-b": "exported_a_b_2"}},
		{"numbered past a name that is taken", []string{"a b", "a-b", "a.b", "a_b", "exported_a_b_2"}, nil,
			map[string]string{"a_b": "a_b", "exported_a_b_2": "exported_a_b_2", "a b": "exported_a_b", "a-b": "exported_a_b_3", "a.b": "exported_a_b_4"}},
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
// what prometheus.NewConstMetric's would, in the order the registry sorts
// them into.
func TestGaugeAsConstMetric(t *testing.T) {
	f := &familySpec{Name: "groq_test", Help: "help"}
	var all []series
	for i, ls := range []map[string]string{{"model": "llama", "status_code": "200"}, {"model": ""}, {"model": "é", "status_code": "\x00"}, {"status_code": "200"}} {
		all = append(all, series{family: f, labels: groq.LabelsFromMap(ls), extra: []labelPair{{"percentile", "p" + strconv.Itoa(9-i)}}, value: float64(i) + 0.5})
	}
	all = append(all, series{family: &familySpec{Name: "groq_none", Help: "help"}, value: 7})
	metrics, families := (&builder{}).build(all, newDrops())
	if len(metrics) != len(all) || families["groq_test"] != 4 || families["groq_none"] != 1 {
		t.Fatalf("%d metrics, %v", len(metrics), families)
	}
	var prev []string
	for i, got := range metrics[:4] {
		values, gm := LabelValues(t, got)
		if slices.Compare(values, prev) <= 0 {
			t.Errorf("row %d: %q after %q", i, values, prev)
		}
		prev = values
		want := prometheus.MustNewConstMetric(got.Desc(), prometheus.GaugeValue, gm.GetGauge().GetValue(), values...)
		_, wm := LabelValues(t, want)
		if gm.String() != wm.String() {
			t.Errorf("row %d: got %v, want %v", i, gm, wm)
		}
	}
	var m dto.Metric
	if err := metrics[4].Write(&m); err != nil || len(m.Label) != 0 || m.GetGauge().GetValue() != 7 {
		t.Errorf("no labels: %v, %v", &m, err)
	}
}

// TestLabelSetsEqual: an answer is taken for the last one only if every
// sample has the same labels, however they would run together as bytes.
func TestLabelSetsEqual(t *testing.T) {
	sample := func(kv ...string) groq.Sample {
		var ls groq.Labels
		for i := 0; i < len(kv); i += 2 {
			ls = append(ls, groq.Label{Name: kv[i], Value: kv[i+1]})
		}
		return groq.Sample{Labels: ls}
	}
	last := []groq.Sample{sample("a", "1"), sample("b", "2"), sample()}
	sets := encodeLabelSets(last)
	for _, tc := range []struct {
		name    string
		samples []groq.Sample
		want    bool
	}{
		{"same", []groq.Sample{sample("a", "1"), sample("b", "2"), sample()}, true},
		{"new values only", []groq.Sample{{Labels: last[0].Labels, Value: 9}, last[1], last[2]}, true},
		{"one more", append(slices.Clone(last), sample()), false},
		{"one fewer", last[:2], false},
		{"labels moved to the sample before", []groq.Sample{sample("a", "1", "b", "2"), sample(), sample()}, false},
		{"labels moved to the sample after", []groq.Sample{sample(), sample("a", "1", "b", "2"), sample()}, false},
		{"a value of another length", []groq.Sample{sample("a", "12"), sample("b", "2"), sample()}, false},
		{"a name and value split elsewhere", []groq.Sample{sample("a1", ""), sample("b", "2"), sample()}, false},
		{"another value", []groq.Sample{sample("a", "2"), sample("b", "2"), sample()}, false},
	} {
		if got := sets.equal(tc.samples); got != tc.want {
			t.Errorf("%s: equal = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBuildSortsAndCollapses: whether a family's rows of ranks fit in one
// 64-bit number or not (nine labels of 200 values each do not), build
// serves each distinct series once, sorted by label values as the registry
// sorts them, and counts the rest as duplicates.
func TestBuildSortsAndCollapses(t *testing.T) {
	for _, labels := range []int{2, 9} {
		f := &familySpec{Name: "groq_test", Help: "help"}
		rnd := rand.New(rand.NewPCG(1, uint64(labels)))
		var all []series
		distinct := map[string]bool{}
		for i := range 1000 {
			var ls groq.Labels
			if i >= 500 { // half of them again: duplicates
				ls = all[rnd.IntN(500)].labels
			} else {
				for j := range labels {
					n := 200 // values per label
					if j == 0 {
						n = 3 // so that series often differ only after the first label
					}
					ls = append(ls, groq.Label{Name: "l" + strconv.Itoa(j), Value: strconv.Itoa(rnd.IntN(n))})
				}
			}
			all = append(all, series{family: f, labels: ls, value: float64(i)})
			distinct[fmt.Sprint(ls)] = true
		}
		d := newDrops()
		metrics, _ := (&builder{}).build(all, d)
		if len(metrics) != len(distinct) || len(metrics)+d.count[dropDuplicate] != len(all) {
			t.Fatalf("%d labels: %d metrics and %d duplicates of %d series, %d distinct", labels, len(metrics), d.count[dropDuplicate], len(all), len(distinct))
		}
		var prev []string
		for i, m := range metrics {
			values, _ := LabelValues(t, m)
			if i > 0 && slices.Compare(values, prev) <= 0 {
				t.Fatalf("%d labels: series %d %q after %q", labels, i, values, prev)
			}
			prev = values
		}
	}
}
