package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// The scale rows: many organizations through one exporter.
//
//   - 200 organizations of 69 series and 40 of 2,300: the peak resident
//     memory per exported series above the idle process, the time from
//     start to the first whole answer, a reload of the unchanged file while
//     quiet and while scraped, and a /probe scrape from cache against a
//     static handler serving the same bytes;
//   - 200 organizations of 69 series with Groq answering in 0.5 s and a 5 s
//     TTL, /metrics scraped every second: Groq calls per organization per
//     TTL, the CPU per TTL against one organization serving the same 13,800
//     series, and the scrapes that waited.
var scaleCases = []struct{ orgs, series int }{{200, 69}, {40, 2300}}

// scaleBodies are the answers the scale rows need beyond sizes: one
// organization serving what 200 organizations of 69 series serve.
var scaleBodies = []int{200 * 69}

const (
	scaleTTL       = 5 * time.Second
	scaleWindow    = 6 * scaleTTL
	perSeriesPeak  = 1 << 10 // bytes of peak RSS per exported series, above the idle process…
	perSeriesAt    = 90_000  // … for an exporter of this many series or more
	scaleCPURatio  = 1.5     // CPU per TTL, 200 organizations against one serving the same series
	reloadRatio    = 1.5     // a reload while scraped against one while quiet
	orgNameFormat  = "org-%03d"
	scrapeInterval = time.Second
	scrapePace     = 100 * time.Millisecond
)

// orgConfig writes a configuration file of orgs organizations, each answered
// n series by the upstream in mode (its calls counted by name).
func (b *bench) orgConfig(dir, mode string, orgs, n int) (string, error) {
	var s strings.Builder
	s.WriteString("organizations:\n")
	for i := range orgs {
		name := fmt.Sprintf(orgNameFormat, i)
		fmt.Fprintf(&s, "  - name: %s\n    api_key: %s\n    url: %s/%s\n    labels: {team: team-%d}\n", name, key, b.up.url(mode, n), name, i%10)
	}
	file := filepath.Join(dir, fmt.Sprintf("%s-%d-%d.yml", mode, orgs, n))
	return file, os.WriteFile(file, []byte(s.String()), 0o600)
}

func startConfigured(bin, file, ttl string) (*exporter, error) {
	addr, err := groqtest.FreeAddress()
	if err != nil {
		return nil, err
	}
	s, err := start(addr, exec.Command(bin, "--config.file="+file, "--web.listen-address="+addr, "--groq.cache-ttl="+ttl))
	if err != nil {
		return nil, err
	}
	return &exporter{s}, nil
}

// reload asks the exporter to reload its file and returns how long it took.
func (s *server) reload() (time.Duration, error) {
	start := time.Now()
	resp, err := client.Post("http://"+s.addr+"/-/reload", "", nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("reload: %d\n%s", resp.StatusCode, s.logText())
	}
	return time.Since(start), nil
}

func (b *bench) scale(bin string) error {
	dir, err := os.MkdirTemp("", "groq-bench-scale")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, n := range []int{sizes[0], sizes[len(sizes)-1]} {
		if err := b.ttlZero(bin, n); err != nil {
			return err
		}
	}
	for _, c := range scaleCases {
		if err := b.scaleCase(bin, dir, c.orgs, c.series); err != nil {
			return fmt.Errorf("%d organizations of %d series: %w", c.orgs, c.series, err)
		}
	}
	return b.scaleTTL(bin, dir)
}

