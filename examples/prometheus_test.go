package examples

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestPrometheusConfigsScrapeEvery30s holds the scrape interval of the groq job to the
// exporter's 30s cache.
func TestPrometheusConfigsScrapeEvery30s(t *testing.T) {
	type scrapeConfig struct {
		JobName        string              `json:"job_name"`
		ScrapeInterval string              `json:"scrape_interval"`
		HonorLabels    bool                `json:"honor_labels"`
		MetricsPath    string              `json:"metrics_path"`
		Params         map[string][]string `json:"params"`
		HTTPSD         []struct {
			URL string `json:"url"`
		} `json:"http_sd_configs"`
		Relabel []struct {
			Action string `json:"action"`
		} `json:"relabel_configs"`
	}
	type config struct {
		ScrapeConfigs []scrapeConfig `json:"scrape_configs"`
	}
	cfgs := map[string]config{}
	for _, name := range []string{"prometheus.yml", "federation.yml", "remote-write.yml", "probe-team.yml", "discovery.yml", "shards.yml", "replicas.yml", "kubernetes.yml"} {
		b, err := os.ReadFile(filepath.Join(prometheusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var c config
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, sc := range c.ScrapeConfigs {
			if sc.ScrapeInterval != "30s" {
				t.Errorf("%s: job %s scrapes every %q, want 30s (the exporter's cache TTL)", name, sc.JobName, sc.ScrapeInterval)
			}
		}
		cfgs[name] = c
	}
	// The team and central servers load the alerting rules, and the Kubernetes example finds
	// the exporter through the Kubernetes API.
	for _, name := range []string{"prometheus.yml", "federation.yml", "kubernetes.yml"} {
		b, _ := os.ReadFile(filepath.Join(prometheusDir, name))
		var c struct {
			RuleFiles     []string `json:"rule_files"`
			ScrapeConfigs []struct {
				KubernetesSD []map[string]any `json:"kubernetes_sd_configs"`
			} `json:"scrape_configs"`
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(c.RuleFiles, filepath.Base(rulesFile)) {
			t.Errorf("%s: rule_files %v, want %s", name, c.RuleFiles, filepath.Base(rulesFile))
		}
		if name == "kubernetes.yml" && (len(c.ScrapeConfigs) != 1 || len(c.ScrapeConfigs[0].KubernetesSD) != 1) {
			t.Errorf("kubernetes.yml: want the groq job to discover the exporter with kubernetes_sd_configs")
		}
	}
	fed := cfgs["federation.yml"].ScrapeConfigs
	if len(fed) != 1 || fed[0].MetricsPath != "/federate" || !fed[0].HonorLabels ||
		!slices.Contains(fed[0].Params["match[]"], `{__name__=~"groq_.*"}`) {
		t.Errorf("federation.yml: want one job on /federate with honor_labels and match[] {__name__=~\"groq_.*\"}, got %+v", fed)
	}
	for _, name := range []string{"prometheus.yml", "remote-write.yml", "probe-team.yml", "discovery.yml", "shards.yml", "replicas.yml", "kubernetes.yml"} {
		if sc := cfgs[name].ScrapeConfigs; len(sc) != 1 || sc[0].JobName != "groq" {
			t.Errorf("%s: want one job named groq (the alerts select job=\"groq\"), got %+v", name, sc)
		}
	}
	// The scale-out recipes: /probe with the organization parameter, or the
	// exporter's service discovery (/sd), split by hashmod on the shards.
	if sc := cfgs["probe-team.yml"].ScrapeConfigs[0]; sc.MetricsPath != "/probe" || len(sc.Params["organization"]) != 1 {
		t.Errorf("probe-team.yml: want metrics_path /probe and one organization parameter, got %+v", sc)
	}
	for _, name := range []string{"discovery.yml", "shards.yml", "replicas.yml"} {
		if sc := cfgs[name].ScrapeConfigs[0]; len(sc.HTTPSD) != 1 || !strings.HasSuffix(sc.HTTPSD[0].URL, "/sd") {
			t.Errorf("%s: want the exporter's /sd in http_sd_configs, got %+v", name, sc.HTTPSD)
		}
	}
	if rl := cfgs["shards.yml"].ScrapeConfigs[0].Relabel; len(rl) != 2 || rl[0].Action != "hashmod" || rl[1].Action != "keep" {
		t.Errorf("shards.yml: want a hashmod and a keep relabelling, got %+v", rl)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Record      string            `json:"record"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRulesContent checks what promtool does not: every alert uses only metrics the
// exporter exports (and up), carries a severity and a summary and description, and the
// unit tests prove for each alert both that it fires and that it stays quiet.
func TestAlertRulesContent(t *testing.T) {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.UnmarshalStrict(b, &rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}

	b, err = os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			Name          string `json:"name"`
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(b, &tests); err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}

	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts = append(alerts, r.Alert)
			checkMetricNames(t, "alert "+r.Alert, r.Expr, "up")
			switch r.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				t.Errorf("alert %s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s: no %s annotation", r.Alert, a)
				}
			}
			checkRunbook(t, r.Alert, r.Annotations["runbook_url"], r.Labels["severity"])
			if !fires[r.Alert] {
				t.Errorf("alert %s: no unit test in %s expects it to fire", r.Alert, rulesTestFile)
			}
			if !quiet[r.Alert] {
				t.Errorf("alert %s: no unit test in %s expects it to stay quiet", r.Alert, rulesTestFile)
			}
		}
	}
	for _, want := range []string{
		"GroqExporterDown", "GroqExporterAbsent", "GroqConfigReloadFailed", "GroqUnreachable",
		"GroqMetricsStale", "GroqRefreshErrorsRising", "GroqSeriesDropped", "GroqCustomQueryFailing",
		"GroqHighErrorRatio", "GroqHighRateLimitRatio", "GroqHighTimeToFirstToken",
		"GroqHighEndToEndLatency", "GroqQueueLatencyGrowing",
	} {
		if !slices.Contains(alerts, want) {
			t.Errorf("%s has no alert %s", rulesFile, want)
		}
	}
}

// checkRunbook: an alert's runbook_url points at its own section of docs/runbook.md, which
// says what the alert means, what to check and how to fix it, with the alert's severity.
func checkRunbook(t *testing.T, alert, url, severity string) {
	t.Helper()
	const base = "https://github.com/groq-exporter/groq_exporter/blob/main/docs/runbook.md#"
	if url != base+strings.ToLower(alert) {
		t.Errorf("alert %s: runbook_url %q, want %s%s", alert, url, base, strings.ToLower(alert))
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "runbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n## "+alert+"\n")
	if i < 0 {
		t.Errorf("docs/runbook.md has no section \"## %s\"", alert)
		return
	}
	section := text[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	for _, want := range []string{"**Severity:** " + severity + ".", "**What it means.**", "**What to check.**", "**How to fix.**"} {
		if !strings.Contains(section, want) {
			t.Errorf("docs/runbook.md, section %s: no %q", alert, want)
		}
	}
}
