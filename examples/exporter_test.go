package examples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metricsql"
	"sigs.k8s.io/yaml"
)

// These tests need the groq_exporter binary. They build it from the repository root
// (the parent of this module), or take the binary named by GROQ_EXPORTER_BINARY, e.g.
// the .build/groq_exporter that scripts/docker-test.sh builds.

// foreignFlags are flags of other programs that the example files mention.
var foreignFlags = []string{
	"--web.enable-remote-write-receiver", // Prometheus
}

var exporterFlagRef = regexp.MustCompile(`--(?:groq|web|log|config)\.[a-z][a-z0-9.-]*`)

func exporterBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GROQ_EXPORTER_BINARY"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "groq_exporter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building groq_exporter in the repository root failed (these tests need the exporter's "+
			"main package there): %v\n%s", err, out)
	}
	return bin
}

// helpFlags returns the flag names groq_exporter --help lists, and the help text.
func helpFlags(t *testing.T, bin string) ([]string, string) {
	t.Helper()
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("groq_exporter --help: %v\n%s", err, out)
	}
	// kingpin lists flags as "  -h, --[no-]help" and "      --web.listen-address=:10199".
	re := regexp.MustCompile(`(?m)^\s*(?:-\w,\s+)?--(?:\[no-\])?([a-z][a-z0-9.-]*)`)
	var flags []string
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, "--"+m[1])
	}
	if len(flags) == 0 {
		t.Fatalf("groq_exporter --help lists no flags:\n%s", out)
	}
	return flags, string(out)
}

// usedFlags returns every exporter flag the examples use: the container arguments of the
// Kubernetes manifests and of every rendered chart variant, and every exporter flag the
// example files, the Dockerfile and scripts/docker-test.sh mention, each with where.
func usedFlags(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	add := func(flag, where string) {
		if !slices.Contains(used[flag], where) {
			used[flag] = append(used[flag], where)
		}
	}
	for _, d := range kubernetesManifests(t).deployments {
		for _, f := range containerFlags(d.Spec.Template.Spec.Containers[0]) {
			add(f, kubernetesDir)
		}
	}
	h := helm(t)
	for _, tc := range helmCases {
		objs, _ := helmTemplate(t, h, tc.values, tc.set)
		for _, d := range objs.deployments {
			for _, f := range containerFlags(d.Spec.Template.Spec.Containers[0]) {
				add(f, "helm template ("+tc.name+")")
			}
		}
	}
	files := []string{dockerfilePath, filepath.Join(repoRoot, "scripts", "docker-test.sh")}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") || strings.HasPrefix(d.Name(), "go.") {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) && !strings.HasPrefix(f, repoRoot) {
			t.Fatal(err)
		} else if os.IsNotExist(err) {
			continue // the Dockerfile or the script, on a branch without them
		} else if err != nil {
			t.Fatal(err)
		}
		for _, m := range exporterFlagRef.FindAllString(string(b), -1) {
			if !slices.Contains(foreignFlags, m) {
				add(strings.TrimRight(m, ".-"), f)
			}
		}
	}
	return used
}

// TestExporterFlags checks that every flag the examples use is one groq_exporter has,
// and that it listens on the port the manifests, chart and Dockerfile expose.
func TestExporterFlags(t *testing.T) {
	bin := exporterBinary(t)
	flags, help := helpFlags(t, bin)
	used := usedFlags(t)
	names := make([]string, 0, len(used))
	for f := range used {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if !slices.Contains(flags, f) {
			t.Errorf("%s, used in %s, is not a groq_exporter flag (--help lists %s)", f, strings.Join(used[f], ", "), strings.Join(flags, " "))
		}
	}
	if !strings.Contains(help, fmt.Sprint(exporterPort)) {
		t.Errorf("groq_exporter --help does not mention port %d as its default listen address:\n%s", exporterPort, help)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "version") {
		t.Errorf("groq_exporter --version: %v\n%s", err, out)
	}
}

