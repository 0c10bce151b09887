package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
	"golang.org/x/crypto/bcrypt"
)

// secretKey is a distinctive Groq key: no part of it may show anywhere the
// exporter writes to.
const secretKey = "gsk_SECRETsecurityTest0123456789abcdef"

// secretParts are the pieces of the key a leak would show: the key, the key
// without its gsk_ prefix, and a run of its characters.
var secretParts = []string{secretKey, secretKey[4:], "SECRETsecurity", "0123456789abcdef"}

func checkNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, p := range secretParts {
		if strings.Contains(text, p) {
			t.Errorf("the key (%q) appears in %s:\n%s", p, where, text)
			return
		}
	}
}

// echo serves an error that repeats the request's Authorization header
// (first %s of format) and its key (second %s), the way a careless upstream or
// proxy might.
func echo(status int, contentType, format string) groqtest.Fault {
	return groqtest.Fault{Status: status, Echo: true, Header: map[string]string{"Content-Type": contentType},
		Text: fmt.Sprintf(format, "${authorization}", "${key}")}
}

// TestKeyNeverShown runs the exporter with the key at --log.level=debug
// against an upstream failing in every class, several of them echoing the
// Authorization header back (in JSON, in HTML, in a header, in the very
// fields the client quotes), and looks for the key in the logs (logfmt and
// JSON), /metrics, the landing page, the other endpoints and the errors.
func TestKeyNeverShown(t *testing.T) {
	fixtures := map[string]groqtest.Fault{
		"good":                 {},
		"401 JSON echo":        echo(401, "application/json", `{"status":"error","errorType":"401","error":"invalid API key in header Authorization: %s (key %s)"}`),
		"403 HTML echo":        echo(403, "text/html", `<html><body><pre>Authorization: %s</pre><p>key=%s</p></body></html>`),
		"400 JSON echo":        echo(400, "application/json", `{"status":"error","errorType":"bad_data","error":"%s %s"}`),
		"404 text echo":        echo(404, "text/plain", "no route for %s %s"),
		"422 JSON echo":        echo(422, "application/json", `{"status":"error","errorType":"%s","error":"%s"}`),
		"429 JSON echo":        echo(429, "application/json", `{"status":"error","errorType":"429","error":"slow down, %s %s"}`),
		"500 JSON echo":        echo(500, "application/json", `{"status":"error","errorType":"500","error":"%s / %s"}`),
		"502 HTML echo":        echo(502, "text/html; charset=utf-8", `<html><head><title>502</title></head><body>%s<br>%s</body></html>`),
		"200 HTML echo":        echo(200, "text/html", `<!DOCTYPE html><html><body>Signed in as %s (%s)</body></html>`),
		"200 status error":     echo(200, "application/json", `{"status":"error","errorType":"%s","error":"%s"}`),
		"200 status echo":      echo(200, "application/json", `{"status":"%s %s"}`),
		"200 result type echo": echo(200, "application/json", `{"status":"success","data":{"resultType":"%s","result":"%s"}}`),
		"200 value echo":       echo(200, "application/json", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"%s %s"]}]}}`),
		"200 truncated echo":   echo(200, "application/json", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"%s","b":"%s`),
		"bare key echo": { // no Bearer, no gsk_: only the exact key can be removed
			Status: 401, Echo: true, Text: `{"status":"error","errorType":"401","error":"unknown key ${key#gsk_}"}`},
		"content type echo": {Status: 503, Echo: true, Header: map[string]string{"Content-Type": "text/html; token=${authorization}"},
			Text: "<html>down</html>"},
		"huge":  huge(32<<20, false),
		"hangs": hang,
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(secretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, h := range fixtures {
		for _, format := range []string{"logfmt", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				t.Parallel()
				g := newFaultyGroq(t, h)
				env, args := map[string]string{"GROQ_API_KEY": secretKey}, []string{}
				if format == "json" { // the other way to pass the key
					env, args = nil, []string{"--groq.api-key-file=" + keyFile}
				}
				args = append(args, "--groq.url="+g.BaseURL(), "--groq.cache-ttl=0", "--log.level=debug", "--log.format="+format)
				e := startExporter(t, env, args...)
				for range 2 {
					_, body := e.get(t, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds", "0.5")
					checkNoSecret(t, "/metrics", body)
				}
				for _, path := range []string{"/", "/-/healthy", "/-/ready", "/nowhere"} {
					_, body := e.get(t, path)
					checkNoSecret(t, path, body)
				}
				checkNoSecret(t, "the log", e.log.String())
				if g.Requests() == 0 {
					t.Errorf("the fixture was never called")
				}
				for _, c := range g.Calls() { // else the echoes showed no key
					if auth := c.Header.Get("Authorization"); auth != "Bearer "+secretKey {
						t.Errorf("the exporter sent Authorization %q, want the key", auth)
					}
				}
			})
		}
	}
}

