package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logfmt/logfmt"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.metrics golden files")

// newGroqFixture starts a fake Groq that accepts key and serves the recorded
// answer collector/testdata/all_families.json; it returns the fake and the
// URL the exporter takes.
func newGroqFixture(t *testing.T, key string) (*groqtest.GatewayServer, string) {
	t.Helper()
	g := groqtest.FakeForTest(t, key)
	g.SetSeries(groqtest.RecordedSamples(t, "collector/testdata/all_families.json")...)
	return g, g.BaseURL()
}

// instance is one run of the real exporter, served by exporter-toolkit on a
// loopback port.
type instance struct {
	url string
	log *groqtest.LogBuffer
}

// startExporter runs the exporter with args until the test ends.
func startExporter(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	addr := groqtest.FreeAddr(t)
	e := &instance{url: "http://" + addr, log: &groqtest.LogBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args = append([]string{"--web.listen-address=" + addr}, args...)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, io.Discard, e.log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("exporter stopped with %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("exporter exited: %v\n%s", err, e.log)
		default:
		}
		if resp, err := http.Get(e.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not start:\n%s", e.log)
		}
	}
}

func (e *instance) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deterministic drops the lines whose values depend on the clock, the
// runtime or the toolchain, so the rest can be compared with a golden file.
func deterministic(exposition string) string {
	var out []string
	for _, line := range strings.SplitAfter(exposition, "\n") {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") ||
			strings.HasPrefix(line, "groq_scrape_duration_seconds ") ||
			strings.HasPrefix(line, "groq_last_refresh_success_timestamp_seconds ") ||
			strings.HasPrefix(line, "groq_exporter_build_info{") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

// e2eKey is the key of TestEndToEnd.
const e2eKey = "gsk_e2eSecretKey0123456789"

// startEndToEnd runs the exporter at --log.level=debug against a fixture Groq
// and scrapes it once.
func startEndToEnd(t *testing.T) (g *groqtest.GatewayServer, e *instance, body string) {
	t.Helper()
	g, groqURL := newGroqFixture(t, e2eKey)
	e = startExporter(t, map[string]string{"GROQ_API_KEY": e2eKey}, "--groq.url="+groqURL, "--log.level=debug")
	code, body := e.get(t, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds", "10")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d", code)
	}
	return g, e, body
}

// TestEndToEnd scrapes the real server against a fixture Groq and compares
// /metrics with a golden file; the linter of promtool check metrics must find
// nothing to criticise (TestPromtoolCheckMetrics runs promtool itself), and
// the key must not appear in the debug log.
func TestEndToEnd(t *testing.T) {
	const key = e2eKey
	g, e, body := startEndToEnd(t)
	golden := filepath.Join("testdata", "e2e.metrics")
	if *update {
		if err := os.WriteFile(golden, []byte(deterministic(body)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := deterministic(body); got != string(want) {
		t.Errorf("/metrics differs from %s (go test -run TestEndToEnd -update rewrites it):\n%s", golden, got)
	}
	for _, s := range []string{"groq_scrape_duration_seconds ", "groq_last_refresh_success_timestamp_seconds 1.", `groq_exporter_build_info{`} {
		if !strings.Contains(body, s) {
			t.Errorf("/metrics lacks %q", s)
		}
	}
	lintExposition(t, body)

	// A second scrape within the cache TTL does not call Groq.
	e.get(t, "/metrics")
	if calls := g.Requests(); calls != 1 {
		t.Errorf("two scrapes within the TTL made %d calls to Groq, want 1", calls)
	}

	for path, want := range map[string]string{"/": "groq_exporter", "/-/healthy": "Healthy", "/-/ready": "Ready"} {
		if code, body := e.get(t, path); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %q, want 200 with %q", path, code, body, want)
		}
	}
	if log := e.log.String(); strings.Contains(log, key) || strings.Contains(log, "e2eSecret") {
		t.Errorf("the API key appears in the log:\n%s", log)
	} else if !strings.Contains(log, `msg="Refreshed from Groq"`) {
		t.Errorf("debug log lacks the refresh line:\n%s", log)
	}
}

// TestKeyRotation: a key file is re-read, so a rotated key works without a
// restart; the rejected key gives groq_up 0 and a log line that names the cause.
func TestKeyRotation(t *testing.T) {
	const oldKey, newKey = "gsk_oldKey1111111111", "gsk_newKey2222222222"
	g, groqURL := newGroqFixture(t, oldKey)
	keyFile := filepath.Join(t.TempDir(), "api-key")
	if err := os.WriteFile(keyFile, []byte(oldKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, nil, "--groq.url="+groqURL, "--groq.api-key-file="+keyFile, "--groq.cache-ttl=0", "--log.level=debug")

	scrapeUp := func() string {
		_, body := e.get(t, "/metrics")
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "groq_up ") {
				return line
			}
		}
		t.Fatalf("no groq_up in:\n%s", body)
		return ""
	}
	if up := scrapeUp(); up != "groq_up 1" {
		t.Fatalf("with the right key: %s\n%s", up, e.log)
	}
	g.SetKeys(newKey) // Groq revokes the old key
	if up := scrapeUp(); up != "groq_up 0" {
		t.Fatalf("with a revoked key: %s", up)
	}
	if !strings.Contains(e.log.String(), "Groq rejected the API key") {
		t.Errorf("log does not say the key was rejected:\n%s", e.log)
	}
	if err := os.WriteFile(keyFile, []byte(newKey), 0o600); err != nil { // the Secret is updated
		t.Fatal(err)
	}
	if up := scrapeUp(); up != "groq_up 1" {
		t.Fatalf("after rotating the key file: %s\n%s", up, e.log)
	}
	if log := e.log.String(); strings.Contains(log, "Key1111") || strings.Contains(log, "Key2222") {
		t.Errorf("a key appears in the log:\n%s", log)
	}
}

// TestStartupErrors: without a usable key the exporter does not start, and
// says why.
func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no Groq API key: set $GROQ_API_KEY or --groq.api-key-file"},
		{[]string{"--groq.api-key-file=" + filepath.Join(dir, "missing")}, "cannot read the Groq API key"},
		{[]string{"--groq.api-key-file=" + empty}, "is empty"},
		{[]string{"--groq.url=ftp://example", "--groq.api-key-file=/dev/null"}, "--groq.url: invalid Groq URL: want http(s)://host/path"},
		{[]string{"--log.level=loud"}, "--log.level=loud: must be one of debug, info, warn, error"},
	} {
		err := run(context.Background(), tc.args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestFlagErrors: a flag value that cannot work stops the start-up with an
// error naming the flag, before anything listens (no panic, no "Listening
// on" line first).
func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	brokenWeb := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(brokenWeb, []byte("tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "bad-web.yml")
	if err := os.WriteFile(badYAML, []byte("basic_auth_users: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--groq.timeout=10"}, "--groq.timeout=10: a duration needs a unit, e.g. 10s"},
		{[]string{"--groq.cache-ttl=soon"}, "--groq.cache-ttl=soon: not a duration (e.g. 10s, 1m30s)"},
		{[]string{"--groq.max-stale=-1m"}, "--groq.cache-ttl and --groq.max-stale must not be negative"},
		{[]string{"--groq.timeout=0s"}, "--groq.timeout=0s: must be positive"},
		{[]string{"--groq.max-response-bytes=lots"}, "--groq.max-response-bytes=lots: not a size (e.g. 8MiB, 512KiB)"},
		{[]string{"--web.idle-timeout=0s"}, "--web.idle-timeout=0s: must be positive"},
		{[]string{"--web.telemetry-path=metrics"}, "--web.telemetry-path=metrics: must start with /, e.g. /metrics"},
		{[]string{"--web.telemetry-path=/-/healthy"}, "--web.telemetry-path=/-/healthy: the exporter serves something else there"},
		{[]string{"--web.telemetry-path=GET /metrics"}, "--web.telemetry-path=GET /metrics: must start with /"},
		{[]string{"--web.telemetry-path=/metrics {x}"}, `--web.telemetry-path="/metrics {x}": must be a plain path`},
		{[]string{"--web.telemetry-path=/probe"}, "--web.telemetry-path=/probe: the exporter serves something else there"},
		{[]string{"--web.external-address=http://exporter:10199"}, "--web.external-address=http://exporter:10199: must be host:port"},
		{[]string{"--web.external-address=exporter"}, "--web.external-address=exporter: must be host:port"},
		{[]string{"--web.config.file=" + brokenWeb}, "--web.config.file=" + brokenWeb + ": "},
		{[]string{"--web.config.file=" + badYAML}, "--web.config.file=" + badYAML + ": "},
		{[]string{"--web.config.file=" + filepath.Join(dir, "missing.yml")}, "--web.config.file=" + filepath.Join(dir, "missing.yml") + ": "},
	} {
		var log bytes.Buffer
		args := append([]string{"--web.listen-address=" + groqtest.FreeAddr(t)}, tc.args...)
		err := run(context.Background(), args, func(string) string { return "gsk_k" }, io.Discard, &log)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
		if strings.Contains(log.String(), "Listening on") {
			t.Errorf("run(%q) logged \"Listening on\" before failing:\n%s", tc.args, log.String())
		}
	}
	err := run(context.Background(), []string{"--groq.url=ftp://example"}, func(string) string { return "k" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "invalid Groq URL") {
		t.Errorf("an ftp URL gave %v, want invalid Groq URL", err)
	}
}

// TestScrapeTimeoutHeader: when Groq hangs, a scrape still answers within
// Prometheus's scrape timeout, with groq_up 0.
func TestScrapeTimeoutHeader(t *testing.T) {
	hang := groqtest.FakeForTest(t)
	hang.Inject(groqtest.Fault{Hang: true})
	e := startExporter(t, map[string]string{"GROQ_API_KEY": "k"}, "--groq.url="+hang.BaseURL())

	// The client gives up after 5s: far more than the 0.5s Prometheus allows,
	// so a pass means the exporter honoured the header (no timing is asserted).
	client := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.5")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("scrape with a 0.5s timeout header did not answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "\ngroq_up 0\n") {
		t.Errorf("got %d:\n%s", resp.StatusCode, body)
	}
}

// lintExposition fails the test for every problem that client_golang's
// linter, the one promtool check metrics runs, finds in an exposition.
func lintExposition(t *testing.T, exposition string) {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(exposition)).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// keepScraping calls scrape from n goroutines, again and again, until the
// returned stop is called; stop waits for them and returns every error (a
// goroutine stops at its first) and how many scrapes succeeded.
func keepScraping(n int, scrape func() error) (stop func() ([]error, int64)) {
	done := make(chan struct{})
	var (
		wg   sync.WaitGroup
		ok   atomic.Int64
		errs = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := scrape(); err != nil {
					errs <- err
					return
				}
				ok.Add(1)
			}
		})
	}
	return func() ([]error, int64) {
		close(done)
		wg.Wait()
		close(errs)
		var out []error
		for err := range errs {
			out = append(out, err)
		}
		return out, ok.Load()
	}
}

