package examples

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// Paths of the example files, relative to this directory.
const (
	repoRoot       = ".."
	prometheusDir  = "prometheus"
	alertsDir      = "alerts"
	rulesFile      = "alerts/groq-exporter.rules.yml"
	rulesTestFile  = "alerts/groq-exporter.rules.test.yml"
	dashboardFile  = "grafana/groq-dashboard.json"
	kubernetesDir  = "kubernetes"
	chartDir       = "helm/groq-exporter"
	dockerfilePath = "../Dockerfile"
)

// tool returns the path of a command the tests need, or fails the test saying how to
// install it. The tests never skip for a missing tool.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	// go install puts binaries here, which is not always on PATH.
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s is not installed; install it with: %s", name, install)
	return ""
}

// promtool is the pinned promtool scripts/install-deps.sh builds.
func promtool(t *testing.T) string { return groqtest.PromtoolTool.ForTest(t) }

func helm(t *testing.T) string {
	return tool(t, "helm", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
}

// run runs a command in dir and returns its combined output and error.
func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// mustRun runs a command and fails the test with its output if it does not succeed.
func mustRun(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out, err := run(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
