//go:build integration

package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const workflowsDir = "../.github/workflows"

// TestWorkflows lints the repository's GitHub Actions workflows with actionlint (syntax,
// expressions, action inputs, runner labels) and checks that they do what the release
// process needs: make test on every push and pull request; on a version tag, tarballs,
// both architectures' images under one manifest list, and the chart on the release.
func TestWorkflows(t *testing.T) {
	al := tool(t, "actionlint", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12")
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("want the CI and release workflows in %s, got %v %v", workflowsDir, files, err)
	}
	args := []string{"-no-color"}
	for _, f := range files {
		args = append(args, filepath.Join(".github", "workflows", filepath.Base(f)))
	}
	mustRun(t, repoRoot, al, args...)

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(workflowsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, wants := range map[string][]string{
		"ci.yml":      {"push:", "pull_request:", ".ci/run"},
		"release.yml": {`tags: ["v*"]`, "make tarballs", "make docker docker-push docker-manifest", "helm package", "helm push", "oci://ghcr.io/", "--notes-file release-notes.md", "gh release create"},
	} {
		text := read(name)
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s: no %q", name, w)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run")); err != nil || !strings.Contains(string(b), "make test") {
		t.Errorf(".ci/run does not run make test: %v", err)
	}
}

// TestActionlintCatchesErrors makes sure the lint above can fail: actionlint rejects a
// workflow with an unknown key and a broken expression.
func TestActionlintCatchesErrors(t *testing.T) {
	al := tool(t, "actionlint", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12")
	dir := t.TempDir()
	bad := "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    step:\n      - run: echo ${{ github.nope( }}\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(dir, al, "-no-color", "bad.yml"); err == nil {
		t.Errorf("actionlint accepted a broken workflow:\n%s", out)
	}
}
