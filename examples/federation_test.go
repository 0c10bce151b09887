//go:build integration

package examples

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// teamInstance is the address both teams' Prometheus servers scrape their own exporter at,
// as prometheus.yml says: the same instance label on both sides.
const teamInstance = "localhost:10199"

// TestFederation runs the two-level federation of examples/prometheus with real servers:
// two teams, each with its own groq_exporter (reading the sandbox's Groq stand-in) scraped
// by a team Prometheus configured from prometheus.yml, and a central Prometheus configured
// from federation.yml pulling both through /federate. Both teams scrape their exporter as
// job "groq", instance localhost:10199, so their series differ only in the team
// Prometheus's external_labels; the central server must hold each team's series apart,
// complete, with the original job and instance (honor_labels).
func TestFederation(t *testing.T) {
	groqURL, key := sandbox(t)
	bin := exporterBinary(t)
	keyFile := filepath.Join(t.TempDir(), "api-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}

	// A custom query too, so that every panel of the dashboard has data.
	configFile := filepath.Join(t.TempDir(), "groq_exporter.yml")
	if err := os.WriteFile(configFile, []byte(`queries:
  - name: groq_error_ratio
    help: Share of requests per model that did not succeed, over the last minute.
    query: sum by (model) (requests:rate1m{status_code!~"2.."}) / sum by (model) (requests:rate1m)
    labels: [model]
`), 0o644); err != nil {
		t.Fatal(err)
	}

	teams := []string{"search", "ads"}
	teamProms := map[string]*prometheusServer{}
	var teamTargets []any
	for _, team := range teams {
		addr, _ := startExporter(t, bin, "groq_exporter "+team,
			"--groq.url="+groqURL, "--groq.api-key-file="+keyFile, "--config.file="+configFile)
		config := editYAML(t, filepath.Join(prometheusDir, "prometheus.yml"), func(doc map[string]any) {
			global := doc["global"].(map[string]any)
			labels, ok := global["external_labels"].(map[string]any)
			if !ok || labels["cluster"] == nil || labels["team"] == nil {
				t.Fatalf("prometheus.yml: want global.external_labels with cluster and team, got %v", global["external_labels"])
			}
			labels["team"] = team
			global["scrape_interval"], global["evaluation_interval"] = "1s", "1s"
			for _, sc := range scrapeConfigs(t, doc) {
				sc["scrape_interval"], sc["scrape_timeout"] = "1s", "1s"
				// The exporter of this test listens on a free port; the label stays what
				// each team sees on its own host.
				sc["static_configs"] = []any{map[string]any{"targets": []any{addr}}}
				sc["relabel_configs"] = []any{map[string]any{"target_label": "instance", "replacement": teamInstance}}
			}
		})
		p := startPrometheus(t, "prometheus "+team, config, map[string][]byte{filepath.Base(rulesFile): rules})
		teamProms[team] = p
		teamTargets = append(teamTargets, strings.TrimPrefix(p.url, "http://"))
	}
	central := startPrometheus(t, "prometheus central", editYAML(t, filepath.Join(prometheusDir, "federation.yml"), func(doc map[string]any) {
		doc["global"].(map[string]any)["scrape_interval"] = "1s"
		for _, sc := range scrapeConfigs(t, doc) {
			sc["scrape_interval"], sc["scrape_timeout"] = "1s", "1s"
			sc["static_configs"] = []any{map[string]any{"targets": teamTargets}}
		}
		doc["global"].(map[string]any)["evaluation_interval"] = "1s"
	}), map[string][]byte{filepath.Base(rulesFile): rules})

	// Every team's Groq series, and its up series, arrive with their team label.
	for _, team := range teams {
		for _, q := range []string{`groq_up{job="groq", team="%s"}`, `up{job="groq", team="%s"}`, `groq_requests_rate1m{job="groq", team="%s"}`} {
			central.waitForSeries(t, fmt.Sprintf(q, team))
		}
	}

	// The central server loads the alerting rules and evaluates every one of them on the
	// federated series without error, so the alerts can fire there too.
	checkRulesEvaluated(t, central)

	// The central server has exactly each team's series: the team Prometheus's own plus its
	// external labels. Both sides refresh every second, so compare until they agree.
	want := map[string][]string{}
	var got map[string][]string
	deadline := time.Now().Add(waitBound)
	for {
		for _, team := range teams {
			s, err := teamProms[team].query(`{__name__=~"groq_.*"}`)
			if err != nil {
				t.Fatal(err)
			}
			want[team] = labelSets(s, nil)
		}
		s, err := central.query(`{__name__=~"groq_.*"}`)
		if err != nil {
			t.Fatal(err)
		}
		got = map[string][]string{}
		for _, smp := range s {
			got[smp.Metric["team"]] = append(got[smp.Metric["team"]], labelSet(smp.Metric, []string{"team", "cluster"}))
		}
		for team := range got {
			sort.Strings(got[team])
		}
		if slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(slices.Values(teams))) &&
			slices.Equal(got["search"], want["search"]) && slices.Equal(got["ads"], want["ads"]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the central Prometheus does not hold each team's series apart:\nby team %v\nwant %v", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(want["search"]) < 20 {
		t.Errorf("the team Prometheus holds only %d groq_ series: %v", len(want["search"]), want["search"])
	}

	// Without the external labels the two teams' series would be the same series: what
	// keeps them apart is cluster and team, nothing else.
	if !slices.Equal(got["search"], got["ads"]) {
		t.Errorf("the teams' series differ by more than their external labels; the test no longer shows why they are needed")
	}

	// honor_labels: the original job and instance, not the federation job's.
	s, err := central.query(`count by (job, instance, team, cluster) ({__name__=~"groq_.*"})`)
	if err != nil {
		t.Fatal(err)
	}
	for _, smp := range s {
		m := smp.Metric
		if m["job"] != "groq" || m["instance"] != teamInstance || m["cluster"] == "" || m["cluster"] == "global" {
			t.Errorf("central series with job=%q instance=%q cluster=%q team=%q; want job groq, instance %s and the team Prometheus's cluster",
				m["job"], m["instance"], m["cluster"], m["team"], teamInstance)
		}
	}
	if len(s) != len(teams) {
		t.Errorf("central series fall into %d job/instance/team groups, want %d: %v", len(s), len(teams), s)
	}

	dashboardOnCentral(t, central, teams)
}

// dashboardOnCentral runs every query of the dashboard on the central
// Prometheus of a federation: with "All" selected everywhere, each query's
// result holds every team's series apart (each series names its team, and
// every team is there), so no line sums two teams; with one team selected,
// only that team's. The cluster and team variables list what the team
// Prometheus servers' external labels say.
func dashboardOnCentral(t *testing.T, central *prometheusServer, teams []string) {
	t.Helper()
	d := loadDashboard(t)
	all := maps.Clone(realDashboardVariables)
	all["cluster"], all["team"] = ".*", ".*"
	one := maps.Clone(all)
	one["team"] = teams[0]
	type check struct {
		where, expr string
		want        []string // the teams the result must hold, each apart
	}
	var pending []check
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			for _, vars := range []map[string]string{all, one} {
				expr, err := expandWith(tg.Expr, vars)
				if err != nil {
					t.Fatalf("panel %q: %v", p.Title, err)
				}
				want := slices.Sorted(slices.Values(teams))
				if vars["team"] != ".*" {
					want = []string{vars["team"]}
				}
				pending = append(pending, check{fmt.Sprintf("panel %q", p.Title), expr, want})
			}
		}
	}
	var last map[string]string // why each check still fails
	for deadline := time.Now().Add(waitBound); len(pending) > 0; time.Sleep(500 * time.Millisecond) {
		last = map[string]string{}
		var still []check
		for _, c := range pending {
			s, err := central.query(c.expr)
			if err != nil {
				t.Fatalf("%s: %s: %v", c.where, c.expr, err)
			}
			got := map[string]bool{}
			for _, smp := range s {
				got[smp.Metric["team"]] = true // "" for a series that sums teams away
			}
			if !slices.Equal(slices.Sorted(maps.Keys(got)), c.want) {
				still = append(still, c)
				last[c.where+": "+c.expr] = fmt.Sprintf("teams %v, want each of %v apart", slices.Sorted(maps.Keys(got)), c.want)
			}
		}
		pending = still
		if time.Now().After(deadline) {
			break
		}
	}
	if len(pending) > 0 {
		for q, why := range last {
			t.Errorf("on the central Prometheus, %s: %s", q, why)
		}
	}
	for _, v := range []struct{ name, match string }{{"team", "groq_up"}, {"cluster", "groq_up"}} {
		vals, err := central.labelValues(v.name, v.match)
		if err != nil || len(vals) == 0 || v.name == "team" && !slices.Equal(vals, slices.Sorted(slices.Values(teams))) {
			t.Errorf("variable %s on the central Prometheus: %v %v", v.name, vals, err)
		}
	}
}

