package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/groq"
)

// hostileShapes are answers whose exposition could grow faster than the
// body: each makes a body of about size bytes.
var hostileShapes = []struct {
	name string
	body func(size int) []byte
}{
	// Every series carries a label name no other series has: one label set
	// for the family would give n series × n labels.
	{"distinct label names", func(size int) []byte {
		return vectorBody(size, func(i int) string {
			return fmt.Sprintf(`"__name__":"requests:rate1m","model":"m","l%d":"v"`, i)
		})
	}},
	// Each series in a family of its own: a HELP and a TYPE line each.
	{"a family per series", func(size int) []byte {
		return vectorBody(size, func(i int) string { return fmt.Sprintf(`"__name__":"f%d:x"`, i) })
	}},
	// One series whose label names all sanitize to the same name: each
	// needs a name of its own.
	{"label names that sanitize alike", func(size int) []byte {
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, `,"x%s":"v"`, strings.Map(func(r rune) rune { return rune("-.:/!~"[int(r-'0')%6]) }, fmt.Sprint(i)))
		}
		return []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"requests:rate1m"` +
			b.String() + `},"value":[1,"1"]}]}}`)
	}},
	// Long names and values.
	{"long names and values", func(size int) []byte {
		long := strings.Repeat("x", 2000)
		return vectorBody(size, func(i int) string {
			return fmt.Sprintf(`"__name__":"a%s%d:b","%s":"%s%d"`, long, i, long, long, i)
		})
	}},
	// Histogram buckets, each label set with few buckets.
	{"histogram buckets", func(size int) []byte {
		return vectorBody(size, func(i int) string {
			return fmt.Sprintf(`"__name__":"e2e_latency_seconds_bucket:rate5m","model":"m%d","le":"+Inf"`, i)
		})
	}},
	// Families of a few series, each with its own label names.
	{"small families of distinct label names", func(size int) []byte {
		return vectorBody(size, func(i int) string {
			return fmt.Sprintf(`"__name__":"f%d:x","a%d":"v","b%d":"v"`, i/4, i, i%4)
		})
	}},
}

// vectorBody is a successful answer of about size bytes whose series i has
// the labels metric(i).
func vectorBody(size int, metric func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{%s},"value":[1,"%d"]}`, metric(i), i)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

// maxExpositionFactor bounds the exposition of any answer against its body,
// as README states.
const maxExpositionFactor = 4

