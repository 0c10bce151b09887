package collector

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/groq-exporter/groq_exporter/groq"
)

// Hooks for the tests of package collector_test: they use internal/groqtest, which imports this package,
// so they cannot be in package collector.

// SetClock makes c read the time from now.
func SetClock(c *Collector, now func() time.Time) { c.now = now }

// SetCacheTTL changes c's cache TTL; no refresh may run meanwhile.
func SetCacheTTL(c *Collector, ttl time.Duration) { c.mu.Lock(); c.ttl = ttl; c.mu.Unlock() }

// BuiltinExpr returns the selector c asks Groq for its built-in families.
func BuiltinExpr(c *Collector) string { return c.expr }

// RefreshInPlace runs one whole refresh of c on the calling goroutine, as
// the goroutine of a refresh ahead runs it, with no scrape waiting for it.
func RefreshInPlace(c *Collector) {
	c.mu.Lock()
	c.inflight, c.started = make(chan struct{}), c.now()
	c.mu.Unlock()
	c.run1()
}

// LabelValues writes m and returns it with its label values, in the order
// of its label names.
func LabelValues(t *testing.T, m prometheus.Metric) ([]string, *dto.Metric) {
	t.Helper()
	var dm dto.Metric
	if err := m.Write(&dm); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, lp := range dm.Label {
		values = append(values, lp.GetValue())
	}
	return values, &dm
}

// CachedSeries returns how many metrics the cache holds for c's first query.
func CachedSeries(c *Collector) int { return len(c.state.queries[0].metrics) }

// TranslateAndBuild is the part of a refresh after decoding: it translates samples as the built-in
// families do and builds their metrics; dropped counts the samples translation refused.
func TranslateAndBuild(samples []groq.Sample) (metrics []prometheus.Metric, dropped int) {
	d := newDrops()
	translated, _ := (&builtinRules{}).translate(samples, d)
	metrics, _ = (&builder{}).build(translated, d)
	for _, k := range d.count {
		dropped += k
	}
	return metrics, dropped
}

// Exposition renders what reg would serve, in the text format, without the
// families named in skip.
func Exposition(t *testing.T, reg prometheus.Gatherer, skip ...string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if slices.Contains(skip, mf.GetName()) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// RefreshReasons lists the values of groq_refresh_errors_total's reason label.
func RefreshReasons() []string {
	var out []string
	for _, r := range refreshReasons {
		out = append(out, r.value)
	}
	return out
}

// Waits returns how many calls to c.Refresh have waited for Groq so far,
// and how many wait now.
func Waits(c *Collector) (total, now int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waits, c.waiting
}

// Quiet says whether no refresh of c is under way.
func Quiet(c *Collector) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight == nil
}

// Looping says whether c's refresh-ahead loop runs.
func Looping(c *Collector) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.looping
}
