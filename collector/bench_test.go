package collector_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// benchSizes are the answers the benchmarks decode: 69 series (about three
// models), 2,300 (92 models) and 23,000 (920 models, PerModel series each).
var benchSizes = []int{69, 2300, 23000}

func eachSize(b *testing.B, f func(b *testing.B, n int)) {
	for _, n := range benchSizes {
		b.Run("series="+strconv.Itoa(n), func(b *testing.B) { f(b, n) })
	}
}

// decodingQuerier answers every query by decoding the same body, as the
// client does with what it reads from Groq.
type decodingQuerier []byte

func (b decodingQuerier) QueryAnswer(context.Context, string) (*groq.Answer, error) {
	return groq.DecodeAnswer(bytes.NewReader(b))
}

// BenchmarkDecodeVector is the floor for BenchmarkRefresh: only decoding the
// JSON of an answer, which every refresh has to do.
func BenchmarkDecodeVector(b *testing.B) {
	eachSize(b, func(b *testing.B, n int) {
		body := groqtest.Vector(n)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			samples, err := groq.DecodeVector(bytes.NewReader(body))
			if err != nil || len(samples) != n {
				b.Fatalf("%d samples, %v", len(samples), err)
			}
		}
	})
}

// BenchmarkRefresh is one whole refresh of an answer: decoding, translating,
// building the const metrics and swapping the cache, as a refresh ahead runs
// it (what a scrape that waits for one adds is the wait for a goroutine to
// wake, which BenchmarkRefreshWaited shows). Every answer has the series of
// the one before, with new values, as Groq's answers mostly do: the refresh
// reuses what the last one built (BenchmarkRefreshNewSeries does not).
func BenchmarkRefresh(b *testing.B) {
	eachSize(b, func(b *testing.B, n int) {
		benchRefresh(b, n, decodingQuerier(groqtest.Vector(n)), collector.RefreshInPlace)
	})
}

// benchRefresh measures refresh of a collector that asks q, whose answers
// are about as long as groqtest.Vector(n) and have n series.
func benchRefresh(b *testing.B, n int, q collector.Querier, refresh func(*collector.Collector)) {
	c, err := collector.New(q, collector.Options{CacheTTL: 0})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(groqtest.Vector(n))))
	b.ReportAllocs()
	for b.Loop() {
		refresh(c)
	}
	if st := c.Status(); !st.Up || collector.CachedSeries(c) != n {
		b.Fatalf("after refresh: up %v, %d series, error %q", st.Up, collector.CachedSeries(c), st.LastError)
	}
}

// BenchmarkTranslateBuild is the part of a refresh after decoding.
func BenchmarkTranslateBuild(b *testing.B) {
	eachSize(b, func(b *testing.B, n int) {
		samples, err := groq.DecodeVector(bytes.NewReader(groqtest.Vector(n)))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			m, dropped := collector.TranslateAndBuild(samples)
			if dropped != 0 {
				b.Fatalf("dropped %d", dropped)
			}
			if len(m) != n {
				b.Fatalf("%d metrics", len(m))
			}
		}
	})
}

// BenchmarkRefreshNewSeries is BenchmarkRefresh when every answer has other
// series than the one before it (other model names), so that nothing of the
// last refresh can be reused: the refresh translates and builds every series.
func BenchmarkRefreshNewSeries(b *testing.B) {
	eachSize(b, func(b *testing.B, n int) {
		// The first is BenchmarkDecodeVector's; the other has other model
		// names of the same length.
		other := groqtest.VectorSamples(n)
		for _, s := range other {
			s.Labels["model"] = strings.Replace(s.Labels["model"], "model-", "m0del-", 1)
		}
		bodies := alternating{groqtest.Vector(n), groqtest.EncodeVector(other)}
		benchRefresh(b, n, &bodies, collector.RefreshInPlace)
	})
}

// alternating answers each query by decoding the next of its bodies in turn.
type alternating [][]byte

func (a *alternating) QueryAnswer(context.Context, string) (*groq.Answer, error) {
	body := (*a)[0]
	*a = append((*a)[1:], body)
	return groq.DecodeAnswer(bytes.NewReader(body))
}

// BenchmarkRefreshWaited is BenchmarkRefresh as a scrape that finds the
// cache expired runs it: started on a goroutine of its own, and waited for.
func BenchmarkRefreshWaited(b *testing.B) {
	eachSize(b, func(b *testing.B, n int) {
		benchRefresh(b, n, decodingQuerier(groqtest.Vector(n)), func(c *collector.Collector) { c.Refresh(context.Background()) })
	})
}
