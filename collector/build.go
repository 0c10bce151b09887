package collector

import (
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// series is one translated upstream sample, ready to become a const metric.
type series struct {
	family Family
	labels map[string]string // upstream labels; __name__ and other "__" labels are left out
	extra  []labelPair       // labels the exporter sets (percentile); they win over upstream ones
	value  float64
}

type labelPair struct{ name, value string }

// build turns translated series into const gauges. Every family gets one
// label set, the union over its series (a label a series lacks is ""), so that
// inconsistent upstream labels cannot break the exposition; series that end up
// identical are collapsed to the first, and counted in dropped.
func build(all []series, dropped map[string]int) []prometheus.Metric {
	byFamily := map[string][]int{}
	var order []string
	for i, s := range all {
		if _, ok := byFamily[s.family.Name]; !ok {
			order = append(order, s.family.Name)
		}
		byFamily[s.family.Name] = append(byFamily[s.family.Name], i)
	}
	metrics := make([]prometheus.Metric, 0, len(all))
	for _, name := range order {
		idx := byFamily[name]
		f := all[idx[0]].family

		// Name every label the family's series carry, once.
		exported := map[string]string{} // upstream label name → exported label name
		set := map[string]bool{}
		for _, i := range idx {
			for _, p := range all[i].extra {
				set[p.name] = true
			}
		}
		for _, i := range idx {
			for k := range all[i].labels {
				if _, ok := exported[k]; ok || strings.HasPrefix(k, "__") {
					continue
				}
				n := sanitizeLabelName(k)
				if reservedLabel(n, all[i].extra) {
					n = "exported_" + n
				}
				exported[k] = n
				set[n] = true
			}
		}
		labelNames := make([]string, 0, len(set))
		for n := range set {
			labelNames = append(labelNames, n)
		}
		sort.Strings(labelNames)
		pos := make(map[string]int, len(labelNames))
		for i, n := range labelNames {
			pos[n] = i
		}
		desc := prometheus.NewDesc(f.Name, f.Help, labelNames, nil)

		seen := make(map[string]bool, len(idx))
		for _, i := range idx {
			s := all[i]
			values := make([]string, len(labelNames))
			for k, v := range s.labels {
				if n, ok := exported[k]; ok {
					values[pos[n]] = v
				}
			}
			for _, p := range s.extra {
				values[pos[p.name]] = p.value
			}
			key := strings.Join(values, "\xff")
			if seen[key] {
				dropped[dropDuplicate]++
				continue
			}
			seen[key] = true
			m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.value, values...)
			if err != nil {
				dropped[dropInvalid]++
				continue
			}
			metrics = append(metrics, m)
		}
	}
	return metrics
}

// dropInvalid: client_golang refused the series (e.g. a label value that is not UTF-8).
const dropInvalid = "invalid"

func reservedLabel(name string, extra []labelPair) bool {
	for _, p := range extra {
		if p.name == name {
			return true
		}
	}
	return false
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
