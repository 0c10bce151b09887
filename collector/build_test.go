package collector

import (
	"maps"
	"testing"
)

// TestExportLabelNames: every upstream label gets a name of its own, the same
// whatever order the labels come in, so that two labels that sanitize to one
// name (a-b and a_b) or that clash with the exporter's percentile label cannot
// overwrite each other's values and make the exposition flap between scrapes.
func TestExportLabelNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []string // sorted, as build passes them
		extra []string
		want  map[string]string
	}{
		{"valid names kept", []string{"model", "status_code"}, nil,
			map[string]string{"model": "model", "status_code": "status_code"}},
		{"sanitized", []string{"0day", "a-b", "model"}, []string{"percentile"},
			map[string]string{"0day": "_0day", "a-b": "a_b", "model": "model"}},
		{"sanitized name taken by a valid one", []string{"a-b", "a_b"}, nil,
			map[string]string{"a-b": "exported_a_b", "a_b": "a_b"}},
		{"exporter label", []string{"percentile"}, []string{"percentile"},
			map[string]string{"percentile": "exported_percentile"}},
		{"exporter label and its exported_ name", []string{"exported_percentile", "percentile"}, []string{"percentile"},
			map[string]string{"exported_percentile": "exported_percentile", "percentile": "exported_exported_percentile"}},
		{"three into one", []string{"a b", "a-b", "a_b"}, nil,
			map[string]string{"a_b": "a_b", "a b": "exported_a_b", "a-b": "exported_exported_a_b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, e := range tc.extra {
				taken[e] = true
			}
			got := exportLabelNames(tc.keys, taken)
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, n := range got {
				if !taken[n] {
					t.Errorf("%q not marked taken", n)
				}
			}
		})
	}
}
