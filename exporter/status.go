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
	OutcomeID         string // the id of the outcome badge, unique on the page
	URL               string
	CacheAge, Took    time.Duration
	Status            collector.Status
	Families, Dropped []count
	Errors            []count // failed query runs so far, by reason (groq_refresh_errors_total)
	Names             []nameRow
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

// statusPage is the landing page: links, and what the last refreshes from
// Groq found for each organization, rendered on the server with no external
// assets. It shows URLs, never keys; error texts come from the client, which
// redacts credentials.
func statusPage(metricsPath string, cacheTTL time.Duration, orgs *Organizations) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, file := orgs.Config()
		data := struct {
			Version, MetricsPath, ConfigFile string
			CacheTTL                         time.Duration
			Orgs                             []orgView
		}{
			Version: version.Version, MetricsPath: metricsPath, ConfigFile: file, CacheTTL: cacheTTL,
		}
		if data.Version == "" {
			data.Version = "(development build)"
		}
		for _, o := range orgs.list() {
			st := o.coll.Status()
			v := orgView{Name: o.name, OutcomeID: "outcome", URL: o.url, Status: st,
				Families: counts(st.Families), Dropped: counts(st.Dropped), Errors: counts(o.coll.RefreshErrors()), Took: st.Duration.Round(time.Millisecond),
				Names: nameRows(st.Names)}
			if o.name != "" {
				v.OutcomeID += "-" + o.name
			}
			if !st.LastRefresh.IsZero() {
				v.CacheAge = time.Since(st.LastRefresh).Round(time.Second)
			}
			data.Orgs = append(data.Orgs, v)
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
