package examples

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
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
	// kingpin lists flags as "  -h, --[no-]help" and "      --web.listen-address=:10199";
	// a wrapped line of help text is indented further.
	re := regexp.MustCompile(`(?m)^  (?:-\w, |    )--(?:\[no-\])?([a-z][a-z0-9.-]*)`)
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
// Kubernetes manifests, and every exporter flag the example files, the Dockerfile and
// scripts/docker-test.sh mention, each with where. TestHelmChartFlags checks the rendered
// chart's.
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

// checkFlags fails the test for each flag in used (with where it is used) that is not one
// of flags, groq_exporter's.
func checkFlags(t *testing.T, flags []string, used map[string][]string) {
	t.Helper()
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
}

// TestExporterFlags checks that every flag the examples use is one groq_exporter has,
// and that it listens on the port the manifests, chart and Dockerfile expose.
func TestExporterFlags(t *testing.T) {
	bin := exporterBinary(t)
	flags, help := helpFlags(t, bin)
	used := usedFlags(t)
	checkFlags(t, flags, used)
	if !strings.Contains(help, fmt.Sprint(exporterPort)) {
		t.Errorf("groq_exporter --help does not mention port %d as its default listen address:\n%s", exporterPort, help)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "version") {
		t.Errorf("groq_exporter --version: %v\n%s", err, out)
	}
	// README's flag table lists every flag --help lists, and no other.
	var table []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(--[a-z][a-z0-9.-]*)`").FindAllStringSubmatch(readRoot(t, "README.md"), -1) {
		table = append(table, m[1])
	}
	for _, f := range flags {
		if f != "--help" && !slices.Contains(table, f) {
			t.Errorf("README.md's flag table lacks %s (groq_exporter --help lists it)", f)
		}
	}
	for _, f := range table {
		if !slices.Contains(flags, f) {
			t.Errorf("README.md's flag table lists %s, which groq_exporter --help does not", f)
		}
	}
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

	// A fake Groq serving one model's worth of every documented series.
	const key = "gsk_test_key"
	srv := groqtest.FakeForTest(t, key)
	srv.SetSeries(groqtest.NewLoader(nil, 1, "llama-3.1-8b-instant").Round(time.Now())...)
	keyFile := filepath.Join(t.TempDir(), "api-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	// A configuration file with one custom query, so that the reload and query metrics the
	// alerts use are served too.
	const customQuery = "groq_examples_test_ratio"
	const customQueryExpr = `sum by (model) (requests:rate1m{status_code="429"}) / sum by (model) (requests:rate1m)`
	configFile := filepath.Join(t.TempDir(), "groq_exporter.yml")
	config := "queries:\n  - name: " + customQuery + "\n    help: Test query.\n" +
		"    query: " + customQueryExpr + "\n" +
		"    labels: [model]\n"
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// The fake evaluates no MetricsQL: it answers the custom query as Groq would.
	srv.SetAnswer(customQueryExpr, groqtest.Sample{Labels: map[string]string{"model": "llama-3.1-8b-instant"}, Value: 0.02})
	addr := groqtest.FreeAddr(t)
	logs := &groqtest.LogBuffer{}
	cmd := exec.Command(bin,
		"--config.file="+configFile,
		"--groq.api-key-file="+keyFile,
		"--groq.url="+srv.BaseURL(),
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
	authorized := 0
	for _, c := range srv.Calls() {
		if c.Header.Get("Authorization") == "Bearer "+key {
			authorized++
		}
	}
	if authorized == 0 {
		t.Errorf("the fake Groq got no request with the key from --groq.api-key-file")
	}

	served := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(metrics))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			served[f[2]] = true
		}
	}
	for n := range wantNames {
		if !served[n] {
			t.Errorf("%s is used by the dashboard or the alerts but groq_exporter does not serve it", n)
		}
	}
	for n := range served {
		if strings.HasPrefix(n, "groq_") && n != customQuery && !slices.Contains(exportedMetrics, n) {
			t.Errorf("groq_exporter serves %s, which is not in exportedMetrics (the contract's list)", n)
		}
	}
}
