// Command bench measures what the exporter costs, side by side with its
// floors, and prints a Markdown table (docs/benchmarks.md). At 69, 2,300 and
// 23,000 series it runs the real binary over loopback HTTP against a Groq
// stand-in and, beside it, a static Go handler (this program, started again
// with -serve-static) that serves the very bytes the exporter served:
//
//   - a scrape from cache: CPU per scrape (utime+stime from /proc/<pid>/stat
//     over sequential scrapes) and p50 latency, exporter against static;
//   - peak resident memory (VmHWM) after sequential scrapes, then after three
//     rounds of 100 concurrent ones;
//   - p99 latency with Groq answering in 500 ms and a 2 s cache TTL, a scrape
//     every 250 ms after a warm-up, against the static p99, and how many
//     scrapes waited for Groq;
//
// and, once, the peak resident memory while a 1 GiB body of long-labelled
// series streams in. The Go benchmarks of package collector compare a whole
// refresh with decoding the answer only.
//
//	go run ./cmd/bench -exporter ./groq_exporter
//	go run ./cmd/bench -exporter ./groq_exporter -rounds 9 -count 10   # steadier medians
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

const (
	hugeLen   = 1 << 30
	longLabel = 200 // characters in a model name of the hostile body
	key       = "gsk_benchmarkKey0123456789"
	slowGroq  = 500 * time.Millisecond
	// accept is what Prometheus 2 sends when it scrapes, with gzip: the
	// format and encoding every measurement of a scrape asks for.
	accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)

// sizes are the answers measured: about three models, 92 and 920 models of
// groqtest.PerModel (25) series each.
var sizes = []int{69, 2300, 23000}

// Targets.
const (
	scrapeRatio     = 1.5 // CPU and p50 of a scrape from cache, against static bytes
	refreshRatio    = 1.3 // a refresh against decoding only
	rssRatio        = 1.3 // peak RSS under 100 concurrent scrapes, against sequential ones
	longPeak        = 48 << 20
	shapePeak       = 128 << 20 // the chart's memory limit, for an answer just under the 8 MiB cap
	streamPeak      = 64 << 20  // peak RSS over streamRefreshes refreshes of an oversized body
	streamRefreshes = 40
	p99Ratio        = 2.0 // p99 with a slow Groq, against static bytes
)

func main() {
	exporterBin := flag.String("exporter", "", "exporter binary to measure (default: go build one)")
	rounds := flag.Int("rounds", 5, "alternating rounds of sequential scrapes per size; medians are reported")
	roundTime := flag.Duration("round-time", time.Second, "how long each server is scraped in one round")
	slowTime := flag.Duration("slow-time", time.Minute, "how long scrapes run every 250 ms against a slow Groq, per size (240 scrapes a minute: the p99 is the third slowest, not the slowest)")
	count := flag.Int("count", 5, "runs of each Go benchmark; the median is reported")
	benchtime := flag.String("benchtime", "1s", "-benchtime of each Go benchmark run")
	skipGo := flag.Bool("skip-go-bench", false, "skip the Go benchmarks")
	hostileOnly := flag.Bool("hostile-only", false, "measure only the oversized bodies (the peak memory rows)")
	scaleOnly := flag.Bool("scale-only", false, "measure only the rows of many organizations")
	only := flag.String("only", "", "measure only these rows, comma-separated: ttl0 (--groq.cache-ttl=0 against a plain exporter), cpu-ttl (CPU per TTL of 200 organizations against one)")
	plain := flag.String("serve-plain", "", "internal: serve a plain client_golang exporter of this Groq URL on -listen (the --groq.cache-ttl=0 floor)")
	static := flag.String("serve-static", "", "internal: serve this file's bytes on -listen (the static handler)")
	listen := flag.String("listen", "", "internal: address of -serve-static")
	ctype := flag.String("content-type", "", "internal: Content-Type of -serve-static")
	cenc := flag.String("content-encoding", "", "internal: Content-Encoding of -serve-static")
	flag.Parse()
	if *static != "" {
		if err := serveStatic(*static, *listen, *ctype, *cenc); err != nil {
			fmt.Fprintln(os.Stderr, "bench: static:", err)
			os.Exit(1)
		}
		return
	}
	if *plain != "" {
		if err := servePlain(*plain, os.Getenv("GROQ_API_KEY"), *listen); err != nil {
			fmt.Fprintln(os.Stderr, "bench: plain:", err)
			os.Exit(1)
		}
		return
	}
	b := &bench{only: *only, rounds: *rounds, roundTime: *roundTime, slowTime: *slowTime, hostileOnly: *hostileOnly, scaleOnly: *scaleOnly}
	if err := b.run(*exporterBin, *count, *benchtime, *skipGo); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	only        string // comma-separated row groups: see -only
	hostileOnly bool
	scaleOnly   bool
	rounds      int
	roundTime   time.Duration
	slowTime    time.Duration
	self        string // this program, to start the static handler
	up          *upstream
	rows        []row
}

