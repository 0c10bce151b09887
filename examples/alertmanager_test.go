//go:build integration

package examples

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// webhookMessage is what Alertmanager's webhook receiver posts.
type webhookMessage struct {
	Version  string `json:"version"`
	Status   string `json:"status"`
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// TestAlertDeliveredByAlertmanager runs the alerting path end to end with real servers: the
// exporter against a fake Groq that fails every request, a real Prometheus scraping it as
// job "groq" and evaluating the example rules (GroqUnreachable's for: shortened to seconds,
// as the chart's prometheusRule.alerts can), and a real Alertmanager that delivers the firing
// GroqUnreachable, with its labels, summary and runbook_url, to a webhook this test reads.
func TestAlertDeliveredByAlertmanager(t *testing.T) {
	bin := exporterBinary(t)
	const key = "gsk_alertmanagerTestKey"
	g := groqtest.FakeForTest(t, key)
	g.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	g.Inject(groqtest.Fault{Status: http.StatusServiceUnavailable, Text: `{"status":"error","error":"maintenance"}`})

	addr := groqtest.FreeAddr(t)
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--groq.url="+g.BaseURL(), "--groq.cache-ttl=1s")
	cmd.Env = append(os.Environ(), "GROQ_API_KEY="+key)
	_, exited := startProcess(t, "groq_exporter", cmd)
	waitUntil(t, "groq_exporter to serve groq_up 0", exited, func() bool {
		_, body, err := httpGet("http://" + addr + "/metrics")
		return err == nil && strings.Contains(body, "\ngroq_up 0\n")
	})

	var mu sync.Mutex
	var messages []webhookMessage
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook: undecodable message: %v", err)
		}
		mu.Lock()
		messages = append(messages, m)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	am := groqtest.AlertmanagerForTest(t, fmt.Sprintf(`route:
  receiver: webhook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: %s/hook
        send_resolved: false
`, hook.URL))

	rules := editYAML(t, rulesFile, func(doc map[string]any) {
		for _, g := range doc["groups"].([]any) {
			for _, r := range g.(map[string]any)["rules"].([]any) {
				if rule := r.(map[string]any); rule["alert"] == "GroqUnreachable" {
					rule["for"] = "2s"
				}
			}
		}
	})
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [groq-exporter.rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: groq
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(am.URL, "http://"), addr)
	startPrometheus(t, "prometheus", []byte(config), map[string][]byte{"groq-exporter.rules.yml": rules})

	var got map[string]string
	var annotations map[string]string
	deadline := time.Now().Add(waitBound)
	for got == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no firing GroqUnreachable reached the webhook within %v; messages: %+v", waitBound, messages)
		}
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		for _, m := range messages {
			for _, a := range m.Alerts {
				if a.Labels["alertname"] == "GroqUnreachable" && a.Status == "firing" && m.Receiver == "webhook" {
					got, annotations = a.Labels, a.Annotations
				}
			}
		}
		mu.Unlock()
	}
	want := map[string]string{"alertname": "GroqUnreachable", "job": "groq", "instance": addr, "severity": "warning"}
	if !subset(want, got) {
		t.Errorf("delivered alert has labels %v, want them to include %v", got, want)
	}
	if annotations["runbook_url"] != "https://github.com/groq-exporter/groq_exporter/blob/main/docs/runbook.md#groqunreachable" ||
		!strings.Contains(annotations["summary"], addr) || annotations["description"] == "" {
		t.Errorf("delivered alert has annotations %v, want the runbook_url, a summary naming %s and a description", annotations, addr)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range messages {
		for _, a := range m.Alerts {
			if n := a.Labels["alertname"]; n == "GroqExporterDown" || n == "GroqExporterAbsent" || n == "GroqHighErrorRatio" {
				t.Errorf("%s fired, but the exporter is up and no usage was read", n)
			}
		}
	}
}
