// Package collector turns Groq's usage series into Prometheus gauges. It owns
// the exported names and labels, the translation of upstream names, the custom
// queries, the cache that keeps Groq from being asked more than once per TTL,
// and the self-metrics. It speaks no HTTP: a groq.Client (or anything with its
// QueryAnswer method) does that.
package collector

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

const namespace = "groq"

// Defaults for Options left zero.
const (
	DefaultCacheTTL = 30 * time.Second
	DefaultMaxStale = 5 * time.Minute
	// DefaultRefreshTimeout bounds a refresh started without a deadline.
	DefaultRefreshTimeout = 10 * time.Second
	// DefaultConcurrency is how many queries of one refresh run at once.
	DefaultConcurrency = 4
)

// Querier runs an instant MetricsQL query; *groq.Client is one. On success
// the answer is never nil.
type Querier interface {
	QueryAnswer(ctx context.Context, expr string) (*groq.Answer, error)
}

// Options configures a Collector.
type Options struct {
	// CacheTTL is how long a refresh is reused: Groq is asked at most once
	// per CacheTTL, however many scrapes arrive. Zero asks on every scrape
	// (concurrent scrapes still share one call).
	CacheTTL time.Duration
	// MaxStale is how long the last good values keep being served while
	// refreshes fail. Past it they are dropped. Each query counts on its own.
	MaxStale time.Duration
	// Builtin selects the built-in families; nil exports them all.
	Builtin *config.Builtin
	// Queries are custom MetricsQL queries, each exported as one family.
	Queries []config.Query
	// RefreshTimeout bounds one refresh, retries included; zero means
	// DefaultRefreshTimeout.
	RefreshTimeout time.Duration
	// OnRefresh, if set, is called after each refresh has ended and its
	// outcome is what Collect serves.
	OnRefresh func()
	// Concurrency bounds how many queries of one refresh run at once; zero
	// means DefaultConcurrency.
	Concurrency int
	// Reserved are more metric names that no family translated from Groq
	// may take (the exporter's own, beyond SelfMetrics); a series that would
	// is dropped as name_collision.
	Reserved []string
	// Organization, if set, is the value of the organization label on every
	// series and self-metric. Empty means no such label: the single
	// organization the flags configure.
	Organization string
	Logger       log.Logger
}

// Names and help texts of the self-metrics. groq_up and
// groq_last_refresh_success_timestamp_seconds say more once custom queries
// share the refresh.
const (
	upName            = namespace + "_up"
	durationName      = namespace + "_scrape_duration_seconds"
	lastSuccessName   = namespace + "_last_refresh_success_timestamp_seconds"
	droppedName       = namespace + "_series_dropped"
	querySuccessName  = namespace + "_query_success"
	queryDurationName = namespace + "_query_duration_seconds"
	partialName       = namespace + "_response_partial"

	upHelp               = "1 if the last refresh from Groq succeeded, else 0."
	upHelpQueries        = "1 if every query of the last refresh from Groq succeeded (the built-in families and each custom query), else 0; groq_query_success tells the custom queries apart."
	durationHelp         = "How long the last refresh from Groq took, in seconds. Groq is asked at most once per --groq.cache-ttl; scrapes in between are served from the cache."
	lastSuccessHelp      = "Unix time of the last successful refresh from Groq; 0 if there was none."
	lastSuccessHelpQuery = "Unix time of the last refresh from Groq in which every query succeeded; 0 if there was none."
	droppedHelp          = "Series in Groq's last answer that are not exported, by reason: bad_name (the naming rule cannot translate it), name_collision (another upstream name gives the same series, or the name is taken), unknown_name (not a documented family the configuration keeps), bad_value, bad_label, no_value (not decodable), duplicate, invalid."
	partialHelp          = "1 if Groq said its last answer is partial (some of its storage did not answer, so series may be missing), else 0."
	querySuccessHelp     = "1 if the last run of the custom query against Groq succeeded, else 0."
	queryDurationHelp    = "How long the last run of the custom query against Groq took, in seconds."
)

// SelfMetrics lists the names of the metrics about the exporter itself that
// this package exports. No custom query may take them.
func SelfMetrics() []string {
	return []string{upName, durationName, lastSuccessName, droppedName, querySuccessName, queryDurationName,
		partialName, apiRequestsName, apiRetriesName, refreshErrorsName}
}

