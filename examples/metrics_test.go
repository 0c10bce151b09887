package examples

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metricsql"
)

// exportedMetrics is every metric name groq_exporter serves, as the project contract
// lists them. The dashboard, the alerting rules and the exporter test all check against
// this one list.
var exportedMetrics = []string{
	// Translated from Groq's series.
	"groq_requests_increase1m",
	"groq_requests_rate1m",
	"groq_e2e_latency_seconds",
	"groq_ttft_latency_seconds",
	"groq_queue_latency_seconds",
	"groq_tokens_in",
	"groq_tokens_out",
	// About the exporter itself.
	"groq_up",
	"groq_scrape_duration_seconds",
	"groq_last_refresh_success_timestamp_seconds",
	"groq_api_requests_total",
	"groq_api_retries_total",
	"groq_exporter_build_info",
	"groq_exporter_scrapes_refused_total",
	"groq_config_last_reload_successful",
	"groq_config_last_reload_success_timestamp_seconds",
	"groq_series_dropped",
	"groq_response_partial",
	"groq_query_success",
	"groq_query_duration_seconds",
	"groq_refresh_errors_total",
}

// exporterPort is the exporter's default listen port (--web.listen-address=:10199).
const exporterPort = 10199

// metricNames parses a PromQL expression and returns the metric names it selects.
// A selector whose name is a regular expression ({__name__=~"groq_.*"}) yields every
// exported metric it matches, or the expression itself if it matches none.
func metricNames(expr string) ([]string, error) {
	e, err := metricsql.Parse(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	metricsql.VisitAll(e, func(e metricsql.Expr) {
		me, ok := e.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		for _, group := range me.LabelFilterss {
			for _, lf := range group {
				if lf.Label != "__name__" || lf.IsNegative {
					continue
				}
				if !lf.IsRegexp {
					names = append(names, lf.Value)
					continue
				}
				re, err := regexp.Compile("^(?:" + lf.Value + ")$")
				if err != nil {
					names = append(names, "{__name__=~"+lf.Value+"}")
					continue
				}
				matched := false
				for _, m := range exportedMetrics {
					if re.MatchString(m) {
						names = append(names, m)
						matched = true
					}
				}
				if !matched {
					names = append(names, "{__name__=~"+lf.Value+"}")
				}
			}
		}
	})
	sort.Strings(names)
	return slices.Compact(names), nil
}

// checkMetricNames fails the test for every metric in expr that is neither exported nor
// in extra.
func checkMetricNames(t *testing.T, where, expr string, extra ...string) []string {
	t.Helper()
	names, err := metricNames(expr)
	if err != nil {
		t.Errorf("%s: expression does not parse: %v\n%s", where, err, expr)
		return nil
	}
	if len(names) == 0 {
		t.Errorf("%s: expression selects no metric: %s", where, expr)
	}
	for _, n := range names {
		if !slices.Contains(exportedMetrics, n) && !slices.Contains(extra, n) {
			t.Errorf("%s: %s is not a metric groq_exporter exports (known: %s)", where, n, strings.Join(exportedMetrics, ", "))
		}
	}
	return names
}

func TestMetricNamesWalk(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (model) (groq_requests_rate1m{status_code!~"2.."}) / sum by (model) (groq_requests_rate1m)`: {"groq_requests_rate1m"},
		`time() - groq_last_refresh_success_timestamp_seconds > 600`:                                        {"groq_last_refresh_success_timestamp_seconds"},
		`{__name__=~"groq_tokens_.*"}`:                              {"groq_tokens_in", "groq_tokens_out"},
		`rate(groq_api_requests_total[5m]) and on() up{job="groq"}`: {"groq_api_requests_total", "up"},
		`{__name__=~"nothing_.*"}`:                                  {"{__name__=~nothing_.*}"},
	} {
		got, err := metricNames(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}
