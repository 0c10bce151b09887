package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// keyFileKey is the key of the key-file tests.
const keyFileKey = "gsk_keyFileTest0123456789"

// logWait bounds the wait for a line of the real binary's log: the binary
// writes it before it answers, but it reaches the test through a pipe, a
// moment later on a busy machine.
const logWait = 20 * time.Second

// binaryProcess is the real exporter binary, running.
type binaryProcess struct {
	cmd  *exec.Cmd
	url  string
	log  *groqtest.LogBuffer
	done chan error
}

// buildBinary builds the exporter into the test's directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go tool, which builds the exporter, is not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "groq_exporter")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs bin with args until the test ends, and waits until it
// answers /-/healthy.
func startBinary(t *testing.T, bin string, args ...string) *binaryProcess {
	t.Helper()
	addr := groqtest.FreeAddr(t)
	p := &binaryProcess{url: "http://" + addr, log: &groqtest.LogBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"--web.listen-address=" + addr}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-p.done:
			t.Fatalf("the exporter exited (%v):\n%s", err, p.log)
		default:
		}
		if resp, err := http.Get(p.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not start:\n%s", p.log)
		}
	}
}

// request sends method path and returns the status and body, failing the
// test if no answer comes within 20 s.
func (p *binaryProcess) request(t *testing.T, method, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, p.url+path, nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, p.log)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// stop sends SIGTERM and fails the test unless the exporter exits cleanly
// within 20 s.
func (p *binaryProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("after SIGTERM the exporter exited with %v:\n%s", err, p.log)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("the exporter ignored SIGTERM for 20 s:\n%s", p.log)
	}
}

// runBinary runs bin to its end, failing the test if that takes 20 s.
func runBinary(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s has not ended after 20 s:\n%s", strings.Join(args, " "), out)
	}
	return string(out), err
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	_ = os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKeyFileFIFO: a key file that is a FIFO (whose read would wait for a
// writer for ever) never wedges the real binary: at start it fails at once,
// naming the file; --config.check refuses it; a reload (POST /-/reload,
// SIGHUP) that names one answers; a key file that becomes one while running
// makes groq_up 0 with reason="key" and a log line naming the file (instead
// of stale values), recovers when the file is regular again, and SIGTERM
// still stops the exporter.
func TestKeyFileFIFO(t *testing.T) {
	bin := buildBinary(t)
	g, groqURL := newGroqFixture(t, keyFileKey)
	_ = g
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.key")
	mkfifo(t, fifo)
	const fifoSays = " is a named pipe (FIFO), not a regular file"

	t.Run("start", func(t *testing.T) {
		out, err := runBinary(t, bin, "--groq.url="+groqURL, "--groq.api-key-file="+fifo, "--web.listen-address="+groqtest.FreeAddr(t))
		if err == nil || !strings.Contains(out, fifo+fifoSays) {
			t.Errorf("start with a FIFO key file: %v, want a failure naming it:\n%s", err, out)
		}
	})

	t.Run("config.check", func(t *testing.T) {
		cfg := filepath.Join(dir, "check.yml")
		writeFile(t, cfg, "organizations:\n  - name: a\n    api_key_file: fifo.key\n    url: "+groqURL+"\n")
		out, err := runBinary(t, bin, "--config.check", "--config.file="+cfg)
		if err == nil || !strings.Contains(out, fifo+fifoSays) {
			t.Errorf("--config.check with a FIFO key file: %v, want a failure naming it:\n%s", err, out)
		}
	})

	t.Run("reload", func(t *testing.T) {
		cfg := filepath.Join(dir, "reload.yml")
		writeFile(t, filepath.Join(dir, "a.key"), keyFileKey+"\n")
		writeFile(t, cfg, "organizations:\n  - name: a\n    api_key_file: a.key\n    url: "+groqURL+"\n")
		p := startBinary(t, bin, "--config.file="+cfg)
		if _, body := p.request(t, http.MethodGet, "/metrics"); metricLine(body, `groq_up{organization="a"}`) != "1" {
			t.Fatalf("organization a is not up:\n%s", body)
		}
		writeFile(t, cfg, "organizations:\n  - name: a\n    api_key_file: a.key\n    url: "+groqURL+
			"\n  - name: b\n    api_key_file: fifo.key\n    url: "+groqURL+"\n")
		p.request(t, http.MethodPost, "/-/reload")
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		p.request(t, http.MethodPost, "/-/reload") // answers only once the SIGHUP's reload is done
		if !p.log.Await(fifo+fifoSays, logWait) {
			t.Errorf("the log does not name the FIFO:\n%s", p.log)
		}
		_, body := p.request(t, http.MethodGet, "/metrics")
		if metricLine(body, `groq_up{organization="a"}`) != "1" {
			t.Errorf("organization a is not up after the reloads:\n%s", body)
		}
		p.stop(t)
	})

	t.Run("configuration file", func(t *testing.T) {
		cfgFifo := filepath.Join(dir, "fifo.yml")
		mkfifo(t, cfgFifo)
		for _, args := range [][]string{
			{"--config.file=" + cfgFifo, "--web.listen-address=" + groqtest.FreeAddr(t)},
			{"--config.check", "--config.file=" + cfgFifo},
		} {
			out, err := runBinary(t, bin, append(args, "--groq.url="+groqURL)...)
			if err == nil || !strings.Contains(out, cfgFifo+fifoSays) {
				t.Errorf("%s: %v, want a failure naming the FIFO:\n%s", args[0], err, out)
			}
		}
		cfg := filepath.Join(dir, "swap.yml")
		writeFile(t, filepath.Join(dir, "a.key"), keyFileKey+"\n")
		writeFile(t, cfg, "organizations:\n  - name: a\n    api_key_file: a.key\n    url: "+groqURL+"\n")
		p := startBinary(t, bin, "--config.file="+cfg)
		mkfifo(t, cfg)
		if code, body := p.request(t, http.MethodPost, "/-/reload"); code == http.StatusOK || !strings.Contains(body, cfg+fifoSays) {
			t.Errorf("POST /-/reload of a FIFO answered %d %q, want a failure naming it", code, body)
		}
		_, body := p.request(t, http.MethodGet, "/metrics")
		if metricLine(body, "groq_config_last_reload_successful") != "0" || metricLine(body, `groq_up{organization="a"}`) != "1" {
			t.Errorf("after a failed reload: want groq_config_last_reload_successful 0 and organization a still served:\n%s", body)
		}
		p.stop(t)
	})

	t.Run("run time", func(t *testing.T) {
		key := filepath.Join(dir, "run.key")
		writeFile(t, key, keyFileKey+"\n")
		p := startBinary(t, bin, "--groq.url="+groqURL, "--groq.api-key-file="+key, "--groq.cache-ttl=0")
		if _, body := p.request(t, http.MethodGet, "/metrics"); metricLine(body, "groq_up") != "1" {
			t.Fatalf("not up:\n%s", body)
		}
		mkfifo(t, key)
		_, body := p.request(t, http.MethodGet, "/metrics")
		if metricLine(body, "groq_up") != "0" || metricLine(body, `groq_refresh_errors_total{reason="key"}`) == "0" {
			t.Errorf("with a FIFO key file: want groq_up 0 and a refresh error of reason key:\n%s", body)
		}
		if !p.log.Await(key+fifoSays, logWait) {
			t.Errorf("the log does not name the FIFO:\n%s", p.log)
		}
		_ = os.Remove(key)
		writeFile(t, key, keyFileKey+"\n")
		if _, body := p.request(t, http.MethodGet, "/metrics"); metricLine(body, "groq_up") != "1" {
			t.Errorf("not up again once the key file is regular:\n%s", body)
		}
		p.stop(t)
	})
}

// TestKeyFileTooLarge: a key file far over the limit (a sparse 1 GiB file)
// or /dev/zero fails the organization at once, naming the file and the
// limit, and costs no memory: only 64 KiB of it is ever read.
func TestKeyFileTooLarge(t *testing.T) {
	_, groqURL := newGroqFixture(t, keyFileKey)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.key")
	writeFile(t, big, keyFileKey)
	if err := os.Truncate(big, 1<<30); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.key")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for file, says := range map[string]string{
		big:  " is larger than 64 KiB, the limit of a key file",
		zero: " is a character device, not a regular file",
	} {
		err := run(context.Background(), []string{"--groq.url=" + groqURL, "--groq.api-key-file=" + file, "--web.listen-address=127.0.0.1:0"},
			func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
		var want = "--groq.api-key-file: cannot read the Groq API key: the key file " + file + says
		if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, context.Canceled) {
			t.Errorf("run = %v, want %q", err, want)
		}
	}
}