// Names are the metric names this package exports on its own, for the
// validation of custom queries (config.Config.Validate).
func Names() config.Names {
	return config.Names{Builtin: BuiltinFamilies(), Reserved: SelfMetrics()}
}

// Collector is a prometheus.Collector serving one organization's series from
// a cache that Refresh fills. It is unchecked (Describe sends nothing): the
// label sets of the families follow what Groq returns.
type Collector struct {
	querier     Querier
	expr        string  // the built-in selector; "" with NoBuiltin
	queries     []query // the built-in selector first, then the custom queries
	concurrency int
	org         string
	ttl         time.Duration
	maxStale    time.Duration
	logger      log.Logger
	now         func() time.Time

	upDesc, durationDesc, lastSuccessDesc, droppedDesc *prometheus.Desc
	querySuccessDesc, queryDurationDesc, partialDesc   *prometheus.Desc
	refreshErrors                                      *prometheus.CounterVec // by Reason; counted by query.update

	refreshTimeout time.Duration
	onRefresh      func()
	stop           chan struct{} // closed by Close

	mu         sync.Mutex
	inflight   chan struct{} // closed when the running refresh ends
	started    time.Time     // start of the last refresh
	state      state
	served     time.Time     // start of the last refresh that OnRefresh has seen
	lastScrape time.Time     // of the last call to Refresh
	interval   time.Duration // between the last two calls to Refresh
	looping    bool          // the refresh-ahead loop runs
	closed     bool
}

// query is one MetricsQL query of a refresh: the built-in selector or a custom query.
type query struct {
	name      string // "" for the built-in selector, else the custom query's metric name
	expr      string
	timeout   time.Duration
	translate func(groq.Sample) (series, string) // a custom query's; nil for the built-in selector
	rules     *builtinRules                      // the built-in selector's
	builder   *builder                           // kept across refreshes
	logger    log.Logger
	errors    *prometheus.CounterVec // the Collector's refreshErrors
}

// state is the outcome of the refreshes so far; replaced whole, never mutated.
type state struct {
	up          bool // every query of the last refresh succeeded
	duration    time.Duration
	lastRefresh time.Time
	lastSuccess time.Time // start of the last refresh in which every query succeeded
	lastErr     error     // of the first query that failed in the last refresh
	queries     []queryState
	dropped     map[string]int // by reason, over each query's last successful run
	families    map[string]int // series per exported family
	models      []string
	partial     bool                 // a query's last answer was partial
	names       map[string]*nameInfo // the built-in selector's last successful answer, by upstream name; read-only
}

// queryState is what the runs of one query found so far.
type queryState struct {
	ran         bool
	err         error // of the last run
	duration    time.Duration
	lastSuccess time.Time
	metrics     []prometheus.Metric // from the last successful run
	dropped     map[string]int
	examples    map[string]string // one dropped series per reason
	families    map[string]int
	models      []string
	partial     bool     // of the last answer
	warnings    []string // of the last answer
	names       map[string]*nameInfo
}

