package groq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/synth"
)

// testKey is a credential in Groq's format; no error may ever show it.
const testKey = "gsk_TESTKEY0123456789abcdefABCDEF"

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
func newTestClient(t *testing.T, url string, mod func(*Config)) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg := Config{URL: url, MaxRetries: DefaultMaxRetries, Observer: rec, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = time.Millisecond
	return c, rec
}

// counting wraps a handler and counts the requests it saw.
type counting struct {
	mu    sync.Mutex
	n     int
	times []time.Time
	h     http.HandlerFunc
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n++
	c.times = append(c.times, time.Now())
	c.mu.Unlock()
	c.h(w, r)
}

func (c *counting) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *counting) {
	t.Helper()
	ch := &counting{h: h}
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)
	return srv, ch
}

func reply(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const okBody = `{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[
 {"metric":{"__name__":"requests:rate1m","model":"llama","status_code":"200"},"value":[1764430000,"12.5"]},
 {"metric":{"__name__":"ttft_latency_seconds:p99:rate5m","model":"llama"},"value":[1764430000.123,"NaN"]},
 {"metric":{"__name__":"tokens_in:p50:rate5m","model":"llama"},"value":[1764430000,"+Inf"]},
 {"metric":{"__name__":"tokens_out:p50:rate5m","model":"llama"},"value":[1764430000, "-Inf"]}
]},"stats":{"seriesFetched":"4","executionTimeMsec":1}}`

func TestQuerySuccess(t *testing.T) {
	var gotPath, gotQuery, gotAccept string
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotAccept = r.URL.Path, r.URL.Query().Get("query"), r.Header.Get("Accept")
		_, _ = io.WriteString(w, okBody)
	})
	c, rec := newTestClient(t, srv.URL+"/v1/metrics/prometheus/", nil)
	expr := `{__name__=~"requests:(rate1m)"}`
	samples, err := c.Query(context.Background(), expr)
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/v1/metrics/prometheus/api/v1/query" || gotQuery != expr || gotAccept != "application/json" {
		t.Errorf("request: path %q, query %q, Accept %q", gotPath, gotQuery, gotAccept)
	}
	if len(samples) != 4 {
		t.Fatalf("got %d samples, want 4", len(samples))
	}
	if s := samples[0]; s.Value != 12.5 || s.Labels["model"] != "llama" || s.Labels["__name__"] != "requests:rate1m" {
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
	srv, _ := serve(t, reply(200, nil, `{"status":"success","data":{"resultType":"vector","result":[]}}`))
	c, _ := newTestClient(t, srv.URL, nil)
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
		h          http.HandlerFunc
		kind       error
		status     int
		calls      int
		detail     string // substring of the error message
		notRetried bool
	}{
		{name: "401", h: reply(401, nil, `{"status":"error","errorType":"401","error":"invalid API key"}`),
			kind: ErrUnauthorized, status: 401, calls: 1, detail: "invalid API key"},
		{name: "403", h: reply(403, nil, `forbidden`), kind: ErrUnauthorized, status: 403, calls: 1, detail: "non-JSON body"},
		{name: "404", h: reply(404, nil, `404 page not found`), kind: ErrNotFound, status: 404, calls: 1},
		{name: "400 bad_data", h: reply(400, nil, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""}`),
			kind: ErrRejected, status: 400, calls: 1, detail: "parse error"},
		{name: "422 VictoriaMetrics", h: reply(422, nil, `{"status":"error","errorType":"422","error":"cannot parse query"}`),
			kind: ErrRejected, status: 422, calls: 1, detail: "cannot parse query"},
		{name: "500", h: reply(500, nil, `{"status":"error","errorType":"500","error":"storage unavailable"}`),
			kind: ErrServer, status: 500, calls: 3, detail: "storage unavailable"},
		{name: "502 HTML", h: reply(502, map[string]string{"Content-Type": "text/html"}, html),
			kind: ErrServer, status: 502, calls: 3, detail: "non-JSON body of 74 bytes (text/html)"},
		{name: "503", h: reply(503, nil, ``), kind: ErrServer, status: 503, calls: 3},
		{name: "429", h: reply(429, map[string]string{"Retry-After": "0.001"}, `{"status":"error","errorType":"429","error":"too many requests"}`),
			kind: ErrRateLimited, status: 429, calls: 3, detail: "too many requests"},
		{name: "200 HTML", h: reply(200, map[string]string{"Content-Type": "text/html"}, html),
			kind: ErrBadResponse, status: 200, calls: 1, detail: "not JSON"},
		{name: "200 text", h: reply(200, nil, "OK\n"), kind: ErrBadResponse, status: 200, calls: 1, detail: "not JSON"},
		{name: "200 empty", h: reply(200, nil, ""), kind: ErrBadResponse, status: 200, calls: 1, detail: "empty body"},
		{name: "200 truncated", h: reply(200, nil, okBody[:200]), kind: ErrBadResponse, status: 200, calls: 1, detail: "truncated JSON after 200 bytes"},
		{name: "200 status error", h: reply(200, nil, `{"status":"error","errorType":"timeout","error":"query timed out"}`),
			kind: ErrRejected, status: 200, calls: 1, detail: "timeout: query timed out"},
		{name: "200 status unknown", h: reply(200, nil, `{"status":"pending"}`), kind: ErrBadResponse, status: 200, calls: 1, detail: `status "pending"`},
		{name: "200 matrix", h: reply(200, nil, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`),
			kind: ErrBadResponse, status: 200, calls: 1, detail: `result type "matrix"`},
		{name: "200 scalar", h: reply(200, nil, `{"status":"success","data":{"resultType":"scalar","result":[1764430000,"1"]}}`),
			kind: ErrBadResponse, status: 200, calls: 1, detail: `result type "scalar"`},
		{name: "200 string", h: reply(200, nil, `{"status":"success","data":{"resultType":"string","result":[1764430000,"x"]}}`),
			kind: ErrBadResponse, status: 200, calls: 1, detail: `result type "string"`},
		{name: "200 value not a number", h: reply(200, nil, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}`),
			kind: ErrBadResponse, status: 200, calls: 1, detail: "not a number"},
		{name: "200 value unquoted", h: reply(200, nil, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}`),
			kind: ErrBadResponse, status: 200, calls: 1, detail: "not a quoted number"},
		{name: "200 value missing", h: reply(200, nil, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}`),
			kind: ErrBadResponse, status: 200, calls: 1, detail: "no value"},
		{name: "200 label not a string", h: reply(200, nil, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"model":1},"value":[1,"1"]}]}}`),
			kind: ErrBadResponse, status: 200, calls: 1},
		{name: "200 trailing garbage", h: reply(200, nil, okBody+"<html>"), calls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, ch := serve(t, tc.h)
			c, rec := newTestClient(t, srv.URL, nil)
			_, err := c.Query(context.Background(), "up")
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			checkErr(t, err, tc.kind, tc.status, tc.detail)
			if got := ch.calls(); got != tc.calls {
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
	for _, other := range []error{ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrServer, ErrRejected, ErrBadResponse, ErrTooLarge, ErrTransport} {
		if other != kind && errors.Is(err, other) {
			t.Errorf("error %v is also %v", err, other)
		}
	}
	var gerr *Error
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
	checkErr(t, err, ErrTransport, 0, "connection refused")
	if strings.Contains(err.Error(), "/api/v1/query") {
		t.Errorf("error %q repeats the request URL", err)
	}
	reqs, retries := rec.counts()
	if len(reqs) != 3 || reqs[0] != "query error" || retries != 2 {
		t.Errorf("observer saw %v and %d retries, want 3 × \"query error\" and 2", reqs, retries)
	}
}

func TestQueryRetryThenSuccess(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv, _ := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, okBody)
	})
	c, rec := newTestClient(t, srv.URL, nil)
	if _, err := c.Query(context.Background(), "up"); err != nil {
		t.Fatal(err)
	}
	if reqs, retries := rec.counts(); strings.Join(reqs, ",") != "query 502,query 200" || retries != 1 {
		t.Errorf("observer saw %v and %d retries", reqs, retries)
	}
}

