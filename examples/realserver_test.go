//go:build integration

package examples

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
	"sigs.k8s.io/yaml"
)

// The tests in this file run real servers on loopback: the repository's groq-sandbox (a real
// VictoriaMetrics with synthetic Groq traffic behind a gateway that speaks Groq's API; Debian
// package victoria-metrics), groq_exporter, and Prometheus (the pinned version scripts/install-deps.sh
// builds; internal/groqtest/tools.go).

// waitBound stops a wait that will never end; it is no timing assertion; a slow shared
// machine stays far below it.
const waitBound = 3 * time.Minute

// buildFromRoot builds a main package of the repository root into the test's temporary
// directory.
func buildFromRoot(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s in the repository root failed: %v\n%s", pkg, err, out)
	}
	return bin
}

// startProcess starts a long-running command, stops it with SIGTERM (then SIGKILL) when the
// test ends, and shows its output if the test failed. The returned channel receives the exit.
func startProcess(t *testing.T, name string, cmd *exec.Cmd) (*groqtest.LogBuffer, chan error) {
	t.Helper()
	out := &groqtest.LogBuffer{}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return out, exited
}

// waitUntil polls ok until it says yes; it fails the test if exited receives (the process
// it waits for died) or after waitBound.
func waitUntil(t *testing.T, what string, exited chan error, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !ok() {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the process exited while waiting for %s: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, waitBound)
		}
	}
}

func httpGet(u string) (int, string, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// sandbox runs groq-sandbox without an exporter and returns the URL of its Groq stand-in and
// the API key it accepts.
func sandbox(t *testing.T) (groqURL, key string) {
	t.Helper()
	tool(t, "victoria-metrics", "apt-get install -y victoria-metrics (Debian package victoria-metrics)")
	bin := buildFromRoot(t, "./cmd/groq-sandbox", "groq-sandbox")
	cmd := exec.Command(bin, "-exporter=", "-interval=5s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	_, exited := startProcess(t, "groq-sandbox", cmd)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(waitBound)
	for groqURL == "" || key == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("groq-sandbox stopped before printing its Groq URL and key: %v", <-exited)
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Groq stand-in:"); ok {
				groqURL = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "API key:"); ok {
				key = strings.TrimSpace(v)
			}
		case <-deadline:
			t.Fatalf("groq-sandbox printed no Groq URL and key within %v", waitBound)
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return groqURL, key
}

// startExporter runs groq_exporter with args on a free loopback port and waits for it to
// report groq_up 1 (for every organization); it returns the address and the last /metrics.
func startExporter(t *testing.T, bin, name string, args ...string) (addr, metrics string) {
	t.Helper()
	addr = groqtest.FreeAddr(t)
	_, exited := startProcess(t, name, exec.Command(bin, append([]string{"--web.listen-address=" + addr}, args...)...))
	up := regexp.MustCompile(`(?m)^groq_up(\{[^}]*\})? (\S+)$`)
	waitUntil(t, name+" to serve groq_up 1", exited, func() bool {
		code, body, err := httpGet("http://" + addr + "/metrics")
		if err != nil || code != http.StatusOK {
			return false
		}
		metrics = body
		ms := up.FindAllStringSubmatch(body, -1)
		for _, m := range ms {
			if m[2] != "1" {
				return false
			}
		}
		return len(ms) > 0
	})
	return addr, metrics
}

// prometheusServer is a Prometheus started by startPrometheus.
type prometheusServer struct {
	name   string
	url    string
	exited chan error
}

// startPrometheus runs prometheus with config (YAML) on a free loopback port and waits until
// it is ready. Files in extra are written next to the config.
func startPrometheus(t *testing.T, name string, config []byte, extra map[string][]byte) *prometheusServer {
	t.Helper()
	bin := groqtest.PrometheusTool.ForTest(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, config, 0o644); err != nil {
		t.Fatal(err)
	}
	for n, b := range extra {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := groqtest.FreeAddr(t)
	_, exited := startProcess(t, name, exec.Command(bin,
		"--config.file="+file,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	))
	p := &prometheusServer{name: name, url: "http://" + addr, exited: exited}
	waitUntil(t, name+" to be ready", exited, func() bool {
		code, _, err := httpGet(p.url + "/-/ready")
		return err == nil && code == http.StatusOK
	})
	return p
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query.
func (p *prometheusServer) query(expr string) ([]promSample, error) {
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := p.api("/api/v1/query?query="+url.QueryEscape(expr), &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", expr, r.Error)
	}
	if r.Data.ResultType == "scalar" {
		return []promSample{{}}, nil
	}
	var s []promSample
	err := json.Unmarshal(r.Data.Result, &s)
	return s, err
}

// labelValues returns the values of label among the series match selects.
func (p *prometheusServer) labelValues(label, match string) ([]string, error) {
	var r struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := p.api("/api/v1/label/"+label+"/values?match[]="+url.QueryEscape(match), &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("label_values(%s, %s): %s", match, label, r.Error)
	}
	return r.Data, nil
}

func (p *prometheusServer) api(path string, v any) error {
	code, body, err := httpGet(p.url + path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("%s answered %d: %v: %s", path, code, err, body)
	}
	return nil
}

// waitForSeries waits until expr returns at least one sample and returns them.
func (p *prometheusServer) waitForSeries(t *testing.T, expr string) []promSample {
	t.Helper()
	var s []promSample
	waitUntil(t, p.name+" to have "+expr, p.exited, func() bool {
		var err error
		s, err = p.query(expr)
		return err == nil && len(s) > 0
	})
	return s
}

// editYAML decodes a YAML document, lets edit change it and encodes it again.
func editYAML(t *testing.T, file string, edit func(map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	edit(doc)
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// scrapeConfigs returns the scrape_configs of a decoded Prometheus configuration.
func scrapeConfigs(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	list, _ := doc["scrape_configs"].([]any)
	var out []map[string]any
	for _, sc := range list {
		m, ok := sc.(map[string]any)
		if !ok {
			t.Fatalf("scrape_configs entry is not a mapping: %v", sc)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("no scrape_configs")
	}
	return out
}
