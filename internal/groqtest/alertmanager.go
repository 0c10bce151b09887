package groqtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Alertmanager is the pinned Alertmanager (AlertmanagerTool) on 127.0.0.1, alone (no cluster), with a
// temporary storage directory.
type Alertmanager struct {
	URL string // base URL, e.g. http://127.0.0.1:41236; Prometheus sends alerts to URL's host
	p   *process
}

// StartAlertmanager starts Alertmanager with config (YAML) as its configuration file on a free loopback
// port and waits until /-/ready answers.
func StartAlertmanager(config string) (*Alertmanager, error) {
	bin, err := AlertmanagerTool.Path()
	if err != nil {
		return nil, err
	}
	args := func(dir, addr string) ([]string, error) {
		file := filepath.Join(dir, "alertmanager.yml")
		if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
			return nil, err
		}
		return []string{
			"--config.file=" + file,
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--cluster.listen-address=", // no gossip: one instance, no port of its own
			"--log.level=warn",
		}, nil
	}
	p, addr, err := startServer("alertmanager", bin, args, "/-/ready")
	if err != nil {
		return nil, err
	}
	return &Alertmanager{URL: "http://" + addr, p: p}, nil
}

// AlertmanagerForTest starts Alertmanager or fails the test, and stops it when the test ends; its log is
// added to the test output if the test failed.
func AlertmanagerForTest(t testing.TB, config string) *Alertmanager {
	t.Helper()
	a, err := StartAlertmanager(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && a.p.log.String() != "" {
			t.Logf("alertmanager log:\n%s", a.p.log)
		}
		if err := a.p.stop(); err != nil {
			t.Error(err)
		}
	})
	return a
}
