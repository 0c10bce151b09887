package groq_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu       sync.Mutex
	requests []string // codes, in order
	retries  int
}

func (r *recorder) Request(endpoint, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, endpoint+" "+code)
}

func (r *recorder) Retry(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries++
}

func (r *recorder) counts() (requests []string, retries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...), r.retries
}

// newTestClient returns a client for url with a 1 ms backoff, so that retries
// do not slow the tests down, and the recorder it reports to.
func newTestClient(t *testing.T, url string, mod func(*groq.Config)) (*groq.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg := groq.Config{URL: url, MaxRetries: groq.DefaultMaxRetries, Observer: rec, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := groq.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	groq.SetBackoff(c, time.Millisecond)
	return c, rec
}

// serve starts a fake Groq that answers with faults (see groqtest.Fault), in order, the last one until
// the test ends; with none it answers from its series, of which it has none.
func serve(t *testing.T, faults ...groqtest.Fault) *groqtest.GatewayServer {
	t.Helper()
	gw := groqtest.FakeForTest(t)
	gw.Inject(faults...)
	return gw
}

// reply is an answer with a status, headers and a body.
func reply(status int, header map[string]string, body string) groqtest.Fault {
	f := groqtest.Fault{Status: status, Header: header, Text: body}
	if body == "" {
		f.Body = groqtest.EmptyBody
	}
	return f
}

// echo is an answer whose body and headers may repeat the request's credential (see groqtest.Fault.Echo).
func echo(status int, header map[string]string, body string) groqtest.Fault {
	f := reply(status, header, body)
	f.Echo = true
	return f
}

func TestQuerySuccess(t *testing.T) {
	srv := serve(t, reply(200, nil, groq.OKBody))
	c, rec := newTestClient(t, srv.BaseURL()+"/", nil)
	expr := `{__name__=~"requests:(rate1m)"}`
	samples, err := c.Query(context.Background(), expr)
	if err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[0]
	gotPath, gotQuery, gotAccept := groqtest.GatewayPrefix+call.Path, call.Query(), call.Header.Get("Accept")
	if gotPath != "/v1/metrics/prometheus/api/v1/query" || gotQuery != expr || gotAccept != "application/json" {
		t.Errorf("request: path %q, query %q, Accept %q", gotPath, gotQuery, gotAccept)
	}
	if len(samples) != 4 {
		t.Fatalf("got %d samples, want 4", len(samples))
	}
	if s := samples[0]; s.Value != 12.5 || s.Labels.Get("model") != "llama" || s.Labels.Get("__name__") != "requests:rate1m" {
		t.Errorf("first sample %+v", s)
	}
	if !math.IsNaN(samples[1].Value) || !math.IsInf(samples[2].Value, 1) || !math.IsInf(samples[3].Value, -1) {
		t.Errorf("NaN/+Inf/-Inf not kept: %v %v %v", samples[1].Value, samples[2].Value, samples[3].Value)
	}
	if reqs, retries := rec.counts(); len(reqs) != 1 || reqs[0] != "query 200" || retries != 0 {
		t.Errorf("observer saw %v and %d retries, want [query 200] and 0", reqs, retries)
	}
}

func TestQueryEmptyVector(t *testing.T) {
	srv := serve(t) // it has no series: "up" matches none
	c, _ := newTestClient(t, srv.BaseURL(), nil)
	samples, err := c.Query(context.Background(), "up")
	if err != nil || len(samples) != 0 {
		t.Fatalf("got %v, %v; want no samples and no error", samples, err)
	}
}

// TestQueryErrorClasses serves one kind of failure per case and checks the
// class of the error, the status it carries, what it says, and how many times
// the client asked (1 + retries for the retryable classes, 1 otherwise).
func TestQueryErrorClasses(t *testing.T) {
	const html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
	cases := []struct {
		name       string
		h          groqtest.Fault
		kind       error
		status     int
		calls      int
		detail     string // substring of the error message
		notRetried bool
	}{
		{name: "401", h: reply(401, nil, `{"status":"error","errorType":"401","error":"invalid API key"}`),
			kind: groq.ErrUnauthorized, status: 401, calls: 1, detail: "invalid API key"},
		{name: "403", h: reply(403, nil, `forbidden`), kind: groq.ErrUnauthorized, status: 403, calls: 1, detail: "non-JSON body"},
		{name: "404", h: reply(404, nil, `404 page not found`), kind: groq.ErrNotFound, status: 404, calls: 1},
		{name: "400 bad_data", h: reply(400, nil, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""}`),
			kind: groq.ErrRejected, status: 400, calls: 1, detail: "parse error"},
		{name: "422 VictoriaMetrics", h: reply(422, nil, `{"status":"error","errorType":"422","error":"cannot parse query"}`),
			kind: groq.ErrRejected, status: 422, calls: 1, detail: "cannot parse query"},
		{name: "500", h: reply(500, nil, `{"status":"error","errorType":"500","error":"storage unavailable"}`),
			kind: groq.ErrServer, status: 500, calls: 3, detail: "storage unavailable"},
		{name: "502 HTML", h: reply(502, map[string]string{"Content-Type": "text/html"}, html),
			kind: groq.ErrServer, status: 502, calls: 3, detail: "non-JSON body of 74 bytes (text/html)"},
		{name: "503", h: reply(503, nil, ``), kind: groq.ErrServer, status: 503, calls: 3},
		{name: "429", h: reply(429, map[string]string{"Retry-After": "0.001"}, `{"status":"error","errorType":"429","error":"too many requests"}`),
			kind: groq.ErrRateLimited, status: 429, calls: 3, detail: "too many requests"},
		{name: "200 HTML", h: reply(200, map[string]string{"Content-Type": "text/html"}, html),
			kind: groq.ErrBadResponse, status: 200, calls: 1, detail: "not JSON"},
		{name: "200 text", h: reply(200, nil, "OK\n"), kind: groq.ErrBadResponse, status: 200, calls: 1, detail: "not JSON"},
		{name: "200 empty", h: reply(200, nil, ""), kind: groq.ErrBadResponse, status: 200, calls: 1, detail: "empty body"},
		{name: "200 truncated", h: reply(200, nil, groq.OKBody[:200]), kind: groq.ErrBadResponse, status: 200, calls: 1, detail: "truncated JSON after 200 bytes"},
		{name: "200 status error", h: reply(200, nil, `{"status":"error","errorType":"timeout","error":"query timed out"}`),
			kind: groq.ErrRejected, status: 200, calls: 1, detail: "timeout: query timed out"},
		{name: "200 status unknown", h: reply(200, nil, `{"status":"pending"}`), kind: groq.ErrBadResponse, status: 200, calls: 1, detail: `status "pending"`},
		{name: "200 matrix", h: reply(200, nil, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`),
			kind: groq.ErrResultType, status: 200, calls: 1, detail: `result type "matrix"`},
		{name: "200 scalar", h: reply(200, nil, `{"status":"success","data":{"resultType":"scalar","result":[1764430000,"1"]}}`),
			kind: groq.ErrResultType, status: 200, calls: 1, detail: `result type "scalar"`},
		{name: "200 string", h: reply(200, nil, `{"status":"success","data":{"resultType":"string","result":[1764430000,"x"]}}`),
			kind: groq.ErrResultType, status: 200, calls: 1, detail: `result type "string"`},
		{name: "200 vector not a list", h: reply(200, nil, `{"status":"success","data":{"resultType":"vector","result":{"metric":{}}}}`),
			kind: groq.ErrBadResponse, status: 200, calls: 1, detail: "vector result is an object, not a list of series"},
		{name: "401 OpenAI-style", h: reply(401, nil, `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`),
			kind: groq.ErrUnauthorized, status: 401, calls: 1, detail: "Invalid API Key (type invalid_request_error, code invalid_api_key)"},
		{name: "200 OpenAI-style", h: reply(200, nil, `{"error":{"message":"organization has no metrics access","type":"permission_error"}}`),
			kind: groq.ErrRejected, status: 200, calls: 1, detail: "organization has no metrics access (type permission_error)"},
		{name: "200 trailing garbage", h: reply(200, nil, groq.OKBody+"<html>"), calls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.h)
			c, rec := newTestClient(t, srv.BaseURL(), nil)
			_, err := c.Query(context.Background(), "up")
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			checkErr(t, err, tc.kind, tc.status, tc.detail)
			if got := srv.Requests(); got != tc.calls {
				t.Errorf("upstream was called %d times, want %d", got, tc.calls)
			}
			reqs, retries := rec.counts()
			if len(reqs) != tc.calls || retries != tc.calls-1 {
				t.Errorf("observer saw requests %v and %d retries, want %d and %d", reqs, retries, tc.calls, tc.calls-1)
			}
			for _, r := range reqs {
				if want := fmt.Sprintf("query %d", tc.status); r != want {
					t.Errorf("observed %q, want %q", r, want)
				}
			}
		})
	}
}

