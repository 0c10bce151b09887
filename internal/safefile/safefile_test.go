package safefile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readWithin calls Read and fails the test if it has not returned after
// 10 s: no file may block it.
func readWithin(t *testing.T, ctx context.Context, path string, max int64) ([]byte, error) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := Read(ctx, path, max)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("Read(%s) has not returned after 10s", path)
		return nil, nil
	}
}

// TestRead: a regular file within the bound is read whole; anything else
// fails at once with a cause that completes "<file> …" and that errors.Is
// finds, without the file's content.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	write := func(name, content string) {
		if err := os.WriteFile(at(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ok", "secret-content\n")
	write("full", strings.Repeat("x", 100))
	write("over", strings.Repeat("x", 101))
	write("sparse", "secret-content")
	if err := os.Truncate(at("sparse"), 1<<30); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(at("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", at("zero")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(at("ok"), at("link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(at("dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want, say string
		cause           error
	}{
		{name: "ok", want: "secret-content\n"},
		{name: "link", want: "secret-content\n"}, // a Kubernetes Secret's file is a link
		{name: "full", want: strings.Repeat("x", 100)},
		{name: "over", say: "is larger than 100 bytes", cause: ErrTooLarge},
		{name: "sparse", say: "is larger than 100 bytes", cause: ErrTooLarge},
		{name: "fifo", say: "is a named pipe (FIFO), not a regular file", cause: ErrNotRegular},
		{name: "zero", say: "is a character device, not a regular file", cause: ErrNotRegular},
		{name: "dir", say: "is a directory, not a regular file", cause: ErrNotRegular},
		{name: "missing", say: "cannot be read: no such file or directory", cause: fs.ErrNotExist},
	} {
		b, err := readWithin(t, context.Background(), at(tc.name), 100)
		switch {
		case tc.cause == nil && (err != nil || string(b) != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, b, err, tc.want)
		case tc.cause != nil && (err == nil || err.Error() != tc.say || !errors.Is(err, tc.cause)):
			t.Errorf("%s: error %v, want %q wrapping %v", tc.name, err, tc.say, tc.cause)
		}
	}
	// /proc files say they hold 0 bytes: the bound holds whatever the size says.
	if _, err := readWithin(t, context.Background(), "/proc/self/smaps", 100); !errors.Is(err, ErrTooLarge) && runtime.GOOS == "linux" {
		t.Errorf("/proc/self/smaps: %v, want ErrTooLarge", err)
	}
}

// TestReadHangs: a read that the operating system never completes (a stuck
// network file system, here simulated) is abandoned at the deadline; the
// reads that come meanwhile wait on that one instead of starting more; and
// once it returns, the file is read afresh.
func TestReadHangs(t *testing.T) {
	release := make(chan struct{})
	started := 0
	readFile = func(path string, max int64) ([]byte, error) {
		started++ // under reads.mu's happens-before: one at a time here
		<-release
		return []byte("fixed"), nil
	}
	defer func() { readFile = read }()
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := readWithin(t, ctx, "/stuck/key", 100)
		cancel()
		if !errors.Is(err, ErrTimeout) || !strings.HasPrefix(err.Error(), "was not read within ") {
			t.Fatalf("error %v, want a timeout", err)
		}
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		reads.mu.Lock()
		waiting := reads.waiting["/stuck/key"]
		reads.mu.Unlock()
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hung read never ended")
		}
	}
	if started != 1 {
		t.Errorf("%d reads of the hung file were started, want 1", started)
	}
	b, err := readWithin(t, context.Background(), "/stuck/key", 100)
	if err != nil || string(b) != "fixed" {
		t.Errorf("after the hang: %q, %v", b, err)
	}
}
