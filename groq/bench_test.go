package groq_test

import (
	"context"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// BenchmarkQuery10k is one query over loopback HTTP answered with 10,000
// series: the client's whole path, request to samples, with a key, as in
// use (every string decoded is cleaned of it).
func BenchmarkQuery10k(b *testing.B) {
	body := string(groqtest.Vector(10000))
	srv := groqtest.FakeForTest(b)
	srv.Inject(groqtest.Fault{Text: body})
	c, err := groq.New(groq.Config{URL: srv.BaseURL(), Key: groq.TestKey})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		samples, err := c.Query(context.Background(), "up")
		if err != nil || len(samples) != 10000 {
			b.Fatalf("%d samples, %v", len(samples), err)
		}
	}
}
