package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestRedirectElsewhereNotServed: an organization's URL redirects (307) to
// the same host on another port, another's to another host; neither key
// reaches the other server, nothing of its answer is served (groq_up 0), the
// log says what happened and groq_refresh_errors_total counts it.
func TestRedirectElsewhereNotServed(t *testing.T) {
	other := groqtest.OriginForTest(t)
	samePort := groqtest.RedirectForTest(t, http.StatusTemporaryRedirect, other.URL)
	otherHost := groqtest.RedirectForTest(t, http.StatusPermanentRedirect, strings.Replace(other.URL, "127.0.0.1", "localhost", 1))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "same.key"), "gsk_redirectSecretSame\n")
	writeFile(t, filepath.Join(dir, "other.key"), "gsk_redirectSecretOther\n")
	cfg := filepath.Join(dir, "groq.yml")
	writeFile(t, cfg, fmt.Sprintf("organizations:\n  - name: same\n    api_key_file: same.key\n    url: %s/v1\n"+
		"  - name: other\n    api_key_file: other.key\n    url: %s/v1\n", samePort.URL, otherHost.URL))
	e := startExporter(t, nil, "--config.file="+cfg, "--groq.cache-ttl=0")

	_, body := e.get(t, "/metrics")
	for _, org := range []string{"same", "other"} {
		for prefix, want := range map[string]string{
			`groq_up{organization="` + org + `"}`:                                      "0",
			`groq_refresh_errors_total{organization="` + org + `",reason="redirect"}`:  "1",
			`groq_refresh_errors_total{organization="` + org + `",reason="transport"}`: "0",
		} {
			if got := metricLine(body, prefix); got != want {
				t.Errorf("%s = %q, want %s", prefix, got, want)
			}
		}
	}
	if got := other.Authorizations(); len(got) != 0 {
		t.Errorf("the server redirected to received %d requests (%q)", len(got), got)
	}
	log := e.log.String()
	for _, want := range []string{"redirect not followed (HTTP 307): to " + other.URL + "/v1/api/v1/query, another origin than " + samePort.URL,
		"redirect not followed (HTTP 308): to " + strings.Replace(other.URL, "127.0.0.1", "localhost", 1)} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	_, page := e.get(t, "/")
	_, details := e.get(t, "/?organization=same")
	if !strings.Contains(page, "another origin") || !strings.Contains(details, "<code>redirect</code> 1") {
		t.Errorf("the status page does not show the redirect:\n%s\n%s", page, details)
	}
	page += details
	for where, s := range map[string]string{"/metrics": body, "the log": log, "/": page} {
		if strings.Contains(s, "redirectSecret") {
			t.Errorf("%s shows a key", where)
		}
	}
}

// TestKeyFileBrokenWhileRunning: a key file emptied or made unreadable while
// the exporter runs sends nothing (never an empty key), says so in its own
// words, not "cannot reach Groq", and counts reason="key"; restored, it
// works again.
func TestKeyFileBrokenWhileRunning(t *testing.T) {
	const key = "gsk_brokenKeyFileSecret"
	g, url := newGroqFixture(t, key)
	file := filepath.Join(t.TempDir(), "key")
	writeFile(t, file, key+"\n")
	e := startExporter(t, nil, "--groq.url="+url, "--groq.api-key-file="+file, "--groq.cache-ttl=0")
	if _, body := e.get(t, "/metrics"); metricLine(body, "groq_up") != "1" {
		t.Fatalf("groq_up is not 1 with a good key:\n%s", body)
	}
	calls := g.Requests()

	writeFile(t, file, "")
	_, body := e.get(t, "/metrics")
	if metricLine(body, "groq_up") != "0" || metricLine(body, `groq_refresh_errors_total{reason="key"}`) != "1" {
		t.Errorf("with an emptied key file, want groq_up 0 and one key error:\n%s", body)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	_, body = e.get(t, "/metrics")
	if metricLine(body, `groq_refresh_errors_total{reason="key"}`) != "2" || metricLine(body, `groq_refresh_errors_total{reason="transport"}`) != "0" {
		t.Errorf("with a removed key file, want two key errors and no transport error:\n%s", body)
	}
	if n := g.Requests(); n != calls {
		t.Errorf("%d requests sent without a key", n-calls)
	}
	log := e.log.String()
	for _, want := range []string{"cannot read the Groq API key: the key file " + file + " is empty; nothing was sent",
		"cannot read the Groq API key: the key file " + file + " cannot be read: no such file or directory; nothing was sent",
		"(the key comes from --groq.api-key-file=" + file + ")"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "cannot reach Groq") {
		t.Errorf("the log says Groq cannot be reached:\n%s", log)
	}
	writeFile(t, file, key)
	if _, body := e.get(t, "/metrics"); metricLine(body, "groq_up") != "1" {
		t.Errorf("a restored key file does not work:\n%s", body)
	}
}

// TestPlainHTTPWarning: plain http:// to a host that is not loopback sends
// the key in clear, and the start-up log says so; to loopback it does not.
func TestPlainHTTPWarning(t *testing.T) {
	const warning = "The API key travels unencrypted"
	e := startExporter(t, map[string]string{"GROQ_API_KEY": "gsk_k"}, "--groq.url=http://192.0.2.1:9/v1/metrics/prometheus")
	if log := e.log.String(); !strings.Contains(log, warning) || !strings.Contains(log, "level=warn") {
		t.Errorf("no warning for http:// to a remote host:\n%s", log)
	}
	e = startExporter(t, map[string]string{"GROQ_API_KEY": "gsk_k"}, "--groq.url=http://127.0.0.1:9/v1/metrics/prometheus")
	if log := e.log.String(); strings.Contains(log, warning) {
		t.Errorf("a warning for http:// to loopback:\n%s", log)
	}
}

// TestInsecureSkipVerifyWarning: tls_config.insecure_skip_verify: true lets
// any server on the way pretend to be Groq and read the key, and the log
// says so at every load, as it does for plain http://; to loopback, or
// without it, it does not.
func TestInsecureSkipVerifyWarning(t *testing.T) {
	const warning = "tls_config.insecure_skip_verify is true"
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.key"), "gsk_k")
	for _, tc := range []struct {
		url, tls string
		warn     bool
	}{
		{"https://192.0.2.1:9/v1/metrics/prometheus", "insecure_skip_verify: true", true},
		{"https://groq.example:9/v1/metrics/prometheus", "insecure_skip_verify: true", true},
		{"https://127.0.0.1:9/v1/metrics/prometheus", "insecure_skip_verify: true", false},
		{"https://192.0.2.1:9/v1/metrics/prometheus", "insecure_skip_verify: false", false},
	} {
		cfg := filepath.Join(dir, "groq.yml")
		writeFile(t, cfg, "organizations:\n  - name: a\n    api_key_file: a.key\n    url: "+tc.url+
			"\n    http_client_config:\n      tls_config:\n        "+tc.tls+"\n")
		e := startExporter(t, nil, "--config.file="+cfg)
		log := e.log.String()
		if got := strings.Contains(log, warning); got != tc.warn {
			t.Errorf("%s with %s: warning %v, want %v:\n%s", tc.url, tc.tls, got, tc.warn, log)
		}
		if tc.warn && !strings.Contains(log, "level=warn") {
			t.Errorf("the warning is not at level warn:\n%s", log)
		}
	}
}

// TestIdleScrapersDisconnected: keep-alive connections of scrapers that went
// quiet are closed by the exporter after --web.idle-timeout; before, 200 such
// connections stayed open indefinitely.
func TestIdleScrapersDisconnected(t *testing.T) {
	_, url := newGroqFixture(t, "gsk_k")
	e := startExporter(t, map[string]string{"GROQ_API_KEY": "gsk_k"}, "--groq.url="+url, "--web.idle-timeout=1s")
	addr := strings.TrimPrefix(e.url, "http://")
	var conns []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /-/healthy HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Fatal("the exporter closed the connection after the answer: nothing left to test")
		}
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	closed := make([]bool, len(conns))
	for i, c := range conns {
		wg.Go(func() {
			// Far longer than the idle timeout: a generous bound, not a timing.
			_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
			_, err := c.Read(make([]byte, 1))
			closed[i] = err == io.EOF
		})
	}
	wg.Wait()
	for i, ok := range closed {
		if !ok {
			t.Errorf("idle connection %d was not closed by the exporter", i)
		}
	}
}

