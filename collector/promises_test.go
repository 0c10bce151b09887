package collector_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
	"github.com/prometheus/client_golang/prometheus"
)

// The central promises of the collector, each guarded by a test that counts
// calls to Groq and scrapes that waited for it, on a clock the test moves:
// none of them measures time. docs/architecture.md lists them.

// fakeClock is a clock the test moves, safe for the collector's goroutines.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(c *collector.Collector) *fakeClock {
	f := &fakeClock{now: fixedNow}
	collector.SetClock(c, f.Now)
	return f
}

func (f *fakeClock) Now() time.Time          { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Advance(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

// until polls cond until it holds, and fails the test if it does not
// within 20 seconds: a bound on a hang, not a measure of speed.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 20 seconds: %s", what)
		}
	}
}

// valueAnswer is Groq's answer of one series of requests:rate1m with value v.
func valueAnswer(v int) groqtest.Fault {
	return answer(200, fmt.Appendf(nil, `{"status":"success","data":{"resultType":"vector","result":[
	 {"metric":{"__name__":"requests:rate1m","model":"m","status_code":"200"},"value":[1764430000,"%d"]}]}}`, v))
}

// scrapedCollector returns a collector with a TTL, last good values kept for
// an hour, a clock of the test's and a fake Groq answering valueAnswer(1).
func scrapedCollector(t *testing.T, ttl time.Duration) (*collector.Collector, *prometheus.Registry, *groqtest.GatewayServer, *fakeClock) {
	t.Helper()
	c, reg, gw := newTestCollector(t, collector.Options{CacheTTL: ttl, MaxStale: time.Hour})
	t.Cleanup(c.Close)
	clock := newFakeClock(c)
	set(gw, valueAnswer(1))
	return c, reg, gw, clock
}

// TestNoScrapeWaitsAfterWarmUp: once the first refresh is in, no scrape
// waits for Groq, even while Groq holds every call: scrapes serve the last
// completed refresh while the next one runs in the background.
func TestNoScrapeWaitsAfterWarmUp(t *testing.T) {
	c, _, gw, clock := scrapedCollector(t, time.Second)
	c.Refresh(context.Background()) // the warm-up: the one scrape that waits
	if waits, _ := collector.Waits(c); waits != 1 || !c.Status().Up {
		t.Fatalf("warm-up: %d scrapes waited, status %+v", waits, c.Status())
	}

	release := make(chan struct{})
	defer close(release)
	held := valueAnswer(2)
	held.Block = release
	set(gw, held)
	// Ten seconds of scrapes, five at a time every 250 ms, while every call
	// to Groq is held (the refresh's own deadline, 10 s, never passes on
	// the test's clock).
	for step := range 40 {
		clock.Advance(250 * time.Millisecond)
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				c.Refresh(ctx)
			})
		}
		wg.Wait()
		if waits, _ := collector.Waits(c); waits != 1 {
			t.Fatalf("at %v after the warm-up, %d scrapes had waited for the held Groq, want none", time.Duration(step+1)*250*time.Millisecond, waits-1)
		}
		if !c.Status().Up {
			t.Fatalf("a scrape did not serve the last completed refresh: %+v", c.Status())
		}
	}
	until(t, "the refresh under way reaches Groq", func() bool { return gw.Requests() == 2 })
	if waits, _ := collector.Waits(c); waits != 1 || !collector.Looping(c) {
		t.Errorf("%d scrapes waited for the held Groq", waits-1)
	}
}

// TestConcurrentScrapesShareOneCall: scrapes that arrive while a refresh
// is under way wait for that one, with a TTL and with none: a hundred
// scrapes make one call.
func TestConcurrentScrapesShareOneCall(t *testing.T) {
	for _, ttl := range []time.Duration{30 * time.Second, 0} {
		t.Run(fmt.Sprint("ttl=", ttl), func(t *testing.T) {
			c, _, gw := newTestCollector(t, collector.Options{CacheTTL: ttl})
			defer c.Close()
			newFakeClock(c)
			release := make(chan struct{})
			held := valueAnswer(1)
			held.Block = release
			set(gw, held)
			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() { c.Refresh(context.Background()) })
			}
			until(t, "all 100 scrapes wait", func() bool { _, now := collector.Waits(c); return now == 100 })
			until(t, "the call reaches Groq", func() bool { return gw.Requests() > 0 })
			if n := gw.Requests(); n != 1 {
				t.Errorf("100 concurrent scrapes made %d calls to Groq, want 1", n)
			}
			close(release)
			wg.Wait()
			if n := gw.Requests(); n != 1 {
				t.Errorf("100 concurrent scrapes made %d calls to Groq in all, want 1", n)
			}
			if !c.Status().Up {
				t.Errorf("the shared refresh failed: %+v", c.Status())
			}
			if ttl == 0 { // and a scrape after it has ended asks again
				c.Refresh(context.Background())
				c.Refresh(context.Background())
				if n := gw.Requests(); n != 3 {
					t.Errorf("with TTL 0, two scrapes one after the other made %d calls, want 2", n-1)
				}
			}
		})
	}
}

