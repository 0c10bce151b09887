package examples

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readRoot reads a file at the repository root.
func readRoot(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLicenseAndNotice: the repository is Apache-2.0 (the full licence text, which
// licence scanners recognise), and NOTICE credits Prometheus for the code ported from it.
func TestLicenseAndNotice(t *testing.T) {
	license := readRoot(t, "LICENSE")
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License to your work."} {
		if !strings.Contains(license, want) {
			t.Errorf("LICENSE lacks %q: not the Apache License 2.0 text", want)
		}
	}
	notice := readRoot(t, "NOTICE")
	// Every file that says it ports Prometheus code is named in NOTICE.
	ported := 0
	err := filepath.WalkDir(repoRoot, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "examples" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if regexp.MustCompile(`is Prometheus's \w+|ports? Prometheus's`).Match(b) {
			ported++
			rel, _ := filepath.Rel(repoRoot, p)
			if !strings.Contains(notice, filepath.ToSlash(rel)) {
				t.Errorf("%s ports Prometheus code but NOTICE does not name it", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ported == 0 {
		t.Error("found no file that ports Prometheus code; collector/histogram.go should say that it does")
	}
	for _, want := range []string{"The Prometheus Authors", "Apache License, Version 2.0", "histogram_quantile"} {
		if !strings.Contains(notice, want) {
			t.Errorf("NOTICE lacks %q", want)
		}
	}
}

// TestChangelog: CHANGELOG.md has one entry per release, newest first, in the Prometheus
// projects' format, and its newest entry is the version in VERSION (the release workflow
// publishes that entry as the release notes).
func TestChangelog(t *testing.T) {
	version := strings.TrimSpace(readRoot(t, "VERSION"))
	text := readRoot(t, "CHANGELOG.md")
	heads := regexp.MustCompile(`(?m)^## (\S+) / (\S+)$`).FindAllStringSubmatch(text, -1)
	if len(heads) == 0 {
		t.Fatal("CHANGELOG.md has no entry `## <version> / <date>`")
	}
	first := heads[0]
	if first[1] == "main" {
		if len(heads) < 2 {
			t.Fatal("CHANGELOG.md has only `main / unreleased`")
		}
		first = heads[1]
	}
	if first[1] != version {
		t.Errorf("the newest CHANGELOG.md entry is %s, VERSION says %s", first[1], version)
	}
	seen := map[string]bool{}
	for _, h := range heads {
		if seen[h[1]] {
			t.Errorf("CHANGELOG.md has two entries for %s", h[1])
		}
		seen[h[1]] = true
		if h[2] != "unreleased" && !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(h[2]) {
			t.Errorf("CHANGELOG.md entry %s is dated %q, want YYYY-MM-DD or unreleased", h[1], h[2])
		}
	}
	for _, line := range regexp.MustCompile(`(?m)^\* .*$`).FindAllString(text, -1) {
		if !regexp.MustCompile(`^\* \[(CHANGE|FEATURE|ENHANCEMENT|BUGFIX|SECURITY)\] `).MatchString(line) {
			t.Errorf("CHANGELOG.md line not tagged [CHANGE], [FEATURE], [ENHANCEMENT], [BUGFIX] or [SECURITY]: %s", line)
		}
	}
}

// TestSecurityPolicy: SECURITY.md says how to report a vulnerability privately.
func TestSecurityPolicy(t *testing.T) {
	text := readRoot(t, "SECURITY.md")
	for _, want := range []string{"## Reporting a vulnerability", "security/advisories/new", "## Supported versions"} {
		if !strings.Contains(text, want) {
			t.Errorf("SECURITY.md lacks %q", want)
		}
	}
}
