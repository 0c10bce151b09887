package collector

import (
	"context"
	"time"
)

// Refresh is what a scrape calls before it collects. It never waits for
// Groq while the last completed refresh is recent (begun less than a TTL
// plus a refresh timeout ago): from the first scrape on, a background loop
// refreshes ahead of the scrapes, starting each refresh a TTL after the
// previous one began (at most one call per TTL), timed to end before the next
// scrape is expected, and stops when nobody has scraped for a few TTLs. A
// scrape that finds no recent refresh (the first one, or one after a quiet
// spell; or any scrape with a TTL of 0) starts one, or joins the one under
// way, and waits for it until ctx ends. The refresh runs on its own deadline
// (RefreshTimeout): a scrape that stops waiting neither cancels nor fails it,
// and groq_up always reports the last completed refresh.
func (c *Collector) Refresh(ctx context.Context) {
	c.mu.Lock()
	now := c.now()
	if !c.lastScrape.IsZero() && now.After(c.lastScrape) {
		c.interval = now.Sub(c.lastScrape)
	}
	c.lastScrape = now
	recent := c.ttl > 0 && !c.served.IsZero() && now.Sub(c.served) < c.ttl+c.refreshTimeout
	done := c.inflight
	if done == nil && (c.started.IsZero() || now.Sub(c.started) >= c.ttl) {
		done = c.start()
	}
	if c.ttl > 0 && !c.looping && !c.closed {
		c.looping = true
		go c.ahead()
	}
	if recent || done == nil {
		c.mu.Unlock()
		return
	}
	c.waits, c.waiting = c.waits+1, c.waiting+1
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
	c.mu.Lock()
	c.waiting--
	c.mu.Unlock()
}

// start begins a refresh on its own deadline and returns the channel closed
// when it ends. c.mu is held.
func (c *Collector) start() chan struct{} {
	done := make(chan struct{})
	c.inflight = done
	c.started = c.now()
	go func() {
		c.run1()
		close(done)
	}()
	return done
}

// run1 runs the refresh start began, on its own deadline, and publishes it.
func (c *Collector) run1() {
	ctx, cancel := context.WithTimeout(context.Background(), c.refreshTimeout)
	defer cancel()
	st := c.refresh(ctx)
	c.mu.Lock()
	c.state = st
	c.mu.Unlock()
	if c.onRefresh != nil {
		c.onRefresh() // before any scrape serves this refresh
	}
	c.mu.Lock()
	c.inflight, c.served = nil, st.lastRefresh
	c.mu.Unlock()
}

// ahead is the refresh-ahead loop: while scrapes keep coming, it starts each
// refresh once the TTL of the previous one has run out, or later, so that it
// ends just before the next scrape is expected (scrapes further apart than
// the TTL then cost one call each, not one per TTL). It ends when nobody has
// scraped for three TTLs (or three scrape intervals, if longer), or on Close.
func (c *Collector) ahead() {
	for {
		c.mu.Lock()
		now := c.now()
		interval := max(c.interval, c.ttl)
		if c.closed || now.Sub(c.lastScrape) > 3*interval {
			c.looping = false
			c.mu.Unlock()
			return
		}
		lead := min(2*c.state.duration+100*time.Millisecond, interval/2)
		next := c.started.Add(c.ttl)
		if expected := c.lastScrape.Add(interval - lead); expected.After(next) {
			next = expected
		}
		if c.inflight == nil && !now.Before(next) {
			c.start()
			next = c.started.Add(c.ttl)
		}
		wait := max(next.Sub(now), 10*time.Millisecond)
		c.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.stop:
			t.Stop()
		}
	}
}

// Close stops the refresh-ahead loop of a Collector that is no longer
// served; a refresh under way finishes on its own deadline.
func (c *Collector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.stop)
	}
}

// Wait is how long a scrape with the given timeout (0: the scraper did not
// say) waits for Groq: the timeout less time to encode and send the answer,
// or DefaultRefreshTimeout. Timeouts that are not a sane number of seconds
// (NaN, infinite, negative, tiny or over an hour, from a header) are ignored.
func Wait(timeoutSeconds float64) time.Duration {
	if !(timeoutSeconds >= 0.001 && timeoutSeconds <= 3600) { // false for NaN too
		return DefaultRefreshTimeout
	}
	timeout := time.Duration(timeoutSeconds * float64(time.Second))
	return timeout - min(timeout/5, time.Second)
}
