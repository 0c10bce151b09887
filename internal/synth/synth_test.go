package synth

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
)

func TestVectorDecodes(t *testing.T) {
	for _, n := range []int{0, 1, PerModel, 10000} {
		samples, err := groq.DecodeVector(strings.NewReader(string(Vector(n))))
		if err != nil || len(samples) != n {
			t.Fatalf("Vector(%d): %d samples, %v", n, len(samples), err)
		}
	}
}

func TestEndless(t *testing.T) {
	for _, size := range []int64{0, 10, 64 << 10, 1<<20 + 7} {
		n, err := io.Copy(io.Discard, Endless(size))
		if err != nil || n != size {
			t.Errorf("Endless(%d) gave %d bytes, %v", size, n, err)
		}
	}
	// It decodes as far as it goes, and is cut off as truncated JSON.
	_, err := groq.DecodeVector(Endless(1 << 20))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("decoding Endless: %v, want unexpected EOF", err)
	}
}