// New returns a Collector that queries q.
func New(q Querier, opts Options) (*Collector, error) {
	builtin := config.Default().Builtin
	if opts.Builtin != nil {
		builtin = *opts.Builtin
	}
	if err := (&config.Config{Builtin: builtin, Queries: opts.Queries}).Validate(Names()); err != nil {
		return nil, err
	}
	if opts.CacheTTL < 0 || opts.MaxStale < 0 {
		return nil, fmt.Errorf("cache TTL and max stale must not be negative")
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	c := &Collector{
		querier:     q,
		concurrency: opts.Concurrency,
		org:         opts.Organization,
		ttl:         opts.CacheTTL,
		maxStale:    opts.MaxStale,
		logger:      opts.Logger,
		now:         time.Now,

		refreshTimeout: opts.RefreshTimeout,
		onRefresh:      opts.OnRefresh,
		stop:           make(chan struct{}),
	}
	if c.refreshTimeout <= 0 {
		c.refreshTimeout = DefaultRefreshTimeout
	}
	var constant []labelPair // on every series
	if c.org != "" {
		constant = []labelPair{{config.OrganizationLabel, c.org}}
	}
	if builtin.Enabled {
		rules := &builtinRules{documentedOnly: builtin.DocumentedOnly, families: builtin.Families, reserved: map[string]bool{}}
		for _, n := range append(SelfMetrics(), opts.Reserved...) {
			rules.reserved[n] = true
		}
		for _, q := range opts.Queries {
			rules.reserved[q.Name] = true
		}
		c.expr = allSelector(builtin.Models)
		if builtin.DocumentedOnly || len(builtin.Families) > 0 {
			c.expr = builtinSelector(builtin.Families, builtin.Models)
		}
		c.queries = append(c.queries, query{expr: c.expr, rules: rules, builder: &builder{constant: constant}, logger: c.logger})
	}
	for _, q := range opts.Queries {
		c.queries = append(c.queries, query{name: q.Name, expr: q.Query, timeout: time.Duration(q.Timeout),
			translate: queryTranslator(q), builder: &builder{constant: constant}, logger: log.With(c.logger, "query", q.Name)})
	}

	var constLabels prometheus.Labels
	if c.org != "" {
		constLabels = prometheus.Labels{config.OrganizationLabel: c.org}
	}
	c.refreshErrors = newRefreshErrors(constLabels)
	for i := range c.queries {
		c.queries[i].errors = c.refreshErrors
	}
	up, lastSuccess := upHelp, lastSuccessHelp
	if len(opts.Queries) > 0 {
		up, lastSuccess = upHelpQueries, lastSuccessHelpQuery
	}
	c.upDesc = prometheus.NewDesc(upName, up, nil, constLabels)
	c.durationDesc = prometheus.NewDesc(durationName, durationHelp, nil, constLabels)
	c.lastSuccessDesc = prometheus.NewDesc(lastSuccessName, lastSuccess, nil, constLabels)
	c.droppedDesc = prometheus.NewDesc(droppedName, droppedHelp, []string{"reason"}, constLabels)
	c.querySuccessDesc = prometheus.NewDesc(querySuccessName, querySuccessHelp, []string{"query"}, constLabels)
	c.queryDurationDesc = prometheus.NewDesc(queryDurationName, queryDurationHelp, []string{"query"}, constLabels)
	c.partialDesc = prometheus.NewDesc(partialName, partialHelp, nil, constLabels)
	return c, nil
}

// Organization returns the value of the organization label, "" if there is none.
func (c *Collector) Organization() string { return c.org }

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
	c.mu.Unlock()
	if recent || done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
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

// result is what one run of a query returned.
type result struct {
	answer   *groq.Answer
	err      error
	duration time.Duration
}

// run asks Groq every query, at most c.concurrency at a time, all within ctx;
// a query's own timeout narrows its context further.
func (c *Collector) run(ctx context.Context) []result {
	results := make([]result, len(c.queries))
	if len(c.queries) == 1 { // the common case: the refresh's own goroutine asks
		results[0] = c.ask(ctx, c.queries[0])
		return results
	}
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, q := range c.queries {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				results[i].err = fmt.Errorf("not started before the refresh deadline: %w", ctx.Err())
				return
			}
			results[i] = c.ask(ctx, q)
		})
	}
	wg.Wait()
	return results
}

// ask runs one query of a refresh, within its own timeout if it has one.
func (c *Collector) ask(ctx context.Context, q query) result {
	if q.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.timeout)
		defer cancel()
	}
	start := c.now()
	answer, err := c.querier.QueryAnswer(ctx, q.expr)
	if err == nil && answer == nil {
		answer = &groq.Answer{}
	}
	return result{answer: answer, err: err, duration: c.now().Sub(start)}
}

// refresh asks Groq every query once and returns the new state.
func (c *Collector) refresh(ctx context.Context) state {
	start := c.now()
	results := c.run(ctx)
	c.mu.Lock()
	prev := c.state
	c.mu.Unlock()

	st := state{
		up: true, duration: c.now().Sub(start), lastRefresh: start, lastSuccess: prev.lastSuccess,
		queries: make([]queryState, len(c.queries)), dropped: map[string]int{}, families: map[string]int{},
	}
	models := map[string]bool{}
	n := 0
	for i, q := range c.queries {
		var pq queryState
		if i < len(prev.queries) {
			pq = prev.queries[i]
		}
		qs := q.update(pq, results[i], start)
		st.queries[i] = qs
		if qs.err != nil {
			st.up = false
			if st.lastErr == nil {
				st.lastErr = qs.err
				if q.name != "" {
					st.lastErr = fmt.Errorf("query %s: %w", q.name, qs.err)
				}
			}
		}
		for reason, k := range qs.dropped {
			st.dropped[reason] += k
		}
		for f, k := range qs.families {
			st.families[f] += k
		}
		for _, m := range qs.models {
			models[m] = true
		}
		n += len(qs.metrics)
		st.partial = st.partial || qs.err == nil && qs.partial
		if q.rules != nil {
			st.names = qs.names
		}
	}
	st.models = slices.Sorted(maps.Keys(models))
	if st.up {
		st.lastSuccess = start
	}
	level.Debug(c.logger).Log("msg", "Refreshed from Groq", "series", n, "duration", st.duration)
	return st
}

