// Package safefile reads the small files the exporter's configuration names
// (API keys, the configuration file itself) so that no file can wedge or
// exhaust the process: the file is opened without blocking, must be a regular
// file (not a FIFO, a device, a socket or a directory), is read up to a bound,
// and within a deadline. A read that hangs (a stuck network file system) is
// abandoned at the deadline; at most a few such reads of one file are left
// waiting, and the next read after one of them starts afresh, so that a file
// that is fixed is read again at once.
package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Timeout bounds a read whose context has no earlier deadline. A regular
// file on a local disk is read in microseconds; a read that takes longer is
// a file system that hangs.
const Timeout = 2 * time.Second

// maxHung bounds how many abandoned reads of one file may still be waiting
// on the operating system: beyond it, a read fails at once.
const maxHung = 3

// The causes of a failed Read, besides those of the operating system
// (fs.ErrNotExist, fs.ErrPermission…). Their texts complete a sentence that
// starts with the file's name: "/run/key is not a regular file".
var (
	// ErrNotRegular: a FIFO, a device, a socket or a directory, whose read
	// could block for ever or never end.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: more bytes than the caller's bound.
	ErrTooLarge = errors.New("larger than the limit")
	// ErrTimeout: not read before the deadline (a hung file system).
	ErrTimeout = errors.New("not read in time")
)

// notRegular says what a file is instead of a regular file.
type notRegular struct{ what string }

func (e *notRegular) Error() string { return "is " + e.what + ", not a regular file" }
func (e *notRegular) Unwrap() error { return ErrNotRegular }

// tooLarge is a file over the bound.
type tooLarge struct{ max int64 }

func (e *tooLarge) Error() string { return "is larger than " + Size(e.max) }
func (e *tooLarge) Unwrap() error { return ErrTooLarge }

// timedOut is a read abandoned at its deadline.
type timedOut struct {
	after time.Duration
	hung  bool // refused at once: earlier reads of the file still hang
}

func (e *timedOut) Error() string {
	if e.hung {
		return fmt.Sprintf("cannot be read: %d earlier reads of it have hung for more than %s (a stuck file system?)", maxHung, Timeout)
	}
	return fmt.Sprintf("was not read within %s (a stuck file system?)", e.after.Round(time.Millisecond))
}
func (e *timedOut) Unwrap() error { return ErrTimeout }

// osError is a failure of the operating system, without the path, which the
// caller names.
type osError struct{ err error }

func (e *osError) Error() string { return "cannot be read: " + e.err.Error() }
func (e *osError) Unwrap() error { return e.err }

// Size writes a byte count the way the limits are documented: 64 KiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Read returns the content of the regular file at path, of at most max
// bytes, read before ctx's deadline or Timeout, whichever comes first.
//
// The error's text completes a sentence that starts with the file's name
// ("is a named pipe (FIFO), not a regular file", "is larger than 64 KiB",
// "cannot be read: no such file or directory", "was not read within 2s");
// errors.Is finds ErrNotRegular, ErrTooLarge, ErrTimeout or the operating
// system's cause (fs.ErrNotExist, fs.ErrPermission).
func Read(ctx context.Context, path string, max int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	start := time.Now()
	c, err := reads.start(path, max)
	if err != nil {
		return nil, err
	}
	select {
	case <-c.done:
		return c.data, c.err
	case <-ctx.Done():
		return nil, &timedOut{after: time.Since(start)}
	}
}

// call is one read of a file, shared by the callers that come while it is
// under way.
type call struct {
	started time.Time
	done    chan struct{}
	data    []byte
	err     error
}

type flight struct {
	path string
	max  int64
}

// inFlight are the reads under way, and how many reads of each file have not
// returned (those abandoned at their deadline included).
type inFlight struct {
	mu      sync.Mutex
	current map[flight]*call
	waiting map[string]int
}

var reads = inFlight{current: map[flight]*call{}, waiting: map[string]int{}}

// start joins the read of path under way, unless it has outlived Timeout
// (it hangs: a new one may find the file fixed), or starts one.
func (f *inFlight) start(path string, max int64) (*call, error) {
	key := flight{path, max}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.current[key]; c != nil && time.Since(c.started) < Timeout {
		return c, nil
	}
	if f.waiting[path] >= maxHung {
		return nil, &timedOut{hung: true}
	}
	c := &call{started: time.Now(), done: make(chan struct{})}
	f.current[key] = c
	f.waiting[path]++
	go func() {
		c.data, c.err = readFile(path, max)
		f.mu.Lock()
		if f.current[key] == c {
			delete(f.current, key)
		}
		if f.waiting[path]--; f.waiting[path] == 0 {
			delete(f.waiting, path)
		}
		f.mu.Unlock()
		close(c.done)
	}()
	return c, nil
}

// readFile is read; tests replace it with one that hangs.
var readFile = read

// read opens path without blocking (a FIFO with no writer, a tty), checks
// with fstat that it is a regular file of at most max bytes, and reads it.
func read(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, cause(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, cause(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &notRegular{what: kind(fi.Mode())}
	}
	if fi.Size() > max {
		return nil, &tooLarge{max}
	}
	// The size may be wrong (it grows, or /proc says 0): read no more than
	// the bound allows, whatever it says.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, cause(err)
	}
	if int64(len(b)) > max {
		return nil, &tooLarge{max}
	}
	return b, nil
}

// cause strips the path from an operating system's error: the caller names
// the file in its own words.
func cause(err error) error {
	var perr *fs.PathError
	if errors.As(err, &perr) {
		err = perr.Err
	}
	return &osError{err}
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
