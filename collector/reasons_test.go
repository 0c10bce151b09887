package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRefreshErrorReason: every class of the client's errors has its own reason, also
// when wrapped (as the exporter wraps them with hints), and a deadline that
// passed before a query started is a timeout.
func TestRefreshErrorReason(t *testing.T) {
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
		if got := refreshErrorReason(err); got != want {
			t.Errorf("refreshErrorReason(%v) = %s, want %s", err, got, want)
		}
	}
}

// TestReasonTables: every reason of each vocabulary is served from the
// start at 0 and explained in its help text, as the tables say.
func TestReasonTables(t *testing.T) {
	c, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]map[string]bool{}
	help := map[string]string{}
	for _, mf := range mfs {
		help[mf.GetName()] = mf.GetHelp()
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "reason" {
					if served[mf.GetName()] == nil {
						served[mf.GetName()] = map[string]bool{}
					}
					served[mf.GetName()][l.GetValue()] = m.GetGauge().GetValue() == 0 && m.GetCounter().GetValue() == 0
				}
			}
		}
	}
	vocab := map[string][]string{droppedName: {}, refreshErrorsName: {}}
	for _, r := range droppedReasons {
		vocab[droppedName] = append(vocab[droppedName], r.value)
	}
	for _, r := range refreshReasons {
		vocab[refreshErrorsName] = append(vocab[refreshErrorsName], r.value)
	}
	for name, values := range vocab {
		if len(served[name]) != len(values) {
			t.Errorf("%s serves %d reasons, its table has %d", name, len(served[name]), len(values))
		}
		for _, v := range values {
			if atZero, ok := served[name][v]; !ok || !atZero {
				t.Errorf("%s{reason=%q} is not served at 0 before anything happened", name, v)
			}
			if !strings.Contains(help[name], " "+v) {
				t.Errorf("the help of %s does not explain %s: %q", name, v, help[name])
			}
		}
	}
}
