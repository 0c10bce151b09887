package exporter

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

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
	seq      uint64              // later snapshots have higher numbers

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

func newSnapshot(g prometheus.Gatherer, seq uint64) (*snapshot, error) {
	mfs, err := g.Gather()
	return &snapshot{families: mfs, seq: seq, encoded: map[expfmt.Format]*encoding{}}, err
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

// liveReuse is how long one gathering of the live self-metrics is served
// again: scrapes of one snapshot within it get the same answer, bytes ready
// to write, as a static handler would serve them. A refresh (a new snapshot)
// or a configuration load ends it at once.
const liveReuse = time.Second

// exposition writes the families of a snapshot merged with those of the live
// gatherer, and keeps each answer for the scrapes that follow within reuse.
type exposition struct {
	live   prometheus.Gatherer
	loads  func() uint64 // counts configuration loads, whose gauges are live
	logger log.Logger
	reuse  time.Duration

	mu         sync.Mutex // guards answers, rebuilding and reuse
	answers    map[answerKey]*answer
	rebuilding map[answerKey]bool // a rebuild runs in the background
	building   sync.Mutex         // one answer built at a time: concurrent scrapes share it
}

type answerKey struct {
	format expfmt.Format
	gzip   bool
}

// answer is a whole response: what a scrape writes.
type answer struct {
	snap  *snapshot
	loads uint64
	at    time.Time // when the live families were gathered
	ctype string
	gzip  bool
	body  []byte
}

func newExposition(live prometheus.Gatherer, loads func() uint64, logger log.Logger) *exposition {
	return &exposition{live: live, loads: loads, logger: logger, reuse: liveReuse,
		answers: map[answerKey]*answer{}, rebuilding: map[answerKey]bool{}}
}

// bufPool holds the buffers of the live families of an answer.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// serve writes snap merged with the live families in the format the request
// negotiates, gzipped if the request accepts it, with a Content-Length: the
// answer of an earlier scrape if it is of the same snapshot and recent enough.
func (x *exposition) serve(w http.ResponseWriter, r *http.Request, snap *snapshot) {
	k := answerKey{negotiate(r.Header), gzipAccepted(r.Header)}
	a, old := x.kept(k, snap)
	switch {
	case a == nil:
		a = x.rebuild(k, snap, nil)
	case old:
		// Served as it is; the next scrapes get live metrics gathered now,
		// by a rebuild that no scrape waits for.
		x.mu.Lock()
		if !x.rebuilding[k] {
			x.rebuilding[k] = true
			go func() {
				x.rebuild(k, snap, a)
				x.mu.Lock()
				delete(x.rebuilding, k)
				x.mu.Unlock()
			}()
		}
		x.mu.Unlock()
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	if a.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	_, _ = w.Write(a.body)
}

// kept returns the kept answer for k if it is of snap or a later snapshot
// (built before that snapshot is served) and of the last configuration load,
// and whether its live metrics are older than reuse.
func (x *exposition) kept(k answerKey, snap *snapshot) (a *answer, old bool) {
	x.mu.Lock()
	a, reuse := x.answers[k], x.reuse
	x.mu.Unlock()
	if a == nil || a.snap.seq < snap.seq || a.loads != x.loads() {
		return nil, false
	}
	return a, time.Since(a.at) >= reuse
}

// rebuild builds the answer for k anew, unless another rebuild already
// replaced the one the caller found (stale; nil for none), and keeps it.
func (x *exposition) rebuild(k answerKey, snap *snapshot, stale *answer) *answer {
	x.building.Lock()
	defer x.building.Unlock()
	if a, _ := x.kept(k, snap); a != nil && a != stale {
		return a
	}
	a := x.build(k, snap)
	x.mu.Lock()
	x.answers[k] = a
	x.mu.Unlock()
	return a
}

// prepare builds, for a new snapshot, the answers of every format and
// encoding scraped so far: after a refresh, before any scrape asks.
func (x *exposition) prepare(snap *snapshot) {
	x.mu.Lock()
	keys := slices.Collect(maps.Keys(x.answers))
	x.mu.Unlock()
	for _, k := range keys {
		x.rebuild(k, snap, nil)
	}
}

// build makes the answer: the cached families of snap and the live ones
// gathered now, merged by name, plain or as one gzip member.
func (x *exposition) build(k answerKey, snap *snapshot) *answer {
	format := k.format
	a := &answer{snap: snap, loads: x.loads(), at: time.Now(), ctype: string(format), gzip: k.gzip}
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

	if !k.gzip {
		n := 0
		for _, c := range chunks {
			n += len(c)
		}
		a.body = make([]byte, 0, n)
		for _, c := range chunks {
			a.body = append(a.body, c...)
		}
		return a
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
	body := make([]byte, 0, n)
	body = append(body, gzipHeader...)
	for k, p := range parts {
		if p.cached >= 0 {
			body = append(body, cached.deflated[p.cached]...)
		} else {
			body = appendStored(body, chunks[k])
		}
	}
	body = append(body, gzipEnd...)
	a.body = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(body, crc), uint32(size))
	return a
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

// storedLen is how many bytes appendStored appends for n bytes.
func storedLen(n int) int { return n + 5*((n+maxStored-1)/maxStored) }

// appendStored appends b as stored (uncompressed) deflate blocks, none final.
func appendStored(dst, b []byte) []byte {
	for len(b) > 0 {
		n := min(len(b), maxStored)
		dst = append(dst, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		dst = append(dst, b[:n]...)
		b = b[n:]
	}
	return dst
}

// negotiate picks the exposition format of a request as promhttp does with
// OpenMetrics enabled.
func negotiate(h http.Header) expfmt.Format {
	return expfmt.NegotiateAccept(h, expfmt.DefaultOpenMetricsAcceptedFormats()...)
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
