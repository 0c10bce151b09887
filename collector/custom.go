package collector

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/groq-exporter/groq_exporter/groq"
)

// Query is a custom MetricsQL query, exported as one gauge family. Its
// result's labels become the family's labels: those in Labels (all but
// __name__ if Labels is empty), renamed by Rename, plus Static and, with
// several organizations, the organization label.
type Query struct {
	Name    string            // exported metric name; also the query label of groq_query_success
	Help    string            // HELP of the family
	Expr    string            // MetricsQL, run as an instant query
	Labels  []string          // result labels to keep; empty keeps all but __name__
	Rename  map[string]string // result label → exported label name
	Static  map[string]string // labels added to every series
	Timeout time.Duration     // caps the query's own request; 0 leaves the refresh deadline
}

// check rejects what would break the exposition. The config package checks
// the rest, with messages meant for the user.
func (q Query) check() error {
	switch {
	case q.Name == "" || q.Help == "" || q.Expr == "":
		return fmt.Errorf("custom query %q: name, help and query must be set", q.Name)
	case sanitizeLabelName(q.Name) != q.Name:
		return fmt.Errorf("custom query %q: not a valid metric name", q.Name)
	}
	for _, n := range slices.Concat(slices.Collect(maps.Keys(q.Static)), slices.Collect(maps.Values(q.Rename))) {
		if sanitizeLabelName(n) != n || n == OrganizationLabel {
			return fmt.Errorf("custom query %s: %q cannot be an exported label name", q.Name, n)
		}
	}
	return nil
}

// translator returns the function that maps one sample of the query's result
// onto the query's family.
func (q Query) translator() func(groq.Sample) (series, string) {
	f := Family{Name: q.Name, Help: q.Help}
	var static []labelPair
	for _, k := range slices.Sorted(maps.Keys(q.Static)) {
		static = append(static, labelPair{k, q.Static[k]})
	}
	static = slices.Clip(static)
	return func(s groq.Sample) (series, string) {
		labels := make(map[string]string, len(s.Labels))
		if len(q.Labels) == 0 {
			// Every label; a renamed one wins over a result label that
			// already has its new name. build leaves out __name__.
			for k, v := range s.Labels {
				if _, renamed := q.Rename[k]; !renamed {
					labels[k] = v
				}
			}
			for k, v := range s.Labels {
				if to, renamed := q.Rename[k]; renamed {
					labels[to] = v
				}
			}
		} else {
			for _, k := range q.Labels {
				v, ok := s.Labels[k]
				if !ok {
					continue
				}
				if to, renamed := q.Rename[k]; renamed {
					k = to
				}
				labels[k] = v
			}
		}
		return series{family: f, labels: labels, extra: static, value: s.Value}, ""
	}
}
