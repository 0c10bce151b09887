package groqtest

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Squid is a real forward proxy, Debian's squid, listening on a loopback port. It resolves the host names
// given to StartSquid through its hosts_file directive, names nothing else on the machine resolves: a
// client that reaches a server under such a name went through the proxy. It caches nothing, accepts
// requests from 127.0.0.1 only, and tunnels CONNECT to any port.
type Squid struct {
	// URL is what a client takes as its proxy: http://127.0.0.1:port.
	URL string
	p   *process
}

// StartSquid starts squid with hosts mapping names to IP addresses (e.g. "groq.test" → "127.0.0.1").
func StartSquid(hosts map[string]string) (*Squid, error) {
	bin, err := findBinary("squid", "squid")
	if err != nil {
		if p := "/usr/sbin/squid"; fileExists(p) {
			bin, err = p, nil
		} else {
			return nil, err
		}
	}
	args := func(dir, addr string) ([]string, error) {
		if os.Geteuid() == 0 {
			// Started as root, squid works as the user proxy: let it write its logs and pid file.
			if err := os.Chmod(dir, 0o777); err != nil {
				return nil, err
			}
		}
		var h strings.Builder
		for _, name := range slices.Sorted(maps.Keys(hosts)) {
			fmt.Fprintf(&h, "%s %s\n", hosts[name], name)
		}
		if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(h.String()), 0o644); err != nil {
			return nil, err
		}
		conf := strings.Join([]string{
			"http_port " + addr,
			"hosts_file " + filepath.Join(dir, "hosts"),
			"acl tests src 127.0.0.1/32",
			"http_access allow tests",
			"http_access deny all",
			"cache deny all",
			"pid_filename " + filepath.Join(dir, "squid.pid"),
			"cache_log " + filepath.Join(dir, "cache.log"),
			"access_log stdio:" + filepath.Join(dir, "access.log"),
			"coredump_dir " + dir,
			"netdb_filename none",
			"icp_port 0",
			"htcp_port 0",
			"pinger_enable off",
			"shutdown_lifetime 0 seconds",
		}, "\n") + "\n"
		confFile := filepath.Join(dir, "squid.conf")
		if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		return []string{"-N", "-f", confFile}, nil
	}
	ready := func(ctx context.Context, addr string) bool {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	p, addr, err := startServerReady("squid", bin, args, ready)
	if err != nil {
		return nil, err
	}
	return &Squid{URL: "http://" + addr, p: p}, nil
}

// SquidForTest starts squid with hosts, or fails the test; it is stopped when the test ends.
func SquidForTest(t testing.TB, hosts map[string]string) *Squid {
	t.Helper()
	s, err := StartSquid(hosts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// AccessLog returns squid's access log: one line per request it handled, e.g.
// "… TCP_TUNNEL/200 … CONNECT groq.test:443 …".
func (s *Squid) AccessLog() string {
	b, _ := os.ReadFile(filepath.Join(s.p.dir, "access.log"))
	return string(b)
}

// Logged waits until squid's access log holds s, which it writes once a request (or a CONNECT tunnel)
// has ended, and reports whether it did within a generous bound.
func (s *Squid) Logged(substr string) bool {
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(s.AccessLog(), substr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// Log returns what squid wrote to its cache log and output, for failure messages.
func (s *Squid) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.p.dir, "cache.log"))
	return s.p.log.String() + "\n" + string(b)
}

// Stop stops squid and removes its directory.
func (s *Squid) Stop() error { return s.p.stop() }

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
