package examples

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		Expr         string         `json:"expr"`
		LegendFormat string         `json:"legendFormat"`
		Datasource   *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows
}

// grafanaVariables maps the dashboard's variables, and Grafana's built-in ones, to
// values that make the expressions plain PromQL.
var grafanaVariables = map[string]string{
	"cluster":         ".*",
	"team":            ".*",
	"job":             ".+",
	"instance":        ".+",
	"organization":    ".*",
	"model":           ".*",
	"percentile":      "p99",
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__range":         "1h",
}

var grafanaVariable = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

func expandGrafanaVariables(expr string) (string, error) {
	var err error
	out := grafanaVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVariable.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		v, ok := grafanaVariables[name]
		if !ok {
			err = fmt.Errorf("unknown variable $%s", name)
		}
		return v
	})
	return out, err
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// TestGrafanaDashboard parses the dashboard, checks its variables and that every panel
// uses the ${datasource} variable, parses every PromQL expression and checks that every
// metric it uses is one the exporter exports. The expressions are also handed to promtool
// as recording rules, so Prometheus' own parser accepts them too.
func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels returns the panels with the ones inside collapsed rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// dashboardExprs returns the dashboard's queries with the variables expanded; a query
// with an unknown variable is left out (TestGrafanaDashboard reports it).
func dashboardExprs(t *testing.T) []string {
	var exprs []string
	for _, p := range allPanels(loadDashboard(t).Panels) {
		for _, tg := range p.Targets {
			if e, err := expandGrafanaVariables(tg.Expr); err == nil {
				exprs = append(exprs, e)
			}
		}
	}
	return exprs
}

func TestGrafanaDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard needs a title and a uid")
	}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Name {
		case "datasource":
			var q string
			if v.Type != "datasource" || json.Unmarshal(v.Query, &q) != nil || q != "prometheus" {
				t.Errorf("variable datasource: want type datasource with query prometheus, got %s %s", v.Type, v.Query)
			}
		case "filters":
			// Ad hoc filters: any other label, such as an organization's labels.
			if v.Type != "adhoc" || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable filters: want type adhoc on ${datasource}, got %s %+v", v.Type, v.Datasource)
			}
		default:
			if _, ok := grafanaVariables[v.Name]; !ok {
				t.Errorf("variable %s: add it to grafanaVariables so its expressions can be checked", v.Name)
				continue
			}
			// A query variable: label_values(<selector of an exported metric>, <its own name>).
			m := labelValues.FindStringSubmatch(v.Definition)
			if v.Type != "query" || m == nil || m[2] != v.Name {
				t.Errorf("variable %s: want a query label_values(<metric>, %s), got %s %q", v.Name, v.Name, v.Type, v.Definition)
				continue
			}
			sel, err := expandGrafanaVariables(m[1])
			if err != nil {
				t.Errorf("variable %s: %v", v.Name, err)
				continue
			}
			checkMetricNames(t, "variable "+v.Name, sel)
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s: want datasource ${datasource}, got %+v", v.Name, v.Datasource)
			}
		}
	}
	// Several teams and organizations in one Prometheus stay apart only if the dashboard
	// can select them.
	for _, want := range []string{"datasource", "cluster", "team", "job", "instance", "organization", "model", "percentile", "filters"} {
		if !vars[want] {
			t.Errorf("dashboard needs the variable %s, has %v", want, vars)
		}
	}

	// A top row of summary figures.
	if len(d.Panels) < 5 || d.Panels[0].Type != "row" {
		t.Errorf("dashboard must start with a row of summary stats")
	} else {
		stats := 0
		for _, p := range d.Panels[1:] {
			if p.Type != "stat" {
				break
			}
			stats++
		}
		if stats < 4 {
			t.Errorf("the first row %q has %d stat panels, want at least 4 (requests/s, error ratio, p99 TTFT, tokens per request)", d.Panels[0].Title, stats)
		}
	}

	used := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range allPanels(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel %q: duplicate id %d", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: want datasource ${datasource}, got %+v", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: query datasource %+v, want ${datasource}", p.Title, tg.Datasource)
			}
			expr, err := expandGrafanaVariables(tg.Expr)
			if err != nil {
				t.Errorf("panel %q: %v in %s", p.Title, err, tg.Expr)
				continue
			}
			for _, n := range checkMetricNames(t, fmt.Sprintf("panel %q", p.Title), expr) {
				used[n] = true
			}
			for _, problem := range teamsApart(tg.Expr, tg.LegendFormat) {
				t.Errorf("panel %q: %s", p.Title, problem)
			}
		}
	}

	// The panels the dashboard promises: one per area of the exporter's metrics.
	for _, m := range []string{
		"groq_requests_rate1m", "groq_e2e_latency_seconds", "groq_ttft_latency_seconds",
		"groq_queue_latency_seconds", "groq_tokens_in", "groq_tokens_out", "groq_up",
		"groq_scrape_duration_seconds", "groq_last_refresh_success_timestamp_seconds",
		"groq_api_requests_total", "groq_api_retries_total", "groq_series_dropped",
		"groq_refresh_errors_total", "groq_config_last_reload_successful", "groq_query_success",
	} {
		if !used[m] {
			t.Errorf("no panel shows %s", m)
		}
	}

}

