package collector

// exportLabelNames gives each upstream label name (sorted) its own exported
// name and adds it to taken, which holds the exporter's own labels. A name
// that is valid and free keeps it; the others are sanitized and, if that name
// is taken (by the exporter, as "percentile" is, or by another upstream label,
// as "a_b" is for "a-b"), prefixed with "exported_" until it is free. The
// result depends only on the set of names, never on map order, so two labels
// can never share a name and overwrite each other's values.
func exportLabelNames(keys []string, taken map[string]bool) map[string]string {
	exported := make(map[string]string, len(keys))
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
		for taken[n] {
			n = "exported_" + n
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
