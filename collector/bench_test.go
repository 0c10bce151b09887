package collector_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// benchSeries is the size of the answer the benchmarks decode.
const benchSeries = 10000

// decodingQuerier answers every query by decoding the same body, as the
// client does with what it reads from Groq.
type decodingQuerier []byte

func (b decodingQuerier) QueryAnswer(context.Context, string) (*groq.Answer, error) {
	return groq.DecodeAnswer(bytes.NewReader(b))
}

// BenchmarkDecodeVector10k is the floor for BenchmarkRefresh10k: only
// decoding the JSON of a 10,000-series answer.
func BenchmarkDecodeVector10k(b *testing.B) {
	body := groqtest.Vector(benchSeries)
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
	body := groqtest.Vector(benchSeries)
	c, err := collector.New(decodingQuerier(body), collector.Options{CacheTTL: 0})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		c.Refresh(context.Background())
	}
	if st := c.Status(); !st.Up || collector.CachedSeries(c) != benchSeries {
		b.Fatalf("after refresh: up %v, %d series, error %q", st.Up, collector.CachedSeries(c), st.LastError)
	}
}

// BenchmarkTranslateBuild10k is the part of a refresh after decoding.
func BenchmarkTranslateBuild10k(b *testing.B) {
	samples, err := groq.DecodeVector(bytes.NewReader(groqtest.Vector(benchSeries)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, dropped := collector.TranslateAndBuild(samples)
		if dropped != 0 {
			b.Fatalf("dropped %d", dropped)
		}
		if len(m) != benchSeries {
			b.Fatalf("%d metrics", len(m))
		}
	}
}