func checkErr(t *testing.T, err error, kind error, status int, detail string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
	for _, other := range []error{groq.ErrUnauthorized, groq.ErrNotFound, groq.ErrRateLimited, groq.ErrServer, groq.ErrRejected, groq.ErrBadResponse, groq.ErrTooLarge, groq.ErrTransport} {
		if other != kind && errors.Is(err, other) {
			t.Errorf("error %v is also %v", err, other)
		}
	}
	var gerr *groq.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("error %T is not a *groq.Error", err)
	}
	if gerr.StatusCode != status || gerr.Endpoint != "query" {
		t.Errorf("status %d endpoint %q, want %d query", gerr.StatusCode, gerr.Endpoint, status)
	}
	if !strings.Contains(err.Error(), detail) {
		t.Errorf("error %q does not say %q", err, detail)
	}
}

func TestQueryConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	c, rec := newTestClient(t, "http://"+addr, nil)
	_, err = c.Query(context.Background(), "up")
	checkErr(t, err, groq.ErrTransport, 0, "connection refused")
	if strings.Contains(err.Error(), "/api/v1/query") {
		t.Errorf("error %q repeats the request URL", err)
	}
	reqs, retries := rec.counts()
	if len(reqs) != 3 || reqs[0] != "query error" || retries != 2 {
		t.Errorf("observer saw %v and %d retries, want 3 × \"query error\" and 2", reqs, retries)
	}
}