var (
	aggregation = regexp.MustCompile(`\b(sum|min|max|avg|count|topk|bottomk|quantile)\s*(by|without)?\s*(\([^()]*\))?\s*\(`)
	selector    = regexp.MustCompile(`\b(groq_\w+)\{([^}]*)\}`)
)

// teamsApart says what in a panel's query or legend could mix two teams (or
// clusters, or organizations) of a company-wide Prometheus into one line:
// every selector filters by the cluster and team variables, every
// aggregation keeps cluster and team (and, of the Groq series, organization),
// and the legend names them.
func teamsApart(expr, legend string) []string {
	var problems []string
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		if !strings.Contains(m[2], `cluster=~"$cluster"`) || !strings.Contains(m[2], `team=~"$team"`) {
			problems = append(problems, fmt.Sprintf("%s{%s} does not filter by $cluster and $team", m[1], m[2]))
		}
	}
	for _, m := range aggregation.FindAllStringSubmatch(expr, -1) {
		if m[2] == "without" {
			continue // keeps every label but those named
		}
		if !strings.Contains(m[3], "cluster") || !strings.Contains(m[3], "team") {
			problems = append(problems, fmt.Sprintf("%q sums over cluster or team", strings.TrimSpace(m[0])))
		}
		if !strings.Contains(m[3], "organization") && !strings.Contains(m[3], "instance") {
			problems = append(problems, fmt.Sprintf("%q sums over organizations", strings.TrimSpace(m[0])))
		}
	}
	if !strings.Contains(legend, "{{cluster}}") || !strings.Contains(legend, "{{team}}") {
		problems = append(problems, fmt.Sprintf("legend %q does not name {{cluster}} and {{team}}", legend))
	}
	return problems
}

func TestTeamsApart(t *testing.T) {
	ok := `sum by (cluster, team, organization) (x{cluster=~"$cluster", team=~"$team"}) / sum without (status_code) (y{cluster=~"$cluster", team=~"$team"})`
	if p := teamsApart(ok, "{{cluster}} {{team}} {{organization}}"); len(p) != 0 {
		t.Errorf("teamsApart(%s) = %v, want nothing", ok, p)
	}
	if p := teamsApart(`sum(groq_up{job=~"$job"})`, "{{instance}}"); len(p) != 4 {
		t.Errorf("teamsApart of a sum over everything = %v, want 4 problems", p)
	}
}

func TestExpandGrafanaVariables(t *testing.T) {
	got, err := expandGrafanaVariables(`rate(x{model=~"$model"}[$__rate_interval]) + y{model=~"${model}"} + z{m=~"${model:regex}"}`)
	if want := `rate(x{model=~".*"}[5m]) + y{model=~".*"} + z{m=~".*"}`; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := expandGrafanaVariables(`x{a="$nope"}`); err == nil || !slices.Contains(strings.Fields(err.Error()), "$nope") {
		t.Errorf("unknown variable: got %v", err)
	}
}