func TestQueryNoRetries(t *testing.T) {
	srv, ch := serve(t, reply(500, nil, ""))
	c, _ := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = -1 })
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, ErrServer, 500, "")
	if ch.calls() != 1 {
		t.Errorf("%d calls with MaxRetries -1, want 1", ch.calls())
	}
}

// TestRetryAfterHonoured: the client waits as long as a 429's Retry-After
// asks before it asks again (a lower bound, so the check cannot be flaky).
func TestRetryAfterHonoured(t *testing.T) {
	srv, ch := serve(t, reply(429, map[string]string{"Retry-After": "0.2"}, ""))
	c, _ := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = 1 })
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, ErrRateLimited, 429, "")
	var gerr *Error
	if errors.As(err, &gerr); gerr.RetryAfter != 200*time.Millisecond {
		t.Errorf("RetryAfter %v, want 200ms", gerr.RetryAfter)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.times) != 2 {
		t.Fatalf("%d calls, want 2", len(ch.times))
	}
	if gap := ch.times[1].Sub(ch.times[0]); gap < 200*time.Millisecond {
		t.Errorf("asked again after %v, before Retry-After's 200ms", gap)
	}
}

// TestNoRetryPastDeadline: when Retry-After or the backoff would outlast the
// caller's deadline, the client gives up at once instead of waiting in vain.
func TestNoRetryPastDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		kind error
	}{
		{"429 Retry-After 30s", reply(429, map[string]string{"Retry-After": "30"}, ""), ErrRateLimited},
		{"503 Retry-After date", reply(503, map[string]string{"Retry-After": time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)}, ""), ErrServer},
		{"500 backoff", reply(500, nil, ""), ErrServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ch := serve(t, tc.h)
			c, rec := newTestClient(t, srv.URL, nil)
			c.backoff = time.Hour
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := c.Query(ctx, "up")
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want %v", err, tc.kind)
			}
			if ctx.Err() != nil {
				t.Errorf("the client waited until the deadline")
			}
			if _, retries := rec.counts(); ch.calls() != 1 || retries != 0 {
				t.Errorf("%d calls and %d retries, want 1 and 0", ch.calls(), retries)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"0", 0},
		{"-3", 0},
		{"3601", 0}, // absurd: fall back to the backoff
		{"soon", 0},
		{"Sat, 29 Nov 2025 12:00:30 GMT", 30 * time.Second},
		{"Sat, 29 Nov 2025 11:59:00 GMT", 0}, // in the past
		{"Saturday, 29-Nov-25 12:01:00 GMT", time.Minute},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestAttemptTimeout: an upstream that accepts and never answers costs one
