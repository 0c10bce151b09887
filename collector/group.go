package collector

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Group serves the collectors of several organizations as one
// prometheus.Collector, and lets the whole set be replaced (on a
// configuration reload) while scrapes go on.
type Group struct {
	mu         sync.RWMutex
	collectors []*Collector
	generation uint64 // counts Set calls
}

// NewGroup returns a Group serving cs.
func NewGroup(cs ...*Collector) *Group { return &Group{collectors: cs} }

// Set replaces the collectors. Scrapes under way finish with the old set or
// the new one, never a mix of both within one Collect.
func (g *Group) Set(cs []*Collector) {
	g.mu.Lock()
	g.collectors = cs
	g.generation++
	g.mu.Unlock()
}

// Collectors returns the current set.
func (g *Group) Collectors() []*Collector {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.collectors
}

func (g *Group) snapshot() ([]*Collector, uint64) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.collectors, g.generation
}

// Refresh refreshes every organization at once (each with its own cache and
// coalescing) and returns when all are done or ctx ends. If the set was
// replaced meanwhile, the new set is refreshed too, so that a scrape does not
// serve organizations that were never asked.
func (g *Group) Refresh(ctx context.Context) {
	cs, gen := g.snapshot()
	for {
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() { c.Refresh(ctx) })
		}
		wg.Wait()
		var now uint64
		if cs, now = g.snapshot(); now == gen || ctx.Err() != nil {
			return
		}
		gen = now
	}
}

// Describe sends nothing: the collectors are unchecked.
func (g *Group) Describe(chan<- *prometheus.Desc) {}

// Collect sends every organization's series and self-metrics.
func (g *Group) Collect(ch chan<- prometheus.Metric) {
	for _, c := range g.Collectors() {
		c.Collect(ch)
	}
}
