package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStatusPage: the landing page shows the live state of the refreshes,
// and never the key.
func TestStatusPage(t *testing.T) {
	const key = "gsk_statusPageSecret42"
	g, groqURL := newGroqFixture(t, key)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": key}, "--groq.url="+groqURL, "--groq.cache-ttl=0")

	_, page := e.get(t, "/")
	for _, want := range []string{groqURL, "none yet", "No series yet", `href="/metrics"`, `href="/probe?organization=default"`} {
		if !strings.Contains(page, want) {
			t.Errorf("before any scrape, / lacks %q:\n%s", want, page)
		}
	}

	e.get(t, "/metrics")
	_, page = e.get(t, "/")
	for _, want := range []string{`id="outcome">succeeded`, "groq_ttft_latency_seconds</code></td><td>6", "openai/gpt-oss-120b", "llama-3.3-70b-versatile", "Cache age"} {
		if !strings.Contains(page, want) {
			t.Errorf("after a scrape, / lacks %q:\n%s", want, page)
		}
	}

	g.SetKeys("gsk_someOtherKey")
	e.get(t, "/metrics")
	_, page = e.get(t, "/")
	for _, want := range []string{`id="outcome">failed`, "Groq rejected the API key", "invalid API key", "<code>auth</code> 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("after a failed refresh, / lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "statusPageSecret") || strings.Contains(page, "someOtherKey") {
		t.Error("the status page shows a key")
	}
	if code, _ := e.get(t, "/nope"); code != 404 {
		t.Errorf("GET /nope = %d, want 404", code)
	}
}

// manyOrganizations starts the exporter with 40 organizations on one fake
// Groq, two of them failing (team-17 whose key file does not exist, team-29
// whose key Groq refuses), scrapes it once and returns it.
func manyOrganizations(t *testing.T) *instance {
	t.Helper()
	const key = "gsk_manyOrganizationsKey"
	_, url := newOrgGroq(t, key, 1)
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("organizations:\n")
	for i := 1; i <= 40; i++ {
		name := fmt.Sprintf("team-%02d", i)
		switch i {
		case 17:
			fmt.Fprintf(&cfg, "  - name: %s\n    api_key_file: %s.key\n    url: %s\n", name, name, url)
		case 29:
			fmt.Fprintf(&cfg, "  - name: %s\n    api_key: gsk_revokedKeyOfTeam29\n    url: %s\n", name, url)
		default:
			writeFile(t, filepath.Join(dir, name+".key"), key+"\n")
			fmt.Fprintf(&cfg, "  - name: %s\n    api_key_file: %s.key\n    url: %s\n", name, name, url)
		}
	}
	cfgFile := filepath.Join(dir, "groq.yml")
	writeFile(t, cfgFile, cfg.String())
	e := startExporter(t, nil, "--config.file="+cfgFile)
	if code, _ := e.get(t, "/metrics"); code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	return e
}

// maxStatusPage is the size the status page stays under with 40
// organizations.
const maxStatusPage = 40 << 10

// TestStatusPageManyOrganizations: with 40 organizations the page is one
// line per organization, the two failing ones first, each linking to its
// details and to its /probe, which serves it; it says when the exporter started, where each key comes from and
// the settings, and stays under 40 KB. An organization's details show its
// recent refreshes.
func TestStatusPageManyOrganizations(t *testing.T) {
	e := manyOrganizations(t)
	_, page := e.get(t, "/")
	t.Logf("the status page is %d bytes with 40 organizations", len(page))
	if len(page) > maxStatusPage {
		t.Errorf("the status page is %d bytes with 40 organizations, want at most %d", len(page), maxStatusPage)
	}
	rows := regexp.MustCompile(`<tr class="state-(\w+)"><td><a href="\?organization=([\w-]+)">`).FindAllStringSubmatch(page, -1)
	if len(rows) != 40 {
		t.Fatalf("%d organization rows, want 40:\n%s", len(rows), page)
	}
	if rows[0][2] != "team-17" || rows[1][2] != "team-29" || rows[0][1] != "down" || rows[1][1] != "down" || rows[2][1] != "up" {
		t.Errorf("first rows %v, %v, %v: want team-17 and team-29 down, first", rows[0][1:], rows[1][1:], rows[2][1:])
	}
	probes := regexp.MustCompile(`<tr class="state-\w+"><td><a href="\?organization=([\w-]+)">[^\n]*?<a href="/probe\?organization=([\w-]+)">`).FindAllStringSubmatch(page, -1)
	if len(probes) != 40 {
		t.Errorf("%d organization rows link their /probe, want 40", len(probes))
	}
	for _, p := range probes {
		if p[1] != p[2] {
			t.Errorf("the row of %s links /probe?organization=%s", p[1], p[2])
		}
	}
	if code, probe := e.get(t, "/probe?organization=team-05"); code != 200 || !strings.Contains(probe, "groq_up 1\n") || !strings.Contains(probe, "groq_requests_rate1m") {
		t.Errorf("team-05's /probe link answers %d:\n%s", code, probe)
	}
	for _, want := range []string{"started ", "team-17.key cannot be read: no such file or directory", "Groq rejected the API key",
		`href="/config"`, "--groq.cache-ttl", "file " + "/", "2 failing"} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	if strings.Contains(page, "gsk_") {
		t.Error("the status page shows a key")
	}

	_, details := e.get(t, "/?organization=team-05")
	history := regexp.MustCompile(`<table id="history-team-05">(?s:(.*?))</table>`).FindStringSubmatch(details)
	if history == nil || !strings.Contains(history[1], "<td>succeeded</td>") || !regexp.MustCompile(`<td>[1-9]\d*</td><td>[1-9]\d{2,}</td>`).MatchString(history[1]) {
		t.Errorf("team-05's details lack its recent refreshes (time, outcome, duration, series, bytes):\n%s", details)
	}
	if code, _ := e.get(t, "/?organization=nope"); code != 404 {
		t.Errorf("details of an unknown organization: %d, want 404", code)
	}
}
