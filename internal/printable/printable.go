// Package printable makes text that came from Groq (series names, label
// values, the words of its errors) fit to write to a terminal, a log line or
// a page: no character in it can end the line, move the cursor, change the
// colours, reverse the direction of the text or hide what follows, and it is
// never longer than the caller allows, whatever Groq sent.
package printable

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// String returns s with every character that is not printable (newlines,
// tabs, ESC and the other control characters, Unicode format characters such
// as the bidirectional overrides, invalid UTF-8) written as a Go escape
// (\n, \x1b, \u202e, \xff), cut to at most max characters, Ellipsis
// included, when longer. A text that needs neither is returned as it is.
func String(s string, max int) string {
	if max < 1 {
		max = 1
	}
	if fits(s, max) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*max))
	n := 0 // characters written
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = `\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:]
		case unicode.IsPrint(r):
			piece = s[i : i+size]
		default:
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		pieceLen := utf8.RuneCountInString(piece)
		if n+pieceLen > max-1 && (n+pieceLen > max || i+size < len(s)) {
			b.WriteString(Ellipsis)
			return b.String()
		}
		b.WriteString(piece)
		n += pieceLen
		i += size
	}
	return b.String()
}

// fits reports whether s is printable as it is and at most max characters.
func fits(s string, max int) bool {
	if len(s) <= max {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x7f {
				return fitsSlow(s, max)
			}
		}
		return true
	}
	return fitsSlow(s, max)
}

func fitsSlow(s string, max int) bool {
	n := 0
	for _, r := range s {
		if n++; n > max || r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
