//go:build integration

package examples

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// realDashboardVariables are the values the real-server dashboard test gives the variables:
// what Grafana sends with "All" selected, and rate windows that hold several of the 1s scrapes.
var realDashboardVariables = map[string]string{
	"cluster":         ".*",
	"team":            ".*",
	"job":             "groq",
	"instance":        ".+",
	"organization":    ".*",
	"model":           ".*",
	"percentile":      "p99|p50",
	"__rate_interval": "30s",
	"__interval":      "5s",
	"__range":         "1m",
}

var dashboardVariable = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

func expandWith(expr string, vars map[string]string) (string, error) {
	var err error
	out := dashboardVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sub := dashboardVariable.FindStringSubmatch(m)
		v, ok := vars[sub[1]+sub[2]]
		if !ok {
			err = fmt.Errorf("unknown variable %s", m)
		}
		return v
	})
	return out, err
}

// TestDashboardQueriesReturnData runs every query of the dashboard, and every variable's
// label_values, against a real Prometheus that scrapes groq_exporter (two organizations and
// a custom query, configured as the examples do) while the exporter reads the sandbox's
// synthetic Groq traffic from a real VictoriaMetrics. Each query must return data: a query
// that parses but selects nothing (a misspelt label, a wrong matcher) fails.
func TestDashboardQueriesReturnData(t *testing.T) {
	groqURL, key := sandbox(t)
	bin := exporterBinary(t)

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "api-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`organizations:
  - name: production
    api_key_file: %[1]s
    url: %[2]s
  - name: research
    api_key_file: %[1]s
    url: %[2]s
queries:
  - name: groq_error_ratio
    help: Share of requests per model that did not succeed, over the last minute.
    query: sum by (model) (requests:rate1m{status_code!~"2.."}) / sum by (model) (requests:rate1m)
    labels: [model]
`, keyFile, groqURL)
	configFile := filepath.Join(dir, "groq_exporter.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _ := startExporter(t, bin, "groq_exporter", "--config.file="+configFile)

	prom := startPrometheus(t, "prometheus", []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: groq
    static_configs:
      - targets: [%q]
`, addr)), nil)
	prom.waitForSeries(t, `groq_up{job="groq"}`)

	d := loadDashboard(t)
	type query struct{ where, expr string }
	var queries []query
	for _, v := range d.Templating.List {
		// cluster and team come from the external labels of a company-wide
		// Prometheus, which this one has not: TestFederation checks them.
		if v.Type == "query" && v.Name != "cluster" && v.Name != "team" {
			queries = append(queries, query{"variable " + v.Name, v.Definition})
		}
	}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			queries = append(queries, query{fmt.Sprintf("panel %q", p.Title), tg.Expr})
		}
	}
	if len(queries) < 20 {
		t.Fatalf("the dashboard has %d queries; expected the full dashboard", len(queries))
	}

	// Once with "All" everywhere, once with one organization and model picked: a series the
	// organization filter wrongly hides shows up in the second pass.
	one := maps.Clone(realDashboardVariables)
	one["organization"], one["model"] = "research", "llama-3.1-8b-instant"
	pending := map[string]bool{}
	for _, vars := range []map[string]string{realDashboardVariables, one} {
		for _, q := range queries {
			expr, err := expandWith(q.expr, vars)
			if err != nil {
				t.Errorf("%s: %v", q.where, err)
				continue
			}
			pending[q.where+": "+expr] = true
		}
	}
	// Rates need two scrapes in their window: poll until every query has data, or waitBound.
	deadline := time.Now().Add(waitBound)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for q := range pending {
			where, expr, _ := strings.Cut(q, ": ")
			var n int
			var err error
			if m := labelValues.FindStringSubmatch(expr); m != nil {
				var vals []string
				vals, err = prom.labelValues(m[2], m[1])
				n = len(vals)
			} else {
				var s []promSample
				s, err = prom.query(expr)
				n = len(s)
			}
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if n > 0 {
				delete(pending, q)
			}
		}
		select {
		case err := <-prom.exited:
			t.Fatalf("prometheus exited: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	for q := range pending {
		t.Errorf("no data within %v from %s", waitBound, q)
	}

	// The organization variable lists both organizations.
	orgs, err := prom.labelValues("organization", `groq_up{job="groq"}`)
	if err != nil || !slices.Equal(orgs, []string{"production", "research"}) {
		t.Errorf("organizations in Prometheus: %v %v, want production and research", orgs, err)
	}
}
