// Package collector turns Groq's usage series into Prometheus gauges. It owns
// the exported names and labels, the translation of upstream names, the cache
// that keeps Groq from being asked more than once per TTL, and the
// self-metrics. It speaks no HTTP: a groq.Client (or anything with its Query
// method) does that.
package collector

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/groq"
)

const namespace = "groq"

// Defaults for Options left zero.
const (
	DefaultCacheTTL = 30 * time.Second
	DefaultMaxStale = 5 * time.Minute
	// DefaultRefreshTimeout bounds a refresh started without a deadline.
	DefaultRefreshTimeout = 10 * time.Second
)

// Querier runs an instant MetricsQL query; *groq.Client is one.
type Querier interface {
	Query(ctx context.Context, expr string) ([]groq.Sample, error)
}

// Options configures a Collector.
type Options struct {
	// CacheTTL is how long a refresh is reused: Groq is asked at most once
	// per CacheTTL, however many scrapes arrive. Zero asks on every scrape
	// (concurrent scrapes still share one call).
	CacheTTL time.Duration
	// MaxStale is how long the last good values keep being served while
	// refreshes fail. Past it they are dropped.
	MaxStale time.Duration
	// Families restricts the built-in families (exported names); empty means all.
	Families []string
	// Models, a regular expression, restricts the models; empty means all.
	Models string
	Logger log.Logger
}

var (
	upDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "up"),
		"1 if the last refresh from Groq succeeded, else 0.", nil, nil)
	durationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "duration_seconds"),
		"How long the last refresh from Groq took, in seconds. Groq is asked at most once per --groq.cache-ttl; scrapes in between are served from the cache.", nil, nil)
	lastSuccessDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "last_refresh", "success_timestamp_seconds"),
		"Unix time of the last successful refresh from Groq; 0 if there was none.", nil, nil)
	droppedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "series", "dropped"),
		"Series in Groq's last answer that are not exported, by reason (unknown_name, bad_percentile, duplicate, invalid).", []string{"reason"}, nil)
)

// Collector is a prometheus.Collector serving Groq's series from a cache that
// Refresh fills. It is unchecked (Describe sends nothing): the label sets of
// the families follow what Groq returns.
type Collector struct {
	querier  Querier
	expr     string
	ttl      time.Duration
	maxStale time.Duration
	logger   log.Logger
	now      func() time.Time

	mu       sync.Mutex
	inflight chan struct{} // closed when the running refresh ends
	started  time.Time     // start of the last refresh
	state    state
}

// state is the outcome of the refreshes so far; replaced whole, never mutated.
type state struct {
	up          bool
	duration    time.Duration
	lastRefresh time.Time
	lastSuccess time.Time
	lastErr     error
	metrics     []prometheus.Metric // from the last successful refresh
	dropped     map[string]int      // by reason, last successful refresh
	families    map[string]int      // series per exported family
	models      []string
}

