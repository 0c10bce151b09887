package groqtest

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
)

// vectorHead is how every successful instant-query answer starts.
const vectorHead = `{"status":"success","data":{"resultType":"vector","result":[`

// vectorStatusCodes are the status codes of VectorSamples: a Loader's, and 503.
var vectorStatusCodes = append(slices.Clone(StatusCodes), "503")

// PerModel is how many series one model has in VectorSamples: every request series of Groq's documented
// set by status code (five of them), every percentile family by percentile (n=10000 is 400 models).
var PerModel = perModel(vectorStatusCodes)

// perModel is how many series of Groq's documented set one model has with codes and Percentiles.
func perModel(codes []string) int {
	n := 0
	for _, u := range collector.DocumentedSeries() {
		if u.Percentile {
			n += len(Percentiles)
		} else {
			n += len(codes)
		}
	}
	return n
}

// VectorSamples returns n series of Groq's documented set, shaped as Groq's, for load: models ×
// status codes for the request series, models × percentiles for the others (PerModel series per model,
// models named model-0, model-1, …), with cheap made-up values and one timestamp. For realistic values,
// use a Loader's Round.
func VectorSamples(n int) []Sample {
	names := collector.DocumentedSeries()
	ts := time.UnixMilli(1764430000123)
	out := make([]Sample, 0, n)
	for i := 0; len(out) < n; i++ {
		model := "model-" + strconv.Itoa(i)
		for _, u := range names {
			if u.Percentile {
				for _, p := range Percentiles {
					out = append(out, Sample{Labels: map[string]string{"__name__": u.Series(p), "model": model}, Time: ts})
				}
			} else {
				for _, code := range vectorStatusCodes {
					out = append(out, Sample{Labels: map[string]string{"__name__": u.Base, "model": model, "status_code": code}, Time: ts})
				}
			}
		}
	}
	out = out[:n]
	for i := range out {
		out[i].Value = float64(i%977) * 0.125
	}
	return out
}

// Vector returns a successful instant-query answer with VectorSamples(n).
func Vector(n int) []byte { return EncodeVector(VectorSamples(n)) }

// Endless returns a reader of size bytes that starts like a successful answer and goes on with series
// until size, never closing the JSON: what a broken or hostile upstream might stream. It allocates nothing
// per byte.
func Endless(size int64) io.Reader { return EndlessLong(size, 0) }

// EndlessLong is Endless with model names of modelLen characters (at least their usual length): series
// whose label values are long, as a hostile upstream might send to make each series cost more memory.
func EndlessLong(size int64, modelLen int) io.Reader {
	var b strings.Builder
	for _, s := range VectorSamples(2 * PerModel) {
		if m := s.Labels["model"]; len(m) < modelLen {
			s.Labels["model"] = m + "-" + strings.Repeat("x", modelLen-len(m)-1)
		}
		writeJSONSample(&b, s)
		b.WriteByte(',')
	}
	chunk := strings.Repeat(b.String(), 64<<10/b.Len()+1)
	return &repeater{head: vectorHead, chunk: []byte(chunk), left: size}
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