// Timeout per attempt, then fails as a transport error.
func TestAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, ch := serve(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c, rec := newTestClient(t, srv.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = 1 })
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, ErrTransport, 0, "deadline exceeded")
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v is not ErrTimeout", err)
	}
	if reqs, retries := rec.counts(); ch.calls() != 2 || len(reqs) != 2 || retries != 1 {
		t.Errorf("%d calls, observer %v and %d retries; want 2 calls, 1 retry", ch.calls(), reqs, retries)
	}
}

// TestTrickleBody: a 200 whose body arrives a byte at a time is cut off by the
// caller's deadline, reported as a transport failure, and not retried.
func TestTrickleBody(t *testing.T) {
	srv, ch := serve(t, synth.Trickle(10*time.Millisecond))
	c, _ := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, "up")
	checkErr(t, err, ErrTransport, 200, "reading the response")
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v is not ErrTimeout", err)
	}
	if ch.calls() != 1 {
		t.Errorf("%d calls, want 1", ch.calls())
	}
}

// endless writes a JSON body that never ends (a vector with ever more series)
// until limit bytes or until the client goes away, and reports how much it wrote.
func endless(limit int64, contentLength bool, wrote chan<- int64) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentLength {
			w.Header().Set("Content-Length", fmt.Sprint(limit))
		}
		var n int64
		defer func() { wrote <- n }()
		head := `{"status":"success","data":{"resultType":"vector","result":[`
		m, err := io.WriteString(w, head)
		n += int64(m)
		item := []byte(`{"metric":{"__name__":"requests:rate1m","model":"m","status_code":"200"},"value":[1,"1"]},`)
		chunk := []byte(strings.Repeat(string(item), 32<<10/len(item)))
		for err == nil && n+int64(len(chunk)) <= limit {
			m, err = w.Write(chunk)
			n += int64(m)
		}
	}
}

