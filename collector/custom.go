package collector

import (
	"maps"
	"slices"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

// queryTranslator returns the function that maps one sample of the query's result
// onto the query's family.
func queryTranslator(q config.Query) func(groq.Sample) (series, string) {
	f := Family{Name: q.Name, Help: q.Help}
	var static []labelPair
	for _, k := range slices.Sorted(maps.Keys(q.StaticLabels)) {
		static = append(static, labelPair{k, q.StaticLabels[k]})
	}
	static = slices.Clip(static)
	return func(s groq.Sample) (series, string) {
		labels := make(map[string]string, len(s.Labels))
		if len(q.Labels) == 0 {
			// Every label; a renamed one wins over a result label that
			// already has its new name. build leaves out __name__.
			for k, v := range s.Labels {
				if _, renamed := q.RenameLabels[k]; !renamed {
					labels[k] = v
				}
			}
			for k, v := range s.Labels {
				if to, renamed := q.RenameLabels[k]; renamed {
					labels[to] = v
				}
			}
		} else {
			for _, k := range q.Labels {
				v, ok := s.Labels[k]
				if !ok {
					continue
				}
				if to, renamed := q.RenameLabels[k]; renamed {
					k = to
				}
				labels[k] = v
			}
		}
		return series{family: f, labels: labels, extra: static, value: s.Value}, ""
	}
}
