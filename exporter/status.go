package exporter

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/version"

	"github.com/groq-exporter/groq_exporter/collector"
)

//go:embed status.html
var statusHTML string

var statusTemplate = template.Must(template.New("status").Parse(statusHTML))

type count struct {
	Name  string
	Count int
}

// orgView is what the page shows of one organization.
type orgView struct {
	Name              string // "" for the single organization of the flags
	ProbeName         string // its name in /probe: DefaultOrganization for the flags' one
	OutcomeID         string // the id of the outcome badge, unique on the page
	URL, KeyFrom      string
	CacheAge, Took    time.Duration
	Status            collector.Status
	Families, Dropped []count
	Errors            []count // failed query runs so far, by reason (groq_refresh_errors_total)
	Names             []nameRow
	History           []refreshRow
}

// summaryRow is one organization's line in the table at the top.
type summaryRow struct {
	Name, KeyFrom string
	ProbeName     string // its name in /probe
	State         string // "down", "waiting" (never refreshed), "query" (a custom query fails), "up"
	LastSuccess   time.Time
	Age           time.Duration // of the data served: since the last success
	Series        int
	Error         string // the last error, Groq's or else a custom query's
}

// refreshRow is one line of an organization's recent refreshes.
type refreshRow struct {
	collector.Refresh
	Took    time.Duration
	Outcome string
}

// nameRow is one line of the table of what Groq serves.
type nameRow struct {
	Name    string
	Series  int
	Outcome string
}

// nameRows says, for each upstream series name, what became of its series.
func nameRows(names []collector.NameStatus) []nameRow {
	rows := make([]nameRow, 0, len(names))
	for _, n := range names {
		rows = append(rows, nameRow{n.Name, n.Series, NameOutcome(n)})
	}
	return rows
}

// NameOutcome says in words what became of the series of one upstream name:
// the family they went to, and those that were not exported, by reason.
func NameOutcome(n collector.NameStatus) string {
	var parts []string
	if n.Family != "" && n.Exported > 0 {
		s := n.Family
		if n.Histogram {
			s += fmt.Sprintf(" (%d percentiles, by histogram_quantile)", n.Exported)
		} else if n.Exported != n.Series {
			s += fmt.Sprintf(" (%d)", n.Exported)
		}
		parts = append(parts, s)
	}
	for _, reason := range slices.Sorted(maps.Keys(n.Dropped)) {
		parts = append(parts, fmt.Sprintf("not exported: %d %s", n.Dropped[reason], reason))
	}
	if n.Note != "" {
		parts = append(parts, n.Note)
	}
	return strings.Join(parts, "; ")
}