// TestBodyTooLarge: a body over the cap fails as ErrTooLarge whether or not
// Content-Length announced it; the client stops reading at the cap (the server
// cannot write the whole 64 MiB into a closed connection).
func TestBodyTooLarge(t *testing.T) {
	const limit = 64 << 20
	for _, cl := range []bool{true, false} {
		t.Run(fmt.Sprintf("Content-Length=%v", cl), func(t *testing.T) {
			wrote := make(chan int64, 1)
			srv, ch := serve(t, endless(limit, cl, wrote))
			c, _ := newTestClient(t, srv.URL, func(c *Config) { c.MaxResponseBytes = 1 << 20 })
			_, err := c.Query(context.Background(), "up")
			checkErr(t, err, ErrTooLarge, 200, "more than 1048576 bytes")
			if ch.calls() != 1 {
				t.Errorf("%d calls, want 1 (too large is not retried)", ch.calls())
			}
			srv.CloseClientConnections()
			if n := <-wrote; n >= limit {
				t.Errorf("the server wrote all %d bytes: the client read past the cap", n)
			}
		})
	}
}

// TestErrorBodyCapped: a huge error page is read only as far as the detail needs.
func TestErrorBodyCapped(t *testing.T) {
	wrote := make(chan int64, 1)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		endless(64<<20, false, wrote)(w, r)
	})
	c, _ := newTestClient(t, srv.URL, nil)
	_, err := c.Query(context.Background(), "up")
	checkErr(t, err, ErrRejected, 400, "non-JSON body of 65536 bytes")
	srv.CloseClientConnections()
	if n := <-wrote; n >= 64<<20 {
		t.Errorf("the server wrote all %d bytes of the error page", n)
	}
}

func TestCappedReader(t *testing.T) {
	for _, tc := range []struct {
		size, max int
		tooLarge  bool
	}{{0, 10, false}, {10, 10, false}, {11, 10, true}, {1000, 10, true}} {
		r := &cappedReader{r: strings.NewReader(strings.Repeat("x", tc.size)), max: int64(tc.max)}
		b, err := io.ReadAll(r)
		if got := errors.Is(err, ErrTooLarge); got != tc.tooLarge || err != nil && !got {
			t.Errorf("size %d max %d: error %v, want too large %v", tc.size, tc.max, err, tc.tooLarge)
		}
		if len(b) > tc.max+1 || r.n > int64(tc.max+1) {
			t.Errorf("size %d max %d: read %d (counted %d) bytes, more than max+1", tc.size, tc.max, len(b), r.n)
		}
		if tc.tooLarge {
			if n, err := r.Read(make([]byte, 10)); n != 0 || !errors.Is(err, ErrTooLarge) {
				t.Errorf("read after the cap: %d, %v", n, err)
			}
		}
	}
}

