//go:build integration

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestPromtoolCheckMetrics: promtool itself finds nothing to criticise in the
// expositions that TestEndToEnd and TestReloadUnderScrapes lint.
func TestPromtoolCheckMetrics(t *testing.T) {
	t.Run("one organization", func(t *testing.T) {
		_, _, body := startEndToEnd(t)
		promtoolCheckMetrics(t, body)
	})
	t.Run("organizations and custom queries", func(t *testing.T) {
		promtoolCheckMetrics(t, startTwoOrganizations(t).body)
	})
}

// TestPromtoolCheckGoldenFiles: every golden exposition (the collector's
// cases, from the documented scheme to Groq's added families, the older
// scheme's buckets and every percentile spelling, and the end-to-end one)
// passes promtool's lint.
func TestPromtoolCheckGoldenFiles(t *testing.T) {
	files, err := filepath.Glob("collector/testdata/*.metrics")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range append(files, "testdata/e2e.metrics") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			promtoolCheckMetrics(t, string(b))
		})
	}
}

// promtoolCheckMetrics runs `promtool check metrics` on an exposition.
func promtoolCheckMetrics(t *testing.T, exposition string) {
	t.Helper()
	cmd := exec.Command(groqtest.PromtoolTool.ForTest(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