// TestOneLogPipeline: every line, exporter-toolkit's included, carries the
// same keys (ts, level, caller, msg; never slog's time) in logfmt and in
// JSON, and a start-up error comes out in the chosen format.
func TestOneLogPipeline(t *testing.T) {
	g := groqtest.FakeForTest(t, "gsk_logKey")
	for _, format := range []string{"logfmt", "json"} {
		e := startExporter(t, map[string]string{"GROQ_API_KEY": "gsk_logKey"}, "--groq.url="+g.BaseURL(), "--log.format="+format, "--log.level=debug")
		e.get(t, "/metrics")
		lines := logLines(t, format, e.log.String())
		toolkit := false
		for _, kv := range lines {
			for _, k := range []string{"ts", "level", "caller", "msg"} {
				if kv[k] == "" {
					t.Errorf("%s line without %s: %v", format, k, kv)
				}
			}
			if _, ok := kv["time"]; ok {
				t.Errorf("%s line with slog's time key: %v", format, kv)
			}
			toolkit = toolkit || kv["msg"] == "Listening on"
		}
		if !toolkit {
			t.Errorf("no line of exporter-toolkit's in the %s log:\n%s", format, e.log)
		}

		var stderr groqtest.LogBuffer
		err := run(context.Background(), []string{"--log.format=" + format}, func(string) string { return "" }, io.Discard, &stderr)
		if err == nil {
			t.Fatal("started without a key")
		}
		lines = logLines(t, format, stderr.String())
		if last := lines[len(lines)-1]; last["level"] != "error" || !strings.Contains(last["err"], "no Groq API key") {
			t.Errorf("the start-up error is not a %s error line: %v", format, last)
		}
	}
}

// logLines parses a log in format into one map of keys to values per line.
func logLines(t *testing.T, format, log string) []map[string]string {
	t.Helper()
	var out []map[string]string
	if format == "json" {
		for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
			var kv map[string]any
			if err := json.Unmarshal([]byte(line), &kv); err != nil {
				t.Fatalf("not a JSON line: %q", line)
			}
			m := map[string]string{}
			for k, v := range kv {
				b, _ := json.Marshal(v)
				m[k] = strings.Trim(string(b), `"`)
			}
			out = append(out, m)
		}
		return out
	}
	d := logfmt.NewDecoder(strings.NewReader(log))
	for d.ScanRecord() {
		m := map[string]string{}
		for d.ScanKeyval() {
			m[string(d.Key())] = string(d.Value())
		}
		out = append(out, m)
	}
	if err := d.Err(); err != nil {
		t.Fatalf("not logfmt: %v\n%s", err, log)
	}
	return out
}
