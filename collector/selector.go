package collector

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// allSelector fetches every recording-rule style series (every name with a
// colon) in one call: the documented families, those Groq adds, and the older
// scheme's. modelRegex, if set, restricts the models.
func allSelector(modelRegex string) string {
	return selector(".+:.+", modelRegex)
}

// builtinSelector is the one MetricsQL selector that fetches the documented
// series in a single call, for documented_only or a list of families (their
// exported names; none: all of them). It is made from the family table,
// whatever a family's shape: a family without a percentile is its upstream
// name (requests:rate1m, tokens:rate1m), one with a percentile is its first
// segment, any percentile segment, and rate5m, so that a new percentile or
// another spelling of one needs no code change. modelRegex, if set, restricts
// the models.
func builtinSelector(families []string, modelRegex string) string {
	var names, percentiles []string
	for upstream, f := range builtinFamilies {
		if len(families) > 0 && !slices.Contains(families, f.Name) {
			continue
		}
		if f.percentile {
			percentiles = append(percentiles, regexp.QuoteMeta(upstream))
		} else {
			names = append(names, regexp.QuoteMeta(upstream))
		}
	}
	slices.Sort(names)
	slices.Sort(percentiles)
	alts := names
	if len(percentiles) > 0 {
		alts = append(alts, "("+strings.Join(percentiles, "|")+"):[^:]+:rate5m")
	}
	return selector(strings.Join(alts, "|"), modelRegex)
}

// selector matches the series whose name matches nameRegex and, if
// modelRegex is set, whose model matches it; MetricsQL anchors both.
func selector(nameRegex, modelRegex string) string {
	sel := `{__name__=~` + strconv.Quote(nameRegex)
	if modelRegex != "" {
		sel += `,model=~` + strconv.Quote(modelRegex)
	}
	return sel + "}"
}
