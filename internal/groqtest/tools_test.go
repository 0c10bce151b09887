package groqtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolPathChecksVersion: a pinned tool that is missing, is no Go binary, or was built
// from another module version is an error that says how to install the right one.
func TestToolPathChecksVersion(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GROQ_EXPORTER_TOOLS", dir)
	tool := PromtoolTool
	_, err := tool.Path()
	if err == nil || !strings.Contains(err.Error(), "is not installed") || !strings.Contains(err.Error(), "scripts/install-deps.sh") {
		t.Errorf("missing: %v, want the install hint", err)
	}
	if err := os.MkdirAll(tool.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tool.Dir(), tool.Name), []byte("#!/bin/sh\necho promtool\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Path(); err == nil || !strings.Contains(err.Error(), "not a Go binary") {
		t.Errorf("a shell script: %v, want an error", err)
	}
	// This test binary is a Go binary built from another module.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tool.Dir(), tool.Name), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Path(); err == nil || !strings.Contains(err.Error(), "want github.com/prometheus/prometheus@v0.316.0") {
		t.Errorf("another module: %v, want the module version named", err)
	}
	if d := tool.Dir(); d != filepath.Join(dir, "prometheus-"+PrometheusModuleVersion) {
		t.Errorf("Dir() = %s, want it keyed by the module version", d)
	}
}