func TestQueryRetryThenSuccess(t *testing.T) {
	first := reply(http.StatusBadGateway, nil, "")
	first.Times = 1
	srv := serve(t, first, reply(200, nil, groq.OKBody))
	c, rec := newTestClient(t, srv.BaseURL(), nil)
	if _, err := c.Query(context.Background(), "up"); err != nil {
		t.Fatal(err)
	}
	if reqs, retries := rec.counts(); strings.Join(reqs, ",") != "query 502,query 200" || retries != 1 {
		t.Errorf("observer saw %v and %d retries", reqs, retries)
	}
}

func TestQueryNoRetries(t *testing.T) {
	srv := serve(t, reply(500, nil, ""))
	c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.MaxRetries = -1 })
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, groq.ErrServer, 500, "")
	if srv.Requests() != 1 {
		t.Errorf("%d calls with MaxRetries -1, want 1", srv.Requests())
	}
}

// TestRetryAfterHonoured: the client waits as long as a 429's Retry-After
// asks before it asks again (a lower bound, so the check cannot be flaky).
func TestRetryAfterHonoured(t *testing.T) {
	srv := serve(t, reply(429, map[string]string{"Retry-After": "0.2"}, ""))
	c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.MaxRetries = 1 })
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, groq.ErrRateLimited, 429, "")
	var gerr *groq.Error
	if errors.As(err, &gerr); gerr.RetryAfter != 200*time.Millisecond {
		t.Errorf("RetryAfter %v, want 200ms", gerr.RetryAfter)
	}
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 200*time.Millisecond {
		t.Errorf("asked again after %v, before Retry-After's 200ms", gap)
	}
}