// fakeGroq serves the seven Groq series on the query endpoints of the Prometheus HTTP
// API, as Groq's metrics API does. A query gets the series its selectors match.
type fakeGroq struct {
	key        string
	authorized atomic.Int64
}

type fakeSeries struct {
	labels map[string]string
	value  string
}

func (g *fakeGroq) series() []fakeSeries {
	var s []fakeSeries
	for _, code := range []string{"200", "429"} {
		s = append(s,
			fakeSeries{map[string]string{"__name__": "requests:rate1m", "model": "llama-3.1-8b-instant", "status_code": code}, "2.5"},
			fakeSeries{map[string]string{"__name__": "requests:increase1m", "model": "llama-3.1-8b-instant", "status_code": code}, "150"})
	}
	for _, base := range []string{"e2e_latency_seconds", "ttft_latency_seconds", "queue_latency_seconds", "tokens_in", "tokens_out"} {
		for _, p := range []string{"p50", "p95", "p99"} {
			s = append(s, fakeSeries{map[string]string{"__name__": base + ":" + p + ":rate5m", "model": "llama-3.1-8b-instant"}, "0.25"})
		}
	}
	return s
}

// matching returns the series any selector in the query matches.
func (g *fakeGroq) matching(query string) ([]fakeSeries, error) {
	e, err := metricsql.Parse(query)
	if err != nil {
		return nil, err
	}
	var groups [][]metricsql.LabelFilter
	metricsql.VisitAll(e, func(e metricsql.Expr) {
		if me, ok := e.(*metricsql.MetricExpr); ok {
			groups = append(groups, me.LabelFilterss...)
		}
	})
	var out []fakeSeries
	for _, s := range g.series() {
		for _, group := range groups {
			if matchesAll(s.labels, group) {
				out = append(out, s)
				break
			}
		}
	}
	return out, nil
}

func matchesAll(labels map[string]string, filters []metricsql.LabelFilter) bool {
	for _, f := range filters {
		v := labels[f.Label]
		ok := v == f.Value
		if f.IsRegexp {
			re, err := regexp.Compile("^(?:" + f.Value + ")$")
			ok = err == nil && re.MatchString(v)
		}
		if ok == f.IsNegative {
			return false
		}
	}
	return true
}

func (g *fakeGroq) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": fmt.Sprint(code), "error": msg})
	}
	if r.Header.Get("Authorization") != "Bearer "+g.key {
		fail(http.StatusUnauthorized, "invalid API key")
		return
	}
	g.authorized.Add(1)
	now := float64(time.Now().Unix())
	var data any
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/api/v1/query"), strings.HasSuffix(p, "/api/v1/query_range"):
		ss, err := g.matching(r.FormValue("query"))
		if err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		result := []map[string]any{}
		for _, s := range ss {
			if strings.HasSuffix(p, "/query") {
				result = append(result, map[string]any{"metric": s.labels, "value": []any{now, s.value}})
			} else {
				result = append(result, map[string]any{"metric": s.labels, "values": [][]any{{now, s.value}}})
			}
		}
		typ := "vector"
		if strings.HasSuffix(p, "/query_range") {
			typ = "matrix"
		}
		data = map[string]any{"resultType": typ, "result": result}
	case strings.HasSuffix(p, "/api/v1/series"):
		sets := []map[string]string{}
		for _, m := range r.Form["match[]"] {
			ss, err := g.matching(m)
			if err != nil {
				fail(http.StatusBadRequest, err.Error())
				return
			}
			for _, s := range ss {
				sets = append(sets, s.labels)
			}
		}
		data = sets
	case strings.HasSuffix(p, "/api/v1/label/__name__/values"):
		var names []string
		for _, s := range g.series() {
			if !slices.Contains(names, s.labels["__name__"]) {
				names = append(names, s.labels["__name__"])
			}
		}
		data = names
	case strings.HasSuffix(p, "/api/v1/labels"):
		data = []string{"__name__", "model", "status_code"}
	default:
		fail(http.StatusNotFound, "unsupported path "+p)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects the exporter's output, written from the exec package's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestExporterProbesAndMetrics starts groq_exporter against a fake Groq on loopback, with
