package exporter

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Rendering. Each organization's refresh gathers that organization's families
// once (an orgSnapshot) and publishes it in a new view of the set; nothing
// else is gathered or encoded then, so a refresh costs what its own
// organization serves, however many others there are.
//
//   - /probe serves one organization's snapshot without the labels its
//     configuration adds (Prometheus sets them from service discovery),
//     encoded once per snapshot and format and kept with the snapshot. The
//     formats scraped so far are built by the refresh, before the snapshot is
//     served.
//   - /metrics serves every organization's families merged by name with the
//     live self-metrics, as prometheus.Gatherers merges them (one HELP and
//     TYPE per name, series sorted), which is what promhttp writes. The answer
//     is built once per view and format, and kept: scrapes of an unchanged
//     view copy bytes. With one organization the refresh builds it before the
//     view is served; with several, the first scrape after a change builds it
//     (shared by concurrent scrapes), so that N refreshes per TTL cost one
//     merge per scrape, not N. In the text formats an answer copies each
//     organization's series as encoded once per snapshot (assemble.go), in
//     an order of several organizations' series kept from view to view
//     (merge.go); only the live families are encoded for each answer.

// orgSnapshot is one organization's families as one refresh left them.
type orgSnapshot struct {
	families []*dto.MetricFamily               // sorted by name; the organization's labels on every series
	strip    []string                          // the labels /probe leaves off: organization and the configured ones
	probe    onceSet[answerKey, *answer]       // /probe answers, built once per format
	texts    onceSet[expfmt.Format, *snapText] // the families as text, encoded once per format: for /metrics
}

// newOrgSnapshot takes org's families: straight from its collector
// (collectFamilies), or through its registry when the collector's metrics
// are not as it promises, so that the registry's checks say what is wrong.
func newOrgSnapshot(org *organization) (*orgSnapshot, error) {
	if mfs, ok := collectFamilies(org.coll, &org.descs); ok && !viaRegistry {
		return &orgSnapshot{families: mfs, strip: org.strip}, nil
	}
	mfs, err := org.reg.Gather()
	return &orgSnapshot{families: mfs, strip: org.strip}, err
}

// viaRegistry has every snapshot gathered through the organization's
// registry: for BenchmarkRefreshRound.
var viaRegistry = false

// probeFamilies returns the families without the labels in strip. Every
// series of the organization carries the same values for them, so the
// families stay sorted and their series distinct.
func (s *orgSnapshot) probeFamilies() []*dto.MetricFamily {
	if len(s.strip) == 0 {
		return s.families
	}
	out := make([]*dto.MetricFamily, len(s.families))
	for i, mf := range s.families {
		c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit, Metric: make([]*dto.Metric, len(mf.Metric))}
		for j, m := range mf.Metric {
			cm := &dto.Metric{Gauge: m.Gauge, Counter: m.Counter, Untyped: m.Untyped, Summary: m.Summary,
				Histogram: m.Histogram, TimestampMs: m.TimestampMs, Label: make([]*dto.LabelPair, 0, len(m.Label))}
			for _, l := range m.Label {
				if !slices.Contains(s.strip, l.GetName()) {
					cm.Label = append(cm.Label, l)
				}
			}
			c.Metric[j] = cm
		}
		out[i] = c
	}
	return out
}

// answerKey is what a scrape negotiated.
type answerKey struct {
	format expfmt.Format
	gzip   bool
}

func keyOf(h http.Header) answerKey { return answerKey{negotiate(h), gzipAccepted(h)} }

// answer is a whole response: what a scrape writes.
type answer struct {
	version uint64    // of the view it was built from (/metrics)
	loads   uint64    // configuration loads when it was built (/metrics)
	at      time.Time // when the live families were gathered (/metrics)
	ctype   string
	gzip    bool
	body    []byte
}

// write sends a with its headers; a HEAD gets the headers alone.
func (a *answer) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	if a.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// onceSet holds values built once per key: concurrent callers of one key
// share one build.
type onceSet[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*onceValue[V]
}

type onceValue[V any] struct {
	once sync.Once
	v    V
}

func (s *onceSet[K, V]) get(k K, build func() V) V {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[K]*onceValue[V]{}
	}
	o := s.m[k]
	if o == nil {
		o = &onceValue[V]{}
		s.m[k] = o
	}
	s.mu.Unlock()
	o.once.Do(func() { o.v = build() })
	return o.v
}

func (s *onceSet[K, V]) keys() []K {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.m))
}

// encode writes families in k's format, gzipped with compress/gzip at its
// default level if k asks for it, as promhttp does. A family that cannot be
// encoded is left out, with a log line.
func encode(families []*dto.MetricFamily, k answerKey, logger log.Logger) *answer {
	w := newAnswerWriter(k)
	for _, mf := range families {
		w.family(mf, logger)
	}
	return w.finish()
}

