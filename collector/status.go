package collector

import (
	"slices"
	"strings"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/printable"
)

// How many characters of a text that comes from Groq Status and the log
// show at most. Groq may send a name of a megabyte (the body's cap): what a
// page, a terminal or a log line shows of it stays short.
const (
	maxShownName  = 200  // a series name, a family, a model
	maxShownNote  = 300  // a sentence about names: a note, a log's example
	maxShownError = 2000 // an error, with where its key or URL came from
)

// Status is what the last refreshes found, for the status page and
// --groq.check. Every text in it that comes from Groq (names, models, the
// words of its errors) is fit to show as it is: control characters and
// other unprintable ones escaped (printable.String), length capped, and the
// request's credentials already removed by the client.
type Status struct {
	Up          bool
	LastRefresh time.Time // zero before the first refresh
	LastSuccess time.Time
	Duration    time.Duration
	LastError   string // safe to show: the client redacts credentials
	Families    map[string]int
	Models      []string
	Dropped     map[string]int
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
		ns := NameStatus{Name: printable.String(n.name, maxShownName), Series: n.series, Exported: n.kept,
			Histogram: n.parsed.bucket && n.reason == "", Dropped: n.dropped,
			Note: printable.String(strings.TrimPrefix(n.detail, " "), maxShownNote)}
		if n.reason == "" {
			ns.Family = printable.String(n.family.Name, maxShownName)
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
	s := Status{Up: st.up, LastRefresh: st.lastRefresh, LastSuccess: st.lastSuccess,
		Duration: st.duration, Families: shownKeys(st.families), Models: shown(st.models), Dropped: st.dropped,
		Partial: st.partial, Names: nameStatuses(st.names)}
	if st.lastErr != nil {
		s.LastError = printable.String(st.lastErr.Error(), maxShownError)
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
				qs.LastError = printable.String(r.err.Error(), maxShownError)
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
	for i, r := range refreshReasons {
		if n := c.refreshErrors[i].Load(); n > 0 {
			out[r.value] = int(n)
		}
	}
	return out
}

// shown is names fit to show (see Status).
func shown(names []string) []string {
	var out []string // nil stays nil
	for i, n := range names {
		if s := printable.String(n, maxShownName); s != n && out == nil {
			out = slices.Clone(names)
			out[i] = s
		} else if out != nil {
			out[i] = s
		}
	}
	if out == nil {
		return names
	}
	return out
}

// shownKeys is m with its keys fit to show (see Status); keys that become
// the same once cut add up.
func shownKeys(m map[string]int) map[string]int {
	var out map[string]int
	for k := range m {
		if printable.String(k, maxShownName) != k {
			out = make(map[string]int, len(m))
			break
		}
	}
	if out == nil {
		return m
	}
	for k, v := range m {
		out[printable.String(k, maxShownName)] += v
	}
	return out
}
