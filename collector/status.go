package collector

import (
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

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
	// History is the last HistoryLength refreshes, newest first.
	History []Refresh
	// Series is how many series the last refresh serves.
	Series int
}

// HistoryLength is how many refreshes Status.History keeps.
const HistoryLength = 20

// Refresh is the outcome of one refresh, for the status page's history.
type Refresh struct {
	Time     time.Time
	Up       bool   // Groq could be read (groq_up)
	Reason   string // why not, as in groq_refresh_errors_total; "" when Up
	Duration time.Duration
	// FailedQueries counts the custom queries that failed.
	FailedQueries int
	Series        int   // series served after it
	Bytes         int64 // read from Groq's answers
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
	for i := len(st.history) - 1; i >= 0; i-- {
		s.History = append(s.History, st.history[i])
	}
	if len(st.history) > 0 {
		s.Series = st.history[len(st.history)-1].Series
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

// RefreshErrors returns the failed query runs so far by reason, the
// non-zero ones only, for the status page.
func (c *Collector) RefreshErrors() map[string]int {
	out := map[string]int{}
	for _, r := range Reasons {
		var m dto.Metric
		if err := c.refreshErrors.WithLabelValues(r).Write(&m); err == nil && m.GetCounter().GetValue() > 0 {
			out[r] = int(m.GetCounter().GetValue())
		}
	}
	return out
}
