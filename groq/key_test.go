package groq_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
	"github.com/groq-exporter/groq_exporter/internal/safefile"
)

// queryWithin runs c.Query and fails the test if it has not returned after
// d: a key file must never block a request.
func queryWithin(t *testing.T, c *groq.Client, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Query(context.Background(), "up")
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("the query has not returned after %s: it blocks on the key file", d)
		return nil
	}
}

// TestKeyFileRefused: a key file that is a FIFO (whose open or read would
// wait for a writer for ever), a device (/dev/zero, whose read never ends), a
// directory, a file over MaxKeyFileBytes, or a file holding two keys fails
// the request at once as ErrKey (never transport), with a *FileError naming
// the file and saying why; nothing is sent; and the request works again as
// soon as the file is fixed.
func TestKeyFileRefused(t *testing.T) {
	origin := groqtest.OriginForTest(t)
	file := filepath.Join(t.TempDir(), "key")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := newTestClient(t, origin.URL, func(c *groq.Config) { c.KeyFile = file })
	for _, tc := range []struct {
		name, say string
		cause     error
		make      func()
	}{
		{"a FIFO", "is a named pipe (FIFO), not a regular file", safefile.ErrNotRegular, func() {
			if err := syscall.Mkfifo(file, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"/dev/zero", "is a character device, not a regular file", safefile.ErrNotRegular, func() {
			if err := os.Symlink("/dev/zero", file); err != nil {
				t.Fatal(err)
			}
		}},
		{"a directory", "is a directory, not a regular file", safefile.ErrNotRegular, func() { os.Mkdir(file, 0o700) }},
		{"over the limit", "is larger than 64 KiB, the limit of a key file", safefile.ErrTooLarge, func() {
			write(groq.TestKey + strings.Repeat(" ", groq.MaxKeyFileBytes))
		}},
		{"a sparse 1 GiB file", "is larger than 64 KiB", nil, func() {
			write(groq.TestKey)
			if err := os.Truncate(file, 1<<30); err != nil {
				t.Fatal(err)
			}
		}},
		{"two keys", "holds more than one line; it must hold the key alone", groq.ErrKeyLines, func() {
			write(groq.TestKey + "\n" + groq.TestKey + "x\n")
		}},
		{"a space inside", "holds white space, a control character", groq.ErrKeyChars, func() { write("gsk_abc def\n") }},
		{"an escape inside", "holds white space, a control character", groq.ErrKeyChars, func() { write("gsk_abc\x1b[31mdef\n") }},
		{"white space only", "is empty", groq.ErrKeyEmpty, func() { write("\ufeff \r\n\t") }},
		{"Bearer only", "is empty", groq.ErrKeyEmpty, func() { write("Bearer \n") }},
		{"missing", "cannot be read: no such file or directory", fs.ErrNotExist, func() {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer os.RemoveAll(file)
			tc.make()
			err := queryWithin(t, c, 10*time.Second)
			var ferr *groq.FileError
			switch {
			case !errors.Is(err, groq.ErrKey) || errors.Is(err, groq.ErrTransport):
				t.Errorf("error %v, want ErrKey (and not transport)", err)
			case !errors.As(err, &ferr) || ferr.Path != file:
				t.Errorf("error %v, want a *FileError naming %s", err, file)
			case !strings.Contains(err.Error(), "the key file "+file+" "+tc.say):
				t.Errorf("error %q, want it to say %q", err, "the key file "+file+" "+tc.say)
			case tc.cause != nil && !errors.Is(err, tc.cause):
				t.Errorf("error %v, want it to wrap %v", err, tc.cause)
			}
			if err != nil && strings.Contains(err.Error(), groq.TestKey) || strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q shows the file's content", err)
			}
		})
	}
	if got := origin.Authorizations(); len(got) != 0 {
		t.Errorf("%d requests sent, want none: %q", len(got), got)
	}
	write(groq.TestKey)
	if err := queryWithin(t, c, 10*time.Second); err != nil {
		t.Errorf("the fixed key file: %v", err)
	}
}

// TestKeyTrimmed: a key file (or a key) is read as people write it: white
// space and line ends around the key, a UTF-8 byte-order mark before it and a
// "Bearer " in front of it are not sent.
func TestKeyTrimmed(t *testing.T) {
	for _, text := range []string{
		groq.TestKey,
		groq.TestKey + "\n",
		"  " + groq.TestKey + "\r\n\r\n",
		"\ufeff" + groq.TestKey + "\n",
		"Bearer " + groq.TestKey + "\n",
		"\ufeffbearer\t" + groq.TestKey,
		"\n\nBEARER  " + groq.TestKey + "  \n\n",
	} {
		for _, inFile := range []bool{true, false} {
			origin := groqtest.OriginForTest(t)
			c, _ := newTestClient(t, origin.URL, func(c *groq.Config) {
				if c.Key = text; inFile {
					c.Key, c.KeyFile = "", filepath.Join(t.TempDir(), "key")
					if err := os.WriteFile(c.KeyFile, []byte(text), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			})
			if err := queryWithin(t, c, 10*time.Second); err != nil {
				t.Errorf("%q (in a file: %v): %v", text, inFile, err)
			}
			if got := origin.Authorizations(); len(got) != 1 || got[0] != "Bearer "+groq.TestKey {
				t.Errorf("%q (in a file: %v) sent %q, want the key alone", text, inFile, got)
			}
		}
	}
}

// TestKeyRefused: a key given as it is (api_key, $GROQ_API_KEY) that holds
// two lines or characters no header carries is refused when the client is
// made, as ErrKey, without repeating it.
func TestKeyRefused(t *testing.T) {
	for _, key := range []string{groq.TestKey + "\n" + groq.TestKey, "gsk_abc def", "gsk_abc\x00"} {
		_, err := groq.New(groq.Config{Key: key})
		if !errors.Is(err, groq.ErrKey) || strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), groq.TestKey) {
			t.Errorf("New(%q) = %v, want ErrKey without the key", key, err)
		}
	}
}
