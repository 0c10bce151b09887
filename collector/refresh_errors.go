package collector

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/groq"
)

const (
	refreshErrorsName = namespace + "_refresh_errors_total"
	refreshErrorsHelp = "Failed runs of a query against Groq (the built-in selector or a custom query), by reason: " +
		"auth (key refused), key (key file unreadable or empty; nothing sent), tls_file (a tls_config file unreadable or unusable; nothing sent), " +
		"not_found, rate_limited, server_error, query_rejected, result_type (a custom query whose result is no instant vector), " +
		"bad_body, too_large, timeout, transport, redirect (not followed), other."
)

// Reasons are the values of the reason label of groq_refresh_errors_total,
// in the order Reason tries them.
var Reasons = []string{"auth", "key", "tls_file", "not_found", "rate_limited", "server_error", "query_rejected",
	"result_type", "bad_body", "too_large", "timeout", "transport", "redirect", "other"}

// Reason is the reason label of a failed query run: the class of the
// groq.Client's error, or timeout for a deadline that passed before the
// query could start.
func Reason(err error) string {
	switch {
	case errors.Is(err, groq.ErrUnauthorized):
		return "auth"
	case errors.Is(err, groq.ErrKey):
		return "key"
	case errors.Is(err, groq.ErrTLSFile):
		return "tls_file"
	case errors.Is(err, groq.ErrNotFound):
		return "not_found"
	case errors.Is(err, groq.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, groq.ErrServer):
		return "server_error"
	case errors.Is(err, groq.ErrRejected):
		return "query_rejected"
	case errors.Is(err, groq.ErrResultType):
		return "result_type"
	case errors.Is(err, groq.ErrBadResponse):
		return "bad_body"
	case errors.Is(err, groq.ErrTooLarge):
		return "too_large"
	case errors.Is(err, groq.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, groq.ErrTransport):
		return "transport"
	case errors.Is(err, groq.ErrRedirect):
		return "redirect"
	}
	return "other"
}

// newRefreshErrors returns the counter of failed query runs, every reason
// at 0, so that alerts and dashboards find a series before the first failure.
func newRefreshErrors(constLabels prometheus.Labels) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: refreshErrorsName, Help: refreshErrorsHelp, ConstLabels: constLabels,
	}, []string{"reason"})
	for _, r := range Reasons {
		v.WithLabelValues(r)
	}
	return v
}
