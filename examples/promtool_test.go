//go:build integration

package examples

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests that run promtool (the pinned version scripts/install-deps.sh builds).

// TestPrometheusConfigs runs promtool check config on every config in prometheus/. The
// rules file sits next to each copy, as the configs expect, so the rule_files entry is
// checked too.
func TestPrometheusConfigs(t *testing.T) {
	pt := promtool(t)
	configs, err := filepath.Glob(filepath.Join(prometheusDir, "*.yml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no configs in %s: %v", prometheusDir, err)
	}
	for _, cfg := range configs {
		t.Run(filepath.Base(cfg), func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, cfg, filepath.Join(dir, filepath.Base(cfg)))
			copyFile(t, rulesFile, filepath.Join(dir, filepath.Base(rulesFile)))
			mustRun(t, dir, pt, "check", "config", filepath.Base(cfg))
		})
	}
	// The remote_write example says it also runs as a Prometheus agent.
	mustRun(t, prometheusDir, pt, "check", "config", "--agent", "remote-write.yml")
}

// TestAlertRules: promtool checks the rules and runs their unit tests.
func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	mustRun(t, ".", pt, "check", "rules", rulesFile)
	mustRun(t, alertsDir, pt, "test", "rules", filepath.Base(rulesTestFile))
}

// TestGrafanaDashboardPromtool hands the dashboard's queries, variables expanded, to
// Prometheus' own parser, through promtool; TestGrafanaDashboard checks the rest.
func TestGrafanaDashboardPromtool(t *testing.T) {
	exprs := dashboardExprs(t)
	if len(exprs) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(e) // a JSON string is a valid YAML string
		fmt.Fprintf(&rules, "      - record: dashboard:expr%d\n        expr: %s\n", i, q)
	}
	f := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(f, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, ".", promtool(t), "check", "rules", f)
}
