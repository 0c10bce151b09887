//go:build integration

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// corpGroq is a company network in small: a TLS Groq stand-in (the Gateway
// in front of a real VictoriaMetrics) whose certificate comes from a private
// CA made for the test and names only groq.test, a name that only the
// forward proxy (a real squid) resolves. Reaching it proves both the proxy
// and the CA were used.
type corpGroq struct {
	key, caFile, url string // url: https://groq.test:port/v1/metrics/prometheus
	gw               *groqtest.GatewayServer
	squid            *groqtest.Squid
	port             string
}

func newCorpGroq(t *testing.T) *corpGroq {
	t.Helper()
	c := &corpGroq{key: "gsk_corpProxySecret0123456789"}
	ca := groqtest.CAForTest(t)
	cert, err := ca.Issue("groq.test")
	if err != nil {
		t.Fatal(err)
	}
	c.caFile = filepath.Join(t.TempDir(), "corp-ca.pem")
	if err := ca.WriteFile(c.caFile); err != nil {
		t.Fatal(err)
	}
	vm := groqtest.VictoriaMetricsForTest(t)
	if _, err := groqtest.NewLoader(vm, 7).WriteNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	g, err := groqtest.NewGateway(vm.URL, c.key)
	if err != nil {
		t.Fatal(err)
	}
	if c.gw, err = g.StartTLS("", cert); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.gw.Close)
	u, _ := url.Parse(c.gw.URL)
	c.port = u.Port()
	c.url = "https://groq.test:" + c.port + groqtest.GatewayPrefix
	c.squid = groqtest.SquidForTest(t, map[string]string{"groq.test": "127.0.0.1"})
	return c
}

// tunnelled reports whether squid's access log shows a CONNECT to the stand-in.
func (c *corpGroq) tunnelled() bool { return c.squid.Logged("CONNECT groq.test:" + c.port) }

// TestProxyAndCAFromHTTPClientConfig: an organization whose
// http_client_config names the proxy and the CA reaches the stand-in and
// serves its series; the same organization without the proxy cannot resolve
// the name, and without the CA does not trust the certificate.
func TestProxyAndCAFromHTTPClientConfig(t *testing.T) {
	c := newCorpGroq(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "corp.key"), c.key+"\n")
	cfg := filepath.Join(dir, "groq.yml")
	org := func(name, httpConfig string) string {
		return fmt.Sprintf("  - name: %s\n    api_key_file: corp.key\n    url: %s\n    http_client_config:\n%s", name, c.url, httpConfig)
	}
	writeFile(t, cfg, "organizations:\n"+
		org("corp", fmt.Sprintf("      proxy_url: %s\n      tls_config:\n        ca_file: %s\n", c.squid.URL, c.caFile))+
		org("noproxy", fmt.Sprintf("      tls_config:\n        ca_file: %s\n", c.caFile))+
		org("noca", fmt.Sprintf("      proxy_url: %s\n", c.squid.URL)))
	e := startExporter(t, nil, "--config.file="+cfg, "--groq.cache-ttl=0")
	_, body := e.get(t, "/metrics")
	for prefix, want := range map[string]string{
		`groq_up{organization="corp"}`:                                         "1",
		`groq_up{organization="noproxy"}`:                                      "0",
		`groq_up{organization="noca"}`:                                         "0",
		`groq_refresh_errors_total{organization="noproxy",reason="transport"}`: "1",
		`groq_refresh_errors_total{organization="noca",reason="transport"}`:    "1",
	} {
		if got := metricLine(body, prefix); got != want {
			t.Errorf("%s = %q, want %s", prefix, got, want)
		}
	}
	if !strings.Contains(body, `groq_requests_rate1m{model=`) || !strings.Contains(body, `organization="corp"`) {
		t.Errorf("no series of the stand-in served:\n%s", body)
	}
	log := e.log.String()
	for _, want := range []string{"groq.test", "certificate signed by unknown authority"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	if !c.tunnelled() {
		t.Errorf("squid did not tunnel to the stand-in:\n%s", c.squid.AccessLog())
	}
	if c.gw.Requests() == 0 {
		t.Error("the stand-in was never asked")
	}
	checkKeyHidden(t, c.key, body, log)
}

// TestProxyAndCAFromEnvironment: the command line's organization honours
// HTTPS_PROXY and SSL_CERT_FILE like any Go program (the real binary, since
// Go reads them once per process), and NO_PROXY takes the proxy away again.
func TestProxyAndCAFromEnvironment(t *testing.T) {
	c := newCorpGroq(t)
	bin := buildExporter(t)
	// run returns the body of one scrape and the log of the whole run: it is
	// read once the exporter has exited and os/exec has copied all its
	// output, since a line written before the scrape's answer can still be
	// in the pipe when the answer arrives.
	run := func(extraEnv ...string) (body, log string) {
		addr := groqtest.FreeAddr(t)
		cmd := groqtest.Command(bin, "--groq.url="+c.url, "--web.listen-address="+addr, "--groq.cache-ttl=0")
		var env []string
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); !strings.Contains(strings.ToLower(k), "proxy") && !strings.HasPrefix(k, "SSL_CERT_") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, append([]string{"GROQ_API_KEY=" + c.key}, extraEnv...)...)
		out := &groqtest.LogBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
			log = out.String()
		}()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/-/healthy"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the exporter did not start:\n%s", out.String())
			}
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), ""
	}

	body, log := run("HTTPS_PROXY="+c.squid.URL, "SSL_CERT_FILE="+c.caFile)
	if metricLine(body, "groq_up") != "1" || !strings.Contains(body, "groq_requests_rate1m{") {
		t.Errorf("through HTTPS_PROXY with SSL_CERT_FILE: want groq_up 1 and series:\n%s\nlog:\n%s", body, log)
	}
	if !c.tunnelled() {
		t.Errorf("squid did not tunnel to the stand-in:\n%s", c.squid.AccessLog())
	}
	checkKeyHidden(t, c.key, body, log)

	body, log = run("HTTPS_PROXY="+c.squid.URL, "SSL_CERT_FILE="+c.caFile, "NO_PROXY=groq.test")
	// (The log names groq.test from the start, in the URL: the failed
	// lookup is what shows the request bypassed the proxy.)
	if metricLine(body, "groq_up") != "0" || !strings.Contains(log, "lookup groq.test") {
		t.Errorf("with NO_PROXY=groq.test: want groq_up 0 and a failed lookup of groq.test (the name resolves through the proxy only):\n%s\nlog:\n%s", body, log)
	}
	body, log = run("HTTPS_PROXY=" + c.squid.URL)
	if metricLine(body, "groq_up") != "0" || !strings.Contains(log, "certificate signed by unknown authority") {
		t.Errorf("without SSL_CERT_FILE: want groq_up 0 and an unknown authority:\n%s\nlog:\n%s", body, log)
	}
}

// buildExporter builds the exporter binary into the test's directory.
func buildExporter(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go tool is needed to build the exporter")
	}
	bin := filepath.Join(t.TempDir(), "groq_exporter")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// checkKeyHidden fails if any of texts holds the key or its part after gsk_.
func checkKeyHidden(t *testing.T, key string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, key) || strings.Contains(s, strings.TrimPrefix(key, "gsk_")) {
			t.Errorf("the key is shown:\n%s", s)
		}
	}
}
