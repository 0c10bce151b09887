package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// What the exporter asks of Groq (the calls counted: Groq is a paid,
// rate-limited API) and how it bears Groq's faults.
//
// Fault injection: the real exporter (run) against an upstream that fails in
// every way Groq or a proxy can. Whatever Groq does, a scrape answers 200 with a
// valid exposition in time, groq_up says whether the refresh worked, the log
// says why it did not, and afterwards the goroutines and the heap are back
// where they were. No timing is asserted: "in time" means the scrape answered
// before a client timeout far longer than the scrape timeout it announced.

// faultKey is the key the exporter sends in these tests.
const faultKey = "gsk_faultInjectionKey0123456789"

// newFaultyGroq starts a healthy fake Groq, two models' worth of every
// built-in series, misbehaving as faults say (see groqtest.Fault); the last
// fault stays until the test ends or ClearFaults.
func newFaultyGroq(t *testing.T, faults ...groqtest.Fault) *groqtest.GatewayServer {
	t.Helper()
	g := groqtest.FakeForTest(t)
	g.SetSeries(groqtest.VectorSamples(2 * groqtest.PerModel)...)
	g.Inject(faults...)
	return g
}

// answer is a fixed body with a status and headers, instead of the series.
func answer(status int, body string, header ...string) groqtest.Fault {
	f := groqtest.Fault{Status: status, Text: body, Header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		f.Header[header[i]] = header[i+1]
	}
	if body == "" {
		f.Body = groqtest.EmptyBody
	}
	return f
}

// hang accepts the request and never answers, until the client gives up.
var hang = groqtest.Fault{Hang: true}

// huge streams a body of size bytes, generated on the fly, announcing its
// length or not; it stops when the client hangs up.
func huge(size int64, contentLength bool) groqtest.Fault {
	return groqtest.Fault{Endless: size, ContentLength: contentLength}
}

// checkNoLeaks records the goroutines and the heap now, and when the test
// ends (after the cleanups registered later: exporter, upstream) waits a
// bounded time for the goroutines to come back to that number, and checks that
// the heap did not keep what the test made. Call it first in a test.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	startSignalLoop.Do(func() {
		// run's signal.Notify starts os/signal's loop, which lives as long as
		// the process: start it before the first count, not inside a test.
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		signal.Stop(c)
	})
	goroutines, heap := runtime.NumGoroutine(), heapInUse()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		n := runtime.NumGoroutine()
		for ; n > goroutines && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(20 * time.Millisecond)
		}
		if n > goroutines {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines after the test, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
		}
		const margin = 16 << 20
		if after := heapInUse(); after > heap+margin {
			t.Errorf("heap in use grew from %d to %d MiB", heap>>20, after>>20)
		}
	})
}

var startSignalLoop sync.Once

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle empties the sync.Pools
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// scrapeClient never keeps a connection, so that no idle connection counts
// as a leak; its timeout is far longer than any scrape timeout the tests send.
var scrapeClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// scrape fetches /metrics with Prometheus's scrape timeout header and
// requires a 200 with an exposition that Prometheus's parser reads.
func scrape(t *testing.T, e *instance, timeout string) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := tryScrape(e, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func tryScrape(e *instance, timeout string) (map[string]*dto.MetricFamily, error) {
	req, _ := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape (timeout %ss) did not answer: %w", timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape answered %d, %v:\n%s", resp.StatusCode, err, body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("exposition does not parse: %w\n%s", err, body)
	}
	if _, ok := mfs["groq_up"]; !ok {
		return nil, fmt.Errorf("no groq_up in:\n%s", body)
	}
	return mfs, nil
}

