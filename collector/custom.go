package collector

import (
	"maps"
	"slices"
	"strings"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

// queryTranslator returns the function that maps one sample of the query's result
// onto the query's family.
func queryTranslator(q config.Query) func(groq.Sample) (series, string) {
	f := familySpec{Name: q.Name, Help: q.Help}
	var static []labelPair
	for _, k := range slices.Sorted(maps.Keys(q.StaticLabels)) {
		static = append(static, labelPair{k, q.StaticLabels[k]})
	}
	static = slices.Clip(static)
	return func(s groq.Sample) (series, string) {
		labels := make(groq.Labels, 0, len(s.Labels))
		if len(q.Labels) == 0 {
			// Every label; a renamed one wins over a result label that
			// already has its new name. build leaves out __name__.
			for _, l := range s.Labels {
				if _, renamed := q.RenameLabels[l.Name]; !renamed {
					labels = append(labels, l)
				}
			}
			for _, l := range s.Labels {
				if to, renamed := q.RenameLabels[l.Name]; renamed {
					labels = setLabel(labels, to, l.Value)
				}
			}
		} else {
			for _, k := range q.Labels {
				v, ok := s.Labels.Lookup(k)
				if !ok {
					continue
				}
				if to, renamed := q.RenameLabels[k]; renamed {
					k = to
				}
				labels = setLabel(labels, k, v)
			}
		}
		return series{family: &f, labels: labels, extra: static, value: s.Value}, ""
	}
}

// setLabel sets a label of sorted labels, keeping them sorted.
func setLabel(ls groq.Labels, name, value string) groq.Labels {
	i, found := slices.BinarySearchFunc(ls, name, func(l groq.Label, name string) int { return strings.Compare(l.Name, name) })
	if found {
		ls[i].Value = value
		return ls
	}
	return slices.Insert(ls, i, groq.Label{Name: name, Value: value})
}
