package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/exporter"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// customExpr is the MetricsQL of every custom query of twoOrgConfig.
const customExpr = "sum by (model) (requests:rate1m)"

// newOrgGroq starts a fake Groq for one organization: it accepts the
// organization's key, answers the built-in selector from the recorded answer
// collector/testdata/all_families.json, and the custom queries with one series
// whose value names the organization. It returns the fake and its URL.
func newOrgGroq(t *testing.T, key string, value float64) (*groqtest.GatewayServer, string) {
	t.Helper()
	g := groqtest.FakeForTest(t, key)
	g.SetSeries(groqtest.RecordedSamples(t, "collector/testdata/all_families.json")...)
	g.SetAnswer(customExpr, groqtest.Sample{Labels: map[string]string{"model": "llama"}, Value: value})
	return g, g.BaseURL()
}

// lastBuiltinQuery returns the last built-in selector g was asked, or "".
func lastBuiltinQuery(g *groqtest.GatewayServer) string {
	q := ""
	for _, c := range g.Calls() {
		if strings.HasPrefix(c.Query(), `{__name__=~`) {
			q = c.Query()
		}
	}
	return q
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// twoOrgConfig is a configuration with two organizations (one key in a
// file, one inline) and the given custom queries.
func twoOrgConfig(urlA, urlB string, queries ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "organizations:\n  - name: a\n    api_key_file: a.key\n    url: %s\n", urlA)
	if urlB != "" {
		fmt.Fprintf(&b, "  - name: b\n    api_key: gsk_inlineSecretB\n    url: %s\n", urlB)
	}
	b.WriteString("builtin:\n  families: [groq_requests_rate1m]\n")
	if len(queries) > 0 {
		b.WriteString("queries:\n")
	}
	for _, q := range queries {
		fmt.Fprintf(&b, "  - name: %s\n    help: Custom query %s.\n    query: %s\n    labels: [model]\n", q, q, customExpr)
	}
	return b.String()
}

// metricLine returns the value of the first series of the exposition that
// starts with prefix, or "" if none does.
func metricLine(exposition, prefix string) string {
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			return strings.TrimPrefix(line, prefix+" ")
		}
	}
	return ""
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// twoOrganizations is the exporter of TestReloadUnderScrapes, serving the
// configuration v1 from cfgFile: organizations a (key in dir/a.key, Groq at
// urlA) and b (Groq at urlB) and a custom query; body is its first scrape.
type twoOrganizations struct {
	groqA                  *groqtest.GatewayServer
	urlA, dir, cfgFile, v1 string
	e                      *instance
	body                   string
}

func startTwoOrganizations(t *testing.T) twoOrganizations {
	t.Helper()
	const keyA = "gsk_fileSecretA"
	groqA, urlA := newOrgGroq(t, keyA, 1)
	_, urlB := newOrgGroq(t, "gsk_inlineSecretB", 2)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.key"), keyA+"\n")
	cfgFile := filepath.Join(dir, "groq.yml")
	v1 := twoOrgConfig(urlA, urlB, "groq_custom_one")
	writeFile(t, cfgFile, v1)

	e := startExporter(t, nil, "--config.file="+cfgFile, "--groq.cache-ttl=0", "--log.level=debug")
	_, body := e.get(t, "/metrics")
	return twoOrganizations{groqA: groqA, urlA: urlA, dir: dir, cfgFile: cfgFile, v1: v1, e: e, body: body}
}

