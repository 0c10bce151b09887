package collector

import (
	"context"
	"time"

	"github.com/go-kit/log"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

// Defaults for Options left zero.
const (
	DefaultCacheTTL = 30 * time.Second
	DefaultMaxStale = 5 * time.Minute
	// DefaultRefreshTimeout bounds a refresh started without a deadline.
	DefaultRefreshTimeout = 10 * time.Second
	// defaultConcurrency is how many queries of one refresh run at once.
	defaultConcurrency = 4
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
	// means defaultConcurrency.
	Concurrency int
	// Reserved are more metric names that no family translated from Groq
	// may take (the exporter's own, beyond SelfMetrics); a series that would
	// is dropped as name_collision.
	Reserved []string
	// Organization, if set, is the value of the organization label on every
	// series and self-metric. Empty means no such label: the single
	// organization the flags configure.
	Organization string
	// Labels are more labels on every series and self-metric, after the
	// organization (config.Organization.Labels). A label of Groq's of the
	// same name is exported as exported_<name>.
	Labels map[string]string
	Logger log.Logger
}