// TestNoRetryPastDeadline: when Retry-After or the backoff would outlast the
// caller's deadline, the client gives up at once instead of waiting in vain.
func TestNoRetryPastDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    groqtest.Fault
		kind error
	}{
		{"429 Retry-After 30s", reply(429, map[string]string{"Retry-After": "30"}, ""), groq.ErrRateLimited},
		{"503 Retry-After date", reply(503, map[string]string{"Retry-After": time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)}, ""), groq.ErrServer},
		{"500 backoff", reply(500, nil, ""), groq.ErrServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.h)
			c, rec := newTestClient(t, srv.BaseURL(), nil)
			groq.SetBackoff(c, time.Hour)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := c.Query(ctx, "up")
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want %v", err, tc.kind)
			}
			if ctx.Err() != nil {
				t.Errorf("the client waited until the deadline")
			}
			if _, retries := rec.counts(); srv.Requests() != 1 || retries != 0 {
				t.Errorf("%d calls and %d retries, want 1 and 0", srv.Requests(), retries)
			}
		})
	}
}

// TestAttemptTimeout: an upstream that accepts and never answers costs one
// Timeout per attempt, then fails as a transport error.
func TestAttemptTimeout(t *testing.T) {
	srv := serve(t, groqtest.Fault{Hang: true})
	c, rec := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = 1 })
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, groq.ErrTransport, 0, "deadline exceeded")
	if !errors.Is(err, groq.ErrTimeout) {
		t.Errorf("error %v is not ErrTimeout", err)
	}
	if reqs, retries := rec.counts(); srv.Requests() != 2 || len(reqs) != 2 || retries != 1 {
		t.Errorf("%d calls, observer %v and %d retries; want 2 calls, 1 retry", srv.Requests(), reqs, retries)
	}
}

// TestTrickleBody: a 200 whose body arrives a byte at a time is cut off by the
// caller's deadline, reported as a transport failure, and not retried.
func TestTrickleBody(t *testing.T) {
	srv := serve(t, groqtest.Fault{Trickle: 10 * time.Millisecond})
	c, _ := newTestClient(t, srv.BaseURL(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, "up")
	checkErr(t, err, groq.ErrTransport, 200, "reading the response")
	if !errors.Is(err, groq.ErrTimeout) {
		t.Errorf("error %v is not ErrTimeout", err)
	}
	if srv.Requests() != 1 {
		t.Errorf("%d calls, want 1", srv.Requests())
	}
}

// written closes the fake Groq, waiting for its handlers to end, and returns how many body bytes it
// wrote to its first call.
func written(srv *groqtest.GatewayServer) int64 {
	srv.CloseClientConnections()
	srv.Close()
	return srv.Calls()[0].Written
}

// TestBodyTooLarge: a body over the cap fails as groq.ErrTooLarge whether or not
// Content-Length announced it; the client stops reading at the cap (the server
// cannot write the whole 64 MiB into a closed connection).
func TestBodyTooLarge(t *testing.T) {
	const limit = 64 << 20
	for _, cl := range []bool{true, false} {
		t.Run(fmt.Sprintf("Content-Length=%v", cl), func(t *testing.T) {
			srv := serve(t, groqtest.Fault{Endless: limit, ContentLength: cl})
			c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.MaxResponseBytes = 1 << 20 })
			_, err := c.Query(context.Background(), "up")
			checkErr(t, err, groq.ErrTooLarge, 200, "more than 1048576 bytes")
			if srv.Requests() != 1 {
				t.Errorf("%d calls, want 1 (too large is not retried)", srv.Requests())
			}
			if n := written(srv); n >= limit {
				t.Errorf("the server wrote all %d bytes: the client read past the cap", n)
			}
		})
	}
}