type row struct{ what, measured, target, verdict string }

func (b *bench) add(what, measured, target string, ok bool) {
	verdict := "met"
	if !ok {
		verdict = "**missed**"
	}
	b.rows = append(b.rows, row{what, measured, target, verdict})
}

func (b *bench) run(bin string, count int, benchtime string, skipGo bool) error {
	var err error
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if bin == "" {
		dir, err := os.MkdirTemp("", "groq-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "groq_exporter")
		fmt.Fprintln(os.Stderr, "building the exporter…")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	b.up = newUpstream()
	defer b.up.srv.Close()
	if b.only != "" {
		if err := b.runOnly(bin); err != nil {
			return err
		}
		b.print(true, count, benchtime)
		return nil
	}

	for _, n := range sizes {
		if b.hostileOnly || b.scaleOnly {
			break
		}
		if err := b.size(bin, n); err != nil {
			return fmt.Errorf("%d series: %w", n, err)
		}
	}
	if !b.scaleOnly {
		if err := b.hostile(bin); err != nil {
			return err
		}
	}
	if !b.hostileOnly {
		if err := b.scale(bin); err != nil {
			return err
		}
	}
	if !b.scaleOnly {
		if err := b.stream(bin); err != nil {
			return err
		}
		if err := b.shapes(bin); err != nil {
			return err
		}
	}
	if !skipGo && !b.hostileOnly && !b.scaleOnly {
		fmt.Fprintln(os.Stderr, "running the Go benchmarks of a refresh…")
		runs, err := goBench("./collector", "^Benchmark(Refresh|RefreshNewSeries|DecodeVector)$", count, benchtime)
		if err != nil {
			return err
		}
		for _, kind := range []struct{ bench, what string }{
			{"BenchmarkRefresh", "Refresh of %s series (those of the last answer, new values) against decoding only: time (allocations)"},
			{"BenchmarkRefreshNewSeries", "Refresh of %s series, every one new, against decoding only: time (allocations)"},
		} {
			for _, n := range sizes {
				sub := "/series=" + strconv.Itoa(n)
				// Each run measures both, one after the other: the ratio is
				// the median of the runs' ratios, so that a slower stretch of
				// a shared machine weighs on both sides alike.
				var rs, ds, ratios []benchResult
				for _, res := range runs {
					r, d := res[kind.bench+sub], res["BenchmarkDecodeVector"+sub]
					if r.ns == 0 || d.ns == 0 {
						return fmt.Errorf("no %s result for %d series", kind.bench, n)
					}
					rs, ds, ratios = append(rs, r), append(ds, d), append(ratios, benchResult{ns: r.ns / d.ns})
				}
				r, d := medianResult(rs), medianResult(ds)
				ratio := medianResult(ratios).ns
				measured := fmt.Sprintf("%s / %s = **%.2f×** (%.0f / %.0f allocs)", dur(r.ns), dur(d.ns), ratio, r.allocs, d.allocs)
				if kind.bench == "BenchmarkRefresh" {
					b.add(fmt.Sprintf(kind.what, group(n)), measured, fmt.Sprintf("≤ %.1f×", refreshRatio), ratio <= refreshRatio)
				} else {
					b.rows = append(b.rows, row{fmt.Sprintf(kind.what, group(n)), measured, "none", "shown"})
				}
			}
		}
	}

	if !skipGo && !b.scaleOnly {
		fmt.Fprintln(os.Stderr, "running the Go benchmarks of an answer…")
		runs, err := goBench("./exporter", "^BenchmarkGather$", count, benchtime)
		if err != nil {
			return err
		}
		for _, n := range sizes {
			sub := "BenchmarkGather/series=" + strconv.Itoa(n) + "/"
			var ratios, enc []benchResult
			var il, gs []benchResult
			for _, res := range runs {
				i, g, e := res[sub+"merge"], res[sub+"gatherers"], res[sub+"encode-only"]
				if i.ns == 0 || g.ns == 0 || e.ns == 0 {
					return fmt.Errorf("no BenchmarkGather result for %d series", n)
				}
				il, gs, enc = append(il, i), append(gs, g), append(enc, e)
				ratios = append(ratios, benchResult{ns: g.ns / i.ns})
			}
			i, g, e := medianResult(il), medianResult(gs), medianResult(enc)
			b.rows = append(b.rows, row{fmt.Sprintf("Answer of one organization, %s series, OpenMetrics gzipped: through prometheus.Gatherers / merged by name by hand (encoding and gzip alone)", group(n)),
				fmt.Sprintf("%s / %s = **%.2f×** (%s)", dur(g.ns), dur(i.ns), medianResult(ratios).ns, dur(e.ns)), "none", "shown"})
		}
	}

	b.print(skipGo, count, benchtime)
	return nil
}

// runOnly measures the row groups of -only.
func (b *bench) runOnly(bin string) error {
	for _, group := range strings.Split(b.only, ",") {
		switch group {
		case "ttl0":
			for _, n := range []int{sizes[0], sizes[len(sizes)-1]} {
				if err := b.ttlZero(bin, n); err != nil {
					return err
				}
			}
		case "cpu-ttl":
			dir, err := os.MkdirTemp("", "groq-bench-scale")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := b.scaleTTL(bin, dir); err != nil {
				return err
			}
		default:
			return fmt.Errorf("-only: unknown rows %q (ttl0, cpu-ttl)", group)
		}
	}
	return nil
}

// print writes the table of the rows measured.
func (b *bench) print(skipGo bool, count int, benchtime string) {
	fmt.Printf("Measured on %s, %d CPUs, %s, %s.\n\n", cpuModel(), runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| What | Measured | Target | |")
	fmt.Println("|---|---|---|---|")
	for _, r := range b.rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.what, r.measured, r.target, r.verdict)
	}
	fmt.Printf("\nScrapes: medians of %d alternating rounds of %v per server; slow Groq: %v of scrapes per size. ", b.rounds, b.roundTime, b.slowTime)
	if !skipGo {
		fmt.Printf("Go benchmarks: medians of %d runs of -benchtime %s, each run measuring both sides of a ratio.", count, benchtime)
	}
	fmt.Println()
}

// size measures a scrape from cache, the memory under concurrent scrapes and
// the p99 with a slow Groq, at n series.
func (b *bench) size(bin string, n int) error {
	fmt.Fprintf(os.Stderr, "%d series: scrapes from cache against static bytes…\n", n)
	e, err := startExporter(bin, b.up.url("fast", n), "1h")
	if err != nil {
		return err
	}
	defer e.stop()
	for range 3 {
		if _, err := e.scrape(); err != nil {
			return err
		}
	}
	got, err := e.scrape()
	if err != nil {
		return err
	}
	st, err := b.startStatic(got)
	if err != nil {
		return err
	}
	defer st.stop()

	// (a) Alternating rounds of sequential scrapes, CPU and latency.
	eCPU, sCPU, ratios, eLat, sLat, err := b.alternate(e.server, st)
	if err != nil {
		return err
	}
	ec, sc, cr := median(eCPU), median(sCPU), median(ratios)
	b.add(fmt.Sprintf("Scrape from cache, %s series (%s %s): CPU per scrape, exporter / static bytes", group(n), kib(len(got.body)), got.format()),
		fmt.Sprintf("%s / %s = **%.2f×**", dur(ec), dur(sc), cr), fmt.Sprintf("≤ %.1f×", scrapeRatio), cr <= scrapeRatio)
	ep, sp := percentile(eLat, 50), percentile(sLat, 50)
	pr := float64(ep) / float64(sp)
	b.add(fmt.Sprintf("… p50 latency (%d / %d scrapes)", len(eLat), len(sLat)),
		fmt.Sprintf("%s / %s = **%.2f×**", dur(float64(ep)), dur(float64(sp)), pr), fmt.Sprintf("≤ %.1f×", scrapeRatio), pr <= scrapeRatio)

	// (c) Peak memory: sequential scrapes so far, then 3 rounds of 100 at once.
	_, seq := e.memory()
	var failed atomic.Int64
	for range 3 {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if _, err := e.scrape(); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
	}
	_, conc := e.memory()
	rr := float64(conc) / float64(seq)
	b.add(fmt.Sprintf("Peak RSS, %s series: 3 rounds of 100 concurrent scrapes / sequential scrapes", group(n)),
		fmt.Sprintf("%s / %s = **%.2f×** (%d failed)", mib(conc), mib(seq), rr, failed.Load()),
		fmt.Sprintf("≤ %.1f×", rssRatio), rr <= rssRatio && failed.Load() == 0)
	e.stop()

	// (e) A slow Groq, a short TTL, a scrape every 250 ms.
	fmt.Fprintf(os.Stderr, "%d series: scrapes every 250 ms with a %v Groq…\n", n, slowGroq)
	slow, err := startExporter(bin, b.up.url("slow", n), "2s")
	if err != nil {
		return err
	}
	defer slow.stop()
	before := b.up.callCount()
	var sl, stl []time.Duration
	waited, scrapes := 0, 0
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	warmUp := 8 // 2 s: the first scrape waits for Groq, then the loop runs ahead
	for i := 0; time.Duration(i-warmUp)*250*time.Millisecond < b.slowTime; i++ {
		<-tick.C
		// Each goes first on every other tick: the first scrape after a
		// quiet 250 ms wakes the client and the network stack for both.
		var start time.Time
		var d, sd time.Duration
		timed := func(s *server) (time.Duration, error) {
			t := time.Now()
			_, err := s.scrape()
			return time.Since(t), err
		}
		var err1, err2 error
		if i%2 == 0 {
			start = time.Now()
			d, err1 = timed(slow.server)
			sd, err2 = timed(st)
		} else {
			sd, err2 = timed(st)
			start = time.Now()
			d, err1 = timed(slow.server)
		}
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if i < warmUp {
			continue
		}
		scrapes++
		sl, stl = append(sl, d), append(stl, sd)
		if b.up.answeredDuring(start, start.Add(d)) && d > 50*time.Millisecond {
			waited++
		}
	}
	calls := b.up.callCount() - before
	e99, s99 := percentile(sl, 99), percentile(stl, 99)
	r99 := float64(e99) / float64(s99)
	b.add(fmt.Sprintf("p99 latency, %s series, Groq answering in 0.5 s, TTL 2 s, a scrape every 250 ms: exporter / static bytes", group(n)),
		fmt.Sprintf("%s / %s = **%.2f×**; %d of %d scrapes waited for Groq (%d calls)", dur(float64(e99)), dur(float64(s99)), r99, waited, scrapes, calls),
		fmt.Sprintf("≤ %.0f×, none waited", p99Ratio), r99 <= p99Ratio && waited == 0)
	return nil
}

// hostile streams 1 GiB of long-labelled series, with and without
// Content-Length, and reads the exporter's peak memory.
func (b *bench) hostile(bin string) error {
	for _, mode := range []string{"long-cl", "long-chunked"} {
		fmt.Fprintf(os.Stderr, "streaming a 1 GiB body of long labels (%s)…\n", mode)
		_, hwm, log, err := oneRefresh(bin, b.up.url(mode, 0), "0", "did not fail")
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		cut := strings.Contains(log, "exceeds the size limit")
		sent := b.up.sent(mode)
		label := map[string]string{"long-cl": "with Content-Length", "long-chunked": "chunked"}[mode]
		b.add(fmt.Sprintf("Peak RSS, 1 GiB body of series with %d-character model names, %s", longLabel, label),
			fmt.Sprintf("**%s**; cut at the 8 MiB cap: %v; upstream could send %s", mib(hwm), cut, mib(sent)),
			"< 48 MiB, cut", hwm < longPeak && cut && sent < hugeLen)
	}
	return nil
}

// oneRefresh starts the exporter against url (with env added), scrapes it
// once and stops it, and returns the answer, the peak RSS and the log. It
// fails unless the answer says groq_up up ("0" or "1"); what names the
// outcome it did not want in the error.
func oneRefresh(bin, url, up, what string, env ...string) (*response, int64, string, error) {
	e, err := startExporter(bin, url, "1h", env...)
	if err != nil {
		return nil, 0, "", err
	}
	got, err := e.scrape()
	_, hwm := e.memory()
	log := e.stop()
	if err != nil {
		return nil, 0, log, err
	}
	if t := got.text(); !strings.Contains(t, "\ngroq_up "+up+"\n") && !strings.Contains(t, "\ngroq_up "+up+".0\n") {
		return nil, 0, log, fmt.Errorf("the refresh %s:\n%s", what, log)
	}
	return got, hwm, log, nil
}

// stream has the exporter refresh streamRefreshes times in a row (--groq.cache-ttl=0: one
// refresh per scrape) from a Groq that answers every time with a body over the default size
// cap, as a misconfigured proxy might, and reads its peak memory: the garbage of each
// refused answer must not pile up.
func (b *bench) stream(bin string) error {
	fmt.Fprintf(os.Stderr, "%d refreshes of an oversized body in a row…\n", streamRefreshes)
	e, err := startExporter(bin, b.up.url("long-chunked", 0), "0s")
	if err != nil {
		return err
	}
	var hwms []int64
	var last string
	for i := range streamRefreshes {
		got, err := e.scrape()
		if err != nil {
			e.stop()
			return err
		}
		last = got.text()
		if !strings.Contains(last, "\ngroq_up 0\n") && !strings.Contains(last, "\ngroq_up 0.0\n") {
			return fmt.Errorf("refresh %d did not fail:\n%s", i+1, e.stop())
		}
		if i == 0 || i == 2 || i == streamRefreshes-1 {
			_, hwm := e.memory()
			hwms = append(hwms, hwm)
		}
	}
	log := e.stop()
	var cut float64
	for _, line := range strings.Split(last, "\n") {
		if v, ok := strings.CutPrefix(line, `groq_refresh_errors_total{reason="too_large"} `); ok {
			cut, _ = strconv.ParseFloat(strings.Fields(v)[0], 64)
		}
	}
	if cut < streamRefreshes {
		return fmt.Errorf("%v of %d refreshes were cut at the size limit (groq_refresh_errors_total{reason=\"too_large\"}):\n%s", cut, streamRefreshes, log)
	}
	peak := hwms[len(hwms)-1]
	b.add(fmt.Sprintf("Peak RSS, %d refreshes in a row of a chunked body over the 8 MiB cap (a proxy that keeps answering too much)", streamRefreshes),
		fmt.Sprintf("**%s** (after 1: %s, after 3: %s)", mib(peak), mib(hwms[0]), mib(hwms[1])),
		fmt.Sprintf("< %s", mib(streamPeak)), peak < streamPeak)
	return nil
}

// shapeBodies are answers just under the 8 MiB cap whose exposition could
// grow faster than the body: series that each carry a label name no other
// has (one label set for their family would be n × n labels), and a family
// for each series.
var shapeBodies = map[string]struct {
	what   string
	series func(i int) string
}{
	"distinct-labels": {"series that each carry a label name of their own", func(i int) string {
		return fmt.Sprintf(`"__name__":"requests:rate1m","model":"m","label%d":"v"`, i)
	}},
	"family-each": {"series that each have a family of their own", func(i int) string {
		return fmt.Sprintf(`"__name__":"family%d:rate1m","model":"m"`, i)
	}},
}

// shapeBody is an answer of about size bytes of series(0), series(1), ….
func shapeBody(size int, series func(i int) string) []byte {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{%s},"value":[1764430000,"%d"]}`, series(i), i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// shapes serves each of shapeBodies once and reads the exporter's peak
// memory and the size of its answer against the body's, with the Go memory
// limit the chart sets.
func (b *bench) shapes(bin string) error {
	for _, name := range slices.Sorted(maps.Keys(shapeBodies)) {
		shape := shapeBodies[name]
		fmt.Fprintf(os.Stderr, "an answer of %s…\n", shape.what)
		body := b.up.shape(name, shapeBody(8<<20-64<<10, shape.series))
		// The Go memory limit the chart's 128 MiB gives the exporter
		// (--auto-gomemlimit.ratio 0.9 of the container's limit).
		got, hwm, _, err := oneRefresh(bin, b.up.url("shape", 0)+"/"+name, "1", "failed", "GOMEMLIMIT=115MiB")
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		b.add(fmt.Sprintf("Peak RSS, a %s answer of %s", mib(int64(len(body))), shape.what),
			fmt.Sprintf("**%s** (%.1f× the body); exposition %s (%.1f× the body)", mib(hwm), float64(hwm)/float64(len(body)),
				mib(int64(len(got.text()))), float64(len(got.text()))/float64(len(body))),
			"< 128 MiB", hwm < shapePeak)
	}
	return nil
}

// upstream stands in for Groq: /fast/<n> answers n series at once,
// /slow/<n> after 500 ms, /long-cl and /long-chunked stream 1 GiB of
// never-ending JSON whose model names are 200 characters long.
type upstream struct {
	srv    *http.Server
	addr   string
	bodies map[int][]byte

	mu     sync.Mutex
	n      int64
	byOrg  map[string]int64  // calls by the path segment after <n>, the organization's
	out    map[string]int64  // bytes written by mode
	calls  [][2]time.Time    // when each slow call began and answered
	shaped map[string][]byte // /shape/0/<name>'s answer
}

// shape makes body the answer of /shape/0/name, and returns it.
func (u *upstream) shape(name string, body []byte) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.shaped == nil {
		u.shaped = map[string][]byte{}
	}
	u.shaped[name] = body
	return body
}

func newUpstream() *upstream {
	u := &upstream{out: map[string]int64{}, bodies: map[int][]byte{}, byOrg: map[string]int64{}}
	for _, n := range append(slices.Clone(sizes), scaleBodies...) {
		u.bodies[n] = groqtest.Vector(n)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	u.addr = l.Addr().String()
	u.srv = &http.Server{Handler: http.HandlerFunc(u.serve)}
	go func() { _ = u.srv.Serve(l) }()
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	mode := parts[0]
	u.mu.Lock()
	u.n++
	if len(parts) > 3 && parts[3] == "api" {
		u.byOrg[parts[2]]++
	}
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch mode {
	case "fast", "slow":
		n, _ := strconv.Atoi(parts[1])
		body, ok := u.bodies[n]
		if !ok {
			http.NotFound(w, r)
			return
		}
		start := time.Now()
		if mode == "slow" {
			time.Sleep(slowGroq)
		}
		_, _ = w.Write(body)
		if mode == "slow" {
			u.mu.Lock()
			u.calls = append(u.calls, [2]time.Time{start, time.Now()})
			u.mu.Unlock()
		}
	case "shape":
		u.mu.Lock()
		body := u.shaped[parts[2]]
		u.mu.Unlock()
		_, _ = w.Write(body)
	case "long-cl", "long-chunked":
		if mode == "long-cl" {
			w.Header().Set("Content-Length", strconv.Itoa(hugeLen))
		}
		n, _ := io.Copy(w, groqtest.EndlessLong(hugeLen, longLabel))
		u.mu.Lock()
		u.out[mode] += n
		u.mu.Unlock()
	default:
		http.NotFound(w, r)
	}
}

func (u *upstream) url(mode string, n int) string {
	return "http://" + u.addr + "/" + mode + "/" + strconv.Itoa(n)
}

func (u *upstream) callCount() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}

// answeredDuring tells whether a slow call was under way when a scrape began
// and answered before it ended: the scrape may have waited for it.
func (u *upstream) answeredDuring(start, end time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.calls {
		if c[0].Before(start) && c[1].After(start) && c[1].Before(end) {
			return true
		}
	}
	return false
}

// sent waits a moment for the handler to notice the closed connection and
// returns how many bytes it managed to write.
func (u *upstream) sent(mode string) int64 {
	for range 100 {
		u.mu.Lock()
		n := u.out[mode]
		u.mu.Unlock()
		if n > 0 {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1
}

// server is a process that serves /metrics: the exporter or the static handler.
type server struct {
	cmd  *exec.Cmd
	addr string
	path string // what scrape asks for; "" is /metrics
	log  *strings.Builder
	mu   *sync.Mutex
}

type exporter struct{ *server }

func startExporter(bin, groqURL, ttl string, env ...string) (*exporter, error) {
	addr, err := groqtest.FreeAddress()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--groq.url="+groqURL, "--web.listen-address="+addr, "--groq.cache-ttl="+ttl)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	s, err := start(addr, cmd)
	if err != nil {
		return nil, err
	}
	return &exporter{s}, nil
}

// startStatic starts this program again as a static handler serving got.
func (b *bench) startStatic(got *response) (*server, error) {
	f, err := os.CreateTemp("", "groq-bench-static")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name()) // the handler has read it once it is ready
	if _, err := f.Write(got.body); err != nil {
		return nil, err
	}
	f.Close()
	addr, err := groqtest.FreeAddress()
	if err != nil {
		return nil, err
	}
	return start(addr, exec.Command(b.self, "-serve-static="+f.Name(), "-listen="+addr,
		"-content-type="+got.contentType, "-content-encoding="+got.contentEncoding))
}

func start(addr string, cmd *exec.Cmd) (*server, error) {
	s := &server{cmd: cmd, addr: addr, log: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Env = append(os.Environ(), "GROQ_API_KEY="+key)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("the server did not start:\n" + s.logText())
		}
	}
}

// serveStatic is the static handler: one Go HTTP server writing the same
// bytes, with the same headers, to every request of /metrics.
func serveStatic(file, addr, contentType, contentEncoding string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		if contentEncoding != "" {
			h.Set("Content-Encoding", contentEncoding)
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("Ready\n")) })
	return http.ListenAndServe(addr, mux)
}

// client asks as Prometheus does and keeps the body as it came (gzipped).
var client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 200, DisableCompression: true}}

type response struct {
	body                         []byte
	contentType, contentEncoding string
}

func (r *response) format() string {
	f, _, _ := strings.Cut(r.contentType, ";")
	if r.contentEncoding != "" {
		f += ", " + r.contentEncoding
	}
	return f
}

// text is the body, gunzipped if need be.
func (r *response) text() string {
	if r.contentEncoding != "gzip" {
		return string(r.body)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		return ""
	}
	b, _ := io.ReadAll(zr)
	return string(b)
}

func (s *server) scrape() (*response, error) {
	path := s.path
	if path == "" {
		path = "/metrics"
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "30")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape: %d\n%s", resp.StatusCode, s.logText())
	}
	return &response{b, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding")}, nil
}

// alternate runs b.rounds rounds of sequential scrapes, each round
// scraping e then st for b.roundTime, and returns the CPU per scrape of each
// round, each round's ratio e/st, and every scrape's latency.
func (b *bench) alternate(e, st *server) (eCPU, sCPU, ratios []float64, eLat, sLat []time.Duration, err error) {
	for range b.rounds {
		for _, s := range []*server{e, st} {
			cpu, lat, err := s.sequential(b.roundTime)
			if err != nil {
				return nil, nil, nil, nil, nil, err
			}
			if s == st {
				sCPU, sLat = append(sCPU, cpu), append(sLat, lat...)
			} else {
				eCPU, eLat = append(eCPU, cpu), append(eLat, lat...)
			}
		}
		ratios = append(ratios, eCPU[len(eCPU)-1]/sCPU[len(sCPU)-1])
	}
	return eCPU, sCPU, ratios, eLat, sLat, nil
}

// sequential scrapes s one scrape after another for d and returns the CPU
// time the server spent per scrape (ns) and the latency of each scrape.
func (s *server) sequential(d time.Duration) (float64, []time.Duration, error) {
	cpu0 := s.cpu()
	var lat []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		start := time.Now()
		if _, err := s.scrape(); err != nil {
			return 0, nil, err
		}
		lat = append(lat, time.Since(start))
	}
	return float64(s.cpu()-cpu0) / float64(len(lat)), lat, nil
}

// clockTick is USER_HZ, the unit of utime and stime: 100 on Linux.
const clockTick = 10 * time.Millisecond

// cpu is the CPU time the process has used, user and system, from
// /proc/<pid>/stat.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	after := string(b[bytes.LastIndexByte(b, ')')+1:])
	f := strings.Fields(after) // f[0] is field 3, state; utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// memory reads the process's resident set size now and at its peak.
func (s *server) memory() (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1, -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "kB" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				rss = v << 10
			case "VmHWM:":
				hwm = v << 10
			}
		}
	}
	return rss, hwm
}

func (s *server) stop() string {
	if s.cmd.ProcessState != nil {
		return s.logText()
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	return s.logText()
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

type benchResult struct{ ns, bytes, allocs float64 }

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op.*?\s([\d.]+) B/op\s+([\d.]+) allocs/op`)