// answerWriter writes an answer: its text through gzip if the key asks for
// it, a chunk at a time, so that a gzipped answer never holds its whole
// text at once.
type answerWriter struct {
	k   answerKey
	out bytes.Buffer
	w   io.Writer // &out, or zw over it
	zw  *gzip.Writer
	buf *bytes.Buffer // the text not yet written to w
	enc expfmt.Encoder
}

const answerChunk = 32 << 10

func newAnswerWriter(k answerKey) *answerWriter {
	w := &answerWriter{k: k, buf: bufPool.Get().(*bytes.Buffer)}
	w.w = &w.out
	if k.gzip {
		w.zw = gzipPool.Get().(*gzip.Writer)
		w.zw.Reset(&w.out)
		w.w = w.zw
	}
	w.enc = expfmt.NewEncoder(w.buf, k.format)
	return w
}

// family encodes mf; one that fails leaves nothing behind, and a log line.
func (w *answerWriter) family(mf *dto.MetricFamily, logger log.Logger) {
	n := w.buf.Len()
	if err := w.enc.Encode(mf); err != nil {
		w.buf.Truncate(n)
		level.Error(logger).Log("msg", "Encoding a metric family failed", "family", mf.GetName(), "err", err)
	}
	w.flushFull()
}

// write writes text encoded before.
func (w *answerWriter) write(p []byte) {
	w.buf.Write(p)
	w.flushFull()
}

func (w *answerWriter) flushFull() {
	if w.buf.Len() >= answerChunk {
		_, _ = w.w.Write(w.buf.Bytes())
		w.buf.Reset()
	}
}

// finish ends the answer (# EOF in OpenMetrics) and returns it.
func (w *answerWriter) finish() *answer {
	if w.k.format.FormatType() == expfmt.TypeOpenMetrics {
		_, _ = expfmt.FinalizeOpenMetrics(w.buf)
	}
	_, _ = w.w.Write(w.buf.Bytes())
	w.buf.Reset()
	bufPool.Put(w.buf)
	if w.zw != nil {
		_ = w.zw.Close()
		gzipPool.Put(w.zw)
	}
	a := &answer{ctype: string(w.k.format), gzip: w.k.gzip, body: w.out.Bytes()}
	if cap(a.body) > len(a.body)+len(a.body)/4 { // kept until the next refresh: no slack
		a.body = bytes.Clone(a.body)
	}
	return a
}

var (
	// bufPool holds the buffers answers are written through.
	bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	// gzipPool holds gzip writers at the default level, as promhttp's.
	gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
)

// liveReuse is how long one gathering of the live self-metrics is served
// again: scrapes of one view within it get the same answer, bytes ready to
// write, as a static handler would serve them. A configuration load ends it
// at once; so does a refresh (a new view), unless views are coalesced.
//
// With several organizations and a cache, views are coalesced: the answer
// is also served to the scrapes of the views that came after it within
// liveReuse, so that one organization after another refreshing does not
// have every scrape build the whole answer again. A refresh shows on
// /metrics at most liveReuse late. With one organization the new view's
// answers are built as it comes (Organizations.onRender); with
// --groq.cache-ttl=0 every scrape builds the view its own refresh made.
const liveReuse = time.Second

// exposition writes the families of every organization merged with those of
// the live gatherers, and keeps each answer for the scrapes that follow
// within reuse.
type exposition struct {
	live    prometheus.Gatherer // the exporter's own metrics: gathered for every answer
	runtime *everyReuse         // the Go and process metrics: gathered at most once per reuse
	loads   func() uint64       // counts configuration loads, whose gauges are live
	logger  log.Logger
	reuse   time.Duration
	// coalesce serves an answer to the scrapes of later views of several
	// organizations within reuse (see liveReuse).
	coalesce bool
	// viaGatherers merges through prometheus.Gatherers: for BenchmarkGather.
	viaGatherers bool
	// encoded, if set, is told of every answer built: for tests.
	encoded     func(answerKey)
	merges      atomic.Uint64 // merges of several organizations: for tests
	textEncodes atomic.Uint64 // snapshots encoded as text: for tests

	mu         sync.Mutex  // guards answers, rebuilding and reuse
	merged     *mergedView // the order of the organizations of the last view of several built
	answers    map[answerKey]*answer
	rebuilding map[answerKey]bool // a rebuild runs in the background
	building   sync.Mutex         // one answer built at a time: concurrent scrapes share it
}

