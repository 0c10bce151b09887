package groqtest

import (
	"slices"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
)

func TestRoundIsPlausible(t *testing.T) {
	start := time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC)
	for seed := int64(0); seed < 5; seed++ {
		l := NewLoader(nil, seed)
		for step := 0; step < 120; step++ {
			ts := start.Add(time.Duration(step) * 15 * time.Second)
			got := map[string]float64{}
			for _, s := range l.Round(ts) {
				got[s.Series()] = s.Value
				if s.Value < 0 {
					t.Fatalf("negative sample %s", s)
				}
			}
			if want := len(DefaultModels) * (2*len(StatusCodes) + 5*len(Percentiles)); len(got) != want {
				t.Fatalf("round has %d series, want %d", len(got), want)
			}
			for _, m := range DefaultModels {
				for _, u := range collector.DocumentedSeries() {
					if !u.Percentile {
						continue
					}
					f := profileOf(u.Base)
					key := func(p string) string { return u.Series(p) + `{model="` + m + `"}` }
					p50, p95, p99 := got[key("p50")], got[key("p95")], got[key("p99")]
					if !(0 < p50 && p50 < p95 && p95 < p99) {
						t.Fatalf("seed %d %s %s: p50 %v, p95 %v, p99 %v not increasing", seed, m, u.Base, p50, p95, p99)
					}
					limit := 60.0 // seconds
					if f.decimals == 1 {
						limit = 10000 // tokens
					}
					if p99 > limit || (f.decimals == 1 && p50 < 100) {
						t.Fatalf("seed %d %s %s: implausible p50 %v p99 %v", seed, m, u.Base, p50, p99)
					}
				}
				for _, c := range StatusCodes {
					lbl := `{model="` + m + `",status_code="` + c + `"}`
					inc, rate := got["requests:increase1m"+lbl], got["requests:rate1m"+lbl]
					if rate != round(inc/60, 4) {
						t.Fatalf("%s: rate1m %v is not increase1m %v / 60", lbl, rate, inc)
					}
				}
			}
		}
	}
}

func TestRoundIsDeterministicAndChanges(t *testing.T) {
	t0 := time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC)
	a, b, other := NewLoader(nil, 7), NewLoader(nil, 7), NewLoader(nil, 8)
	strs := func(s []Sample) []string {
		out := make([]string, len(s))
		for i := range s {
			out[i] = s[i].String()
		}
		return out
	}
	if !slices.Equal(strs(a.Round(t0)), strs(b.Round(t0))) {
		t.Error("two loaders with the same seed wrote different rounds")
	}
	if slices.Equal(strs(a.Round(t0)), strs(other.Round(t0))) {
		t.Error("loaders with different seeds wrote the same round")
	}
	if slices.Equal(strs(a.Round(t0)), strs(a.Round(t0.Add(time.Minute)))) {
		t.Error("rounds a minute apart are the same")
	}
}