// goBench builds the test binary of pkg and runs its benchmarks count times,
// returning the results of each run.
func goBench(pkg, pattern string, count int, benchtime string) ([]map[string]benchResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "groq-bench-test")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	if out, err := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, pkg).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go test -c %s: %v\n%s", pkg, err, out)
	}
	var runs []map[string]benchResult
	for range count {
		cmd := exec.CommandContext(ctx, bin, "-test.run", "^$", "-test.bench", pattern, "-test.benchmem", "-test.benchtime", benchtime)
		cmd.Dir = pkg
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s -test.bench %s: %v\n%s", pkg, pattern, err, out)
		}
		res := map[string]benchResult{}
		for _, line := range strings.Split(string(out), "\n") {
			m := benchLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			var r benchResult
			r.ns, _ = strconv.ParseFloat(m[2], 64)
			r.bytes, _ = strconv.ParseFloat(m[3], 64)
			r.allocs, _ = strconv.ParseFloat(m[4], 64)
			res[m[1]] = r
		}
		runs = append(runs, res)
	}
	return runs, nil
}

// medianResult is the median of each figure of rs.
func medianResult(rs []benchResult) benchResult {
	return benchResult{
		ns:     medianOf(rs, func(r benchResult) float64 { return r.ns }),
		bytes:  medianOf(rs, func(r benchResult) float64 { return r.bytes }),
		allocs: medianOf(rs, func(r benchResult) float64 { return r.allocs }),
	}
}

func medianOf(rs []benchResult, f func(benchResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return median(v)
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v) == 0 {
		return math.NaN()
	}
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return v[len(v)/2]
}

// percentile is the nearest-rank percentile p of d.
func percentile(d []time.Duration, p float64) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(d)))) - 1
	return d[max(i, 0)]
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(n int) string { return fmt.Sprintf("%.0f KiB", float64(n)/1024) }

// dur shows nanoseconds in the unit that suits them.
func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
}

// group writes n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
