//go:build integration

package main

import (
	"os/exec"
	"strings"
	"testing"
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

// promtoolCheckMetrics runs `promtool check metrics` on an exposition.
func promtoolCheckMetrics(t *testing.T, exposition string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install it with `apt-get install -y prometheus`")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