// TestOneCallPerTTLWhileScraped: scrapes every 100 ms for a minute, with a
// TTL of a second, ask Groq at most once per second: 61 times at the most
// (the first call at 0), and no fewer than one per two TTLs.
func TestOneCallPerTTLWhileScraped(t *testing.T) {
	c, _, gw, clock := scrapedCollector(t, time.Second)
	for range 600 {
		c.Refresh(context.Background())
		until(t, "the refresh ends", func() bool { return collector.Quiet(c) })
		clock.Advance(100 * time.Millisecond)
	}
	if n := gw.Requests(); n > 61 || n < 30 {
		t.Errorf("a minute of scrapes with a TTL of 1s made %d calls to Groq, want between 30 and 61", n)
	}
}

// TestNoCallWhenNobodyScrapes: the refreshes ahead stop once nobody has
// scraped for three TTLs: then nothing is left that could call Groq.
func TestNoCallWhenNobodyScrapes(t *testing.T) {
	c, _, gw, clock := scrapedCollector(t, time.Second)
	for range 10 {
		c.Refresh(context.Background())
		clock.Advance(time.Second)
	}
	scraped := gw.Requests()
	// Nobody scrapes from now on; the loop may still refresh ahead of the
	// scrape it expects, for three TTLs.
	for range 100 {
		clock.Advance(100 * time.Millisecond)
		until(t, "the refresh ends", func() bool { return collector.Quiet(c) })
	}
	until(t, "the refresh-ahead loop stops", func() bool { return !collector.Looping(c) && collector.Quiet(c) })
	if n := gw.Requests() - scraped; n > 3 {
		t.Errorf("%d calls to Groq after the last scrape, want at most 3 (one per TTL for three TTLs)", n)
	}
	idle := gw.Requests()
	clock.Advance(time.Hour)
	if n := gw.Requests() - idle; n != 0 || collector.Looping(c) {
		t.Errorf("%d calls to Groq while nobody scraped", n)
	}
}

// TestNextScrapeServesTheRefresh: once a refresh has ended, the very next
// scrape serves its values, whether the refresh reused the last answer's
// gauges (the same series, new values) or not.
func TestNextScrapeServesTheRefresh(t *testing.T) {
	c, reg, gw := newTestCollector(t, collector.Options{CacheTTL: time.Second, MaxStale: time.Hour})
	defer c.Close()
	clock := newFakeClock(c)
	for v := 1; v <= 5; v++ {
		set(gw, valueAnswer(v))
		clock.Advance(time.Second)
		c.Refresh(context.Background()) // the first waits; the others start one in the background
		until(t, "the refresh ends", func() bool { return collector.Quiet(c) })
		want := fmt.Sprintf(`groq_requests_rate1m{model="m",status_code="200"} %d`+"\n", v)
		if got := collector.Exposition(t, reg); !strings.Contains(got, want) {
			t.Fatalf("after refresh %d the next scrape does not serve %q:\n%s", v, want, got)
		}
	}
}

// TestLastGoodValuesForMaxStale: while Groq fails, the last good values are
// served for exactly MaxStale after the refresh that got them, and not a
// moment longer.
func TestLastGoodValuesForMaxStale(t *testing.T) {
	c, reg, gw := newTestCollector(t, collector.Options{MaxStale: 5 * time.Minute})
	clock := newFakeClock(c)
	set(gw, valueAnswer(7))
	c.Refresh(context.Background())
	const series = `groq_requests_rate1m{model="m",status_code="200"} 7` + "\n"
	set(gw, answer(500, []byte(`{"status":"error","errorType":"500","error":"boom"}`)))
	for _, tc := range []struct {
		after  time.Duration
		served bool
	}{{time.Minute, true}, {5 * time.Minute, true}, {5*time.Minute + time.Nanosecond, false}, {time.Hour, false}} {
		clock.mu.Lock()
		clock.now = fixedNow.Add(tc.after)
		clock.mu.Unlock()
		c.Refresh(context.Background())
		got := collector.Exposition(t, reg)
		if strings.Contains(got, series) != tc.served || !strings.Contains(got, "\ngroq_up 0\n") {
			t.Errorf("%v after the last good refresh, with Groq failing: served %v, want %v, and groq_up 0:\n%s",
				tc.after, !tc.served, tc.served, got)
		}
	}
}

// TestRefreshAheadOfSparseScrapes: scrapes further apart than the TTL find
// a refresh made for them by the loop, not by a scrape, and none waits.
func TestRefreshAheadOfSparseScrapes(t *testing.T) {
	const ttl = 100 * time.Millisecond // the loop sleeps, in real time, what the test's clock says
	c, _, gw, clock := scrapedCollector(t, ttl)
	c.Refresh(context.Background()) // the warm-up
	for i := range 5 {
		clock.Advance(3*ttl - ttl/2)
		if i > 0 { // once the loop knows the scrapes come every 3 TTLs
			before := gw.Requests()
			until(t, "the loop refreshes before the next scrape", func() bool { return gw.Requests() > before && collector.Quiet(c) })
		}
		clock.Advance(ttl / 2)
		c.Refresh(context.Background())
		until(t, "the refresh ends", func() bool { return collector.Quiet(c) })
	}
	if waits, _ := collector.Waits(c); waits != 1 {
		t.Errorf("%d sparse scrapes waited for Groq, want none", waits-1)
	}
}
