//go:build integration

package examples

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestTarballs runs `make tarballs` for one platform and checks what a release tarball
// holds: one directory with the binary, LICENSE, NOTICE and README.md, the same files as
// the repository's, and a sha256sums.txt that names it.
func TestTarballs(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, repoRoot, "make", "--no-print-directory", "tarballs", "PLATFORMS=linux/amd64", "TARBALLS_DIR="+dir)
	version := strings.TrimSpace(readRoot(t, "VERSION"))
	name := fmt.Sprintf("groq_exporter-%s.linux-amd64", version)
	f, err := os.Open(filepath.Join(dir, name+".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{name + "/LICENSE", name + "/NOTICE", name + "/README.md", name + "/groq_exporter"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("%s.tar.gz holds %v, want %v", name, names, want)
	}
	for _, n := range []string{"LICENSE", "NOTICE", "README.md"} {
		if string(files[name+"/"+n]) != readRoot(t, n) {
			t.Errorf("%s in the tarball differs from the repository's", n)
		}
	}
	sums, err := os.ReadFile(filepath.Join(dir, "sha256sums.txt"))
	if err != nil || !strings.Contains(string(sums), name+".tar.gz") {
		t.Errorf("sha256sums.txt does not name %s.tar.gz: %v\n%s", name, err, sums)
	}
}

// TestMakeRunPort: `make run PORT=...` without a key starts the sandbox with the exporter
// on that port, as the sandbox's "port taken" error suggests. make -n prints the commands
// it would run. (With $GROQ_API_KEY, make -n would still start the exporter: the recipe
// line that chooses the mode runs under -n, because it calls $(MAKE).)
func TestMakeRunPort(t *testing.T) {
	cmd := exec.Command("make", "-n", "--no-print-directory", "run", "PORT=10299")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GROQ_API_KEY=")
	out, err := cmd.CombinedOutput()
	want := "./.build/groq-sandbox -exporter ./groq_exporter -exporter.listen-address=127.0.0.1:10299 --"
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("make -n run PORT=10299: %v, want a command containing %q:\n%s", err, want, out)
	}
}