// TestNoCredentialInErrors: whatever an upstream or a proxy echoes back (the
// Authorization header in a JSON error, in an HTML page, in a status field),
// the error the client returns does not contain the key.
func TestNoCredentialInErrors(t *testing.T) {
	echoJSON := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"status":"error","errorType":"%d","error":"bad request with header Authorization: %s and key=%s"}`,
				status, r.Header.Get("Authorization"), testKey)
		}
	}
	cases := map[string]http.HandlerFunc{
		"401 echo": echoJSON(401),
		"400 echo": echoJSON(400),
		"429 echo": echoJSON(429),
		"500 echo": echoJSON(500),
		"200 status error echo": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"error","errorType":"%s","error":"%s"}`, r.Header.Get("Authorization"), r.Header.Get("Authorization"))
		},
		"200 status echo": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"%s"}`, r.Header.Get("Authorization"))
		},
		"200 result type echo": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"%s"}}`, testKey)
		},
		"200 result type echo, bad result": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"%s","result":1}}`, r.Header.Get("Authorization"))
		},
		"200 HTML echo": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; "+r.Header.Get("Authorization"))
			fmt.Fprintf(w, "<html><body>Your request: Authorization: %s</body></html>", r.Header.Get("Authorization"))
		},
		"502 HTML echo": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; key="+testKey)
			w.WriteHeader(502)
			fmt.Fprintf(w, "<html><body>Authorization: %s</body></html>", r.Header.Get("Authorization"))
		},
		"200 bad value echo": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"%s"]}]}}`, testKey)
		},
		"200 bad pair echo": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":"%s"}]}}`, testKey)
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv, _ := serve(t, h)
			hc := &http.Client{Transport: bearer{testKey}}
			c, _ := newTestClient(t, srv.URL, func(c *Config) { c.HTTPClient = hc })
			_, err := c.Query(context.Background(), "up")
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), testKey[4:]) {
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

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"key gsk_abcDEF123 refused", "key gsk_<redacted> refused"},
		{"Authorization: Bearer abc.def-ghi", "Authorization: Bearer <redacted>"},
		{"authorization: bearer\tXYZ", "authorization: bearer <redacted>"},
		{"line1\nline2\x7f", "line1 line2 "},
		{"Bearer\vabc12345 Bearer\u00a0def67890 bearer\u2003ghi", "Bearer <redacted> Bearer <redacted> bearer <redacted>"},
		{"a\u0085b\u200bc", "a b\u200bc"}, // NEL is a control character; a zero-width space is neither, and stays
		{strings.Repeat("é", 300), strings.Repeat("é", 256) + "…"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%.40q) = %.60q, want %.60q", tc.in, redact(tc.in), tc.want)
		}
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"ftp://x", "api.groq.com/v1", "http://", "http://a b/%zz"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted it", u)
		}
	}
	c, err := New(Config{})
	if err != nil || c.URL() != DefaultURL {
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
	}{{429, ErrRateLimited}, {503, ErrServer}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var mu sync.Mutex
			status := tc.status
			srv, ch := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if status != 200 {
					w.Header().Set("Retry-After", "0.3")
					w.WriteHeader(status)
					return
				}
				_, _ = io.WriteString(w, okBody)
			})
			c, rec := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = -1 })
			_, err := c.Query(context.Background(), "up")
			checkErr(t, err, tc.kind, tc.status, "")
			for range 5 {
				_, err = c.Query(context.Background(), "up")
				checkErr(t, err, tc.kind, 0, "as its Retry-After said")
			}
			if reqs, _ := rec.counts(); ch.calls() != 1 || len(reqs) != 1 {
				t.Errorf("%d calls to Groq (observer %v) within Retry-After, want 1", ch.calls(), reqs)
			}
			var gerr *Error
			if errors.As(err, &gerr); gerr.RetryAfter <= 0 || gerr.RetryAfter > 300*time.Millisecond {
				t.Errorf("RetryAfter left %v, want in (0, 300ms]", gerr.RetryAfter)
			}
			mu.Lock()
			status = 200
			mu.Unlock()
			time.Sleep(350 * time.Millisecond) // past Retry-After
			if _, err := c.Query(context.Background(), "up"); err != nil || ch.calls() != 2 {
				t.Errorf("after Retry-After: %v, %d calls, want success and 2", err, ch.calls())
			}
		})
	}
}

// TestURLWithCredentialsRefused: a user name or password in the URL would
// replace the bearer key with basic auth (Groq would never see the key), so
// New refuses it, and its error does not repeat them.
func TestURLWithCredentialsRefused(t *testing.T) {
	for _, u := range []string{
		"http://me:" + testKey + "@127.0.0.1:1/v1",
		"https://" + testKey + "@api.groq.com/v1/metrics/prometheus",
		"http://me:" + testKey + "@127.0.0.1:bad/v1", // unparsable, too
	} {
		_, err := New(Config{URL: u})
		if err == nil {
			t.Errorf("New(%s): no error", u)
			continue
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), testKey[4:]) {
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
	for name, h := range map[string]http.HandlerFunc{
		"401 JSON": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":"bad key %s"}`, odd)
		},
		"400 JSON at 240": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":"%s%s"}`, strings.Repeat("x", 240), odd)
		},
		"200 status error": func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, `{"status":"error","error":"%s"}`, odd) },
		"200 result type": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"%s"}}`, odd)
		},
		"200 bad value": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"%s"]}]}}`, odd)
		},
		"200 key without gsk_": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `{"status":"error","error":"%s"}`, strings.TrimPrefix(testKey, "gsk_"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := serve(t, h)
			key := odd
			if strings.Contains(name, "gsk_") {
				key = testKey
			}
			c, _ := newTestClient(t, srv.URL, func(c *Config) { c.HTTPClient = &http.Client{Transport: bearer{key}} })
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