// TestReloadsLeaveNothingBehind: 30 reloads alternating two good files, each
// replacing both organizations, while four scrapers scrape without pause;
// afterwards the goroutines and open files come back to what they were
// before (waiting generously, never timing). Replaced clients close their
// connections, also those of a refresh under way at the swap.
func TestReloadsLeaveNothingBehind(t *testing.T) {
	const keyA = "gsk_reloadSecretA"
	_, urlA := newOrgGroq(t, keyA, 1)
	_, urlB := newOrgGroq(t, "gsk_inlineSecretB", 2)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.key"), keyA+"\n")
	cfgFile := filepath.Join(dir, "groq.yml")
	files := []string{twoOrgConfig(urlA, urlB, "groq_custom_one"), twoOrgConfig(urlA, urlB, "groq_custom_two")}
	writeFile(t, cfgFile, files[0])
	e := startExporter(t, nil, "--config.file="+cfgFile, "--groq.cache-ttl=0")
	scraper := &http.Client{Transport: &http.Transport{}}
	scrape := func() error {
		resp, err := scraper.Get(e.url + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), `groq_up{organization="a"} 1`) {
			return fmt.Errorf("scrape answered %d:\n%s", resp.StatusCode, b)
		}
		return nil
	}
	if err := scrape(); err != nil {
		t.Fatal(err)
	}
	scraper.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	settle := func() (int, int) {
		time.Sleep(200 * time.Millisecond)
		return runtime.NumGoroutine(), openFiles(t)
	}
	baseG, baseF := settle()

	stop := keepScraping(4, scrape)
	peakG, peakF := 0, 0
	for i := range 30 {
		writeFile(t, cfgFile, files[(i+1)%2])
		if code, msg := post(t, e.url+"/-/reload"); code != http.StatusOK {
			t.Fatalf("reload %d: %d %s", i, code, msg)
		}
		peakG, peakF = max(peakG, runtime.NumGoroutine()), max(peakF, openFiles(t))
	}
	errs, _ := stop()
	for _, err := range errs {
		t.Error(err)
	}
	scraper.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()

	// A little slack: the last clients keep a connection or two to each
	// upstream, as before, depending on how many queries ran at once. A leak
	// is one or more per reload.
	const slackG, slackF = 8, 4
	var g, f int
	for deadline := time.Now().Add(30 * time.Second); ; {
		if g, f = settle(); g <= baseG+slackG && f <= baseF+slackF || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("goroutines %d before, %d at most during, %d after; open files %d before, %d at most during, %d after",
		baseG, peakG, g, baseF, peakF, f)
	if g > baseG+slackG || f > baseF+slackF {
		buf := make([]byte, 1<<20)
		t.Errorf("after 30 reloads: %d goroutines (%d before), %d open files (%d before):\n%s", g, baseG, f, baseF, buf[:runtime.Stack(buf, true)])
	}
}

// openFiles counts the file descriptors this process has open.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