// TestTLSFileBecomesFIFO: prometheus/common reads tls_config's files again
// for every request, with no deadline; a CA file that becomes a FIFO while
// running fails the organization at once with reason tls_file and a log
// line naming the file (instead of a request that never ends), and it
// recovers when the file is regular again.
func TestTLSFileBecomesFIFO(t *testing.T) {
	const key = "gsk_tlsFileFifoKey0123"
	ca := groqtest.CAForTest(t)
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	g := groqtest.NewFake(key)
	g.SetSeries(groqtest.RecordedSamples(t, "collector/testdata/all_families.json")...)
	srv, err := g.StartTLS("", cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "a.key"), key)
	cfg := filepath.Join(dir, "groq.yml")
	writeFile(t, cfg, "organizations:\n  - name: a\n    api_key_file: a.key\n    url: "+srv.BaseURL()+
		"\n    http_client_config:\n      tls_config:\n        ca_file: ca.pem\n")
	e := startExporter(t, nil, "--config.file="+cfg, "--groq.cache-ttl=0")
	scrape := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/metrics", nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return b.String()
	}
	if got := metricLine(scrape(), `groq_up{organization="a"}`); got != "1" {
		t.Fatalf("groq_up %q with a good CA file", got)
	}
	mkfifo(t, caFile)
	body := scrape()
	if metricLine(body, `groq_up{organization="a"}`) != "0" || metricLine(body, `groq_refresh_errors_total{organization="a",reason="tls_file"}`) == "0" {
		t.Errorf("with a FIFO CA file: want groq_up 0 and a refresh error of reason tls_file:\n%s", body)
	}
	if !strings.Contains(e.log.String(), caFile+" is a named pipe (FIFO), not a regular file") {
		t.Errorf("the log does not name the FIFO:\n%s", e.log)
	}
	_ = os.Remove(caFile)
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	if got := metricLine(scrape(), `groq_up{organization="a"}`); got != "1" {
		t.Errorf("groq_up %q once the CA file is regular again", got)
	}
}