// update folds one run of q into the query's previous state, and logs what
// changed: a new failure at warn, the same failure again at debug.
func (q query) update(prev queryState, r result, start time.Time) queryState {
	qs := prev
	qs.ran, qs.duration = true, r.duration
	if r.err != nil {
		qs.err = r.err
		q.errors.WithLabelValues(Reason(r.err)).Inc()
		if prev.err == nil || prev.err.Error() != r.err.Error() {
			level.Warn(q.logger).Log("msg", "Refresh from Groq failed; serving the last good values until they are too old", "err", r.err, "last_success", formatTime(prev.lastSuccess))
		} else {
			level.Debug(q.logger).Log("msg", "Refresh from Groq failed again", "err", r.err)
		}
		return qs
	}

	a := r.answer
	var built *drops // translating and building
	if metrics, last := q.builder.reuse(a.Samples); last != nil {
		qs.metrics, qs.families, qs.models, qs.names, built = metrics, last.families, last.models, last.names, last.drops
	} else {
		built = newDrops()
		var translated []series
		var names map[string]*nameInfo
		if q.rules != nil {
			translated, names = q.rules.translate(a.Samples, built)
		} else {
			translated = make([]series, 0, len(a.Samples))
			for i, s := range a.Samples {
				out, reason := q.translate(s)
				if reason != "" {
					built.add(reason, s.Labels.Get("__name__"))
					continue
				}
				out.sample = i
				translated = append(translated, out)
			}
		}
		qs.metrics, qs.families = q.builder.build(translated, built)
		qs.models, qs.names = models(translated), names
		q.builder.remember(a.Samples, qs.metrics, built, qs.families, qs.models, names)
	}
	d := newDrops()
	for reason, k := range a.Dropped { // by the decoding of the answer
		d.count[reason] += k
		d.example[reason] = a.DropExamples[reason]
	}
	for reason, k := range built.count {
		d.count[reason] += k
		if _, ok := d.example[reason]; !ok {
			d.example[reason] = built.example[reason]
		}
	}
	qs.err, qs.lastSuccess, qs.dropped, qs.examples = nil, start, d.count, d.example
	qs.partial, qs.warnings = a.Partial, a.Warnings

	if prev.err != nil {
		level.Info(q.logger).Log("msg", "Refresh from Groq succeeded again", "series", len(qs.metrics))
	}
	lvl := level.Debug
	if !maps.Equal(d.count, prev.dropped) || !maps.Equal(d.example, prev.examples) {
		lvl = level.Warn
	}
	for _, reason := range slices.Sorted(maps.Keys(d.count)) {
		lvl(q.logger).Log("msg", "Series from Groq not exported", "reason", reason, "count", d.count[reason], "example", d.example[reason])
	}
	if a.Partial {
		lvl := level.Debug
		if !prev.partial || !slices.Equal(a.Warnings, prev.warnings) {
			lvl = level.Warn
		}
		lvl(q.logger).Log("msg", "Groq's answer is partial: some of its storage did not answer, series may be missing; serving what it sent", "warnings", strings.Join(a.Warnings, "; "))
	} else if prev.partial {
		level.Info(q.logger).Log("msg", "Groq's answer is complete again")
	}
	return qs
}

