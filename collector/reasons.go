package collector

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/groq"
)

// The two reason vocabularies. Each is one table, from which the label
// values, the series served at 0 before anything happened, and the help text
// all come: a reason added to a table is served and explained with no other
// change.

// reason is one value of a reason label and the words that explain it in
// the help text ("" when the name says enough).
type reason struct {
	value, words string
}

// helpText is prefix followed by the reasons, each with its words.
func helpText(prefix string, reasons []reason) string {
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = r.value
		if r.words != "" {
			parts[i] += " (" + r.words + ")"
		}
	}
	return prefix + strings.Join(parts, ", ") + "."
}

// Why a series Groq returned is not exported: the values of
// groq_series_dropped's reason label.
const (
	// dropBadName: a name the naming rule cannot translate (no colon, more
	// than four segments, an empty or invalid segment, a first segment of
	// four that is not a level).
	dropBadName = "bad_name"
	// dropNameCollision: the series would be exported under the name and
	// labels of another upstream name's series, which is kept, or under the
	// name of one of the exporter's own metrics or of a custom query.
	dropNameCollision = "name_collision"
	// dropUnknownName: not one of the documented families the configuration
	// keeps (builtin.documented_only or builtin.families).
	dropUnknownName = "unknown_name"
	// dropDuplicate: the same series as one before it, from the same name.
	dropDuplicate = "duplicate"
	// dropInvalid: a series client_golang would refuse (a label value that
	// is not UTF-8).
	dropInvalid = "invalid"
	// dropTooManyNames: a series of a name past the first maxNames of an
	// answer, in name order.
	dropTooManyNames = "too_many_names"
	// dropTooManyLabelSets: a series of a family whose series carry more
	// than maxLabelSets sets of label names, past those.
	dropTooManyLabelSets = "too_many_label_sets"
)

// droppedReasons is groq_series_dropped's vocabulary, with groq's reasons
// for the series the decoding of an answer left out.
var droppedReasons = []reason{
	{dropBadName, "the naming rule cannot translate it"},
	{dropNameCollision, "another upstream name gives the same series, or the name is taken"},
	{dropUnknownName, "not a documented family the configuration keeps"},
	{groq.DropBadValue, ""},
	{groq.DropBadLabel, ""},
	{groq.DropNoValue, "not decodable"},
	{dropDuplicate, ""},
	{dropInvalid, ""},
	{dropTooManyNames, "past the first 2000 names of an answer"},
	{dropTooManyLabelSets, "a family's series past 100 different sets of label names"},
}

var droppedHelp = helpText("Series in Groq's last answer that are not exported, by reason: ", droppedReasons)

// refreshReason is one value of groq_refresh_errors_total's reason label:
// the failures whose error wraps one of classes.
type refreshReason struct {
	reason
	classes []error
}

// refreshReasons is groq_refresh_errors_total's vocabulary, in the order
// refreshErrorReason tries it: timeout before transport, as groq.ErrTimeout
// wraps groq.ErrTransport. The last, other, catches the rest.
var refreshReasons = []refreshReason{
	{reason{"auth", "key refused"}, []error{groq.ErrUnauthorized}},
	{reason{"key", "no usable key: the key file unreadable, not a regular file, too large, empty or malformed; nothing sent"}, []error{groq.ErrKey}},
	{reason{"tls_file", "a tls_config file unreadable or unusable; nothing sent"}, []error{groq.ErrTLSFile}},
	{reason{"not_found", ""}, []error{groq.ErrNotFound}},
	{reason{"rate_limited", ""}, []error{groq.ErrRateLimited}},
	{reason{"server_error", ""}, []error{groq.ErrServer}},
	{reason{"query_rejected", ""}, []error{groq.ErrRejected}},
	{reason{"result_type", "a custom query whose result is no instant vector"}, []error{groq.ErrResultType}},
	{reason{"bad_body", ""}, []error{groq.ErrBadResponse}},
	{reason{"too_large", ""}, []error{groq.ErrTooLarge}},
	// A deadline that passed before the query could start is a timeout too.
	{reason{"timeout", ""}, []error{groq.ErrTimeout, context.DeadlineExceeded}},
	{reason{"transport", ""}, []error{groq.ErrTransport}},
	{reason{"redirect", "not followed"}, []error{groq.ErrRedirect}},
	{reason{"other", ""}, nil},
}

// errorReasons are refreshReasons without their classes.
var errorReasons = func() []reason {
	out := make([]reason, len(refreshReasons))
	for i, r := range refreshReasons {
		out[i] = r.reason
	}
	return out
}()

var refreshErrorsHelp = helpText("Failed runs of a query against Groq (the built-in selector or a custom query), by reason: ", errorReasons)

// refreshErrorReason is the reason label of a failed query run.
func refreshErrorReason(err error) string {
	return refreshReasons[refreshErrorIndex(err)].value
}

// refreshErrorIndex is the index in refreshReasons of a failed query run's
// reason.
func refreshErrorIndex(err error) int {
	for i, r := range refreshReasons {
		for _, class := range r.classes {
			if errors.Is(err, class) {
				return i
			}
		}
	}
	return len(refreshReasons) - 1 // other
}

// refreshCounts counts the failed runs of a Collector's queries by the
// index of their reason in refreshReasons. Every reason is served from 0,
// so that alerts and dashboards find a series before the first failure.
type refreshCounts []atomic.Uint64

func newRefreshCounts() refreshCounts { return make(refreshCounts, len(refreshReasons)) }

// add counts a failed run.
func (c refreshCounts) add(err error) { c[refreshErrorIndex(err)].Add(1) }

// reasonSeries is the series of one reason of a vocabulary: i is the
// reason's index in its table.
type reasonSeries struct {
	selfSeries
	i int
}

// newReasonSeries makes the series of every reason of a vocabulary, in the
// order of their values: the order in which client_golang sorts a family's
// series, so that the gathering need not sort them.
func newReasonSeries(desc *prometheus.Desc, vt prometheus.ValueType, reasons []reason) []reasonSeries {
	out := make([]reasonSeries, len(reasons))
	for i, r := range reasons {
		out[i] = reasonSeries{newSelfSeries(desc, vt, r.value), i}
	}
	slices.SortFunc(out, func(a, b reasonSeries) int { return strings.Compare(reasons[a.i].value, reasons[b.i].value) })
	return out
}