// TestErrorBodyCapped: a huge error page is read only as far as the detail needs.
func TestErrorBodyCapped(t *testing.T) {
	srv := serve(t, groqtest.Fault{Status: http.StatusBadRequest, Endless: 64 << 20})
	c, _ := newTestClient(t, srv.BaseURL(), nil)
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, groq.ErrRejected, 400, "non-JSON body of 65536 bytes")
	if n := written(srv); n >= 64<<20 {
		t.Errorf("the server wrote all %d bytes of the error page", n)
	}
}

// TestNoCredentialInErrors: whatever an upstream or a proxy echoes back (the
// Authorization header in a JSON error, in an HTML page, in a status field),
// the error the client returns does not contain the key.
func TestNoCredentialInErrors(t *testing.T) {
	echoJSON := func(status int) groqtest.Fault {
		return echo(status, nil, fmt.Sprintf(`{"status":"error","errorType":"%d","error":"bad request with header Authorization: ${authorization} and key=%s"}`,
			status, groq.TestKey))
	}
	cases := map[string]groqtest.Fault{
		"401 echo":                         echoJSON(401),
		"400 echo":                         echoJSON(400),
		"429 echo":                         echoJSON(429),
		"500 echo":                         echoJSON(500),
		"200 status error echo":            echo(200, nil, `{"status":"error","errorType":"${authorization}","error":"${authorization}"}`),
		"200 status echo":                  echo(200, nil, `{"status":"${authorization}"}`),
		"200 result type echo":             reply(200, nil, fmt.Sprintf(`{"status":"success","data":{"resultType":"%s"}}`, groq.TestKey)),
		"200 result type echo, bad result": echo(200, nil, `{"status":"success","data":{"resultType":"${authorization}","result":1}}`),
		"200 HTML echo": echo(200, map[string]string{"Content-Type": "text/html; ${authorization}"},
			"<html><body>Your request: Authorization: ${authorization}</body></html>"),
		"502 HTML echo": echo(502, map[string]string{"Content-Type": "text/html; key=" + groq.TestKey},
			"<html><body>Authorization: ${authorization}</body></html>"),
		"401 OpenAI-style echo": echo(401, nil, fmt.Sprintf(`{"error":{"message":"Invalid API Key: %s","type":"${authorization}","code":"%s"}}`, groq.TestKey, groq.TestKey[4:])),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, h)
			hc := &http.Client{Transport: bearer{groq.TestKey}}
			c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.HTTPClient = hc })
			_, err := c.Query(context.Background(), "up")
			if err == nil {
				t.Fatal("no error")
			}
			if auth := srv.Calls()[0].Header.Get("Authorization"); auth != "Bearer "+groq.TestKey {
				t.Fatalf("the client sent Authorization %q, so nothing was echoed", auth)
			}
			if strings.Contains(err.Error(), groq.TestKey) || strings.Contains(err.Error(), groq.TestKey[4:]) {
				t.Errorf("error shows the key: %q", err)
			}
		})
	}
}

// bearer adds the Authorization header as prometheus/common's round tripper does.
type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"ftp://x", "api.groq.com/v1", "http://", "http://a b/%zz"} {
		if _, err := groq.New(groq.Config{URL: u}); err == nil {
			t.Errorf("groq.New(%q) accepted it", u)
		}
	}
	c, err := groq.New(groq.Config{})
	if err != nil || c.URL() != groq.DefaultURL {
		t.Errorf("New with defaults: %v, %v", c, err)
	}
}