// Describe sends nothing: the collector is unchecked, because the label sets
// follow Groq's answers.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the cached series and the self-metrics. It never calls Groq.
// Each query's last good values are served until they are older than
// MaxStale, whatever the other queries do.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	now := c.now()
	for _, qs := range st.queries {
		if qs.err == nil || !qs.lastSuccess.IsZero() && now.Sub(qs.lastSuccess) <= c.maxStale {
			for _, m := range qs.metrics {
				ch <- m
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.upDesc, prometheus.GaugeValue, boolFloat(st.up))
	ch <- prometheus.MustNewConstMetric(c.durationDesc, prometheus.GaugeValue, st.duration.Seconds())
	ch <- prometheus.MustNewConstMetric(c.lastSuccessDesc, prometheus.GaugeValue, unixSeconds(st.lastSuccess))
	c.refreshErrors.Collect(ch)
	for _, reason := range droppedReasons {
		ch <- prometheus.MustNewConstMetric(c.droppedDesc, prometheus.GaugeValue, float64(st.dropped[reason]), reason)
	}
	ch <- prometheus.MustNewConstMetric(c.partialDesc, prometheus.GaugeValue, boolFloat(st.partial))
	for i, qs := range st.queries {
		if q := c.queries[i]; q.name != "" {
			ch <- prometheus.MustNewConstMetric(c.querySuccessDesc, prometheus.GaugeValue, boolFloat(qs.err == nil), q.name)
			ch <- prometheus.MustNewConstMetric(c.queryDurationDesc, prometheus.GaugeValue, qs.duration.Seconds(), q.name)
		}
	}
}

// Status is what the last refreshes found, for the status page.
type Status struct {
	Organization string // "" for the single organization the flags configure
	Up           bool
	LastRefresh  time.Time // zero before the first refresh
	LastSuccess  time.Time
	Duration     time.Duration
	LastError    string // safe to show: the client redacts credentials
	Families     map[string]int
	Models       []string
	Dropped      map[string]int
	// Partial: Groq said a query's last answer was incomplete.
	Partial bool
	// Names is what became of each upstream series name in the last
	// successful answer to the built-in selector, sorted by name.
	Names   []NameStatus
	Queries []QueryStatus // the custom queries, in configuration order
}

// NameStatus is what became of the series of one upstream name.
type NameStatus struct {
	Name     string // as Groq names it
	Series   int    // in Groq's answer
	Family   string // the family they went to; "" if none did
	Exported int    // series exported into Family (percentiles, for buckets)
	// Histogram: the series are buckets, exported as percentiles.
	Histogram bool
	Dropped   map[string]int // series not exported, by reason
	// Note says why, in words, for a name none or not all of whose series
	// were exported ("→ groq_up, a name the exporter already serves").
	Note string
}

func nameStatuses(names map[string]*nameInfo) []NameStatus {
	if names == nil {
		return nil
	}
	out := make([]NameStatus, 0, len(names))
	for _, n := range names {
		ns := NameStatus{Name: n.name, Series: n.series, Exported: n.kept, Histogram: n.parsed.bucket && n.reason == "",
			Dropped: n.dropped, Note: strings.TrimPrefix(n.detail, " ")}
		if n.reason == "" {
			ns.Family = n.family.Name
		}
		out = append(out, ns)
	}
	slices.SortFunc(out, func(a, b NameStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// QueryStatus is what the last run of a custom query found.
type QueryStatus struct {
	Name        string
	Ran         bool // false before the first refresh
	Up          bool
	Duration    time.Duration
	LastSuccess time.Time
	LastError   string
	Series      int // from the last successful run
}

// Status returns what the last refreshes found.
func (c *Collector) Status() Status {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	s := Status{Organization: c.org, Up: st.up, LastRefresh: st.lastRefresh, LastSuccess: st.lastSuccess,
		Duration: st.duration, Families: st.families, Models: st.models, Dropped: st.dropped,
		Partial: st.partial, Names: nameStatuses(st.names)}
	if st.lastErr != nil {
		s.LastError = st.lastErr.Error()
	}
	for i, q := range c.queries {
		if q.name == "" {
			continue
		}
		qs := QueryStatus{Name: q.name}
		if i < len(st.queries) {
			r := st.queries[i]
			qs.Ran, qs.Up, qs.Duration, qs.LastSuccess, qs.Series = r.ran, r.err == nil, r.duration, r.lastSuccess, len(r.metrics)
			if r.err != nil {
				qs.LastError = r.err.Error()
			}
		}
		s.Queries = append(s.Queries, qs)
	}
	return s
}

func models(all []series) []string {
	models := map[string]bool{}
	last, seen := "", false // the series of one model mostly come together
	for _, s := range all {
		if m, ok := s.labels.Lookup("model"); ok && (m != last || !seen) {
			models[m], last, seen = true, m, true
		}
	}
	return slices.Sorted(maps.Keys(models))
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