// newExposition serves the organizations with the live families of live,
// gathered for every answer, and of runtime (nil for none), gathered at most
// once per reuse.
func newExposition(live, runtime prometheus.Gatherer, loads func() uint64, logger log.Logger) *exposition {
	if runtime == nil {
		runtime = fixedGatherer(nil)
	}
	return &exposition{live: live, runtime: &everyReuse{g: runtime}, loads: loads, logger: logger, reuse: liveReuse,
		answers: map[answerKey]*answer{}, rebuilding: map[answerKey]bool{}}
}

// everyReuse gathers g at most once per reuse. It holds the Go and process
// metrics: gathering them reads the runtime's statistics and half a dozen
// files of /proc, which cost more than encoding a small answer (a fifth of
// a scrape's CPU with --groq.cache-ttl=0), and they mean nothing finer than
// a second. Concurrent builds share one gathering; the families are only
// read.
type everyReuse struct {
	g   prometheus.Gatherer
	mu  sync.Mutex
	at  time.Time
	mfs []*dto.MetricFamily
	n   uint64 // gatherings so far: for tests
}

// gather returns the families of the last gathering, and when it was, if it
// is younger than reuse; else it gathers g now.
func (e *everyReuse) gather(reuse time.Duration, logger log.Logger) ([]*dto.MetricFamily, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 || time.Since(e.at) >= reuse {
		mfs, err := e.g.Gather()
		if err != nil {
			level.Error(logger).Log("msg", "Gathering the Go and process metrics failed; serving the rest", "err", err)
		}
		e.mfs, e.at = mfs, time.Now()
		e.n++
	}
	return e.mfs, e.at
}

// serve writes v merged with the live families in the format the request
// negotiates, gzipped if the request accepts it, with a Content-Length: the
// answer of an earlier scrape if it is of the same view and recent enough.
func (x *exposition) serve(w http.ResponseWriter, r *http.Request, v *view) {
	k := keyOf(r.Header)
	a, old := x.kept(k, v, x.coalesce && len(v.orgs) > 1)
	switch {
	case a == nil:
		a = x.rebuild(k, v, nil)
	case old:
		// Served as it is; the next scrapes get live metrics gathered now,
		// by a rebuild that no scrape waits for.
		x.mu.Lock()
		if !x.rebuilding[k] {
			x.rebuilding[k] = true
			go func() {
				x.rebuild(k, v, a)
				x.mu.Lock()
				delete(x.rebuilding, k)
				x.mu.Unlock()
			}()
		}
		x.mu.Unlock()
	}
	a.write(w, r)
}

// kept returns the kept answer for k if it is of the last configuration
// load and of v or a later view (built before that view is served), or,
// with coalesce, of an earlier view but younger than reuse; and whether its
// live metrics are older than reuse.
func (x *exposition) kept(k answerKey, v *view, coalesce bool) (a *answer, old bool) {
	x.mu.Lock()
	a, reuse := x.answers[k], x.reuse
	x.mu.Unlock()
	if a == nil || a.loads != x.loads() {
		return nil, false
	}
	old = time.Since(a.at) >= reuse
	if a.version < v.version && (!coalesce || old) {
		return nil, false
	}
	return a, old
}

// rebuild builds the answer for k anew, unless another rebuild already
// replaced the one the caller found (stale; nil for none), and keeps it.
func (x *exposition) rebuild(k answerKey, v *view, stale *answer) *answer {
	x.building.Lock()
	defer x.building.Unlock()
	if a, _ := x.kept(k, v, false); a != nil && a != stale {
		return a
	}
	a := x.build(k, v)
	x.mu.Lock()
	x.answers[k] = a
	x.mu.Unlock()
	return a
}

// prepare builds, for a new view, the answers of every format and encoding
// scraped so far, before any scrape asks.
func (x *exposition) prepare(v *view) {
	x.mu.Lock()
	keys := slices.Collect(maps.Keys(x.answers))
	x.mu.Unlock()
	for _, k := range keys {
		x.rebuild(k, v, nil)
	}
}

// build makes the answer: the families of every organization of v and the
// live ones gathered now, merged by name as prometheus.Gatherers does;
// assembled from the organizations' text where it can be (assemble), else
// encoded from the merged families.
func (x *exposition) build(k answerKey, v *view) *answer {
	loads := x.loads()
	if x.encoded != nil {
		x.encoded(k)
	}
	live, at := x.liveFamilies()
	a, ok := x.assemble(k, v, live)
	if !ok {
		a = encode(x.merge(v, live), k, x.logger)
	}
	a.version, a.loads, a.at = v.version, loads, at
	return a
}

