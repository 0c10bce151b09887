// Command bench measures what the exporter costs and prints a Markdown table:
// calls to Groq per refresh and per burst of scrapes, the Go benchmarks of a
// scrape from cache and of a refresh against their floors, and the resident
// memory of the real binary with 10,000 series cached and while a 1 GiB body
// streams in, with and without Content-Length. Groq is a loopback stand-in.
//
//	go run ./cmd/bench            # builds the exporter, measures, prints the table
//	go run ./cmd/bench -exporter ./groq_exporter -count 10
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	series  = 10000
	hugeLen = 1 << 30
	key     = "gsk_benchmarkKey0123456789"
)

func main() {
	exporterBin := flag.String("exporter", "", "exporter binary to measure (default: go build one)")
	count := flag.Int("count", 5, "runs of each Go benchmark; the median is reported")
	benchtime := flag.String("benchtime", "1s", "-benchtime of each Go benchmark run")
	skipGo := flag.Bool("skip-go-bench", false, "skip the Go benchmarks (only the counts and memory)")
	flag.Parse()
	if err := run(*exporterBin, *count, *benchtime, *skipGo); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ what, measured, target, verdict string }

func run(bin string, count int, benchtime string, skipGo bool) error {
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
	up := newUpstream()
	defer up.srv.Close()

	var rows []row
	add := func(what, measured, target string, ok bool) {
		verdict := "met"
		if !ok {
			verdict = "**missed**"
		}
		rows = append(rows, row{what, measured, target, verdict})
	}

	// Calls to Groq, and the memory of 10,000 cached series.
	fmt.Fprintln(os.Stderr, "counting calls and measuring memory with 10,000 series…")
	e, err := startExporter(bin, up.url("10k"))
	if err != nil {
		return err
	}
	if err := e.scrape("10", "groq_up 1"); err != nil {
		e.stop()
		return err
	}
	calls := up.calls("10k")
	add("Calls to Groq for one refresh of all built-in families", strconv.FormatInt(calls, 10), "1", calls == 1)
	for range 5 { // steady state: a few scrapes served from the cache
		if err := e.scrape("10", "groq_up 1"); err != nil {
			e.stop()
			return err
		}
	}
	rss, hwm := e.memory()
	e.stop()
	add("Resident memory, 10,000 series cached (after 6 scrapes)", mib(rss)+" (peak "+mib(hwm)+")", "< 40 MiB", rss < 40<<20)

	e, err = startExporter(bin, up.url("slow10k"))
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 100 {
		wg.Go(func() {
			if err := e.scrape("10", "groq_up 1"); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	e.stop()
	calls = up.calls("slow10k")
	add("Calls to Groq for 100 concurrent scrapes within one cache TTL", fmt.Sprintf("%d (%d scrapes failed)", calls, failed.Load()), "1",
		calls == 1 && failed.Load() == 0)

	// A 1 GiB body, generated on the fly, against the 8 MiB cap.
	for _, mode := range []string{"huge-cl", "huge-chunked"} {
		fmt.Fprintf(os.Stderr, "streaming a 1 GiB body (%s)…\n", mode)
		e, err := startExporter(bin, up.url(mode))
		if err != nil {
			return err
		}
		err = e.scrape("30", "groq_up 0")
		_, hwm := e.memory()
		log := e.stop()
		if err != nil {
			return err
		}
		cut := strings.Contains(log, "exceeds the size limit")
		sent := up.sent(mode)
		label := map[string]string{"huge-cl": "with Content-Length", "huge-chunked": "without Content-Length (chunked)"}[mode]
		add("Peak resident memory, 1 GiB body "+label,
			fmt.Sprintf("%s; body cut at the cap: %v; upstream could send %s of 1024 MiB", mib(hwm), cut, mib(sent)),
			"< 64 MiB, cut at 8 MiB", hwm < 64<<20 && cut && sent < hugeLen)
	}

	if !skipGo {
		fmt.Fprintln(os.Stderr, "running the Go benchmarks…")
		scrape, err := goBench(".", "^BenchmarkScrape(FromCache|Floor)10k$", count, benchtime)
		if err != nil {
			return err
		}
		refresh, err := goBench("./collector", "^Benchmark(Refresh|DecodeVector)10k$", count, benchtime)
		if err != nil {
			return err
		}
		s, f := scrape["BenchmarkScrapeFromCache10k"], scrape["BenchmarkScrapeFloor10k"]
		add("Scrape of /metrics from cache, 10,000 series: time (exporter / plain registry floor)",
			fmt.Sprintf("%s / %s = %.2f×", ms(s.ns), ms(f.ns), s.ns/f.ns), "≤ 1.3×", s.ns/f.ns <= 1.3)
		add("… allocations per scrape (exporter / floor)",
			fmt.Sprintf("%.0f / %.0f = %.2f× (%s / %s)", s.allocs, f.allocs, s.allocs/f.allocs, mib(int64(s.bytes)), mib(int64(f.bytes))),
			"≤ 1.3×", s.allocs/f.allocs <= 1.3)
		r, d := refresh["BenchmarkRefresh10k"], refresh["BenchmarkDecodeVector10k"]
		add("Refresh of a 10,000-series answer: time (decode + translate + build / decode only)",
			fmt.Sprintf("%s / %s = %.2f×", ms(r.ns), ms(d.ns), r.ns/d.ns), "≤ 2×", r.ns/d.ns <= 2)
		add("… allocations per refresh (refresh / decode only)",
			fmt.Sprintf("%.0f / %.0f = %.2f× (%s / %s)", r.allocs, d.allocs, r.allocs/d.allocs, mib(int64(r.bytes)), mib(int64(d.bytes))),
			"≤ 2×", r.allocs/d.allocs <= 2)
	}

	fmt.Printf("Measured on %s, %d CPUs, %s, %s.\n\n", cpuModel(), runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| What | Measured | Target | |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.what, r.measured, r.target, r.verdict)
	}
	if !skipGo {
		fmt.Printf("\nGo benchmarks: median of %d runs of -benchtime %s.\n", count, benchtime)
	}
	return nil
}

// upstream stands in for Groq: /10k answers 10,000 series, /slow10k the same
// after 200 ms, /huge-cl and /huge-chunked stream 1 GiB of never-ending JSON.
type upstream struct {
	srv  *http.Server
	addr string
	mu   sync.Mutex
	n    map[string]int64 // calls by mode
	out  map[string]int64 // bytes written by mode
}

func newUpstream() *upstream {
	u := &upstream{n: map[string]int64{}, out: map[string]int64{}}
	body := groqtest.Vector(series)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	u.addr = l.Addr().String()
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		u.mu.Lock()
		u.n[mode]++
		u.mu.Unlock()
		var n int64
		switch mode {
		case "10k", "slow10k":
			if mode == "slow10k" {
				time.Sleep(200 * time.Millisecond)
			}
			w.Header().Set("Content-Type", "application/json")
			m, _ := w.Write(body)
			n = int64(m)
		case "huge-cl", "huge-chunked":
			w.Header().Set("Content-Type", "application/json")
			if mode == "huge-cl" {
				w.Header().Set("Content-Length", strconv.Itoa(hugeLen))
			}
			n, _ = io.Copy(w, groqtest.Endless(hugeLen))
		default:
			http.NotFound(w, r)
		}
		u.mu.Lock()
		u.out[mode] += n
		u.mu.Unlock()
	})}
	go func() { _ = u.srv.Serve(l) }()
	return u
}

