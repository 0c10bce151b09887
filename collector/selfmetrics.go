package collector

import (
	"slices"

	"github.com/groq-exporter/groq_exporter/config"
)

const namespace = "groq"

// The names of every self-metric this package exports, all of them (the
// list no family translated from Groq and no custom query may take is made of
// these), and the help texts of those Collect makes; groq_up and
// groq_last_refresh_success_timestamp_seconds say more once custom queries
// share the refresh. The help texts of the reason vocabularies come from
// their tables (reasons.go).
const (
	upName            = namespace + "_up"
	durationName      = namespace + "_scrape_duration_seconds"
	lastSuccessName   = namespace + "_last_refresh_success_timestamp_seconds"
	droppedName       = namespace + "_series_dropped"
	querySuccessName  = namespace + "_query_success"
	queryDurationName = namespace + "_query_duration_seconds"
	partialName       = namespace + "_response_partial"
	refreshErrorsName = namespace + "_refresh_errors_total"
	apiRequestsName   = namespace + "_api_requests_total"
	apiRetriesName    = namespace + "_api_retries_total"

	upHelp               = "1 if the last refresh from Groq succeeded, else 0."
	upHelpQueries        = "1 if the last refresh from Groq succeeded for the built-in families (without them: if Groq answered any query), else 0; a failing custom query shows in groq_query_success, not here."
	durationHelp         = "How long the last refresh from Groq took, in seconds. Groq is asked at most once per --groq.cache-ttl; scrapes in between are served from the cache."
	lastSuccessHelp      = "Unix time of the last successful refresh from Groq; 0 if there was none."
	lastSuccessHelpQuery = "Unix time of the last refresh in which Groq could be read (as groq_up says); 0 if there was none."
	partialHelp          = "1 if Groq said its last answer is partial (some of its storage did not answer, so series may be missing), else 0."
	querySuccessHelp     = "1 if the last run of the custom query against Groq succeeded, else 0."
	queryDurationHelp    = "How long the last run of the custom query against Groq took, in seconds."
)

// SelfMetrics lists the names of the metrics about the exporter itself that
// this package exports. No custom query may take them.
func SelfMetrics() []string {
	return []string{upName, durationName, lastSuccessName, droppedName, querySuccessName, queryDurationName,
		partialName, apiRequestsName, apiRetriesName, refreshErrorsName}
}

// ReservedLabels lists the label names that Groq's series or this package's
// own metrics carry, which an organization's labels may not take.
func ReservedLabels() []string {
	out := []string{"percentile", "reason", "query", "exported_" + config.OrganizationLabel}
	for n := range groqLabels {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// configNames are the metric names this package exports on its own, for the
// validation of custom queries (config.Config.Validate).
func configNames() config.Names {
	return config.Names{Builtin: BuiltinFamilies(), Reserved: SelfMetrics()}
}