// the key in a file as the Kubernetes examples pass it and a configuration file with a
// custom query, and checks that the probe paths
// and the metrics path the manifests use answer, and that it serves every metric the
// dashboard and the alerts use (and no groq_ metric the contract does not list).
func TestExporterProbesAndMetrics(t *testing.T) {
	bin := exporterBinary(t)

	var probes []string
	for _, d := range kubernetesManifests(t).deployments {
		c := d.Spec.Template.Spec.Containers[0]
		for _, p := range []string{c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path} {
			if !slices.Contains(probes, p) {
				probes = append(probes, p)
			}
		}
	}
	wantNames := map[string]bool{}
	var rf ruleFile
	if b, err := os.ReadFile(rulesFile); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			names, _ := metricNames(r.Expr)
			for _, n := range names {
				if n != "up" {
					wantNames[n] = true
				}
			}
		}
	}
	for _, e := range dashboardExprs(t) {
		names, _ := metricNames(e)
		for _, n := range names {
			wantNames[n] = true
		}
	}

	g := &fakeGroq{key: "gsk_test_key"}
	srv := httptest.NewServer(g)
	defer srv.Close()
	keyFile := filepath.Join(t.TempDir(), "api-key")
	if err := os.WriteFile(keyFile, []byte(g.key+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	// A configuration file with one custom query, so that the reload and query metrics the
	// alerts use are served too.
	const customQuery = "groq_examples_test_ratio"
	configFile := filepath.Join(t.TempDir(), "groq_exporter.yml")
	config := "queries:\n  - name: " + customQuery + "\n    help: Test query.\n" +
		"    query: sum by (model) (requests:rate1m{status_code=\"429\"}) / sum by (model) (requests:rate1m)\n" +
		"    labels: [model]\n"
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logs := &syncBuffer{}
	cmd := exec.Command(bin,
		"--config.file="+configFile,
		"--groq.api-key-file="+keyFile,
		"--groq.url="+srv.URL+"/v1/metrics/prometheus",
		"--web.listen-address="+addr,
		"--log.level=debug",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("groq_exporter output:\n%s", logs.String())
		}
	}()

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// waitFor polls until ok says yes, the exporter exits, or a generous bound passes
	// (a slow shared machine must not fail this; the bound only stops a hung run).
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !ok() {
			select {
			case err := <-exited:
				exited <- err
				t.Fatalf("groq_exporter exited while waiting for %s: %v", what, err)
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}

	waitFor("/-/healthy", func() bool { code, _, _ := get("/-/healthy"); return code == http.StatusOK })
	for _, p := range probes {
		if code, body, err := get(p); err != nil || code != http.StatusOK {
			t.Errorf("GET %s (probe path in the manifests) = %d %v: %s", p, code, err, body)
		}
	}

	var metrics string
	waitFor("groq_up 1 on /metrics", func() bool {
		code, body, err := get("/metrics")
		metrics = body
		return err == nil && code == http.StatusOK && regexp.MustCompile(`(?m)^groq_up(\{[^}]*\})? 1$`).MatchString(body)
	})
	if g.authorized.Load() == 0 {
		t.Errorf("the fake Groq got no request with the key from --groq.api-key-file")
	}

	served := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(metrics))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			served[f[2]] = true
		}
	}
	checkAwaitedMetrics(t, served)
	for n := range wantNames {
		if !served[n] && !slices.Contains(awaitedMetrics, n) {
			t.Errorf("%s is used by the dashboard or the alerts but groq_exporter does not serve it", n)
		}
	}
	for n := range served {
		if strings.HasPrefix(n, "groq_") && n != customQuery && !slices.Contains(exportedMetrics, n) {
			t.Errorf("groq_exporter serves %s, which is not in exportedMetrics (the contract's list)", n)
		}
	}
}
