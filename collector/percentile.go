package collector

import (
	"fmt"
	"strings"
)

// percentileLabel turns the percentile segment of an upstream series name
// into the value of the exported percentile label. Groq does not document its
// spelling, so every common one is read; what is not a percentile, or could be
// more than one, is kept as it is, sanitized, rather than dropped or guessed:
//
//	p99, P99, 99, 0.99, 99th, q0.99, percentile_99 → p99
//	p999, p99_9, 99.9, 0.999                       → p99.9
//	p50, 50, 0.5, .5, median                       → p50
//	p0, 0, 0th                                     → p0
//	p100, 100, q1, q1.0                            → p100
//	p1, 1st, p01                                   → p1
//	p0.5 (a "p" says percent: the 0.5th)           → p0.5
//	max, avg, Min, p 99x                           → max, avg, min, p_99x
//	p1000 (p100.0 or p10.00?), p0999, p150, q99    → kept: p1000, p0999, p150, q99
//	1, 1.0, 01 (the 1st percentile, or the 100th?)  → kept: 1, 1.0, 01
//
// The rules, on the segment sanitized (ASCII letters lower-cased; each run of
// anything but a-z, 0-9, ".", "-" and "_" made one "_"; "_" trimmed at the ends):
//   - "median" is p50. Other words (max, min, avg, mean) are not percentiles.
//   - A prefix "p" or "percentile", or a suffix "th" (or "st", "nd", "rd"),
//     says the number is a percent. A prefix "q" or "quantile" says it is a
//     fraction of one, so it must be at most 1. One "_" may follow a prefix.
//   - "." is the decimal point; so is "_" between two digits (p99_9).
//   - A bare number with a point is a fraction when it is below 1 (0.99),
//     else a percent (99.9). A bare one (1, 1.0, 01) could be either, and
//     is kept as text.
//   - Digits without a point are a percent: up to two digits as they are,
//     "100" as 100, more with the point after the second (p999 → 99.9,
//     p9995 → 99.95) unless that is ambiguous: a leading or trailing 0
//     (p0999, p1000, p150) has other readings, and is kept as text.
//   - The result must lie in [0, 100] and be at most 64 characters long.
//
// A percentile is written "p" and its percent without redundant zeros. A kept
// value longer than 64 characters is cut and ends in "-". The function is
// idempotent: a value it returns normalizes to itself. It fails only when
// nothing is left after sanitizing.
func percentileLabel(s string) (string, error) {
	v, _ := normalizePercentile(s)
	if v == "" {
		return "", fmt.Errorf("percentile %q has nothing to keep", s)
	}
	return v, nil
}

// maxPercentileLabel caps the length of the percentile label's value.
const maxPercentileLabel = 64

// normalizePercentile is percentileLabel, saying also whether the value
// is a percentile; "" when nothing is left.
func normalizePercentile(s string) (value string, isPercentile bool) {
	s = sanitizePercentile(s)
	if p, ok := parsePercentile(s); ok && len(p) <= maxPercentileLabel {
		return p, true
	}
	if len(s) > maxPercentileLabel {
		// Ending in "-" keeps it from reading as a percentile once cut.
		s = s[:maxPercentileLabel-1] + "-"
	}
	return s, false
}

// sanitizePercentile lower-cases ASCII letters, makes each run of other
// characters than a-z, 0-9, ".", "-" and "_" one "_", and trims "_" at both
// ends. It is idempotent.
func sanitizePercentile(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	replaced := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_':
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		default:
			if !replaced {
				b.WriteByte('_')
			}
			replaced = true
			continue
		}
		replaced = false
		b.WriteRune(r)
	}
	return strings.Trim(b.String(), "_")
}

// parsePercentile reads a sanitized segment as a percentile, by the rules of
// percentileLabel, and writes it as "p<percent>".
func parsePercentile(s string) (string, bool) {
	if s == "median" {
		return "p50", true
	}
	const (
		bare = iota
		percent
		fraction
	)
	mode := bare
	for _, prefix := range []struct {
		word string
		mode int
	}{{"percentile", percent}, {"quantile", fraction}, {"p", percent}, {"q", fraction}} {
		if rest, ok := strings.CutPrefix(s, prefix.word); ok {
			s, mode = strings.TrimPrefix(rest, "_"), prefix.mode
			break
		}
	}
	for _, suffix := range []string{"th", "st", "nd", "rd"} {
		if rest, ok := strings.CutSuffix(s, suffix); ok && rest != "" && isDigit(rest[len(rest)-1]) {
			if mode == fraction {
				return "", false // a quantile has no ordinal
			}
			s, mode = rest, percent
			break
		}
	}

	intPart, frac, point := s, "", false
	if i := strings.IndexAny(s, "._"); i >= 0 {
		intPart, frac, point = s[:i], s[i+1:], true
		if s[i] == '_' && intPart == "" {
			return "", false // "_" is a point only between digits
		}
	}
	if !digits(intPart) || !digits(frac) || point && frac == "" || !point && intPart == "" {
		return "", false
	}

	if mode == bare && strings.TrimLeft(intPart, "0") == "1" && strings.Trim(frac, "0") == "" {
		// One, however spelled, is the 1st percentile as a percent and the
		// 100th as a fraction: kept, so that 1 and 1.0 cannot become two
		// different percentiles.
		return "", false
	}
	shift := 0 // places the point moves right: 2 for a fraction of one
	switch {
	case point && (mode == fraction || mode == bare && atMostOne(intPart, frac)):
		if !atMostOne(intPart, frac) {
			return "", false
		}
		shift = 2
	case point:
	case mode == fraction:
		switch strings.TrimLeft(intPart, "0") {
		case "":
			return "p0", true
		case "1":
			return "p100", true
		}
		return "", false
	case len(intPart) <= 2 || intPart == "100":
	case intPart[0] == '0' || intPart[len(intPart)-1] == '0':
		return "", false // ambiguous: p0999, p1000, p150
	default:
		intPart, frac = intPart[:2], intPart[2:] // p999 → 99.9
	}
	return canonicalPercent(intPart, frac, shift)
}

// canonicalPercent writes intPart.frac, its point moved shift places right,
// as "p<percent>" without redundant zeros, if it lies in [0, 100].
func canonicalPercent(intPart, frac string, shift int) (string, bool) {
	if len(frac) < shift {
		frac += strings.Repeat("0", shift-len(frac))
	}
	intPart, frac = intPart+frac[:shift], frac[shift:]
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if len(intPart) > 3 || len(intPart) == 3 && (intPart != "100" || frac != "") {
		return "", false
	}
	if intPart == "" {
		intPart = "0"
	}
	if frac != "" {
		return "p" + intPart + "." + frac, true
	}
	return "p" + intPart, true
}

// atMostOne says whether the decimal intPart.frac is at most 1.
func atMostOne(intPart, frac string) bool {
	switch strings.TrimLeft(intPart, "0") {
	case "":
		return true
	case "1":
		return strings.Trim(frac, "0") == ""
	}
	return false
}

func digits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