func (u *upstream) url(mode string) string { return "http://" + u.addr + "/" + mode }

func (u *upstream) calls(mode string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n[mode]
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

// exporter is one run of the real binary.
type exporter struct {
	cmd  *exec.Cmd
	addr string
	log  *strings.Builder
	mu   *sync.Mutex
}

func startExporter(bin, groqURL string) (*exporter, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	e := &exporter{addr: addr, log: &strings.Builder{}, mu: &sync.Mutex{}}
	e.cmd = exec.Command(bin, "--groq.url="+groqURL, "--web.listen-address="+addr, "--groq.cache-ttl=1h")
	e.cmd.Env = append(os.Environ(), "GROQ_API_KEY="+key)
	stderr, err := e.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			e.mu.Lock()
			e.log.WriteString(s.Text() + "\n")
			e.mu.Unlock()
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, errors.New("the exporter did not start:\n" + e.logText())
		}
	}
}

var client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}

func (e *exporter) scrape(timeout, want string) error {
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "\n"+want+"\n") {
		return fmt.Errorf("scrape: %d without %q\n%s", resp.StatusCode, want, e.logText())
	}
	return nil
}

// memory reads the exporter's resident set size now and at its peak.
func (e *exporter) memory() (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
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

func (e *exporter) stop() string {
	_ = e.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
	return e.logText()
}

func (e *exporter) logText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.log.String()
}

type benchResult struct{ ns, bytes, allocs float64 }

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op.*?\s([\d.]+) B/op\s+([\d.]+) allocs/op`)

// goBench runs Go benchmarks and returns the median of each.
func goBench(pkg, pattern string, count int, benchtime string) (map[string]benchResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", pattern, "-benchmem",
		"-count", strconv.Itoa(count), "-benchtime", benchtime, pkg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %v\n%s", pattern, pkg, err, out)
	}
	all := map[string][]benchResult{}
	for _, line := range strings.Split(string(out), "\n") {
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var r benchResult
		r.ns, _ = strconv.ParseFloat(m[2], 64)
		r.bytes, _ = strconv.ParseFloat(m[3], 64)
		r.allocs, _ = strconv.ParseFloat(m[4], 64)
		all[m[1]] = append(all[m[1]], r)
	}
	res := map[string]benchResult{}
	for name, rs := range all {
		res[name] = benchResult{
			ns:     median(rs, func(r benchResult) float64 { return r.ns }),
			bytes:  median(rs, func(r benchResult) float64 { return r.bytes }),
			allocs: median(rs, func(r benchResult) float64 { return r.allocs }),
		}
	}
	if len(res) < 2 {
		return nil, fmt.Errorf("go test -bench %s %s: found %d benchmarks in:\n%s", pattern, pkg, len(res), out)
	}
	return res, nil
}

func median(rs []benchResult, f func(benchResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(ns float64) string { return fmt.Sprintf("%.1f ms", ns/1e6) }

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
