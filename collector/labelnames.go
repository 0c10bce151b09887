package collector

import "strconv"

// exportLabelNames gives each upstream label name (sorted) its own exported
// name and adds it to taken, which holds the exporter's own labels. A name
// that is valid and free keeps it; the others are sanitized and, if that name
// is taken (by the exporter, as "percentile" is, or by another upstream label,
// as "a_b" is for "a-b"), prefixed with "exported_", as Prometheus does,
// and if that is taken too, numbered: exported_a_b_2, exported_a_b_3, ….
// (Prefixing again would make the names of k labels that sanitize alike k²
// bytes long.) The result depends only on the set of names, never on map
// order, so two labels can never share a name and overwrite each other's
// values.
func exportLabelNames(keys []string, taken map[string]bool) map[string]string {
	exported := make(map[string]string, len(keys))
	var next map[string]int // the next number to try after exported_<name>
	for _, k := range keys {
		if !taken[k] && sanitizeLabelName(k) == k {
			exported[k] = k
			taken[k] = true
		}
	}
	for _, k := range keys {
		if _, ok := exported[k]; ok {
			continue
		}
		n := sanitizeLabelName(k)
		if taken[n] {
			n = "exported_" + n
		}
		if taken[n] {
			if next == nil {
				next = map[string]int{}
			}
			base, i := n, max(next[n], 2)
			for n = base + "_" + strconv.Itoa(i); taken[n]; n = base + "_" + strconv.Itoa(i) {
				i++
			}
			next[base] = i + 1
		}
		exported[k] = n
		taken[n] = true
	}
	return exported
}

// sanitizeLabelName makes any upstream label name a valid Prometheus label
// name ([a-zA-Z_][a-zA-Z0-9_]*), as Prometheus's own relabelling would.
func sanitizeLabelName(s string) string {
	ok := s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	for len(b) > 1 && b[0] == '_' && b[1] == '_' { // "__" is reserved for Prometheus's own labels
		b = b[1:]
	}
	return string(b)
}