// TestReloadUnderScrapes: a configuration with two organizations and custom
// queries is served; POST /-/reload and SIGHUP swap in new files while
// scrapes keep coming, every scrape answers, a bad file keeps the running
// configuration and sets groq_config_last_reload_successful 0, and no key is
// ever shown.
func TestReloadUnderScrapes(t *testing.T) {
	o := startTwoOrganizations(t)
	groqA, urlA, dir, cfgFile, v1, e, body := o.groqA, o.urlA, o.dir, o.cfgFile, o.v1, o.e, o.body
	for prefix, want := range map[string]string{
		`groq_up{organization="a"}`:                                                            "1",
		`groq_up{organization="b"}`:                                                            "1",
		`groq_custom_one{model="llama",organization="a"}`:                                      "1",
		`groq_custom_one{model="llama",organization="b"}`:                                      "2",
		`groq_query_success{organization="b",query="groq_custom_one"}`:                         "1",
		`groq_requests_rate1m{model="openai/gpt-oss-120b",organization="a",status_code="200"}`: "12.5",
		`groq_config_last_reload_successful`:                                                   "1",
	} {
		if got := metricLine(body, prefix); got != want {
			t.Errorf("%s = %q, want %q", prefix, got, want)
		}
	}
	if q, want := lastBuiltinQuery(groqA), `{__name__=~"requests:rate1m"}`; q != want {
		t.Errorf("built-in selector %v, want %s: only the family the file lists", q, want)
	}
	lintExposition(t, body)

	// Scrape without pause until the end of the test, on connections of
	// their own, closed at the end so that the exporter shuts down at once.
	scraper := &http.Client{Transport: &http.Transport{}}
	defer scraper.CloseIdleConnections()
	defer http.DefaultClient.CloseIdleConnections()
	stop := keepScraping(4, func() error {
		resp, err := scraper.Get(e.url + "/metrics")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`groq_up{organization="a"} 1`)) {
			return fmt.Errorf("scrape answered %d:\n%s", resp.StatusCode, b)
		}
		return nil
	})

	// A new file: organization b goes, a query comes.
	writeFile(t, cfgFile, twoOrgConfig(urlA, "", "groq_custom_one", "groq_custom_two"))
	if code, msg := post(t, e.url+"/-/reload"); code != http.StatusOK || msg != "Configuration reloaded.\n" {
		t.Fatalf("POST /-/reload = %d %q", code, msg)
	}
	_, body = e.get(t, "/metrics")
	if strings.Contains(body, `organization="b"`) || metricLine(body, `groq_custom_two{model="llama",organization="a"}`) != "1" {
		t.Errorf("after the reload, want b gone and groq_custom_two served:\n%s", body)
	}

	// A bad file is refused, and the running configuration stays.
	writeFile(t, cfgFile, "organizations:\n  - name: a\n    api_key: gsk_badFileSecret\n    api_key_file: a.key\nquerys: []\n")
	code, msg := post(t, e.url+"/-/reload")
	wantMsg := "failed to reload the configuration: " + cfgFile + ": line 5: unknown field \"querys\" in the top level (known: builtin, organizations, queries)\n"
	if code != http.StatusInternalServerError || msg != wantMsg {
		t.Errorf("POST /-/reload with a bad file = %d %q, want 500 %q", code, msg, wantMsg)
	}
	_, body = e.get(t, "/metrics")
	if metricLine(body, "groq_config_last_reload_successful") != "0" || metricLine(body, `groq_custom_two{model="llama",organization="a"}`) != "1" {
		t.Errorf("after a bad file, want groq_config_last_reload_successful 0 and the previous configuration:\n%s", body)
	}
	if ts := metricLine(body, "groq_config_last_reload_success_timestamp_seconds"); ts == "" || ts == "0" {
		t.Errorf("groq_config_last_reload_success_timestamp_seconds = %q, want the time of the last good load", ts)
	}

	// SIGHUP reloads as well (run() catches it: the test process lives on).
	writeFile(t, cfgFile, v1)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body = e.get(t, "/metrics")
		if metricLine(body, "groq_config_last_reload_successful") == "1" && metricLine(body, `groq_up{organization="b"}`) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload the configuration:\n%s", body)
		}
	}

	errs, scrapes := stop()
	for _, err := range errs {
		t.Error(err)
	}
	if scrapes == 0 {
		t.Error("no scrape completed during the reloads")
	}
	if groqA.Requests() == 0 {
		t.Error("organization a was never asked")
	}

	// Keys stay hidden everywhere.
	_, shown := e.get(t, "/config")
	if !strings.Contains(shown, "api_key: <secret>") || !strings.Contains(shown, "api_key_file: "+filepath.Join(dir, "a.key")) {
		t.Errorf("/config does not show the configuration with the key hidden:\n%s", shown)
	}
	_, page := e.get(t, "/")
	_, detailsA := e.get(t, "/?organization=a")
	_, detailsB := e.get(t, "/?organization=b")
	page += detailsA + detailsB
	for _, want := range []string{`href="?organization=a"`, `href="?organization=b"`, `organization <code>a</code>`, `organization <code>b</code>`,
		`id="outcome-a">succeeded`, "groq_custom_one", `href="/config"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	for where, s := range map[string]string{"/config": shown, "/": page, "the log": e.log.String(), "/metrics": body, "the reload error": msg} {
		for _, secret := range []string{"SecretA", "SecretB", "badFileSecret"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows a key (%s)", where, secret)
			}
		}
	}
}

// TestReloadEndpoint: only POST reloads; without --config.file there is
// nothing to reload, no /config and no reload metrics.
func TestReloadEndpoint(t *testing.T) {
	_, groqURL := newGroqFixture(t, "k")
	e := startExporter(t, map[string]string{"GROQ_API_KEY": "k"}, "--groq.url="+groqURL)
	resp, err := http.Get(e.url + "/-/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET /-/reload = %d, Allow %q; want 405, Allow POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if code, msg := post(t, e.url+"/-/reload"); code != http.StatusOK || msg != "No --config.file: nothing to reload.\n" {
		t.Errorf("POST /-/reload without --config.file = %d %q, want 200, nothing to reload", code, msg)
	}
	if code, _ := e.get(t, "/config"); code != http.StatusNotFound {
		t.Errorf("GET /config without --config.file = %d, want 404", code)
	}
	if _, body := e.get(t, "/metrics"); strings.Contains(body, "groq_config_") || strings.Contains(body, "organization=") {
		t.Errorf("without --config.file, /metrics has configuration metrics or labels:\n%s", body)
	}
}

// TestConfigCheck: --config.check validates the file and the key files it
// names, prints "config OK" or the errors, and never contacts Groq. In CI,
// where the secrets are absent, a key file that does not exist is a warning
// naming it (exit 0); one that exists but is empty or unreadable is an error.
func TestConfigCheck(t *testing.T) {
	g, url := newOrgGroq(t, "k", 1)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.key"), "k\n")
	good := filepath.Join(dir, "good.yml")
	writeFile(t, good, twoOrgConfig(url, url, "groq_custom_one"))
	missingKey := filepath.Join(dir, "sub", "missing-key.yml")
	if err := os.Mkdir(filepath.Dir(missingKey), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, missingKey, twoOrgConfig(url, url))
	emptyKey := filepath.Join(dir, "empty", "empty-key.yml")
	if err := os.MkdirAll(filepath.Join(dir, "empty", "a.key"), 0o700); err != nil { // a directory: unreadable as a file
		t.Fatal(err)
	}
	writeFile(t, emptyKey, twoOrgConfig(url, url))
	emptyKey2 := filepath.Join(dir, "empty2", "empty-key.yml")
	if err := os.Mkdir(filepath.Dir(emptyKey2), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "empty2", "a.key"), " \n")
	writeFile(t, emptyKey2, twoOrgConfig(url, url))
	noOrgs := filepath.Join(dir, "no-orgs.yml")
	writeFile(t, noOrgs, "builtin:\n  families: [groq_requests_rate1m]\n")
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, bad, "queries:\n  - name: groq_up\n    help: h\n    query: sum(\n")
	// Every file alike: an absent CA file is a warning even when the key
	// file is absent too; one that is there but no CA is a problem.
	tlsOrg := func(name, keyFile, caFile string) string {
		return fmt.Sprintf("organizations:\n  - name: %s\n    api_key_file: %s\n    url: %s\n    http_client_config:\n      tls_config:\n        ca_file: %s\n", name, keyFile, url, caFile)
	}
	missingCA := filepath.Join(dir, "missing-ca.yml")
	writeFile(t, missingCA, tlsOrg("c", "c.key", "ca.pem"))
	badCA := filepath.Join(dir, "bad-ca.yml")
	writeFile(t, filepath.Join(dir, "not-a-ca.pem"), "not a certificate\n")
	writeFile(t, badCA, tlsOrg("c", "a.key", "not-a-ca.pem"))

	for _, tc := range []struct {
		args  []string
		noEnv bool   // no $GROQ_API_KEY
		want  string // "" for success
		warn  string // what stderr must say
	}{
		{args: []string{"--config.file=" + good}},
		{args: []string{"--config.file=" + filepath.Join("examples", "config", "error-ratio.yml")}},
		{args: []string{"--config.file=" + filepath.Join("examples", "config", "behind-a-proxy.yml")},
			warn: "warning: examples/config/behind-a-proxy.yml: " + `organization "production": cannot read the Groq API key: the key file /etc/groq/production/api-key cannot be read: no such file or directory (it must exist where the exporter runs)` + "\n" +
				"warning: examples/config/behind-a-proxy.yml: " + `organization "production": tls_config ca_file /etc/ssl/corp/ca.pem cannot be read: no such file or directory (it must exist where the exporter runs)` + "\n" +
				"warning: examples/config/behind-a-proxy.yml: " + `organization "research": cannot read the Groq API key: the key file /etc/groq/research/api-key cannot be read: no such file or directory (it must exist where the exporter runs)` + "\n"},
		{args: []string{"--config.file=" + bad}, want: bad + `: query "groq_up": name is one of the exporter's own metrics` + "\n" +
			bad + `: query "groq_up": invalid MetricsQL: singleExpr: unexpected token ""; want "(", "{", "-", "+"; unparsed data: ""` + "\n"},
		{args: []string{"--config.file=" + missingCA}, warn: "warning: " + missingCA + `: organization "c": cannot read the Groq API key: the key file ` +
			filepath.Join(dir, "c.key") + " cannot be read: no such file or directory (it must exist where the exporter runs)\n" +
			"warning: " + missingCA + `: organization "c": tls_config ca_file ` + filepath.Join(dir, "ca.pem") +
			" cannot be read: no such file or directory (it must exist where the exporter runs)\n"},
		{args: []string{"--config.file=" + badCA}, want: badCA + `: organization "c": tls_config: unable to use specified CA cert file ` +
			filepath.Join(dir, "not-a-ca.pem") + "\n"},
		{args: []string{"--config.file=" + missingKey}, warn: "warning: " + missingKey + `: organization "a": cannot read the Groq API key: the key file ` +
			filepath.Join(dir, "sub", "a.key") + " cannot be read: no such file or directory (it must exist where the exporter runs)\n"},
		{args: []string{"--config.file=" + emptyKey}, want: emptyKey + `: organization "a": cannot read the Groq API key: the key file ` +
			filepath.Join(dir, "empty", "a.key") + " is a directory, not a regular file\n"},
		{args: []string{"--config.file=" + emptyKey2}, want: emptyKey2 + `: organization "a": cannot read the Groq API key: the key file ` +
			filepath.Join(dir, "empty2", "a.key") + " is empty\n"},
		{args: []string{"--config.file=" + noOrgs}, noEnv: true, warn: "warning: no Groq API key (the command line's organization needs one to run)\n"},
		{args: []string{"--config.file=" + noOrgs, "--groq.api-key-file=" + filepath.Join(dir, "nope")}, noEnv: true,
			warn: "warning: cannot read the Groq API key: the key file " + filepath.Join(dir, "nope") + " cannot be read: no such file or directory (it must exist where the exporter runs)\n"},
		{want: "--config.check needs --config.file\n"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--config.check", "--web.listen-address=127.0.0.1:1"}, tc.args...)
		env := "gsk_envKey"
		if tc.noEnv {
			env = ""
		}
		err := run(context.Background(), args, func(string) string { return env }, &stdout, &stderr)
		// Problems: one plain line each on stderr, after the warnings, and
		// nothing else (no log line, no escaping); exit status 1.
		problems := strings.TrimPrefix(stderr.String(), tc.warn)
		switch {
		case tc.want == "" && (err != nil || stdout.String() != "config OK\n"):
			t.Errorf("run(%q) = %v, printed %q; want config OK", args, err, stdout.String())
		case tc.want != "" && (err == nil || problems != tc.want):
			t.Errorf("run(%q) = %v, printed on stderr:\n%s\nwant:\n%s", args, err, problems, tc.want)
		}
		if !strings.HasPrefix(stderr.String(), tc.warn) || tc.warn == "" && strings.Contains(stderr.String(), "warning") {
			t.Errorf("run(%q) printed on stderr:\n%s\nwant:\n%s", args, stderr.String(), tc.warn)
		}
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("--config.check made %d calls to Groq", n)
	}

	// A file that does not load stops the start-up.
	err := run(context.Background(), []string{"--config.file=" + bad}, func(string) string { return "k" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "name is one of the exporter's own metrics") {
		t.Errorf("start-up with a bad file: %v", err)
	}
}

// TestExampleConfigs loads every file of examples/config as the exporter
// does, so that the examples cannot rot.
func TestExampleConfigs(t *testing.T) {
	files, err := filepath.Glob("examples/config/*.yml")
	if err != nil || len(files) < 4 {
		t.Fatalf("examples/config holds %d files (%v), want the four examples", len(files), err)
	}
	for _, f := range files {
		cfg, err := exporter.LoadConfig(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		orgs := cfg.Organizations
		if len(orgs) == 0 {
			orgs = []config.Organization{{}}
		}
		for _, o := range orgs {
			if _, err := collector.New(nil, collector.Options{Organization: o.Name, Builtin: &cfg.Builtin, Queries: cfg.Queries}); err != nil {
				t.Errorf("%s: organization %q: %v", f, o.Name, err)
			}
		}
		proxied := slices.ContainsFunc(cfg.Organizations, func(o config.Organization) bool { return o.HTTPClientConfig != nil })
		if len(cfg.Queries) == 0 && !proxied {
			t.Errorf("%s has neither a custom query nor an http_client_config: what does it show?", f)
		}
	}
}
