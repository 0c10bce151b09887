package groq_test

import (
	"context"
	"os"
	"path/filepath"
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

// BenchmarkReadKeyFile is what reading the key file costs every request:
// a non-blocking open, fstat and a bounded read, within a deadline.
func BenchmarkReadKeyFile(b *testing.B) {
	file := filepath.Join(b.TempDir(), "key")
	if err := os.WriteFile(file, []byte(groq.TestKey+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := groq.ReadKeyFile(context.Background(), file); err != nil {
			b.Fatal(err)
		}
	}
}
