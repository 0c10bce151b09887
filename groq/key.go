package groq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groq-exporter/groq_exporter/internal/safefile"
)

// MaxKeyFileBytes bounds a key file. A Groq key is 56 bytes; 64 KiB leaves
// room for any bearer token, and no more is ever read (a key file that is a
// big file by mistake, or /dev/zero, is refused instead of filling memory).
const MaxKeyFileBytes = 64 << 10

// The ways a key's text is refused. FileError and Error wrap them, with
// ErrKey.
var (
	// ErrKeyEmpty: nothing but white space.
	ErrKeyEmpty = errors.New("is empty")
	// ErrKeyLines: more than one line with text on it.
	ErrKeyLines = errors.New("holds more than one line; it must hold the key alone")
	// ErrKeyChars: white space, a control character or a character outside
	// printable ASCII inside the key, which no HTTP header can carry as it is.
	ErrKeyChars = errors.New("holds white space, a control character or a character that is not printable ASCII inside the key")
)

// FileError is a file the configuration names that cannot be used: it
// names the file and says why, and never holds the file's content.
// errors.Is finds its Kind (ErrKey for a key file), and its cause: an
// operating system error (fs.ErrNotExist…), safefile.ErrNotRegular,
// safefile.ErrTooLarge, safefile.ErrTimeout, ErrKeyEmpty, ErrKeyLines or
// ErrKeyChars.
type FileError struct {
	Kind error  // ErrKey
	What string // "key file"
	Path string
	Err  error // completes the sentence "the <What> <Path> …"
}

func (e *FileError) Error() string { return "the " + e.What + " " + e.Path + " " + e.Err.Error() }

func (e *FileError) Unwrap() []error { return []error{e.Kind, e.Err} }

// ReadKeyFile reads the API key from the file at path, the way the Client
// does before every request: a regular file of at most MaxKeyFileBytes,
// opened without blocking and read within ctx's deadline (and at most
// safefile.Timeout), its content as ParseKey takes it. Its error is a
// *FileError.
func ReadKeyFile(ctx context.Context, path string) (string, error) {
	b, err := safefile.Read(ctx, path, MaxKeyFileBytes)
	if errors.Is(err, safefile.ErrTooLarge) {
		err = fmt.Errorf("%w, the limit of a key file: it must hold the key alone", err)
	}
	if err == nil {
		var key string
		if key, err = ParseKey(string(b)); err == nil {
			return key, nil
		}
	}
	return "", &FileError{Kind: ErrKey, What: "key file", Path: path, Err: err}
}

// utf8BOM is what some editors on Windows put at the start of a text file.
const utf8BOM = "\ufeff"

// ParseKey takes a key as people write it into a file or a variable: white
// space around it, a UTF-8 byte-order mark before it and a "Bearer " in
// front of it (any case) are removed. A text that is empty, holds more than
// one line, or holds white space or anything but printable ASCII inside the
// key is refused with ErrKeyEmpty, ErrKeyLines or ErrKeyChars, whose texts
// never repeat the key.
func ParseKey(s string) (string, error) {
	s = strings.TrimSpace(strings.TrimPrefix(s, utf8BOM))
	if len(s) >= len("bearer") && strings.EqualFold(s[:len("bearer")], "bearer") {
		if r, _ := utf8.DecodeRuneInString(s[len("bearer"):]); len(s) == len("bearer") || unicode.IsSpace(r) {
			s = strings.TrimSpace(s[len("bearer"):]) // "Bearer" alone leaves nothing
		}
	}
	if s == "" {
		return "", ErrKeyEmpty
	}
	lines := 0
	for line := range strings.Lines(s) {
		if strings.TrimSpace(line) != "" {
			lines++
		}
	}
	if lines > 1 {
		return "", ErrKeyLines
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", ErrKeyChars
		}
	}
	return s, nil
}
