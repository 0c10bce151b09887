package groqtest

import (
	"strings"
	"testing"
)

func TestPrometheusConfig(t *testing.T) {
	cfg, err := prometheusConfig([]string{"http://127.0.0.1:1/metrics", "https://127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"scrape_interval: 1s", `job_name: "target-0"`, `metrics_path: "/metrics"`, `targets: ["127.0.0.1:1"]`,
		`job_name: "target-1"`, "scheme: https", `targets: ["127.0.0.1:2"]`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
	for _, bad := range []string{"127.0.0.1:1", "ftp://127.0.0.1/x", "http://"} {
		if _, err := prometheusConfig([]string{bad}); err == nil {
			t.Errorf("target %q accepted", bad)
		}
	}
}
