package groq_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/groq"
)

const goodSeriesJSON = `{"metric":{"__name__":"requests:rate1m","model":"llama","status_code":"200"},"value":[1764430000,"12.5"]}`

// TestQueryAnswer: the client reports drops, partial answers and warnings,
// with the credential it sent removed even where Groq echoes it bare; Query
// returns the good series of the same answer.
func TestQueryAnswer(t *testing.T) {
	const odd = "s3cr3t.Token-Of~Another+Format/42" // no gsk_ prefix
	body := `{"status":"success","isPartial":true,"warnings":["partial: ` + odd + `"],"data":{"resultType":"vector","result":[` +
		goodSeriesJSON + `,{"metric":{"__name__":"` + strings.Repeat("n", 50) + odd + `"},"value":[1,"` + strings.Repeat("v", 30) + odd + `"]},` +
		`{"metric":{"__name__":"requests:rate1m","` + odd + `":{}},"value":[1,"1"]}]}}`
	srv := serve(t, reply(200, nil, body))
	c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.HTTPClient = &http.Client{Transport: bearer{odd}} })
	a, err := c.QueryAnswer(context.Background(), "up")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Partial || len(a.Samples) != 1 || !maps.Equal(a.Dropped, map[string]int{groq.DropBadValue: 1, groq.DropBadLabel: 1}) {
		t.Errorf("partial %v, %d samples, dropped %v", a.Partial, len(a.Samples), a.Dropped)
	}
	for _, s := range append(a.Warnings, a.DropExamples[groq.DropBadValue], a.DropExamples[groq.DropBadLabel]) {
		groq.CheckSafe(t, s)
		for _, part := range []string{odd, odd[:12], odd[len(odd)-12:]} {
			if strings.Contains(s, part) {
				t.Errorf("%q shows %q", s, part)
			}
		}
	}
	if a.Warnings[0] != "partial: <redacted>" {
		t.Errorf("warnings %q", a.Warnings)
	}
	samples, err := c.Query(context.Background(), "up")
	if err != nil || len(samples) != 1 || samples[0].Value != 12.5 {
		t.Errorf("Query: %v, %v", samples, err)
	}
}

// TestErrorBodies: Groq's own words reach the error, whichever form its side
// answers in, with the key it may echo removed.
func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   error
		detail string // the whole Detail
	}{
		{"OpenAI-style", 401, `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`,
			groq.ErrUnauthorized, "Invalid API Key (type invalid_request_error, code invalid_api_key)"},
		{"OpenAI-style numeric code", 429, `{"error":{"message":"Rate limit reached","type":"requests","code":429}}`,
			groq.ErrRateLimited, "Rate limit reached (type requests, code 429)"},
		{"OpenAI-style message only", 500, `{"error":{"message":"internal error","type":null,"code":null}}`,
			groq.ErrServer, "internal error"},
		{"OpenAI-style no message", 403, `{"error":{"type":"permission_error"}}`, groq.ErrUnauthorized, "type permission_error"},
		{"OpenAI-style echo", 401, `{"error":{"message":"Invalid API Key ` + groq.TestKey + `","type":"invalid_request_error","code":"` + groq.TestKey[4:] + `"}}`,
			groq.ErrUnauthorized, "Invalid API Key <redacted> (type invalid_request_error, code <redacted>)"},
		{"VictoriaMetrics", 422, `{"status":"error","errorType":"422","error":"cannot parse \"up{\": unexpected end"}`,
			groq.ErrRejected, `cannot parse "up{": unexpected end`},
		{"Prometheus class", 400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}`,
			groq.ErrRejected, `bad_data: invalid parameter "query"`},
		{"VictoriaMetrics echo", 400, `{"status":"error","errorType":"400","error":"Authorization: Bearer ` + groq.TestKey + `"}`,
			groq.ErrRejected, "Authorization: Bearer <redacted>"},
		{"plain error string", 403, `{"error":"Forbidden"}`, groq.ErrUnauthorized, "Forbidden"},
		{"JSON without a message", 502, `{"detail":"bad gateway"}`, groq.ErrServer, "JSON body of 24 bytes without an error message (text/plain; charset=utf-8)"},
		{"JSON error of another shape", 500, `{"error":[1,2]}`, groq.ErrServer, "JSON body of 15 bytes without an error message (text/plain; charset=utf-8)"},
		{"not JSON", 502, `Bad Gateway`, groq.ErrServer, "non-JSON body of 11 bytes (text/plain; charset=utf-8)"},
		{"empty", 503, ``, groq.ErrServer, ""},
		{"200 status error", 200, `{"status":"error","errorType":"execution","error":"query ` + groq.TestKey + ` timed out"}`,
			groq.ErrRejected, "execution: query <redacted> timed out"},
		{"200 OpenAI-style", 200, `{"error":{"message":"metrics API not enabled","type":"invalid_request_error"}}`,
			groq.ErrRejected, "metrics API not enabled (type invalid_request_error)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, reply(tc.status, nil, tc.body))
			c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.MaxRetries = -1; c.HTTPClient = &http.Client{Transport: bearer{groq.TestKey}} })
			_, err := c.Query(context.Background(), "up")
			checkErr(t, err, tc.kind, tc.status, tc.detail)
			var gerr *groq.Error
			if errors.As(err, &gerr) && gerr.Detail != tc.detail {
				t.Errorf("detail %q, want %q", gerr.Detail, tc.detail)
			}
			groq.CheckSafe(t, gerr.Detail)
			if strings.Contains(err.Error(), groq.TestKey[4:]) {
				t.Errorf("error shows the key: %q", err)
			}
		})
	}
}