// New returns a Collector that queries q.
func New(q Querier, opts Options) (*Collector, error) {
	for _, f := range opts.Families {
		if !contains(BuiltinFamilies(), f) {
			return nil, fmt.Errorf("unknown built-in family %q (known: %v)", f, BuiltinFamilies())
		}
	}
	if opts.CacheTTL < 0 || opts.MaxStale < 0 {
		return nil, fmt.Errorf("cache TTL and max stale must not be negative")
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	return &Collector{
		querier:  q,
		expr:     builtinSelector(opts.Families, opts.Models),
		ttl:      opts.CacheTTL,
		maxStale: opts.MaxStale,
		logger:   opts.Logger,
		now:      time.Now,
	}, nil
}

// Refresh makes sure the cache is at most one TTL old. Concurrent callers
// share one refresh; a caller whose context ends stops waiting, while the
// refresh itself goes on until the deadline of the caller that started it (or
// DefaultRefreshTimeout), so that the next scrape finds its result.
func (c *Collector) Refresh(ctx context.Context) {
	c.mu.Lock()
	done := c.inflight
	if done == nil {
		if !c.started.IsZero() && c.now().Sub(c.started) < c.ttl {
			c.mu.Unlock()
			return
		}
		done = make(chan struct{})
		c.inflight = done
		c.started = c.now()
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(DefaultRefreshTimeout)
		}
		rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		go func() {
			defer cancel()
			st := c.refresh(rctx)
			c.mu.Lock()
			c.state = st
			c.inflight = nil
			c.mu.Unlock()
			close(done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// refresh asks Groq once and returns the new state.
func (c *Collector) refresh(ctx context.Context) state {
	start := c.now()
	samples, err := c.querier.Query(ctx, c.expr)
	c.mu.Lock()
	prev := c.state
	c.mu.Unlock()

	st := prev
	st.lastRefresh = start
	st.duration = c.now().Sub(start)
	if err != nil {
		st.up, st.lastErr = false, err
		if prev.lastErr == nil || prev.lastErr.Error() != err.Error() {
			level.Warn(c.logger).Log("msg", "Refresh from Groq failed; serving the last good values until they are too old", "err", err, "last_success", formatTime(prev.lastSuccess))
		} else {
			level.Debug(c.logger).Log("msg", "Refresh from Groq failed again", "err", err)
		}
		return st
	}

	dropped := map[string]int{}
	examples := map[string]string{}
	translated := make([]series, 0, len(samples))
	for _, s := range samples {
		out, reason := translateBuiltin(s)
		if reason != "" {
			dropped[reason]++
			examples[reason] = s.Labels["__name__"]
			continue
		}
		translated = append(translated, out)
	}
	st.metrics = build(translated, dropped)
	st.up, st.lastErr, st.lastSuccess, st.dropped = true, nil, start, dropped
	st.families, st.models = summarize(translated)

	if prev.lastErr != nil {
		level.Info(c.logger).Log("msg", "Refresh from Groq succeeded again", "series", len(st.metrics))
	}
	lvl := level.Debug
	if !maps.Equal(dropped, prev.dropped) {
		lvl = level.Warn
	}
	for _, reason := range slices.Sorted(maps.Keys(dropped)) {
		lvl(c.logger).Log("msg", "Series from Groq not exported", "reason", reason, "count", dropped[reason], "example", examples[reason])
	}
	level.Debug(c.logger).Log("msg", "Refreshed from Groq", "series", len(st.metrics), "duration", st.duration)
	return st
}

// Describe sends nothing: the collector is unchecked, because the label sets
// follow Groq's answers.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the cached series and the self-metrics. It never calls Groq.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st.up || !st.lastSuccess.IsZero() && c.now().Sub(st.lastSuccess) <= c.maxStale {
		for _, m := range st.metrics {
			ch <- m
		}
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, boolFloat(st.up))
	ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, st.duration.Seconds())
	ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, unixSeconds(st.lastSuccess))
	for _, reason := range []string{dropUnknownName, dropBadPercentile, dropDuplicate, dropInvalid} {
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.GaugeValue, float64(st.dropped[reason]), reason)
	}
}

// Status is what the last refreshes found, for the status page.
type Status struct {
	Up          bool
	LastRefresh time.Time // zero before the first refresh
	LastSuccess time.Time
	Duration    time.Duration
	LastError   string // safe to show: the client redacts credentials
	Families    map[string]int
	Models      []string
	Dropped     map[string]int
}

// Status returns what the last refreshes found.
func (c *Collector) Status() Status {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	s := Status{Up: st.up, LastRefresh: st.lastRefresh, LastSuccess: st.lastSuccess, Duration: st.duration,
		Families: st.families, Models: st.models, Dropped: st.dropped}
	if st.lastErr != nil {
		s.LastError = st.lastErr.Error()
	}
	return s
}

func summarize(all []series) (map[string]int, []string) {
	families := map[string]int{}
	models := map[string]bool{}
	for _, s := range all {
		families[s.family.Name]++
		if m, ok := s.labels["model"]; ok {
			models[m] = true
		}
	}
	return families, slices.Sorted(maps.Keys(models))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func quote(s string) string { return strconv.Quote(s) }
