package collector

import (
	"bytes"
	"context"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/synth"
)

// benchSeries is the size of the answer the benchmarks decode.
const benchSeries = 10000

// decodingQuerier answers every query by decoding the same body, as the
// client does with what it reads from Groq.
type decodingQuerier []byte

func (b decodingQuerier) Query(context.Context, string) ([]groq.Sample, error) {
	return groq.DecodeVector(bytes.NewReader(b))
}

// BenchmarkDecodeVector10k is the floor for BenchmarkRefresh10k: only
// decoding the JSON of a 10,000-series answer.
func BenchmarkDecodeVector10k(b *testing.B) {
	body := synth.Vector(benchSeries)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		samples, err := groq.DecodeVector(bytes.NewReader(body))
		if err != nil || len(samples) != benchSeries {
			b.Fatalf("%d samples, %v", len(samples), err)
		}
	}
}

// BenchmarkRefresh10k is one whole refresh of a 10,000-series answer:
// decoding, translating, building the const metrics and swapping the cache.
func BenchmarkRefresh10k(b *testing.B) {
	body := synth.Vector(benchSeries)
	c, err := New(decodingQuerier(body), Options{CacheTTL: 0})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		c.Refresh(context.Background())
	}
	if st := c.Status(); !st.Up || len(c.state.queries[0].metrics) != benchSeries {
		b.Fatalf("after refresh: up %v, %d series, error %q", st.Up, len(c.state.queries[0].metrics), st.LastError)
	}
}

// BenchmarkTranslateBuild10k is the part of a refresh after decoding.
func BenchmarkTranslateBuild10k(b *testing.B) {
	samples, err := groq.DecodeVector(bytes.NewReader(synth.Vector(benchSeries)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		dropped := map[string]int{}
		translated := make([]series, 0, len(samples))
		tr := translator{}
		for _, s := range samples {
			out, reason := tr.translate(s)
			if reason != "" {
				b.Fatalf("dropped: %s", reason)
			}
			translated = append(translated, out)
		}
		if m := build(translated, dropped); len(m) != benchSeries {
			b.Fatalf("%d metrics", len(m))
		}
	}
}