// TestRetryAfterKeepsQuiet: after a 429 or 503 with Retry-After, the client
// does not call Groq again before that time, whoever asks; the error it
// returns meanwhile has the same class and no HTTP status. Once the time has
// passed, it asks again.
func TestRetryAfterKeepsQuiet(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   error
	}{{429, groq.ErrRateLimited}, {503, groq.ErrServer}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := serve(t, groqtest.Fault{Status: tc.status, RetryAfter: "0.3", Body: groqtest.EmptyBody})
			c, rec := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.MaxRetries = -1 })
			_, err := c.Query(context.Background(), "up")
			checkErr(t, err, tc.kind, tc.status, "")
			for range 5 {
				_, err = c.Query(context.Background(), "up")
				checkErr(t, err, tc.kind, 0, "as its Retry-After said")
			}
			if reqs, _ := rec.counts(); srv.Requests() != 1 || len(reqs) != 1 {
				t.Errorf("%d calls to Groq (observer %v) within Retry-After, want 1", srv.Requests(), reqs)
			}
			var gerr *groq.Error
			if errors.As(err, &gerr); gerr.RetryAfter <= 0 || gerr.RetryAfter > 300*time.Millisecond {
				t.Errorf("RetryAfter left %v, want in (0, 300ms]", gerr.RetryAfter)
			}
			srv.ClearFaults()                  // Groq answers again: with no series, an empty vector
			time.Sleep(350 * time.Millisecond) // past Retry-After
			if _, err := c.Query(context.Background(), "up"); err != nil || srv.Requests() != 2 {
				t.Errorf("after Retry-After: %v, %d calls, want success and 2", err, srv.Requests())
			}
		})
	}
}

// TestURLWithCredentialsRefused: a user name or password in the URL would
// replace the bearer key with basic auth (Groq would never see the key), so
// New refuses it, and its error does not repeat them.
func TestURLWithCredentialsRefused(t *testing.T) {
	for _, u := range []string{
		"http://me:" + groq.TestKey + "@127.0.0.1:1/v1",
		"https://" + groq.TestKey + "@api.groq.com/v1/metrics/prometheus",
		"http://me:" + groq.TestKey + "@127.0.0.1:bad/v1", // unparsable, too
	} {
		_, err := groq.New(groq.Config{URL: u})
		if err == nil {
			t.Errorf("New(%s): no error", u)
			continue
		}
		if strings.Contains(err.Error(), groq.TestKey) || strings.Contains(err.Error(), groq.TestKey[4:]) {
			t.Errorf("New: error shows the credentials: %q", err)
		}
		if !strings.Contains(err.Error(), "invalid Groq URL") {
			t.Errorf("New: error %q does not say what is wrong", err)
		}
	}
}

// TestSentCredentialNeverInErrors: whatever the key looks like (not only
// Groq's gsk_ form), the exact credential the client sent is removed from
// every error, also where the upstream echoes it bare, without "Bearer".
func TestSentCredentialNeverInErrors(t *testing.T) {
	const odd = "s3cr3t.Token-Of~Another+Format/42" // no gsk_ prefix
	for name, h := range map[string]groqtest.Fault{
		"401 JSON":                reply(401, nil, fmt.Sprintf(`{"error":"bad key %s"}`, odd)),
		"400 JSON at 240":         reply(400, nil, fmt.Sprintf(`{"error":"%s%s"}`, strings.Repeat("x", 240), odd)),
		"200 status error":        reply(200, nil, fmt.Sprintf(`{"status":"error","error":"%s"}`, odd)),
		"200 result type":         reply(200, nil, fmt.Sprintf(`{"status":"success","data":{"resultType":"%s"}}`, odd)),
		"429 OpenAI-style at 240": reply(429, nil, fmt.Sprintf(`{"error":{"message":"%s%s","type":"rate_limit"}}`, strings.Repeat("x", 240), odd)),
		"200 key without gsk_":    reply(200, nil, fmt.Sprintf(`{"status":"error","error":"%s"}`, strings.TrimPrefix(groq.TestKey, "gsk_"))),
	} {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, h)
			key := odd
			if strings.Contains(name, "gsk_") {
				key = groq.TestKey
			}
			c, _ := newTestClient(t, srv.BaseURL(), func(c *groq.Config) { c.HTTPClient = &http.Client{Transport: bearer{key}} })
			_, err := c.Query(context.Background(), "up")
			if err == nil {
				t.Fatal("no error")
			}
			for _, part := range []string{key, strings.TrimPrefix(key, "gsk_"), key[:12]} {
				if strings.Contains(err.Error(), part) {
					t.Errorf("error shows %q: %q", part, err)
				}
			}
		})
	}
}
