//go:build integration

package groqtest

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestFindBinaryFallsBackToUsrBin(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, name := range []string{"victoria-metrics", "docker-registry"} {
		got, err := findBinary(name, name)
		if err != nil {
			t.Fatal(err)
		}
		if got != "/usr/bin/"+name {
			t.Errorf("findBinary(%q) = %q, want /usr/bin/%s", name, got, name)
		}
	}
}

func TestStopLeavesNoProcessOrDirectory(t *testing.T) {
	vm, err := StartVictoriaMetrics()
	if err != nil {
		t.Fatal(err)
	}
	pid, dir := vm.p.cmd.Process.Pid, vm.p.dir
	if err := vm.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := vm.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("victoria-metrics (pid %d) still exists after Stop: kill(pid, 0) = %v", pid, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory %s still exists after Stop: %v", dir, err)
	}
}
