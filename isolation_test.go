package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestOrganizationFilesLate: three organizations, one whose key file and one
// whose CA file do not exist yet (their Secrets are created late). The
// exporter starts; the healthy one is up; the two others are served down,
// each with its reason and its file named in the log and on the status page;
// once the files are written, the next scrape finds them up, with no reload.
func TestOrganizationFilesLate(t *testing.T) {
	const keyA, keyB, keyC = "gsk_lateFilesKeyA", "gsk_lateFilesKeyB", "gsk_lateFilesKeyC"
	_, urlA := newOrgGroq(t, keyA, 1)
	_, urlB := newOrgGroq(t, keyB, 2)
	ca := groqtest.CAForTest(t)
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	gc := groqtest.NewFake(keyC)
	gc.SetSeries(groqtest.RecordedSamples(t, "collector/testdata/all_families.json")...)
	groqC, err := gc.StartTLS("", cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(groqC.Close)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.key"), keyA+"\n")
	writeFile(t, filepath.Join(dir, "c.key"), keyC+"\n")
	keyFileB, caFileC := filepath.Join(dir, "b.key"), filepath.Join(dir, "corp-ca.pem")
	cfgFile := filepath.Join(dir, "groq.yml")
	writeFile(t, cfgFile, fmt.Sprintf(`organizations:
  - name: a
    api_key_file: a.key
    url: %s
  - name: b
    api_key_file: b.key
    url: %s
  - name: c
    api_key_file: c.key
    url: %s
    http_client_config:
      tls_config:
        ca_file: corp-ca.pem
builtin:
  families: [groq_requests_rate1m]
`, urlA, urlB, groqC.BaseURL()))

	e := startExporter(t, nil, "--config.file="+cfgFile, "--groq.cache-ttl=0")
	_, body := e.get(t, "/metrics")
	for prefix, want := range map[string]string{
		`groq_up{organization="a"}`:                                      "1",
		`groq_up{organization="b"}`:                                      "0",
		`groq_up{organization="c"}`:                                      "0",
		`groq_refresh_errors_total{organization="b",reason="key"}`:       "1",
		`groq_refresh_errors_total{organization="c",reason="tls_file"}`:  "1",
		`groq_refresh_errors_total{organization="c",reason="transport"}`: "0",
	} {
		if got := metricLine(body, prefix); got != want {
			t.Errorf("%s = %q, want %s", prefix, got, want)
		}
	}
	if !strings.Contains(body, `groq_requests_rate1m{model="llama-3.3-70b-versatile",organization="a"`) {
		t.Errorf("organization a's series are not served:\n%s", body)
	}
	if n := groqC.Requests(); n != 0 {
		t.Errorf("%d requests reached organization c's Groq without its CA file", n)
	}
	_, page := e.get(t, "/")
	for _, file := range []string{keyFileB, caFileC} {
		if !strings.Contains(e.log.String(), file) {
			t.Errorf("the log does not name %s:\n%s", file, e.log)
		}
		if !strings.Contains(page, file) {
			t.Errorf("the status page does not name %s", file)
		}
	}

	writeFile(t, keyFileB, keyB+"\n")
	if err := ca.WriteFile(caFileC); err != nil {
		t.Fatal(err)
	}
	_, body = e.get(t, "/metrics")
	for _, org := range []string{"a", "b", "c"} {
		if got := metricLine(body, `groq_up{organization="`+org+`"}`); got != "1" {
			t.Errorf("organization %s: groq_up %q once its file exists, want 1", org, got)
		}
	}
	if n := strings.Count(e.log.String(), "Loaded the configuration file"); n != 1 {
		t.Errorf("the configuration was loaded %d times, want once", n)
	}
}

// TestGroqCheckSaysItOnce: --groq.check with a key Groq refuses prints its
// verdict once, on stdout, and nothing about serving: no log line, no second
// copy of the failure; with a custom query Groq refuses, the verdict names
// the query and the check fails, while the organization itself is OK.
func TestGroqCheckSaysItOnce(t *testing.T) {
	const key = "gsk_groqCheckOnceKey"
	_, url := newOrgGroq(t, key, 1)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--groq.check", "--groq.url=" + url}, func(string) string { return "gsk_refusedByGroq" }, &stdout, &stderr)
	if err == nil {
		t.Error("--groq.check with a refused key succeeded")
	}
	if n := strings.Count(stdout.String(), "Groq rejected the API key"); n != 1 || !strings.Contains(stdout.String(), "FAILED") {
		t.Errorf("the verdict says the failure %d times, want once:\n%s", n, stdout.String())
	}
	if stderr.Len() != 0 || strings.Contains(stdout.String(), "serving") {
		t.Errorf("--groq.check printed more than its verdict:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}

	cfgFile := filepath.Join(t.TempDir(), "groq.yml")
	writeFile(t, cfgFile, "queries:\n  - name: groq_unknown\n    help: A query the fake Groq refuses.\n    query: rate(nothing[5m])\n")
	stdout.Reset()
	stderr.Reset()
	err = run(context.Background(), []string{"--groq.check", "--groq.url=" + url, "--config.file=" + cfgFile}, func(string) string { return key }, &stdout, &stderr)
	if err == nil || !strings.Contains(stdout.String(), ": OK, the key works") || !strings.Contains(stdout.String(), "Query groq_unknown: FAILED: ") || stderr.Len() != 0 {
		t.Errorf("--groq.check with a failing query = %v:\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
}