// statusPage is the landing page: when the exporter started, its
// settings, one line per organization (failing ones first) and, for one
// organization (the only one, or the one ?organization= names), what its
// last refreshes from Groq found; each organization links its /probe URL. It is rendered on the server with no
// external assets, and stays small with many organizations: their details
// are a page each. It shows URLs and where keys come from, never keys; error
// texts come from the client, which redacts credentials.
func statusPage(metricsPath string, cacheTTL time.Duration, orgs *Organizations) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		cfg, file := orgs.Config()
		s := orgs.settings
		data := struct {
			Version, MetricsPath, ConfigFile string
			Started                          time.Time
			Uptime, CacheTTL                 time.Duration
			Settings                         []setting
			Summary                          []summaryRow
			Orgs                             []orgView // the details shown
			Probe, Discovery                 string
			Failing                          int
		}{
			Version: version.Version, MetricsPath: metricsPath, ConfigFile: file, Started: orgs.started,
			Uptime: time.Since(orgs.started).Round(time.Second), CacheTTL: cacheTTL, Probe: ProbePath, Discovery: DiscoveryPath,
		}
		if data.Version == "" {
			data.Version = "(development build)"
		}
		data.Settings = []setting{
			{"--groq.url", s.URL}, {"--groq.timeout", s.Timeout.String()},
			{"--groq.cache-ttl", cacheTTL.String()}, {"--groq.max-stale", s.MaxStale.String()},
			{"--groq.max-response-bytes", fmt.Sprintf("%d bytes", s.MaxResponseBytes)},
		}
		if cfg != nil && file != "" {
			data.Settings = append(data.Settings, setting{"--config.file", file},
				setting{"custom queries", fmt.Sprint(len(cfg.Queries))})
		}
		list := orgs.list()
		want := r.URL.Query().Get("organization")
		for _, o := range list {
			st := o.coll.Status()
			if len(list) > 1 || o.name != "" {
				data.Summary = append(data.Summary, summarize(o, st))
			}
			if len(list) == 1 || want != "" && o.name == want {
				data.Orgs = append(data.Orgs, details(o, st))
			}
		}
		if want != "" && len(data.Orgs) == 0 {
			http.Error(w, fmt.Sprintf("no organization %q in the configuration", want), http.StatusNotFound)
			return
		}
		slices.SortStableFunc(data.Summary, func(a, b summaryRow) int {
			if d := stateRank[a.State] - stateRank[b.State]; d != 0 {
				return d
			}
			return strings.Compare(a.Name, b.Name)
		})
		for _, row := range data.Summary {
			if row.State != "up" {
				data.Failing++
			}
		}
		var buf bytes.Buffer
		if err := statusTemplate.Execute(&buf, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
}

// setting is one of the effective settings the page shows.
type setting struct{ Name, Value string }

// stateRank puts failing organizations first.
var stateRank = map[string]int{"down": 0, "query": 1, "waiting": 2, "up": 3}

func summarize(o *organization, st collector.Status) summaryRow {
	row := summaryRow{Name: o.name, ProbeName: o.probeName(), KeyFrom: o.keyFrom, LastSuccess: st.LastSuccess, Series: st.Series, Error: st.LastError}
	switch {
	case st.LastRefresh.IsZero():
		row.State = "waiting"
	case !st.Up:
		row.State = "down"
	default:
		row.State = "up"
	}
	for _, q := range st.Queries {
		if q.Ran && !q.Up {
			if row.State == "up" {
				row.State = "query"
			}
			if row.Error == "" {
				row.Error = "query " + q.Name + ": " + q.LastError
			}
		}
	}
	if !st.LastSuccess.IsZero() {
		row.Age = time.Since(st.LastSuccess).Round(time.Second)
	}
	// One line: the row says where the key comes from, the details say it
	// again in the error's words.
	row.Error, _, _ = strings.Cut(strings.TrimPrefix(row.Error, "query: "), " (the key comes from ")
	return row
}

func details(o *organization, st collector.Status) orgView {
	v := orgView{Name: o.name, ProbeName: o.probeName(), OutcomeID: "outcome", URL: o.url, KeyFrom: o.keyFrom, Status: st,
		Families: counts(st.Families), Dropped: counts(st.Dropped), Errors: counts(o.coll.RefreshErrors()),
		Took: st.Duration.Round(time.Millisecond), Names: nameRows(st.Names)}
	if o.name != "" {
		v.OutcomeID += "-" + o.name
	}
	if !st.LastRefresh.IsZero() {
		v.CacheAge = time.Since(st.LastRefresh).Round(time.Second)
	}
	for _, h := range st.History {
		row := refreshRow{Refresh: h, Took: h.Duration.Round(time.Millisecond), Outcome: "succeeded"}
		if !h.Up {
			row.Outcome = "failed: " + h.Reason
		}
		if h.FailedQueries > 0 {
			row.Outcome += fmt.Sprintf("; %d custom queries failed", h.FailedQueries)
		}
		v.History = append(v.History, row)
	}
	return v
}

// counts lists the non-zero entries of m, sorted by name.
func counts(m map[string]int) []count {
	var out []count
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			out = append(out, count{k, m[k]})
		}
	}
	return out
}
