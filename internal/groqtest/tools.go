package groqtest

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Prometheus and Alertmanager the real-server tests run against: the versions users run today, built
// from their upstream Go modules by scripts/install-deps.sh into a directory per version under ToolsDir,
// and checked here: by the module version recorded in the binary (go install), or, for Alertmanager, which
// is built from a copy of its module (its module lacks the web UI's assets), by the module path recorded
// and the version it reports. A binary from PATH or a distribution package is never used in their place,
// so every machine tests against the same servers.
const (
	PrometheusModule        = "github.com/prometheus/prometheus"
	PrometheusModuleVersion = "v0.316.0" // Prometheus 3.16.0 (the Go module is tagged v0.<major><minor>.<patch>)
	PrometheusVersion       = "3.16.0"
	AlertmanagerModule      = "github.com/prometheus/alertmanager"
	AlertmanagerVersion     = "v0.35.0"
)

// A Tool is one pinned server binary: where it is installed and how to install it.
type Tool struct {
	Name          string // binary name, e.g. "promtool"
	Package       string // Go package path of its main package
	Module        string // Go module path
	ModuleVersion string // the module version the binary must carry
}

// The pinned tools.
var (
	PrometheusTool   = Tool{"prometheus", PrometheusModule + "/cmd/prometheus", PrometheusModule, PrometheusModuleVersion}
	PromtoolTool     = Tool{"promtool", PrometheusModule + "/cmd/promtool", PrometheusModule, PrometheusModuleVersion}
	AlertmanagerTool = Tool{"alertmanager", AlertmanagerModule + "/cmd/alertmanager", AlertmanagerModule,
		AlertmanagerVersion}
)

// ToolsDir is where scripts/install-deps.sh installs the pinned tools: $GROQ_EXPORTER_TOOLS if set, else
// groq_exporter/tools in the user's cache directory (~/.cache/groq_exporter/tools on Linux).
func ToolsDir() string {
	if d := os.Getenv("GROQ_EXPORTER_TOOLS"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "groq_exporter", "tools")
	}
	return filepath.Join(os.TempDir(), "groq_exporter-tools")
}

// Dir is the directory this version of the tool is installed in, e.g. ToolsDir()/prometheus-v0.316.0
// (prometheus and promtool share it, as they share their module).
func (t Tool) Dir() string {
	return filepath.Join(ToolsDir(), filepath.Base(t.Module)+"-"+t.ModuleVersion)
}

// InstallHint is the command that installs the tool where Path looks for it.
func (t Tool) InstallHint() string {
	if t.Module == AlertmanagerModule {
		return "scripts/install-deps.sh (it builds " + t.Package + "@" + t.ModuleVersion + " into " + t.Dir() + ")"
	}
	return fmt.Sprintf("scripts/install-deps.sh (or: GOBIN=%s go install %s@%s)", t.Dir(), t.Package, t.ModuleVersion)
}

// Path returns the installed binary after checking that it is the pinned version, or an error that says
// how to install it.
func (t Tool) Path() (string, error) {
	p := filepath.Join(t.Dir(), t.Name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s %s is not installed at %s; install it with: %s", t.Name, t.ModuleVersion, p, t.InstallHint())
	}
	info, err := buildinfo.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("%s at %s is not a Go binary with build information (%v); reinstall it with: %s", t.Name, p, err, t.InstallHint())
	}
	if info.Main.Path == t.Module && info.Main.Version == t.ModuleVersion {
		return p, nil
	}
	if info.Main.Path == t.Module && info.Main.Version == "(devel)" {
		want := "version " + strings.TrimPrefix(t.ModuleVersion, "v") + " "
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err == nil && strings.Contains(string(out), want) {
			return p, nil
		}
		return "", fmt.Errorf("%s at %s does not report %q (%v: %.200s); reinstall it with: %s", t.Name, p, want, err, out, t.InstallHint())
	}
	return "", fmt.Errorf("%s at %s was built from %s@%s, want %s@%s; reinstall it with: %s",
		t.Name, p, info.Main.Path, info.Main.Version, t.Module, t.ModuleVersion, t.InstallHint())
}

// ForTest returns Path or fails the test with the install hint; the tests never skip for a missing tool.
func (t Tool) ForTest(tb testing.TB) string {
	tb.Helper()
	p, err := t.Path()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