// TestExpositionLinearInBody: whatever the shape of an answer, the
// exposition stays within maxExpositionFactor times its body and what a
// refresh allocates within a coarse multiple of it; an answer of series that
// each carry a label name of their own (a 305 KB body made a 78 MB
// exposition when a family had one label set, the union of its series')
// included.
func TestExpositionLinearInBody(t *testing.T) {
	const size = 1 << 20
	for _, shape := range hostileShapes {
		t.Run(shape.name, func(t *testing.T) {
			body := shape.body(size)
			a, err := groq.DecodeAnswer(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for _, org := range []string{"", "an-organization"} {
				c, err := New(&answers{list: []*groq.Answer{a}}, Options{Organization: org})
				if err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				RefreshInPlace(c)
				runtime.ReadMemStats(&after)
				reg := prometheus.NewRegistry()
				reg.MustRegister(c)
				exp := Exposition(t, reg)
				if got := len(exp); got > maxExpositionFactor*len(body) {
					t.Errorf("organization %q: a %d-byte body gave a %d-byte exposition, %.1f× (bound %d×)",
						org, len(body), got, float64(got)/float64(len(body)), maxExpositionFactor)
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64*uint64(len(body)) {
					t.Errorf("organization %q: a refresh of a %d-byte body allocated %d bytes, %.0f×",
						org, len(body), alloc, float64(alloc)/float64(len(body)))
				}
				if !strings.Contains(exp, "groq_up") {
					t.Errorf("the exposition lacks groq_up")
				}
			}
		})
	}
}

// FuzzExpositionSize: an answer of random series, each with a random set of
// label names drawn from a random pool (names that sanitize alike, names
// only one series has, names every series has), in families of random
// size, never makes the families' exposition larger than
// maxExpositionFactor times the body.
func FuzzExpositionSize(f *testing.F) {
	f.Add(uint64(1), uint16(3000), uint16(3000), uint8(1), uint8(1), false)   // a name per series
	f.Add(uint64(2), uint16(2000), uint16(5), uint8(3), uint8(1), true)       // a few names, mixed
	f.Add(uint64(3), uint16(500), uint16(400), uint8(20), uint8(50), true)    // families of 10
	f.Add(uint64(4), uint16(1), uint16(2000), uint8(255), uint8(1), false)    // one series, many names
	f.Add(uint64(5), uint16(1000), uint16(1000), uint8(2), uint8(200), false) // a family per 5 series
	f.Fuzz(func(t *testing.T, seed uint64, series, pool uint16, perSeries, families uint8, org bool) {
		series, pool = min(series, 3000), max(min(pool, 3000), 1)
		rng := rand.New(rand.NewPCG(seed, seed>>1))
		names := make([]string, pool)
		for i := range names {
			n := make([]byte, 1+rng.IntN(12))
			for j := range n {
				n[j] = "ab_-.:/0é"[rng.IntN(9)]
			}
			names[i] = string(n)
		}
		var result []map[string]string
		for i := range int(series) {
			m := map[string]string{"__name__": fmt.Sprintf("f%d:rate1m", i%(int(families)+1))}
			for range rng.IntN(int(perSeries) + 1) {
				m[names[rng.IntN(len(names))]] = strconv.Itoa(rng.IntN(3))
			}
			result = append(result, m)
		}
		var body bytes.Buffer
		body.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
		for i, m := range result {
			if i > 0 {
				body.WriteByte(',')
			}
			labels, _ := json.Marshal(m)
			fmt.Fprintf(&body, `{"metric":%s,"value":[1,"%d"]}`, labels, i)
		}
		body.WriteString(`]}}`)
		a, err := groq.DecodeAnswer(bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{}
		if org {
			opts.Organization = "an-organization"
		}
		c, err := New(&answers{list: []*groq.Answer{a}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		RefreshInPlace(c)
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		exp := Exposition(t, reg, SelfMetrics()...)
		if len(exp) > maxExpositionFactor*body.Len() {
			t.Fatalf("a %d-byte body gave a %d-byte exposition, %.1f× (bound %d×)", body.Len(), len(exp),
				float64(len(exp))/float64(body.Len()), maxExpositionFactor)
		}
	})
}

// TestTooManyNames: an answer of more upstream names than maxNames keeps
// the first maxNames, in name order, and counts the series of the others
// as too_many_names, none of them kept for the status page.
func TestTooManyNames(t *testing.T) {
	var samples []groq.Sample
	for i := range maxNames + 500 {
		samples = append(samples, groq.Sample{Labels: groq.Labels{{Name: "__name__", Value: fmt.Sprintf("f%05d:rate1m", maxNames+500-i)}}, Value: 1})
	}
	c, err := New(&answers{list: []*groq.Answer{{Samples: samples}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	RefreshInPlace(c)
	st := c.Status()
	if st.Dropped[dropTooManyNames] != 500 || len(st.Families) != maxNames || len(st.Names) != maxNames {
		t.Errorf("%d names: %d dropped as too_many_names, %d families, %d names kept; want 500, %d, %d",
			maxNames+500, st.Dropped[dropTooManyNames], len(st.Families), len(st.Names), maxNames, maxNames)
	}
	if _, ok := st.Families["groq_f00001_rate1m"]; !ok {
		t.Errorf("the first name in name order was not kept")
	}
}

// TestTooManyLabelSets: a family whose series carry more sets of label
// names than maxLabelSets keeps the first maxLabelSets of them in the
// order of their names, and counts the other series as too_many_label_sets.
func TestTooManyLabelSets(t *testing.T) {
	var samples []groq.Sample
	for i := range maxLabelSets + 50 {
		samples = append(samples, groq.Sample{Labels: groq.Labels{{Name: "__name__", Value: "requests:rate1m"},
			{Name: fmt.Sprintf("l%03d", maxLabelSets+50-i), Value: "v"}}, Value: 1})
	}
	c, err := New(&answers{list: []*groq.Answer{{Samples: samples}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	RefreshInPlace(c)
	st := c.Status()
	if st.Dropped[dropTooManyLabelSets] != 50 || st.Families["groq_requests_rate1m"] != maxLabelSets {
		t.Errorf("%d label sets: %d series dropped as too_many_label_sets, %d exported; want 50, %d",
			maxLabelSets+50, st.Dropped[dropTooManyLabelSets], st.Families["groq_requests_rate1m"], maxLabelSets)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	if exp := Exposition(t, reg); !strings.Contains(exp, `groq_requests_rate1m{l001="v"} 1`) || strings.Contains(exp, `l150=`) {
		t.Errorf("the first label sets in name order are not the ones kept:\n%.2000s", exp)
	}
}
