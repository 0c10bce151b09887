package main

import (
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

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
