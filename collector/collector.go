// Package collector turns Groq's usage series into Prometheus gauges. It owns
// the exported names and labels, the translation of upstream names, the custom
// queries, the cache that keeps Groq from being asked more than once per TTL,
// and the self-metrics. It speaks no HTTP: a groq.Client (or anything with its
// QueryAnswer method) does that.
package collector

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/config"
)

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

	self          selfSet
	refreshErrors refreshCounts // counted by query.update

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
	waits      int // scrapes that waited for Groq so far, for the tests of the promise that few do
	waiting    int // scrapes waiting for Groq now
}

// state is the outcome of the refreshes so far; replaced whole, never mutated.
type state struct {
	up          bool // Groq could be read in the last refresh (see refresh)
	duration    time.Duration
	lastRefresh time.Time
	lastSuccess time.Time // start of the last refresh in which Groq could be read
	lastErr     error     // why Groq could not be read in the last refresh; nil when up
	queries     []queryState
	dropped     map[string]int // by reason, over each query's last successful run
	families    map[string]int // series per exported family
	models      []string
	partial     bool                 // a query's last answer was partial
	names       map[string]*nameInfo // the built-in selector's last successful answer, by upstream name; read-only
	history     []Refresh            // the last HistoryLength refreshes, oldest first; read-only
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
	split       []string // families whose series were exported with label sets of their own
}

// New returns a Collector that queries q.
func New(q Querier, opts Options) (*Collector, error) {
	builtin := config.Default().Builtin
	if opts.Builtin != nil {
		builtin = *opts.Builtin
	}
	if err := (&config.Config{Builtin: builtin, Queries: opts.Queries}).Validate(configNames()); err != nil {
		return nil, err
	}
	if opts.CacheTTL < 0 || opts.MaxStale < 0 {
		return nil, fmt.Errorf("cache TTL and max stale must not be negative")
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultConcurrency
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
	// The labels on every series and self-metric: the organization and its
	// labels.
	var constLabels prometheus.Labels
	if c.org != "" || len(opts.Labels) > 0 {
		constLabels = maps.Clone(opts.Labels)
		if constLabels == nil {
			constLabels = prometheus.Labels{}
		}
		if c.org != "" {
			constLabels[config.OrganizationLabel] = c.org
		}
	}
	c.addQueries(builtin, opts, constLabels)
	c.describe(constLabels, len(opts.Queries) > 0)
	return c, nil
}

// addQueries sets up the queries of a refresh: the built-in selector's, if
// builtin is enabled, then the custom queries; constLabels go on every series.
func (c *Collector) addQueries(builtin config.Builtin, opts Options, constLabels prometheus.Labels) {
	var constant []labelPair
	for _, n := range slices.Sorted(maps.Keys(constLabels)) {
		constant = append(constant, labelPair{n, constLabels[n]})
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
}

// selfSet is the series of the self-metrics of one Collector.
type selfSet struct {
	up, duration, lastSuccess, partial selfSeries
	errors                             []reasonSeries // of refreshReasons
	dropped                            []reasonSeries // of droppedReasons
	queries                            []querySeries  // of the custom queries, by name
	n                                  int            // series in all
}

// querySeries is the series of custom query c.queries[i].
type querySeries struct {
	success, duration selfSeries
	i                 int
}

// describe makes the series of the self-metrics and the counts of failed
// runs; customQueries says whether custom queries share the refresh.
func (c *Collector) describe(constLabels prometheus.Labels, customQueries bool) {
	c.refreshErrors = newRefreshCounts()
	for i := range c.queries {
		c.queries[i].errors = c.refreshErrors
	}
	up, lastSuccess := upHelp, lastSuccessHelp
	if customQueries {
		up, lastSuccess = upHelpQueries, lastSuccessHelpQuery
	}
	gauge := func(name, help string) selfSeries {
		return newSelfSeries(prometheus.NewDesc(name, help, nil, constLabels), prometheus.GaugeValue)
	}
	s := selfSet{
		up:          gauge(upName, up),
		duration:    gauge(durationName, durationHelp),
		lastSuccess: gauge(lastSuccessName, lastSuccess),
		partial:     gauge(partialName, partialHelp),
		errors: newReasonSeries(prometheus.NewDesc(refreshErrorsName, refreshErrorsHelp, []string{"reason"}, constLabels),
			prometheus.CounterValue, errorReasons),
		dropped: newReasonSeries(prometheus.NewDesc(droppedName, droppedHelp, []string{"reason"}, constLabels),
			prometheus.GaugeValue, droppedReasons),
	}
	successDesc := prometheus.NewDesc(querySuccessName, querySuccessHelp, []string{"query"}, constLabels)
	durationDesc := prometheus.NewDesc(queryDurationName, queryDurationHelp, []string{"query"}, constLabels)
	for i, q := range c.queries {
		if q.name != "" {
			s.queries = append(s.queries, querySeries{newSelfSeries(successDesc, prometheus.GaugeValue, q.name),
				newSelfSeries(durationDesc, prometheus.GaugeValue, q.name), i})
		}
	}
	slices.SortFunc(s.queries, func(a, b querySeries) int { return strings.Compare(c.queries[a.i].name, c.queries[b.i].name) })
	s.n = 4 + len(s.errors) + len(s.dropped) + 2*len(s.queries)
	c.self = s
}

// Describe sends nothing: the collector is unchecked, because the label sets
// follow Groq's answers.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the cached series and the self-metrics. It never calls Groq.
// Each query's last good values are served until they are older than
// MaxStale, whatever the other queries do.
//
// Collect does not run once per scrape: the exporter gathers an
// organization when one of its refreshes ends (Options.OnRefresh) and serves
// what it gathered to every scrape until the next. Whatever Collect sends is
// as of the end of the last refresh; something that must change between
// refreshes (a time, a count of scrapes) does not belong here. MaxStale is
// enforced at that granularity: refreshes, failing or not, come at least once
// per TTL while anyone scrapes.
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
	s := &c.self
	out := make(samples, 0, s.n)
	out.send(ch, &s.up, boolFloat(st.up))
	out.send(ch, &s.duration, st.duration.Seconds())
	out.send(ch, &s.lastSuccess, unixSeconds(st.lastSuccess))
	for i := range s.errors {
		r := &s.errors[i]
		out.send(ch, &r.selfSeries, float64(c.refreshErrors[r.i].Load()))
	}
	for i := range s.dropped {
		r := &s.dropped[i]
		out.send(ch, &r.selfSeries, float64(st.dropped[droppedReasons[r.i].value]))
	}
	out.send(ch, &s.partial, boolFloat(st.partial))
	for i := range s.queries {
		q := &s.queries[i]
		if q.i < len(st.queries) {
			qs := &st.queries[q.i]
			out.send(ch, &q.success, boolFloat(qs.err == nil))
			out.send(ch, &q.duration, qs.duration.Seconds())
		}
	}
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
