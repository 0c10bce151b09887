package collector

import (
	"fmt"
	"strings"
)

// NormalizePercentile turns the percentile segment of an upstream series name
// into the exported label value: "p99", "99", "0.99", "P99", "99th" → "p99";
// "p999", "99.9", "p99_9", "0.999" → "p99.9"; "p50", "50", "0.5" → "p50".
// Groq does not document its spelling, so every common one is accepted.
//
// Rules, on the digits left after dropping a leading "p"/"q" and a trailing "th":
// a leading "0." (or "." or "0_") is a fraction of one; otherwise a dot or
// underscore is a decimal point in a percent; otherwise more than two digits
// are read with the point after the second ("999" → 99.9), except "100".
func NormalizePercentile(s string) (string, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "percentile")
	s = strings.TrimPrefix(s, "p")
	s = strings.TrimPrefix(s, "q")
	s = strings.TrimSuffix(s, "th")
	s = strings.ReplaceAll(s, "_", ".")
	intPart, frac, hasDot := strings.Cut(s, ".")
	if !digits(intPart) || (hasDot && (frac == "" || !digits(frac))) || (intPart == "" && !hasDot) {
		return "", fmt.Errorf("percentile %q is not a number", in)
	}
	var whole string // the percent, as a decimal string
	switch {
	case hasDot && strings.Trim(intPart, "0") == "":
		// A fraction of one: shift the point two places right.
		frac += strings.Repeat("0", max(0, 2-len(frac)))
		whole = frac[:2] + "." + frac[2:]
	case hasDot:
		whole = intPart + "." + frac
	case len(intPart) > 2 && intPart != "100":
		whole = intPart[:2] + "." + intPart[2:]
	default:
		whole = intPart
	}
	i, f, _ := strings.Cut(whole, ".")
	i = strings.TrimLeft(i, "0")
	f = strings.TrimRight(f, "0")
	if i == "" {
		i = "0"
	}
	if f != "" {
		i += "." + f
	}
	if ip, fp, _ := strings.Cut(i, "."); i == "0" || len(ip) > 3 || len(ip) == 3 && (ip != "100" || fp != "") {
		return "", fmt.Errorf("percentile %q is out of range", in)
	}
	return "p" + i, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
