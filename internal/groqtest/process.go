package groqtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	startTimeout = 60 * time.Second // generous: the machines running the tests are small and shared
	stopTimeout  = 15 * time.Second // after this a server that ignores SIGTERM is killed
	startTries   = 3                // a free port can be taken by someone else before the server binds it
	maxLogBytes  = 256 << 10
)

// findBinary returns the path of name from PATH or else /usr/bin, or an error that says how to install the
// Debian package pkg that provides it.
func findBinary(name, pkg string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/bin", name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("%s not found in PATH or /usr/bin; install it with: apt-get install -y %s", name, pkg)
}

// Command is exec.Command for a child server: it runs in its own process group, so a Ctrl-C in the terminal
// reaches only this program, which then stops its children in order, and on Linux the kernel kills it if
// this program dies without stopping it (as a test binary killed on timeout does).
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = sysProcAttr()
	return cmd
}

// FreeAddress returns a 127.0.0.1 address with a port that was free a moment ago.
func FreeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// process is a server binary running in its own temporary directory.
type process struct {
	name string
	cmd  *exec.Cmd
	dir  string
	log  *LogBuffer
	done chan struct{} // closed once the process has exited
	err  error         // exit error, valid after done is closed
}

// startServer creates a temporary directory, starts the binary with the arguments args(dir, addr) on a
// free loopback address and waits until GET http://addr+readyPath answers 200. It retries with another
// port if the server exits while starting, as it does when the port was taken in between.
func startServer(name, binary string, args func(dir, addr string) ([]string, error), readyPath string) (*process, string, error) {
	return startServerReady(name, binary, args, func(ctx context.Context, addr string) bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+readyPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// startServerReady is startServer for a server that says it is ready in another way than an HTTP 200:
// ready(addr) is asked until it says true.
func startServerReady(name, binary string, args func(dir, addr string) ([]string, error), ready func(ctx context.Context, addr string) bool) (*process, string, error) {
	var lastErr error
	for try := 0; try < startTries; try++ {
		addr, err := FreeAddress()
		if err != nil {
			return nil, "", err
		}
		dir, err := os.MkdirTemp("", "groqtest-"+name+"-")
		if err != nil {
			return nil, "", err
		}
		argv, err := args(dir, addr)
		if err != nil {
			os.RemoveAll(dir)
			return nil, "", err
		}
		p := &process{name: name, dir: dir, log: &LogBuffer{Max: maxLogBytes}, done: make(chan struct{})}
		p.cmd = Command(binary, argv...)
		p.cmd.Dir = dir
		p.cmd.Stdout = p.log
		p.cmd.Stderr = p.log
		if err := p.cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, "", fmt.Errorf("start %s: %w", name, err)
		}
		go func() {
			p.err = p.cmd.Wait()
			close(p.done)
		}()
		if err := p.waitReady(addr, ready); err != nil {
			lastErr = err
			p.stop()
			continue
		}
		return p, addr, nil
	}
	return nil, "", lastErr
}

func (p *process) waitReady(addr string, ready func(ctx context.Context, addr string) bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready(ctx, addr) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting (%v); its log:\n%s", p.name, p.err, p.log)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s after %v; its log:\n%s", p.name, addr, startTimeout, p.log)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM, kills the process if it has not exited after stopTimeout, waits for it and removes
// its directory. It can be called more than once.
func (p *process) stop() error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("remove %s data directory: %w", p.name, err)
	}
	var exitErr *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exitErr) {
		return fmt.Errorf("%s: %w", p.name, p.err)
	}
	return nil
}

// LogBuffer collects the output of a process or of the exporter for tests,
// from concurrent writers. With Max set it keeps only about the last Max bytes.
type LogBuffer struct {
	Max int
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.Max > 0 && b.buf.Len() > b.Max {
		b.buf.Next(b.buf.Len() - b.Max/2)
	}
	return len(p), nil
}

// String returns what was written (the tail, with Max), trimmed of white space.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// Await waits until what was written holds substr, for at most d, and reports whether it does. A child
// process's output reaches the buffer through a pipe and a goroutine of os/exec, so a line the process wrote
// before it answered a request may arrive a moment after the answer: a test that reads the log of a running
// process waits for the line it expects with Await instead of reading String at once.
func (b *LogBuffer) Await(substr string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.String(), substr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago, or fails the test: for a
// server under test to listen on, or, closed, for a client to be refused.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