// TestURLPasswordNeverShown: credentials in --groq.url would replace the key
// with basic auth; the exporter refuses them at start, naming the flag,
// and neither the error nor the log repeats them.
func TestURLPasswordNeverShown(t *testing.T) {
	g := newFaultyGroq(t)
	u := strings.Replace(g.BaseURL(), "http://", "http://user:"+secretKey+"@", 1)
	var log bytes.Buffer
	err := run(context.Background(), []string{"--groq.url=" + u, "--web.listen-address=127.0.0.1:0"},
		func(string) string { return "gsk_other" }, io.Discard, &log)
	if err == nil || !strings.Contains(err.Error(), "--groq.url: invalid Groq URL: it holds a user name or password") {
		t.Fatalf("run = %v, want the URL refused", err)
	}
	checkNoSecret(t, "the error", err.Error())
	checkNoSecret(t, "the log", log.String())
}

// TestTracebackHasNoKey: what a crash prints, every goroutine's stack (here
// forced with SIGQUIT while a refresh is waiting on Groq with the key in its
// request), does not contain the key.
func TestTracebackHasNoKey(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go tool, which builds the exporter, is not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "groq_exporter")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	g := newFaultyGroq(t, hang)
	addr := groqtest.FreeAddr(t)
	cmd := exec.Command(bin, "--groq.url="+g.BaseURL(), "--web.listen-address="+addr, "--log.level=debug")
	cmd.Env = append(os.Environ(), "GROQ_API_KEY="+secretKey, "GOTRACEBACK=all")
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already gone when the test passes
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/-/healthy"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not start:\n%s", stderr.String())
		}
	}
	scrapeDone := make(chan struct{})
	go func() { // waits on the hanging Groq until the exporter is killed
		defer close(scrapeDone)
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			resp.Body.Close()
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); g.Requests() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the exporter never called Groq:\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	<-scrapeDone
	out := stderr.String()
	if !strings.Contains(out, "goroutine ") || !strings.Contains(out, "SIGQUIT") {
		t.Fatalf("no traceback:\n%s", out)
	}
	checkNoSecret(t, "the traceback", out)
}

// TestWebConfigTLSAndBasicAuth: with --web.config.file, /metrics (and every
// other endpoint) is served over TLS only, and only to a client with the
// basic-auth credentials.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	ca := groqtest.CAForTest(t)
	certFile, keyFile, err := ca.IssueFiles(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	const user, password = "prometheus", "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web-config.yml")
	config := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n",
		certFile, keyFile, user, hash)
	if err := os.WriteFile(webConfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	g := newFaultyGroq(t)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": secretKey}, "--groq.url="+g.BaseURL(), "--web.config.file="+webConfig)
	httpsURL := strings.Replace(e.url, "http://", "https://", 1)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableKeepAlives: true}}
	get := func(url, user, password string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	for _, path := range []string{"/metrics", "/", "/-/healthy"} {
		if code, _ := get(httpsURL+path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d, want 401", path, code)
		}
	}
	if code, _ := get(httpsURL+"/metrics", user, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code, _ := get(httpsURL+"/metrics", "nobody", password); code != http.StatusUnauthorized {
		t.Errorf("unknown user: %d, want 401", code)
	}
	code, body := get(httpsURL+"/metrics", user, password)
	if code != http.StatusOK || !strings.Contains(body, "\ngroq_up 1\n") {
		t.Errorf("with credentials: %d\n%s", code, body)
	}
	if code, body := get(e.url+"/metrics", user, password); code == http.StatusOK {
		t.Errorf("plain HTTP was served:\n%s", body)
	}
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := insecure.Get(httpsURL + "/metrics"); err == nil {
		t.Error("a client that does not trust the certificate got an answer")
	}
	checkNoSecret(t, "the log", e.log.String())
	if strings.Contains(e.log.String(), password) {
		t.Errorf("the basic-auth password appears in the log")
	}
	if g.Requests() != 1 {
		t.Errorf("%d calls to Groq, want 1 (the refused scrapes must not refresh)", g.Requests())
	}
}

// TestNoTestCodeInBinary: nothing only the tests need (testing, httptest,
// the fake Groq and the VictoriaMetrics harness, testutil) is linked
// into the exporter.
func TestNoTestCodeInBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go tool, which lists the exporter's dependencies, is not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		switch {
		case d == "testing", d == "net/http/httptest", strings.HasPrefix(d, "testing/"),
			strings.HasSuffix(d, "/internal/groqtest"),
			strings.HasSuffix(d, "/prometheus/testutil"), strings.Contains(d, "goleak"), strings.Contains(d, "kylelemons/godebug"):
			t.Errorf("the exporter binary links %s", d)
		}
	}
	if len(deps) < 50 {
		t.Errorf("go list -deps gave only %d packages: %v", len(deps), deps)
	}
}
