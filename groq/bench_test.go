package groq

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/synth"
)

// BenchmarkQuery10k is one query over loopback HTTP answered with 10,000
// series: the client's whole path, request to samples.
func BenchmarkQuery10k(b *testing.B) {
	body := synth.Vector(10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL})
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
