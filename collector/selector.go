package collector

import (
	"sort"
	"strconv"
	"strings"
)

// allSelector fetches every recording-rule style series (every name with a
// colon) in one call: the documented families, those Groq adds, and the older
// scheme's. modelRegex, if set, restricts the models.
func allSelector(modelRegex string) string {
	sel := `{__name__=~".+:.+"`
	if modelRegex != "" {
		sel += `,model=~` + strconv.Quote(modelRegex)
	}
	return sel + "}"
}

// builtinSelector is the one MetricsQL selector that fetches the documented
// series in a single call, for documented_only or a list of families. The
// percentile segment is matched by pattern, so a new percentile or another
// spelling of one needs no code change.
// An empty families list selects them all; modelRegex, if set, restricts the
// models (fully anchored, as MetricsQL anchors regexes).
func builtinSelector(families []string, modelRegex string) string {
	var requests, percentiles []string
	for upstream, f := range builtinFamilies {
		if len(families) > 0 && !contains(families, f.Name) {
			continue
		}
		if f.percentile {
			percentiles = append(percentiles, upstream)
		} else {
			requests = append(requests, strings.TrimPrefix(upstream, "requests:"))
		}
	}
	sort.Strings(requests)
	sort.Strings(percentiles)
	var alts []string
	if len(requests) > 0 {
		alts = append(alts, "requests:("+strings.Join(requests, "|")+")")
	}
	if len(percentiles) > 0 {
		alts = append(alts, "("+strings.Join(percentiles, "|")+"):[^:]+:rate5m")
	}
	sel := `{__name__=~"` + strings.Join(alts, "|") + `"`
	if modelRegex != "" {
		sel += `,model=~` + strconv.Quote(modelRegex)
	}
	return sel + "}"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
