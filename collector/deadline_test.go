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