func gaugeValue(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	mf, ok := mfs[name]
	if !ok {
		return -1
	}
	for _, m := range mf.Metric {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
			}
			match = match && found
		}
		if match {
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// groqSeries counts the built-in series in an exposition.
func groqSeries(mfs map[string]*dto.MetricFamily) int {
	n := 0
	for _, name := range collector.BuiltinFamilies() {
		if mf, ok := mfs[name]; ok {
			n += len(mf.Metric)
		}
	}
	return n
}

// TestUpstreamFaults: one good refresh, then the fault, on a cache TTL of 0
// so that every scrape asks Groq.
func TestUpstreamFaults(t *testing.T) {
	const big = 64 << 20 // against the default cap of 8 MiB
	cases := []struct {
		name    string
		h       groqtest.Fault
		timeout string   // X-Prometheus-Scrape-Timeout-Seconds of the faulty scrape
		up      float64  // groq_up it must show
		slow    bool     // Groq outlasts the scrape: see below
		log     []string // what the log must say
		check   func(t *testing.T, mfs map[string]*dto.MetricFamily)
	}{
		{name: "hangs past the scrape timeout", h: hang, timeout: "0.5", slow: true, log: []string{"cannot reach Groq", "context deadline exceeded"}},
		{name: "slow trickle body", h: groqtest.Fault{Trickle: 50 * time.Millisecond}, timeout: "0.5", slow: true, log: []string{"cannot reach Groq", "reading the response"}},
		{name: "500", h: answer(500, `{"status":"error","errorType":"500","error":"internal"}`), timeout: "3",
			log: []string{"Groq-side failure (HTTP 500): internal"}},
		{name: "502 HTML page", h: answer(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Content-Type", "text/html"), timeout: "3",
			log: []string{"Groq-side failure (HTTP 502): non-JSON body"}},
		{name: "503", h: answer(503, ""), timeout: "3", log: []string{"Groq-side failure (HTTP 503)"}},
		{name: "401", h: answer(401, `{"status":"error","errorType":"401","error":"invalid API key"}`), timeout: "3",
			log: []string{"Groq rejected the API key (HTTP 401)", "(the key comes from $GROQ_API_KEY)"}},
		{name: "200 HTML page", h: answer(200, "<!DOCTYPE html><html><body>Sign in</body></html>", "Content-Type", "text/html"), timeout: "3",
			log: []string{"unexpected response from Groq (HTTP 200): not JSON"}},
		{name: "truncated JSON", h: answer(200, string(groqtest.Vector(100))[:2000]), timeout: "3",
			log: []string{"truncated JSON after 2000 bytes"}},
		{name: "status error", h: answer(200, `{"status":"error","errorType":"execution","error":"query timed out"}`), timeout: "3",
			log: []string{"Groq rejected the query (HTTP 200): execution: query timed out"}},
		{name: "wrong resultType", h: answer(200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`), timeout: "3",
			log: []string{`result type \"matrix\", want vector`}},
		{name: "huge body with Content-Length", h: huge(big, true), timeout: "3",
			log: []string{"exceeds the size limit (HTTP 200): more than 8388608 bytes"}},
		{name: "huge body without Content-Length", h: huge(big, false), timeout: "3",
			log: []string{"exceeds the size limit (HTTP 200): more than 8388608 bytes"}},
		{name: "invalid UTF-8 labels", up: 1, timeout: "3",
			h: answer(200, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"requests:rate1m","model":"bad-`+"\xff\xfe"+`","status_code":"200"},"value":[1,"1"]},
				{"metric":{"__name__":"requests:rate1m","model":"surrogate-\ud800","status_code":"200"},"value":[1,"2"]},
				{"metric":{"__name__":"requests:rate1m","model":"ok","status_code":"200","re`+"\xff"+`gion":"x"},"value":[1,"3"]}]}}`),
			check: func(t *testing.T, mfs map[string]*dto.MetricFamily) {
				if n := groqSeries(mfs); n != 3 {
					t.Errorf("%d series, want 3 (invalid bytes become U+FFFD)", n)
				}
				if v := gaugeValue(mfs, "groq_requests_rate1m", "model", "bad-\ufffd\ufffd"); v != 1 {
					t.Errorf("model with invalid UTF-8: %v", v)
				}
				if v := gaugeValue(mfs, "groq_requests_rate1m", "re___gion", "x"); v != 3 {
					t.Errorf("label name with invalid UTF-8 not sanitized to re___gion (U+FFFD is three bytes): %v", v)
				}
			}},
		{name: "duplicate series", up: 1, timeout: "3", log: []string{`reason=duplicate count=1 example=requests:rate1m`,
			`reason=name_collision count=1 example="tokens_in:0.99:rate5m → groq_tokens_in, as tokens_in:p99:rate5m is"`},
			h: answer(200, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"requests:rate1m","model":"a","status_code":"200"},"value":[1,"1"]},
				{"metric":{"__name__":"requests:rate1m","model":"a","status_code":"200"},"value":[1,"2"]},
				{"metric":{"__name__":"tokens_in:p99:rate5m","model":"a"},"value":[1,"3"]},
				{"metric":{"__name__":"tokens_in:0.99:rate5m","model":"a"},"value":[1,"4"]}]}}`),
			check: func(t *testing.T, mfs map[string]*dto.MetricFamily) {
				if v := gaugeValue(mfs, "groq_series_dropped", "reason", "duplicate"); v != 1 {
					t.Errorf("groq_series_dropped{reason=duplicate} = %v, want 1", v)
				}
				if v := gaugeValue(mfs, "groq_series_dropped", "reason", "name_collision"); v != 1 {
					t.Errorf("groq_series_dropped{reason=name_collision} = %v, want 1", v)
				}
				if n := groqSeries(mfs); n != 2 {
					t.Errorf("%d series, want 2", n)
				}
			}},
		{name: "NaN and Inf values", up: 1, timeout: "3",
			h: answer(200, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"requests:rate1m","model":"nan","status_code":"200"},"value":[1,"NaN"]},
				{"metric":{"__name__":"requests:rate1m","model":"inf","status_code":"200"},"value":[1,"+Inf"]},
				{"metric":{"__name__":"requests:rate1m","model":"-inf","status_code":"200"},"value":[1,"-Inf"]}]}}`),
			check: func(t *testing.T, mfs map[string]*dto.MetricFamily) {
				if n := groqSeries(mfs); n != 3 {
					t.Errorf("%d series, want 3", n)
				}
			}},
		{name: "tens of thousands of series", up: 1, timeout: "10", h: answer(200, string(groqtest.Vector(20000))),
			check: func(t *testing.T, mfs map[string]*dto.MetricFamily) {
				if n := groqSeries(mfs); n != 20000 {
					t.Errorf("%d series, want 20000", n)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkNoLeaks(t)
			g := newFaultyGroq(t)
			e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey},
				"--groq.url="+g.BaseURL(), "--groq.cache-ttl=0", "--log.level=debug")
			if mfs := scrape(t, e, "3"); gaugeValue(mfs, "groq_up") != 1 {
				t.Fatalf("healthy Groq: groq_up %v\n%s", gaugeValue(mfs, "groq_up"), e.log)
			}
			g.Inject(tc.h)
			mfs := scrape(t, e, tc.timeout)
			if tc.slow {
				// The scrape answered within its timeout with the last
				// completed refresh: its impatience fails nothing. The
				// refresh goes on to its own deadline, and a patient scrape
				// gets its outcome.
				if up := gaugeValue(mfs, "groq_up"); up != 1 {
					t.Errorf("a scrape that gave up on a slow Groq shows groq_up %v, want 1 (the last completed refresh)\n%s", up, e.log)
				}
				mfs = scrape(t, e, "15")
			}
			if up := gaugeValue(mfs, "groq_up"); up != tc.up {
				t.Errorf("groq_up %v, want %v\n%s", up, tc.up, e.log)
			}
			if tc.up == 0 && groqSeries(mfs) != 2*groqtest.PerModel {
				t.Errorf("the last good values are not served while within --groq.max-stale: %d series", groqSeries(mfs))
			}
			log := e.log.String()
			for _, want := range tc.log {
				if !strings.Contains(log, want) {
					t.Errorf("log does not say %q:\n%s", want, log)
				}
			}
			if tc.up == 0 && !strings.Contains(log, `level=warn`) {
				t.Errorf("failed refresh not logged at warn:\n%s", log)
			}
			if tc.check != nil {
				tc.check(t, mfs)
			}
		})
	}
}

// TestUpstreamRefused: nothing listens at the Groq URL.
func TestUpstreamRefused(t *testing.T) {
	checkNoLeaks(t)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey}, "--groq.url=http://"+groqtest.FreeAddr(t), "--log.level=debug")
	mfs := scrape(t, e, "3")
	if up := gaugeValue(mfs, "groq_up"); up != 0 {
		t.Errorf("groq_up %v, want 0", up)
	}
	if log := e.log.String(); !strings.Contains(log, "cannot reach Groq") || !strings.Contains(log, "connection refused") {
		t.Errorf("log does not say the connection was refused:\n%s", log)
	}
}

// TestRateLimitStorm: Groq answers every call with 429 and Retry-After. The
// scrapes still answer, groq_up is 0, and the exporter does not ask again
// before Retry-After has passed, however often it is scraped.
func TestRateLimitStorm(t *testing.T) {
	checkNoLeaks(t)
	g := newFaultyGroq(t, answer(429, `{"status":"error","errorType":"429","error":"too many requests"}`, "Retry-After", "30"))
	e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey}, "--groq.url="+g.BaseURL(), "--groq.cache-ttl=0", "--log.level=debug")
	for range 10 {
		if up := gaugeValue(scrape(t, e, "3"), "groq_up"); up != 0 {
			t.Fatalf("groq_up %v, want 0", up)
		}
	}
	if n := g.Requests(); n != 1 {
		t.Errorf("10 scrapes during a 30s Retry-After made %d calls to Groq, want 1", n)
	}
	if log := e.log.String(); !strings.Contains(log, "rate-limited by Groq (HTTP 429): too many requests") {
		t.Errorf("log does not say Groq rate-limited the exporter:\n%s", log)
	}
}

// TestConcurrentScrapes: 200 scrapes at once, while Groq takes its time to
// answer, all get a valid exposition with groq_up 1, from one call to Groq.
func TestConcurrentScrapes(t *testing.T) {
	checkNoLeaks(t)
	g := newFaultyGroq(t, groqtest.Fault{Delay: 200 * time.Millisecond})
	e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey}, "--groq.url="+g.BaseURL())
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 200 {
		wg.Go(func() {
			mfs, err := tryScrape(e, "10")
			if err != nil {
				t.Error(err)
				failed.Add(1)
			} else if gaugeValue(mfs, "groq_up") != 1 || groqSeries(mfs) != 2*groqtest.PerModel {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of 200 concurrent scrapes did not get groq_up 1 and every series", n)
	}
	if n := g.Requests(); n != 1 {
		t.Errorf("200 concurrent scrapes made %d calls to Groq, want 1", n)
	}
}

// TestScrapesDisconnectEarly: scrapers that hang up while Groq is slow cost
// nothing: the refresh they started goes on, the next scrape gets its result
// without another call, and nothing is left behind.
func TestScrapesDisconnectEarly(t *testing.T) {
	checkNoLeaks(t)
	release := make(chan struct{})
	g := newFaultyGroq(t, groqtest.Fault{Block: release})
	e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey}, "--groq.url="+g.BaseURL())
	impatient := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := impatient.Get(e.url + "/metrics")
			if err == nil {
				resp.Body.Close()
				t.Errorf("a scrape answered (%d) while Groq had not", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(release)
	mfs := scrape(t, e, "10")
	if up := gaugeValue(mfs, "groq_up"); up != 1 || groqSeries(mfs) != 2*groqtest.PerModel {
		t.Errorf("after Groq answered: groq_up %v, %d series\n%s", up, groqSeries(mfs), e.log)
	}
	if n := g.Requests(); n != 1 {
		t.Errorf("%d calls to Groq, want 1", n)
	}
}

// The upstream cost of the exporter, counted: Groq is a paid, rate-limited
// API, so the number of calls is part of the contract.

// TestOneCallPerRefresh: one scrape refreshes every built-in family with a
// single call to Groq, whose one selector takes every recording-rule style
// name (a colon in it): the documented ones, and those Groq adds.
func TestOneCallPerRefresh(t *testing.T) {
	g := newFaultyGroq(t)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey}, "--groq.url="+g.BaseURL())
	mfs := scrape(t, e, "10")
	if n := g.Requests(); n != 1 {
		t.Fatalf("one refresh made %d calls to Groq, want 1", n)
	}
	for _, name := range collector.BuiltinFamilies() {
		if mf, ok := mfs[name]; !ok || len(mf.Metric) == 0 {
			t.Errorf("family %s not refreshed", name)
		}
	}
	if q := g.Calls()[0].Query(); q != `{__name__=~".+:.+"}` {
		t.Errorf("the query is %s, want every name with a colon", q)
	}
}

// TestOneCallPerTTL: 100 concurrent scrapes, then more within the cache TTL,
// make one call to Groq in all; groq_api_requests_total says the same.
func TestOneCallPerTTL(t *testing.T) {
	g := newFaultyGroq(t, groqtest.Fault{Delay: 100 * time.Millisecond}) // so that the scrapes overlap the call
	e := startExporter(t, map[string]string{"GROQ_API_KEY": faultKey}, "--groq.url="+g.BaseURL(), "--groq.cache-ttl=1h")
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 100 {
		wg.Go(func() { // only counted here; TestConcurrentScrapes parses what 200 scrapes get
			resp, err := scrapeClient.Get(e.url + "/metrics")
			if err != nil {
				bad.Add(1)
				return
			}
			defer resp.Body.Close()
			if b, err := io.ReadAll(resp.Body); err != nil || !strings.Contains(string(b), "\ngroq_up 1\n") {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	for range 10 {
		scrape(t, e, "10")
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("%d of 100 concurrent scrapes failed or saw groq_up 0", n)
	}
	if n := g.Requests(); n != 1 {
		t.Errorf("110 scrapes within one TTL made %d calls to Groq, want 1", n)
	}
	_, body := e.get(t, "/metrics")
	if !strings.Contains(body, `groq_api_requests_total{code="200",endpoint="query"} 1`+"\n") {
		t.Errorf("groq_api_requests_total does not count 1 call:\n%s", body)
	}
}