func (b *bench) scaleCase(bin, dir string, orgs, n int) error {
	fmt.Fprintf(os.Stderr, "%d organizations of %d series: memory, start-up, reload, /probe…\n", orgs, n)
	file, err := b.orgConfig(dir, "fast", orgs, n)
	if err != nil {
		return err
	}
	launched := time.Now()
	e, err := startConfigured(bin, file, "1h")
	if err != nil {
		return err
	}
	defer e.stop()
	idle, _ := e.memory()
	got, err := e.scrape()
	if err != nil {
		return err
	}
	startup := time.Since(launched)
	series := 0
	for line := range strings.Lines(got.text()) {
		if !strings.HasPrefix(line, "#") {
			series++
		}
	}
	probe := &server{cmd: e.cmd, addr: e.addr, log: e.log, mu: e.mu}
	for i := range orgs {
		probe.path = fmt.Sprintf("/probe?organization="+orgNameFormat, i)
		if _, err := probe.scrape(); err != nil {
			return err
		}
	}
	_, hwm := e.memory()
	per := float64(hwm-idle) / float64(series)
	what := fmt.Sprintf("%d organizations × %s series (%s exported)", orgs, group(n), group(series))
	measured := fmt.Sprintf("(%s − %s) / %s = **%.0f B**", mib(hwm), mib(idle), group(series), per)
	if series < perSeriesAt { // the goal is for a large exporter; fixed costs per organization weigh more below
		b.rows = append(b.rows, row{what + ": peak RSS above the idle process per exported series, after /metrics and every /probe", measured, "none", "shown"})
	} else {
		b.add(what+": peak RSS above the idle process per exported series, after /metrics and every /probe", measured, "≤ 1 KiB", per <= perSeriesPeak)
	}
	b.rows = append(b.rows, row{"… start-up: from launch to the first whole /metrics answer (every organization asked)",
		fmt.Sprintf("**%s**", dur(float64(startup))), "none", "shown"})

	// A reload of the unchanged file, quiet then under scrapes of /metrics
	// and /probe by 4 scrapers, each scraping every scrapePace.
	var quiet, busy []float64
	for range 3 {
		time.Sleep(3 * scrapePace)
		d, err := e.reload()
		if err != nil {
			return err
		}
		quiet = append(quiet, float64(d))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			s := &server{cmd: e.cmd, addr: e.addr, log: e.log, mu: e.mu}
			tick := time.NewTicker(scrapePace)
			defer tick.Stop()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				s.path = ""
				if i%2 == 1 {
					s.path = fmt.Sprintf("/probe?organization="+orgNameFormat, i%orgs)
				}
				if _, err := s.scrape(); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	for range 3 {
		time.Sleep(3 * scrapePace)
		d, err := e.reload()
		if err != nil {
			close(stop)
			wg.Wait()
			return err
		}
		busy = append(busy, float64(d))
	}
	close(stop)
	wg.Wait()
	q, bz := median(quiet), median(busy)
	b.add(fmt.Sprintf("… reload of the unchanged file: while 4 scrapers each scrape /metrics or /probe every %v / while quiet (medians of 3)", scrapePace),
		fmt.Sprintf("%s / %s = **%.2f×** (%d scrapes failed)", dur(bz), dur(q), bz/q, failed.Load()),
		fmt.Sprintf("≤ %.1f×", reloadRatio), bz/q <= reloadRatio && failed.Load() == 0)

	// /probe from cache against static bytes.
	probe.path = fmt.Sprintf("/probe?organization="+orgNameFormat, 0)
	pgot, err := probe.scrape()
	if err != nil {
		return err
	}
	st, err := b.startStatic(pgot)
	if err != nil {
		return err
	}
	defer st.stop()
	eCPU, sCPU, ratios, eLat, sLat, err := b.alternate(probe, st)
	if err != nil {
		return err
	}
	ec, sc, cr := median(eCPU), median(sCPU), median(ratios)
	b.add(fmt.Sprintf("… /probe of one organization from cache (%s %s): CPU per scrape, exporter / static bytes", kib(len(pgot.body)), pgot.format()),
		fmt.Sprintf("%s / %s = **%.2f×**", dur(ec), dur(sc), cr), fmt.Sprintf("≤ %.1f×", scrapeRatio), cr <= scrapeRatio)
	ep, sp := percentile(eLat, 50), percentile(sLat, 50)
	pr := float64(ep) / float64(sp)
	b.add(fmt.Sprintf("… p50 latency (%d / %d scrapes)", len(eLat), len(sLat)),
		fmt.Sprintf("%s / %s = **%.2f×**", dur(float64(ep)), dur(float64(sp)), pr), fmt.Sprintf("≤ %.1f×", scrapeRatio), pr <= scrapeRatio)
	return nil
}

// ttlRun scrapes /metrics of an exporter of the configuration in file once
// per scrapeInterval for scaleWindow after a warm-up, and returns the CPU it
// used per TTL, the scrapes that waited as long as Groq takes to answer, the
// scrapes, and the Groq calls of each organization in the window.
func (b *bench) ttlRun(bin, file string, orgs int) (cpuPerTTL time.Duration, waited, scrapes int, calls []int64, err error) {
	e, err := startConfigured(bin, file, scaleTTL.String())
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer e.stop()
	tick := time.NewTicker(scrapeInterval)
	defer tick.Stop()
	warmUp := int(2 * scaleTTL / scrapeInterval)
	var cpu0 time.Duration
	before := map[string]int64{}
	for i := 0; time.Duration(i-warmUp)*scrapeInterval < scaleWindow; i++ {
		<-tick.C
		if i == warmUp {
			cpu0 = e.cpu()
			b.up.mu.Lock()
			for k, v := range b.up.byOrg {
				before[k] = v
			}
			b.up.mu.Unlock()
		}
		start := time.Now()
		if _, err := e.scrape(); err != nil {
			return 0, 0, 0, nil, err
		}
		if i >= warmUp {
			scrapes++
			if time.Since(start) >= slowGroq {
				waited++
			}
		}
	}
	cpu := e.cpu() - cpu0
	b.up.mu.Lock()
	for i := range orgs {
		name := fmt.Sprintf(orgNameFormat, i)
		calls = append(calls, b.up.byOrg[name]-before[name])
	}
	b.up.mu.Unlock()
	return cpu / time.Duration(scaleWindow/scaleTTL), waited, scrapes, calls, nil
}

// scaleRuns is how many times each side of the CPU-per-TTL row runs,
// alternating. A scrape every second, against answers kept for a second,
// is built or served as it is by a hair's breadth either way, and each
// answer built is about a fifth of a TTL's CPU: the number of answers a
// run builds, and with it the figure, moves by a quarter from one run to
// the next, on either side.
const scaleRuns = 5

func (b *bench) scaleTTL(bin, dir string) error {
	const orgs, n = 200, 69
	many, err := b.orgConfig(dir, "slow", orgs, n)
	if err != nil {
		return err
	}
	one, err := b.orgConfig(dir, "slow", 1, orgs*n)
	if err != nil {
		return err
	}
	var mCPUs, oCPUs, ratios []float64
	var mWaited, mScrapes, oWaited, oScrapes int
	var lo, hi int64 = math.MaxInt64, 0
	for run := range scaleRuns {
		fmt.Fprintf(os.Stderr, "run %d of %d: %d organizations of %d series, TTL %v, Groq answering in %v: CPU per TTL…\n", run+1, scaleRuns, orgs, n, scaleTTL, slowGroq)
		mCPU, waited, scrapes, calls, err := b.ttlRun(bin, many, orgs)
		if err != nil {
			return err
		}
		mWaited, mScrapes = mWaited+waited, mScrapes+scrapes
		lo, hi = min(lo, slices.Min(calls)), max(hi, slices.Max(calls))
		fmt.Fprintf(os.Stderr, "run %d of %d: one organization of %d series, the same TTL…\n", run+1, scaleRuns, orgs*n)
		oCPU, waited, scrapes, _, err := b.ttlRun(bin, one, 1)
		if err != nil {
			return err
		}
		oWaited, oScrapes = oWaited+waited, oScrapes+scrapes
		mCPUs, oCPUs = append(mCPUs, float64(mCPU)), append(oCPUs, float64(oCPU))
		ratios = append(ratios, float64(mCPU)/float64(oCPU))
	}
	ttls := int64(scaleWindow / scaleTTL)
	b.add(fmt.Sprintf("%d organizations × %d series, TTL %v, /metrics scraped every %v: Groq calls per organization in %d TTLs (%d runs)", orgs, n, scaleTTL, scrapeInterval, ttls, scaleRuns),
		fmt.Sprintf("**%d to %d**", lo, hi), fmt.Sprintf("%d (one per TTL, ±1 for the window's edges)", ttls), lo >= ttls-1 && hi <= ttls+1)
	r := median(ratios)
	b.add(fmt.Sprintf("… CPU per TTL against one organization of %s series, same TTL and scrapes: medians of %d alternating runs (the runs' ratios)", group(orgs*n), scaleRuns),
		fmt.Sprintf("%s / %s = **%.2f×** (%s)", dur(median(mCPUs)), dur(median(oCPUs)), r, ratioList(ratios)), fmt.Sprintf("≤ %.1f×", scaleCPURatio), r <= scaleCPURatio)
	b.add(fmt.Sprintf("… scrapes that took as long as Groq takes to answer (%v): %d organizations / one", slowGroq, orgs),
		fmt.Sprintf("**%d of %d** / %d of %d", mWaited, mScrapes, oWaited, oScrapes), "none", mWaited == 0)
	return nil
}

// ratioList writes ratios as "1.21×, 1.35×, 1.30×".
func ratioList(ratios []float64) string {
	parts := make([]string, len(ratios))
	for i, r := range ratios {
		parts[i] = fmt.Sprintf("%.2f×", r)
	}
	return strings.Join(parts, ", ")
}

// ttlZeroRatio bounds a scrape with --groq.cache-ttl=0 (Groq asked, the
// answer built and rendered, every scrape) against the least an exporter
// does to serve Groq's answer on every scrape: servePlain.
const ttlZeroRatio = 1.2

// ttlZero measures, at n series, sequential scrapes of an exporter with
// --groq.cache-ttl=0 against sequential scrapes of the plain client_golang
// exporter of servePlain asking the same upstream (query, decode, one const
// gauge per series, one promhttp encode), alternating rounds: the p50
// latency and the CPU per scrape of each. The raw upstream query (bytes the
// upstream holds, no decoding) is shown for scale.
func (b *bench) ttlZero(bin string, n int) error {
	fmt.Fprintf(os.Stderr, "%d series: --groq.cache-ttl=0 against a plain exporter…\n", n)
	e, err := startExporter(bin, b.up.url("fast", n), "0s")
	if err != nil {
		return err
	}
	defer e.stop()
	addr, err := groqtest.FreeAddress()
	if err != nil {
		return err
	}
	p, err := start(addr, exec.Command(b.self, "-serve-plain="+b.up.url("fast", n), "-listen="+addr))
	if err != nil {
		return err
	}
	defer p.stop()
	raw := "http://" + b.up.addr + "/fast/" + fmt.Sprint(n) + "/api/v1/query?query=x"
	get := func() error {
		resp, err := client.Get(raw)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	var eLat, pLat, rLat []time.Duration
	var eCPU, pCPU []float64
	for range b.rounds {
		c, lat, err := e.sequential(b.roundTime)
		if err != nil {
			return err
		}
		eLat, eCPU = append(eLat, lat...), append(eCPU, c)
		if c, lat, err = p.sequential(b.roundTime); err != nil {
			return err
		}
		pLat, pCPU = append(pLat, lat...), append(pCPU, c)
		for end := time.Now().Add(b.roundTime); time.Now().Before(end); {
			start := time.Now()
			if err := get(); err != nil {
				return err
			}
			rLat = append(rLat, time.Since(start))
		}
	}
	ep, pp, rp := percentile(eLat, 50), percentile(pLat, 50), percentile(rLat, 50)
	r := float64(ep) / float64(pp)
	ec, pc := median(eCPU), median(pCPU)
	b.add(fmt.Sprintf("--groq.cache-ttl=0, %s series: p50 of a scrape (Groq asked every time) / p50 of a plain client_golang exporter asking the same upstream (query, decode, const gauges, promhttp) (%d / %d scrapes); CPU per scrape; the raw upstream query's p50 for scale", group(n), len(eLat), len(pLat)),
		fmt.Sprintf("%s / %s = **%.2f×**; CPU %s / %s = %.2f×; raw query %s", dur(float64(ep)), dur(float64(pp)), r, dur(ec), dur(pc), ec/pc, dur(float64(rp))), fmt.Sprintf("≤ %.1f×", ttlZeroRatio), r <= ttlZeroRatio)
	return nil
}
