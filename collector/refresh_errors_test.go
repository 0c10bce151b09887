package collector

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
)

// TestReason: every class of the client's errors has its own reason, also
// when wrapped (as the exporter wraps them with hints), and a deadline that
// passed before a query started is a timeout.
func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		&groq.Error{Kind: groq.ErrUnauthorized}:                                          "auth",
		fmt.Errorf("%w (the key comes from x)", &groq.Error{Kind: groq.ErrUnauthorized}): "auth",
		&groq.Error{Kind: groq.ErrKey}:                                                   "key",
		&groq.Error{Kind: groq.ErrTLSFile}:                                               "tls_file",
		&groq.Error{Kind: groq.ErrResultType}:                                            "result_type",
		&groq.Error{Kind: groq.ErrNotFound}:                                              "not_found",
		&groq.Error{Kind: groq.ErrRateLimited}:                                           "rate_limited",
		&groq.Error{Kind: groq.ErrServer}:                                                "server_error",
		&groq.Error{Kind: groq.ErrRejected}:                                              "query_rejected",
		&groq.Error{Kind: groq.ErrBadResponse}:                                           "bad_body",
		&groq.Error{Kind: groq.ErrTooLarge}:                                              "too_large",
		&groq.Error{Kind: groq.ErrTimeout}:                                               "timeout",
		fmt.Errorf("not started: %w", context.DeadlineExceeded):                          "timeout",
		&groq.Error{Kind: groq.ErrTransport}:                                             "transport",
		&groq.Error{Kind: groq.ErrRedirect}:                                              "redirect",
		errors.New("something else"):                                                     "other",
	} {
		if got := Reason(err); got != want {
			t.Errorf("Reason(%v) = %s, want %s", err, got, want)
		}
	}
}
