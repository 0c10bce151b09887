//go:build integration

package examples

import (
	"math"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestPlainBuildVersion: a binary built with plain `go build` (no release -ldflags), as
// exporterBinary builds it, reports the repository's VERSION, not an empty version.
func TestPlainBuildVersion(t *testing.T) {
	out := mustRun(t, ".", exporterBinary(t), "--version")
	version := strings.TrimSpace(readRoot(t, "VERSION"))
	if !strings.Contains(out, "groq_exporter, version "+version+" ") {
		t.Errorf("groq_exporter --version of a plain go build:\n%s\nwant version %s (VERSION)", out, version)
	}
}

// TestAutoGoMemLimit: the binary sets its Go memory limit (go_gc_gomemlimit_bytes) to
// --auto-gomemlimit.ratio of the memory it may use (the cgroup's limit, else the
// machine's): half the ratio gives half the limit; --no-auto-gomemlimit leaves it unset,
// and $GOMEMLIMIT wins over both.
func TestAutoGoMemLimit(t *testing.T) {
	bin := exporterBinary(t)
	const key = "gsk_memlimitTestKey"
	g := groqtest.FakeForTest(t, key)
	g.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	re := regexp.MustCompile(`(?m)^go_gc_gomemlimit_bytes (\S+)$`)
	limit := func(name string, env []string, args ...string) float64 {
		t.Helper()
		addr := groqtest.FreeAddr(t)
		cmd := exec.Command(bin, append([]string{"--web.listen-address=" + addr, "--groq.url=" + g.BaseURL()}, args...)...)
		cmd.Env = append([]string{"GROQ_API_KEY=" + key}, env...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "AUTOMEMLIMIT=") && !strings.HasPrefix(kv, "GROQ_API_KEY=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		_, exited := startProcess(t, name, cmd)
		var v float64
		waitUntil(t, name+" to serve go_gc_gomemlimit_bytes", exited, func() bool {
			code, body, err := httpGet("http://" + addr + "/metrics")
			m := re.FindStringSubmatch(body)
			if err != nil || code != http.StatusOK || m == nil {
				return false
			}
			v, err = strconv.ParseFloat(m[1], 64)
			return err == nil
		})
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		return v
	}
	unset := float64(math.MaxInt64)
	full := limit("default ratio", nil)
	half := limit("ratio 0.45", nil, "--auto-gomemlimit.ratio=0.45")
	off := limit("off", nil, "--no-auto-gomemlimit")
	env := limit("GOMEMLIMIT", []string{"GOMEMLIMIT=100MiB"}, "--auto-gomemlimit.ratio=0.45")
	if full <= 0 || full >= unset {
		t.Fatalf("default: go_gc_gomemlimit_bytes %v, want a limit from the cgroup or the machine", full)
	}
	if r := half / full; r < 0.49 || r > 0.51 {
		t.Errorf("ratio 0.45 gives %v, ratio 0.9 gives %v: want half", half, full)
	}
	if off != unset {
		t.Errorf("--no-auto-gomemlimit: go_gc_gomemlimit_bytes %v, want unset (%v)", off, unset)
	}
	if env != 100<<20 {
		t.Errorf("GOMEMLIMIT=100MiB: go_gc_gomemlimit_bytes %v, want %d", env, 100<<20)
	}
}
