package exporter

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// A snapshot is the Groq families of every organization as one refresh left
// them, gathered once and encoded once per exposition format that a scraper
// negotiates, each family on its own and, for gzip, deflated on its own. A
// scrape writes those bytes, merged by family name with the live self-metrics
// (Go, process, API counters) it encodes itself, so that the output is what
// promhttp would write, for the cost of copying bytes.
type snapshot struct {
	families []*dto.MetricFamily // sorted by name, as Gather returns them

	mu      sync.Mutex
	encoded map[expfmt.Format]*encoding
}

// encoding is a snapshot in one format: per family, its bytes and those
// bytes as a deflate segment that ends byte-aligned without ending the
// stream, so that segments can be laid end to end in one gzip member.
type encoding struct {
	names    []string
	raw      [][]byte
	deflated [][]byte
	err      error
}

func newSnapshot(g prometheus.Gatherer) (*snapshot, error) {
	mfs, err := g.Gather()
	return &snapshot{families: mfs, encoded: map[expfmt.Format]*encoding{}}, err
}

// encode returns the snapshot in format, encoding it on first use.
func (s *snapshot) encode(format expfmt.Format) *encoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.encoded[format]; ok {
		return e
	}
	e := &encoding{}
	var buf, z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.DefaultCompression)
	for _, mf := range s.families {
		buf.Reset()
		if err := expfmt.NewEncoder(&buf, format).Encode(mf); err != nil {
			e.err = err
			continue
		}
		raw := bytes.Clone(buf.Bytes())
		z.Reset()
		fw.Reset(&z)
		_, _ = fw.Write(raw)
		_ = fw.Flush() // a sync flush: byte-aligned, and not the final block
		e.names = append(e.names, mf.GetName())
		e.raw = append(e.raw, raw)
		e.deflated = append(e.deflated, bytes.Clone(z.Bytes()))
	}
	s.encoded[format] = e
	return e
}

// formats lists the formats encoded so far, to encode again after a refresh.
func (s *snapshot) formats() []expfmt.Format {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]expfmt.Format, 0, len(s.encoded))
	for f := range s.encoded {
		out = append(out, f)
	}
	return out
}

// exposition writes the families of a snapshot and of the live gatherer.
type exposition struct {
	live   prometheus.Gatherer
	logger log.Logger
}

// bufPool holds the buffers of the live families of a scrape.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// serve writes snap merged with the live families in the format the request
// negotiates, gzipped if the request accepts it, with a Content-Length.
func (x exposition) serve(w http.ResponseWriter, r *http.Request, snap *snapshot) {
	format := expfmt.NegotiateIncludingOpenMetrics(r.Header)
	cached := snap.encode(format)
	if cached.err != nil {
		level.Error(x.logger).Log("msg", "Encoding the Groq families failed", "err", cached.err)
	}
	live, err := x.live.Gather()
	if err != nil {
		level.Error(x.logger).Log("msg", "Gathering the exporter's own metrics failed; serving the rest", "err", err)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()

	// The parts, in name order: cached families, and runs of live families
	// encoded into buf (ends[i] is where run i ends in buf).
	type part struct {
		cached int // index in cached, or -1 for a run of live families
		end    int
	}
	var parts []part
	i := 0
	enc := expfmt.NewEncoder(buf, format)
	for _, mf := range live {
		for i < len(cached.names) && cached.names[i] < mf.GetName() {
			parts = append(parts, part{cached: i})
			i++
		}
		before := buf.Len()
		if err := enc.Encode(mf); err != nil {
			buf.Truncate(before)
			level.Error(x.logger).Log("msg", "Encoding a metric family failed", "family", mf.GetName(), "err", err)
			continue
		}
		if n := len(parts); n > 0 && parts[n-1].cached < 0 {
			parts[n-1].end = buf.Len()
		} else {
			parts = append(parts, part{cached: -1, end: buf.Len()})
		}
	}
	for ; i < len(cached.names); i++ {
		parts = append(parts, part{cached: i})
	}
	if format.FormatType() == expfmt.TypeOpenMetrics {
		_, _ = expfmt.FinalizeOpenMetrics(buf)
		parts = append(parts, part{cached: -1, end: buf.Len()})
	}

	// Every live run and cached family, as plain bytes.
	chunks := make([][]byte, len(parts))
	start := 0
	for k, p := range parts {
		if p.cached >= 0 {
			chunks[k] = cached.raw[p.cached]
			continue
		}
		chunks[k] = buf.Bytes()[start:p.end]
		start = p.end
	}

	h := w.Header()
	h.Set("Content-Type", string(format))
	if !gzipAccepted(r.Header) {
		n := 0
		for _, c := range chunks {
			n += len(c)
		}
		h.Set("Content-Length", strconv.Itoa(n))
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				return // the scraper went away
			}
		}
		return
	}

	// One gzip member: the header, the deflate segments laid end to end
	// (cached families deflated once per refresh, live runs as stored
	// blocks), a final empty block, and the trailer.
	crc, size, n := uint32(0), 0, len(gzipHeader)+len(gzipEnd)+8
	for k, p := range parts {
		crc = crc32.Update(crc, crc32.IEEETable, chunks[k])
		size += len(chunks[k])
		if p.cached >= 0 {
			n += len(cached.deflated[p.cached])
		} else {
			n += storedLen(len(chunks[k]))
		}
	}
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Length", strconv.Itoa(n))
	h.Add("Vary", "Accept-Encoding")
	if _, err := w.Write(gzipHeader); err != nil {
		return
	}
	for k, p := range parts {
		var err error
		if p.cached >= 0 {
			_, err = w.Write(cached.deflated[p.cached])
		} else {
			err = writeStored(w, chunks[k])
		}
		if err != nil {
			return
		}
	}
	trailer := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(slices.Clone(gzipEnd), crc), uint32(size))
	_, _ = w.Write(trailer)
}

var (
	// gzipHeader: magic, deflate, no flags, no time, no extra flags, OS unknown.
	gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	// gzipEnd is a final, empty block with fixed Huffman codes: it ends the
	// deflate stream after segments that each end byte-aligned.
	gzipEnd = []byte{0x03, 0x00}
)

// maxStored is the most one stored deflate block holds.
const maxStored = 0xffff

// storedLen is how many bytes writeStored writes for n bytes.
func storedLen(n int) int { return n + 5*((n+maxStored-1)/maxStored) }

// writeStored writes b as stored (uncompressed) deflate blocks, none final.
func writeStored(w io.Writer, b []byte) error {
	for len(b) > 0 {
		n := min(len(b), maxStored)
		hdr := [5]byte{0, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// gzipAccepted tells whether the request accepts gzip, as promhttp decides.
func gzipAccepted(h http.Header) bool {
	for _, part := range bytes.Split([]byte(h.Get("Accept-Encoding")), []byte(",")) {
		enc, q, _ := bytes.Cut(bytes.TrimSpace(part), []byte(";"))
		if string(bytes.TrimSpace(enc)) != "gzip" {
			continue
		}
		if v, ok := bytes.CutPrefix(bytes.TrimSpace(q), []byte("q=")); ok {
			if f, err := strconv.ParseFloat(string(v), 64); err == nil && f <= 0 {
				return false
			}
		}
		return true
	}
	return false
}
