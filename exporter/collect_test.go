package exporter

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// A snapshot taken straight from an organization's collector is what its
// registry gathers, family by family and series by series, in every format.
func TestSnapshotIsTheRegistrysGathering(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	for _, org := range orgs.list() {
		want, err := org.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 { // the second reads the Descs the first kept
			got, ok := collectFamilies(org.coll, &org.descs)
			if !ok {
				t.Fatalf("organization %s: the collector's metrics were not taken as they are", org.name)
			}
			if i == 1 && len(org.descs.last) == 0 {
				t.Error("no Desc kept")
			}
			for _, f := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeOpenMetrics), expfmt.NewFormat(expfmt.TypeProtoDelim)} {
				if g, w := encoded(t, got, f), encoded(t, want, f); !bytes.Equal(g, w) {
					t.Errorf("organization %s, %s: the snapshot differs from the registry's gathering:\n%s\nwant:\n%s", org.name, f, g, w)
				}
			}
		}
	}
}

func encoded(t *testing.T, mfs []*dto.MetricFamily, f expfmt.Format) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, f)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

type metrics []prometheus.Metric

func (m metrics) Describe(chan<- *prometheus.Desc) {}
func (m metrics) Collect(ch chan<- prometheus.Metric) {
	for _, x := range m {
		ch <- x
	}
}

// What the registry would refuse (two series alike, a name with two HELPs
// or two types) is not taken straight: the registry gathers it and says
// what is wrong.
func TestSnapshotLeavesBadMetricsToTheRegistry(t *testing.T) {
	d := prometheus.NewDesc("groq_x", "X.", []string{"model"}, nil)
	d2 := prometheus.NewDesc("groq_x", "Another X.", []string{"model"}, nil)
	for name, m := range map[string]metrics{
		"two series alike": {prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, "a"), prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 2, "a")},
		"two HELPs":        {prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, "a"), prometheus.MustNewConstMetric(d2, prometheus.GaugeValue, 2, "b")},
		"two types":        {prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, "a"), prometheus.MustNewConstMetric(d, prometheus.CounterValue, 2, "b")},
	} {
		if _, ok := collectFamilies(m, nil); ok {
			t.Errorf("%s: taken straight", name)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(m)
		if _, err := reg.Gather(); err == nil {
			t.Errorf("%s: the registry finds nothing wrong either", name)
		}
	}
	good := metrics{prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 2, "b"), prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, "a")}
	if mfs, ok := collectFamilies(good, nil); !ok || len(mfs) != 1 || mfs[0].Metric[0].Label[0].GetValue() != "a" {
		t.Errorf("two distinct series out of order: %v, %v", mfs, ok)
	}
}

// An organization's text, cut from one encoding of its families, is what
// expfmt writes for them in the negotiated format, names escaped as that
// format asks: the names the collector makes, which need no escaping, and
// a family whose label name does.
func TestSnapshotTextAsExpfmtWritesIt(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	families := orgs.view().snaps[0].families
	dotted := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "zz_dotted", Help: "A label name that escaping changes."}, []string{"a.b"})
	dotted.WithLabelValues("x").Set(1)
	reg := prometheus.NewRegistry()
	reg.MustRegister(dotted)
	withDotted, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	withDotted = append(append([]*dto.MetricFamily{}, families...), withDotted...)
	for _, mfs := range [][]*dto.MetricFamily{families, withDotted} {
		for _, f := range []expfmt.Format{
			expfmt.NewFormat(expfmt.TypeTextPlain),
			expfmt.NewFormat(expfmt.TypeOpenMetrics),
			expfmt.NewFormat(expfmt.TypeTextPlain).WithEscapingScheme(model.NoEscaping),
			expfmt.NewFormat(expfmt.TypeOpenMetrics).WithEscapingScheme(model.DotsEscaping),
		} {
			text := encodeText(mfs, f)
			if !text.ok {
				t.Fatalf("%s: the text could not be cut", f)
			}
			var got []byte
			for _, ft := range text.fams {
				got = append(append(got, ft.head...), ft.lines...)
			}
			if want := encoded(t, mfs, f); !bytes.Equal(got, want) {
				t.Errorf("%s, %d families: the text differs from expfmt's:\n%s\nwant:\n%s", f, len(mfs), got, want)
			}
		}
	}
}
