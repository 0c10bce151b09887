package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/groq-exporter/groq_exporter/groq"
)

// query is one MetricsQL query of a refresh: the built-in selector or a custom query.
type query struct {
	name      string // "" for the built-in selector, else the custom query's metric name
	expr      string
	timeout   time.Duration
	translate func(groq.Sample) (series, string) // a custom query's; nil for the built-in selector
	rules     *builtinRules                      // the built-in selector's
	builder   *builder                           // kept across refreshes
	logger    log.Logger
	errors    refreshCounts // the Collector's refreshErrors
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
		duration: c.now().Sub(start), lastRefresh: start, lastSuccess: prev.lastSuccess,
		queries: make([]queryState, len(c.queries)), dropped: map[string]int{}, families: map[string]int{},
	}
	models := map[string]bool{}
	n := 0
	var groqErr error // why Groq could not be read
	reached := false  // a query got an answer from Groq
	for i, q := range c.queries {
		var pq queryState
		if i < len(prev.queries) {
			pq = prev.queries[i]
		}
		qs := q.update(pq, results[i], start)
		st.queries[i] = qs
		switch {
		case qs.err == nil:
			reached = true
		case q.name == "" || !queryOwn(qs.err):
			groqErr = cmp.Or(groqErr, qs.err)
		default:
			reached = true // Groq answered; the query is at fault
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
	// groq_up says whether Groq could be read, not whether every custom query
	// is right: with the built-in families, their run decides; without them,
	// Groq is down only when no query got an answer from it. A custom query's
	// own failure is in groq_query_success and its reason.
	if c.expr != "" {
		st.up = st.queries[0].err == nil
	} else {
		st.up = reached || groqErr == nil
	}
	if !st.up {
		st.lastErr = groqErr
	}
	if st.up {
		st.lastSuccess = start
	}
	r := Refresh{Time: start, Up: st.up, Duration: st.duration, Series: n}
	if st.lastErr != nil {
		r.Reason = refreshErrorReason(st.lastErr)
	}
	for i, res := range results {
		if res.answer != nil {
			r.Bytes += res.answer.Bytes
		}
		if res.err != nil && c.queries[i].name != "" {
			r.FailedQueries++
		}
	}
	st.history = append(prev.history[max(0, len(prev.history)-HistoryLength+1):len(prev.history):len(prev.history)], r)
	level.Debug(c.logger).Log("msg", "Refreshed from Groq", "series", n, "duration", st.duration)
	return st
}

// queryOwn reports whether a failed run is the query's own fault: Groq
// refused the query, or its result is no instant vector.
func queryOwn(err error) bool {
	return errors.Is(err, groq.ErrRejected) || errors.Is(err, groq.ErrResultType)
}

// update folds one run of q into the query's previous state, and logs what
// changed: a new failure at warn, the same failure again at debug.
func (q query) update(prev queryState, r result, start time.Time) queryState {
	qs := prev
	qs.ran, qs.duration = true, r.duration
	if r.err != nil {
		qs.err = r.err
		q.errors.add(r.err)
		if prev.err == nil || prev.err.Error() != r.err.Error() {
			level.Warn(q.logger).Log("msg", "Refresh from Groq failed; serving the last good values until they are too old", "err", r.err, "last_success", formatTime(prev.lastSuccess))
		} else {
			level.Debug(q.logger).Log("msg", "Refresh from Groq failed again", "err", r.err)
		}
		return qs
	}
	a := r.answer
	built := q.gauges(a, &qs)
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
	q.logAnswer(prev, qs)
	return qs
}

// gauges sets the gauges of answer a in qs, and what became of its series:
// the last answer's gauges with new values if a has the same series in the
// same order, else its series translated and built. It returns the series
// translating and building left out.
func (q query) gauges(a *groq.Answer, qs *queryState) *drops {
	if metrics, last := q.builder.reuse(a.Samples); last != nil {
		qs.metrics, qs.families, qs.models, qs.names, qs.split = metrics, last.families, last.models, last.names, last.split
		return last.drops
	}
	built := newDrops()
	var translated []series
	var names map[string]*nameInfo
	if q.rules != nil {
		translated, names = q.rules.translate(a.Samples, built)
	} else {
		translated = make([]series, 0, len(a.Samples))
		for i, s := range a.Samples {
			out, reason := q.translate(s)
			if reason != "" {
				built.add(reason, s.Labels.Get("__name__"), nil)
				continue
			}
			out.sample = i
			translated = append(translated, out)
		}
	}
	qs.metrics, qs.families = q.builder.build(translated, built)
	qs.models, qs.names, qs.split = models(translated), names, q.builder.split
	q.builder.remember(a.Samples, qs.metrics, built, qs.families, qs.models, names)
	return built
}

// logAnswer logs what a successful run found that the one before did not:
// at warn when it changed (the series left out, split families, a partial
// answer), else at debug.
func (q query) logAnswer(prev, qs queryState) {
	if prev.err != nil {
		level.Info(q.logger).Log("msg", "Refresh from Groq succeeded again", "series", len(qs.metrics))
	}
	lvl := level.Debug
	if !maps.Equal(qs.dropped, prev.dropped) || !maps.Equal(qs.examples, prev.examples) {
		lvl = level.Warn
	}
	for _, reason := range slices.Sorted(maps.Keys(qs.dropped)) {
		lvl(q.logger).Log("msg", "Series from Groq not exported", "reason", reason, "count", qs.dropped[reason], "example", qs.examples[reason])
	}
	if len(qs.split) > 0 {
		lvl := level.Debug
		if !slices.Equal(qs.split, prev.split) {
			lvl = level.Warn
		}
		lvl(q.logger).Log("msg", "Series from Groq of one family carry different label names, too different for one label set; each set of them is exported with its own labels",
			"families", len(qs.split), "example", qs.split[0])
	}
	if qs.partial {
		lvl := level.Debug
		if !prev.partial || !slices.Equal(qs.warnings, prev.warnings) {
			lvl = level.Warn
		}
		lvl(q.logger).Log("msg", "Groq's answer is partial: some of its storage did not answer, series may be missing; serving what it sent", "warnings", strings.Join(qs.warnings, "; "))
	} else if prev.partial {
		level.Info(q.logger).Log("msg", "Groq's answer is complete again")
	}
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

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