// labelSet renders a sample's labels, without those in drop, as one sortable string.
func labelSet(m map[string]string, drop []string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(drop, k) {
			parts = append(parts, k+"="+m[k])
		}
	}
	return strings.Join(parts, ",")
}

// labelSets renders every sample's labels, without those in drop, sorted.
func labelSets(s []promSample, drop []string) []string {
	var out []string
	for _, smp := range s {
		out = append(out, labelSet(smp.Metric, drop))
	}
	sort.Strings(out)
	return out
}

// checkRulesEvaluated waits until Prometheus has evaluated every alerting rule of the
// examples' rules file, each with health "ok".
func checkRulesEvaluated(t *testing.T, p *prometheusServer) {
	t.Helper()
	var rf ruleFile
	if b, err := os.ReadFile(rulesFile); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, g := range rf.Groups {
		want += len(g.Rules)
	}
	var bad []string
	waitUntil(t, p.name+" to evaluate the alerting rules", p.exited, func() bool {
		var r struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name      string `json:"name"`
						Health    string `json:"health"`
						LastError string `json:"lastError"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := p.api("/api/v1/rules?type=alert", &r); err != nil {
			return false
		}
		n := 0
		bad = nil
		for _, g := range r.Data.Groups {
			for _, rule := range g.Rules {
				n++
				if rule.Health != "ok" {
					bad = append(bad, rule.Name+": "+rule.Health+" "+rule.LastError)
				}
			}
		}
		return n == want && len(bad) == 0
	})
}