// liveFamilies gathers the exporter's own metrics now and the Go and process
// metrics if theirs are older than reuse, and returns them sorted by name
// with when the oldest were gathered.
func (x *exposition) liveFamilies() (mfs []*dto.MetricFamily, at time.Time) {
	at = time.Now()
	own, err := x.live.Gather()
	if err != nil {
		level.Error(x.logger).Log("msg", "Gathering the exporter's own metrics failed; serving the rest", "err", err)
	}
	runtime, rat := x.runtime.gather(x.reuse, x.logger)
	if rat.Before(at) {
		at = rat
	}
	if mfs, ok := interleave(own, runtime); ok {
		return mfs, at
	}
	mfs, err = prometheus.Gatherers{fixedGatherer(own), fixedGatherer(runtime)}.Gather()
	if err != nil {
		level.Error(x.logger).Log("msg", "Gathering the exporter's own metrics failed; serving the rest", "err", err)
	}
	return mfs, at
}

// gather is liveFamilies merged with v's organizations: for BenchmarkGather.
func (x *exposition) gather(v *view) ([]*dto.MetricFamily, time.Time) {
	live, at := x.liveFamilies()
	return x.merge(v, live), at
}

// merge merges the families of v's organizations with live, by name, as
// prometheus.Gatherers does (one family per name, its series sorted as
// client_golang sorts them), without checking and hashing every series
// again: each organization's snapshot was checked when it was taken, the
// organization label keeps organizations' series apart, and the live names
// are reserved. That second pass cost as much as encoding the answer
// (BenchmarkGather). Families whose HELP or TYPE differ between
// organizations send the whole answer through prometheus.Gatherers, which
// keeps the first and logs the others.
func (x *exposition) merge(v *view, live []*dto.MetricFamily) []*dto.MetricFamily {
	if !x.viaGatherers {
		if orgs, ok := x.orgFamilies(v); ok {
			if mfs, ok := interleave(orgs, live); ok {
				return mfs
			}
		}
	}
	gs := make(prometheus.Gatherers, 0, len(v.snaps)+1)
	for _, s := range v.snaps {
		gs = append(gs, fixedGatherer(s.families))
	}
	gs = append(gs, fixedGatherer(live))
	mfs, err := gs.Gather()
	if err != nil {
		level.Error(x.logger).Log("msg", "Gathering the metrics failed; serving the rest", "err", err)
	}
	return mfs
}

// orgFamilies returns the families of v's organizations merged by name. ok
// is false when a name has different HELP or TYPE in two organizations.
// Callers only read the families.
func (x *exposition) orgFamilies(v *view) (mfs []*dto.MetricFamily, ok bool) {
	switch len(v.snaps) {
	case 0:
		return nil, true
	case 1:
		return v.snaps[0].families, true
	}
	o := x.orgOrder(v)
	return o.families(), o.ok
}

// orgOrder returns the merged order of v's organizations (two or more), once
// per view: the answers built again for their live self-metrics (every
// liveReuse) reuse it, and it is kept from view to view while the refreshed
// organizations have the series they had (see orgOrder): a sort of every
// series of 200 organizations was a tenth of the CPU.
func (x *exposition) orgOrder(v *view) *orgOrder {
	x.mu.Lock()
	m := x.merged
	x.mu.Unlock()
	if m != nil && m.v == v {
		return m.order
	}
	var o *orgOrder
	if m != nil {
		o = m.order.of(v)
	}
	if o == nil {
		o = newOrgOrder(v.orgs, v.snaps)
		x.merges.Add(1)
	}
	x.mu.Lock()
	x.merged = &mergedView{v: v, order: o}
	x.mu.Unlock()
	return o
}

// mergedView is the merged order of one view's organizations.
type mergedView struct {
	v     *view
	order *orgOrder
}

// fixedGatherer gathers families gathered before.
type fixedGatherer []*dto.MetricFamily

func (g fixedGatherer) Gather() ([]*dto.MetricFamily, error) { return g, nil }

// negotiate picks the exposition format of a request as promhttp does with
// OpenMetrics enabled. The format of each Accept header is kept, for the
// first acceptKept headers: a scraper sends the same one every time, and
// parsing it was a tenth of the CPU of a scrape from cache.
func negotiate(h http.Header) expfmt.Format {
	accept := h.Get("Accept")
	accepted.RLock()
	f, ok := accepted.m[accept]
	accepted.RUnlock()
	if ok {
		return f
	}
	f = expfmt.NegotiateAccept(h, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	accepted.Lock()
	if len(accepted.m) < acceptKept {
		accepted.m[accept] = f
	}
	accepted.Unlock()
	return f
}

// accepted holds the formats Accept headers negotiated.
var accepted = struct {
	sync.RWMutex
	m map[string]expfmt.Format
}{m: map[string]expfmt.Format{}}

// acceptKept bounds accepted: any client can send any header.
const acceptKept = 64

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
