// Package synth makes synthetic answers of Groq's metrics API for tests,
// benchmarks and the memory measurements: a vector of any number of realistic
// series, an endless body generated on the fly, and a body that trickles. It is never part of the
// exporter binary.
package synth

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StatusCodes and Percentiles are the label values Vector spreads series over.
var (
	StatusCodes = []string{"200", "400", "429", "500", "503"}
	Percentiles = []string{"p50", "p95", "p99"}
)

var (
	requestFamilies    = []string{"requests:increase1m", "requests:rate1m"}
	percentileFamilies = []string{"e2e_latency_seconds", "queue_latency_seconds", "tokens_in", "tokens_out", "ttft_latency_seconds"}
)

// PerModel is how many series Vector makes for one model: every request family
// by status code, every percentile family by percentile.
var PerModel = len(requestFamilies)*len(StatusCodes) + len(percentileFamilies)*len(Percentiles)

// Vector returns a successful instant-query answer with n series of the
// built-in families, shaped as Groq's: models × status codes for the request
// series, models × percentiles for the others (n=10000 is 400 models).
func Vector(n int) []byte {
	var b strings.Builder
	b.Grow(n * 120)
	b.WriteString(`{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		writeSeries(&b, i)
	}
	fmt.Fprintf(&b, `]},"stats":{"seriesFetched":"%d","executionTimeMsec":12}}`, n)
	return []byte(b.String())
}

// writeSeries writes the i-th series of Vector.
func writeSeries(b *strings.Builder, i int) {
	model := "model-" + strconv.Itoa(i/PerModel)
	k := i % PerModel
	value := strconv.FormatFloat(float64(i%977)*0.125, 'f', -1, 64)
	r := len(requestFamilies) * len(StatusCodes)
	if k < r {
		fmt.Fprintf(b, `{"metric":{"__name__":%q,"model":%q,"status_code":%q},"value":[1764430000.123,%q]}`,
			requestFamilies[k/len(StatusCodes)], model, StatusCodes[k%len(StatusCodes)], value)
		return
	}
	k -= r
	name := percentileFamilies[k/len(Percentiles)] + ":" + Percentiles[k%len(Percentiles)] + ":rate5m"
	fmt.Fprintf(b, `{"metric":{"__name__":%q,"model":%q},"value":[1764430000.123,%q]}`, name, model, value)
}

// Endless returns a reader of size bytes that starts like a successful answer
// and goes on with series until size, never closing the JSON: what a broken or
// hostile upstream might stream. It allocates nothing per byte.
func Endless(size int64) io.Reader {
	var b strings.Builder
	for i := 0; b.Len() < 64<<10; i++ {
		writeSeries(&b, i)
		b.WriteByte(',')
	}
	head := `{"status":"success","data":{"resultType":"vector","result":[`
	return &repeater{head: head, chunk: []byte(b.String()), left: size}
}

type repeater struct {
	head  string
	chunk []byte
	off   int
	left  int64
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	if r.head != "" {
		n = copy(p, r.head)
		r.head = r.head[n:]
	}
	for n < len(p) {
		c := copy(p[n:], r.chunk[r.off:])
		r.off = (r.off + c) % len(r.chunk)
		n += c
	}
	r.left -= int64(n)
	return n, nil
}

// Trickle is a handler that starts a successful answer, then sends a space
// every interval until the client goes away: a body that never ends.
func Trickle(every time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[`)
		for {
			if _, err := io.WriteString(w, " "); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(every):
			}
		}
	}
}
