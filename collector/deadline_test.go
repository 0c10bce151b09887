package collector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestImpatientScrapesFailNothing: when Groq stops answering, scrapes that
// give up serve the last completed refresh (groq_up stays 1: it reports
// refreshes, never one scraper's impatience) and share one call however many
// they are; the refresh ends on its own deadline, and its failure is then
// what the status says.
func TestImpatientScrapesFailNothing(t *testing.T) {
	srv := groqtest.FakeForTest(t)
	srv.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	client, err := groq.New(groq.Config{URL: srv.BaseURL(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := collector.New(client, collector.Options{CacheTTL: 0, MaxStale: time.Hour, RefreshTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.Refresh(context.Background())
	if st := c.Status(); !st.Up {
		t.Fatalf("first refresh: %+v", st)
	}
	srv.Inject(groqtest.Fault{Hang: true})
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		c.Refresh(ctx)
		cancel()
		if st := c.Status(); !st.Up {
			t.Fatalf("scrape %d gave up, and the status went down with it: %+v", i, st)
		}
	}
	if n := srv.Requests(); n != 2 {
		t.Errorf("five impatient scrapes made %d calls in all, want 2: one refresh, shared", n)
	}
	for c.Status().Up {
		c.Refresh(context.Background()) // waits for the refresh under way, or starts one
	}
	if st := c.Status(); !strings.Contains(st.LastError, "cannot reach Groq") {
		t.Errorf("the refresh ended without saying Groq could not be reached: %+v", st)
	}
}

// TestCancelledScrapeLeavesRefreshRunning: a scrape whose client goes away
// (cancelled, not timed out) stops waiting, but the refresh it started goes
// on, and the next scrape gets its result without asking Groq again.
func TestCancelledScrapeLeavesRefreshRunning(t *testing.T) {
	release := make(chan struct{})
	srv := groqtest.FakeForTest(t)
	srv.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	srv.Inject(groqtest.Fault{Block: release})
	client, err := groq.New(groq.Config{URL: srv.BaseURL(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := collector.New(client, collector.Options{CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	go func() {
		for srv.Requests() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel() // the scraper hangs up while Groq is still working
	}()
	c.Refresh(ctx)
	if st := c.Status(); st.Up || !st.LastRefresh.IsZero() {
		t.Fatalf("before Groq answered: %+v", st)
	}
	close(release)
	c.Refresh(context.Background()) // joins the refresh under way, or finds it fresh
	if st := c.Status(); !st.Up {
		t.Errorf("the refresh did not outlive the cancelled scrape: %+v", st)
	}
	if n := srv.Requests(); n != 1 {
		t.Errorf("%d calls to Groq, want 1", n)
	}
}

// TestRefreshAhead: while scrapes keep coming, refreshes run ahead of them:
// no scrape waits for a Groq that is held, Groq is asked at most once per
// TTL, and once nobody scrapes for a few TTLs, nobody asks Groq.
func TestRefreshAhead(t *testing.T) {
	const ttl = 50 * time.Millisecond
	srv := groqtest.FakeForTest(t)
	srv.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	client, err := groq.New(groq.Config{URL: srv.BaseURL(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := collector.New(client, collector.Options{CacheTTL: ttl, MaxStale: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.Refresh(context.Background()) // the first scrape waits for the first refresh
	if !c.Status().Up {
		t.Fatalf("first refresh: %+v", c.Status())
	}

	// Hold Groq: the refresh that runs ahead blocks, and no scrape may.
	release := make(chan struct{})
	srv.Inject(groqtest.Fault{Block: release, Times: 1})
	for srv.Requests() < 2 {
		ctx, cancel := context.WithCancel(context.Background())
		c.Refresh(ctx)
		if ctx.Err() != nil {
			t.Fatal("a scrape waited for Groq after the first refresh")
		}
		cancel()
		time.Sleep(ttl / 5)
	}
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.Refresh(ctx)
		if ctx.Err() != nil {
			t.Fatal("a scrape waited for the held Groq")
		}
		cancel()
		time.Sleep(ttl / 5)
	}
	if !c.Status().Up {
		t.Error("scrapes during a held refresh do not serve the last completed one")
	}
	close(release)
	for range 20 {
		c.Refresh(context.Background())
		time.Sleep(ttl / 5)
	}
	if n, most := srv.Requests(), int(time.Since(start)/ttl)+1; n > most {
		t.Errorf("%d calls to Groq in %v, more than one per TTL (%d)", n, time.Since(start), most)
	}

	// Scrapes further apart than the TTL find a refresh made for them: one
	// that began after the previous scrape had ended, started by nobody but
	// the loop, timed to end before the scrape that is expected.
	fresh := 0
	last := time.Now()
	for range 6 {
		time.Sleep(3 * ttl)
		c.Refresh(context.Background())
		if c.Status().LastRefresh.After(last.Add(ttl / 2)) {
			fresh++
		}
		last = time.Now()
	}
	if fresh < 3 {
		t.Errorf("%d of 6 scrapes found a refresh made ahead of them, want most", fresh)
	}

	// Nobody scrapes: after a few TTLs the refreshes stop.
	time.Sleep(20 * ttl)
	idle := srv.Requests()
	time.Sleep(20 * ttl)
	if n := srv.Requests(); n != idle {
		t.Errorf("%d calls to Groq while nobody scraped", n-idle)
	}
}
