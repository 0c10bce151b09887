package printable

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"requests:rate1m", 60, "requests:rate1m"},
		{"modèle ünïcode 模型", 60, "modèle ünïcode 模型"},
		{"a\nb\r\nc\td", 60, `a\nb\r\nc\td`},
		{"\x1b[31mred\x1b[0m", 60, `\x1b[31mred\x1b[0m`},
		{"evil\u202etxt.exe", 60, `evil\u202etxt.exe`},
		{"zero\u200bwidth", 60, `zero\u200bwidth`},
		{"bad\xff\xfeutf8", 60, `bad\xff\xfeutf8`},
		{"nul\x00del\x7f", 60, `nul\x00del\x7f`},
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"abcd\n", 6, `abcd\n`},
		{"abcd\nx", 6, `abcd…`},
		{"abc\n", 6, `abc\n`},
		{"模型模型模型模型", 4, "模型模…"},
	} {
		got := String(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("String(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > tc.max {
			t.Errorf("String(%q, %d) has %d characters", tc.in, tc.max, n)
		}
	}
}

// TestStringHuge: a 1 MB name of escapes becomes a short line.
func TestStringHuge(t *testing.T) {
	huge := strings.Repeat("\x1b[2J\n", 200_000)
	got := String(huge, 200)
	if n := utf8.RuneCountInString(got); n > 200 || strings.ContainsAny(got, "\x1b\n") {
		t.Errorf("%d characters, escapes left: %v", n, strings.ContainsAny(got, "\x1b\n"))
	}
}

func FuzzString(f *testing.F) {
	f.Add("a\nb\x1b[0m\u202e\xff", 10)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%300 + 1
		if max < 1 {
			max = -max + 1
		}
		got := String(s, max)
		if n := utf8.RuneCountInString(got); n > max {
			t.Fatalf("String(%q, %d) = %q: %d characters", s, max, got, n)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q, %d) = %q: invalid UTF-8", s, max, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r == 0x1b || (r >= 0x80 && r < 0xa0) || r == 0x202e || r == 0x2028 {
				t.Fatalf("String(%q, %d) = %q holds %U", s, max, got, r)
			}
		}
	})
}
