// Package groq is a client for Groq's Prometheus-compatible metrics API: it
// runs instant MetricsQL queries, reads each answer whole within a size cap
// (the cap, not the decoding, is what bounds the memory an answer takes) and
// decodes it, retries what is worth retrying, and returns typed errors. It knows
// nothing about the metrics the exporter serves.
package groq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultURL              = "https://api.groq.com/v1/metrics/prometheus"
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 8 << 20
	DefaultMaxRetries       = 2
	defaultBackoff          = 250 * time.Millisecond
)

// Sample is one series of an instant-query result: its labels, __name__
// included, and its value as Groq sent it (NaN and ±Inf included).
type Sample struct {
	Labels Labels
	Value  float64
}

// Label is one label of a series.
type Label struct{ Name, Value string }

// Labels are the labels of a series, sorted by name, each name once, as
// Prometheus keeps them: the thousands of series of an answer are read in
// order, with no hashing and no map per series.
type Labels []Label

// LabelsFromMap returns the labels of m, sorted.
func LabelsFromMap(m map[string]string) Labels {
	ls := make(Labels, 0, len(m))
	for k, v := range m {
		ls = append(ls, Label{k, v})
	}
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return ls
}

// Lookup returns the value of the label called name, and whether there is one.
func (ls Labels) Lookup(name string) (string, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// Get returns the value of the label called name, "" if there is none.
func (ls Labels) Get(name string) string {
	v, _ := ls.Lookup(name)
	return v
}

// Map returns the labels as a map.
func (ls Labels) Map() map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// Observer is told about every HTTP call and every retry, so that the caller
// can count them. Endpoint is the API path below /api/v1/ ("query"); code is
// the HTTP status, or "error" when no answer arrived.
type Observer interface {
	Request(endpoint, code string)
	Retry(endpoint string)
}

// Config configures a Client.
type Config struct {
	// URL is the base URL of the API, without /api/v1.
	URL string
	// HTTPClient sends the requests (see prometheus/common/config: proxy,
	// TLS, redirects). It must not have a Timeout shorter than Timeout.
	HTTPClient *http.Client
	// KeyFile holds the API key, read again for every request (a rotated key
	// works at once) as ReadKeyFile reads it: a file that cannot be read,
	// is not a regular file, is larger than MaxKeyFileBytes or holds no
	// usable key fails the request with ErrKey, and nothing is sent. Else
	// Key is the key (as ParseKey takes it; "" sends none). The key is sent
	// as a bearer token to URL's origin (scheme, host and port) only: a
	// redirect elsewhere is not followed.
	KeyFile, Key string
	// Timeout bounds each attempt; the caller's context bounds the whole call.
	Timeout time.Duration
	// MaxResponseBytes caps the body read from Groq, whatever Content-Length says.
	MaxResponseBytes int64
	// MaxRetries is how many times a 429, 5xx or transport failure is retried.
	// Negative means none.
	MaxRetries int
	// Observer, if set, is told about each request and retry.
	Observer Observer
}

// Client queries Groq's metrics API. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	origin   origin
	http     *http.Client
	timeout  time.Duration
	maxBytes int64
	retries  int
	observer Observer
	backoff  time.Duration
	closed   atomic.Bool
	secrets  secretCache // of the key sent last

	mu         sync.Mutex
	quietUntil time.Time // Groq's Retry-After: no call before this
	quietKind  error     // the class of the answer that asked for it
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	u, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:     u,
		origin:   originOf(u),
		timeout:  cfg.Timeout,
		maxBytes: cfg.MaxResponseBytes,
		retries:  cfg.MaxRetries,
		observer: cfg.Observer,
		backoff:  defaultBackoff,
	}
	key := cfg.Key
	if cfg.KeyFile == "" && strings.TrimSpace(key) != "" {
		if key, err = ParseKey(key); err != nil {
			return nil, fmt.Errorf("%w: the key %w", ErrKey, err)
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	c.http = c.guard(hc, cfg.KeyFile, key)
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	if c.retries < 0 {
		c.retries = 0
	}
	return c, nil
}

// URL returns the base URL the client talks to, fit to show: a password in
// it is replaced by "xxxxx".
func (c *Client) URL() string { return c.base.Redacted() }

// Close closes the idle connections of a Client that is no longer used, so
// that a replaced Client leaves no connection or goroutine behind. A call
// still under way closes its connection when it ends.
func (c *Client) Close() {
	c.closed.Store(true)
	c.http.CloseIdleConnections()
}

// Query runs an instant query and returns its vector result. Series that
// cannot be decoded are left out; QueryAnswer says how many, and whether
// Groq answered only in part.
func (c *Client) Query(ctx context.Context, expr string) ([]Sample, error) {
	a, err := c.QueryAnswer(ctx, expr)
	if err != nil {
		return nil, err
	}
	return a.Samples, nil
}

// QueryAnswer runs an instant query and returns its vector result with what
// Groq said about it: the series left out and why, whether the answer is
// partial, and its warnings. On success the *Answer is never nil.
func (c *Client) QueryAnswer(ctx context.Context, expr string) (*Answer, error) {
	form := url.Values{"query": {expr}}
	var answer *Answer
	err := c.do(ctx, "query", form, func(body []byte, secrets []string) error {
		var err error
		if answer, err = decodeAnswerBytes(body, secrets); err == nil {
			answer.Bytes = int64(len(body))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return answer, nil
}

// do sends GET /api/v1/<endpoint>?<params>, retrying 429, 5xx and transport
// failures with jittered exponential backoff (or Retry-After) while the
// context's deadline allows, and hands a 2xx body to decode, with the
// credentials the request carried, for redacting what it keeps.
//
// After an answer with Retry-After, calls fail at once with the same class of
// error, without asking Groq, until that time has passed: however often the
// exporter is scraped, Groq is not asked before it said it would answer.
func (c *Client) do(ctx context.Context, endpoint string, params url.Values, decode func([]byte, []string) error) error {
	if err := c.quiet(endpoint); err != nil {
		return err
	}
	defer func() {
		if c.closed.Load() {
			c.http.CloseIdleConnections()
		}
	}()
	u := c.base.JoinPath("api", "v1", endpoint)
	u.RawQuery = params.Encode()
	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, endpoint, u.String(), decode)
		var gerr *Error
		if errors.As(err, &gerr) && gerr.RetryAfter > 0 {
			c.keepQuiet(gerr)
		}
		if err == nil || attempt >= c.retries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := c.backoff << attempt
		wait = wait/2 + rand.N(wait/2+1) // jitter
		if gerr != nil && gerr.RetryAfter > 0 {
			wait = gerr.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err // waiting would overrun the caller's deadline
		}
		if c.observer != nil {
			c.observer.Retry(endpoint)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// keepQuiet records that Groq asked not to be called for e.RetryAfter.
func (c *Client) keepQuiet(e *Error) {
	until := time.Now().Add(e.RetryAfter)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.quietUntil) {
		c.quietUntil, c.quietKind = until, e.Kind
	}
}

// quiet returns an error while Groq's last Retry-After has not passed.
func (c *Client) quiet(endpoint string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	left := time.Until(c.quietUntil)
	if left <= 0 {
		return nil
	}
	return &Error{Kind: c.quietKind, Endpoint: endpoint, RetryAfter: left,
		Detail: "not asked again before " + c.quietUntil.UTC().Format(time.RFC3339) + ", as its Retry-After said"}
}

func retryable(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrServer) || errors.Is(err, ErrTransport)
}

func (c *Client) attempt(ctx context.Context, endpoint, u string, decode func([]byte, []string) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	sent := &sentKey{}
	ctx = context.WithValue(ctx, sentKeyContext{}, sent)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &Error{Kind: ErrTransport, Endpoint: endpoint, Detail: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	// Every text about this attempt is cleaned of the key it sent, whatever
	// the key looks like and wherever the text comes from.
	key := sent.get()
	secrets := c.secrets.of(key)
	if err != nil {
		return c.doError(endpoint, resp, err, secrets)
	}
	defer resp.Body.Close()
	c.observe(endpoint, strconv.Itoa(resp.StatusCode))
	if r := resp.Request; r != nil && (sentToken(r) != key || r.URL != nil && r.URL.User != nil) {
		secrets = append(secrets, sentSecrets(r)...) // a redirect's request: another key, or a password
	}
	if resp.StatusCode/100 == 3 {
		return redirectAnswer(endpoint, resp, secrets)
	}

	body := &cappedReader{r: resp.Body, max: c.maxBytes}
	if resp.StatusCode/100 != 2 {
		return statusError(endpoint, resp, body, secrets)
	}
	data, err := readBody(body, resp.ContentLength)
	if err == nil {
		err = decode(data, secrets)
	}
	if err != nil {
		var gerr *Error
		if errors.As(err, &gerr) {
			gerr.Endpoint, gerr.StatusCode = endpoint, resp.StatusCode
			gerr.Detail = redact(gerr.Detail, secrets...)
			return gerr
		}
		return bodyError(endpoint, resp.StatusCode, body, err, secrets)
	}
	return nil
}

func (c *Client) observe(endpoint, code string) {
	if c.observer != nil {
		c.observer.Request(endpoint, code)
	}
}

// bodyError classifies a failure while reading or decoding a 2xx body.
func bodyError(endpoint string, status int, body *cappedReader, err error, secrets []string) *Error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return &Error{Kind: ErrTooLarge, Endpoint: endpoint, StatusCode: status,
			Detail: fmt.Sprintf("more than %d bytes (raise the size limit, or query less)", body.max)}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: ErrTimeout, Endpoint: endpoint, StatusCode: status,
			Detail: fmt.Sprintf("reading the response: %v after %d bytes", err, body.n)}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: ErrTransport, Endpoint: endpoint, StatusCode: status,
			Detail: fmt.Sprintf("reading the response: %v after %d bytes", err, body.n)}
	case body.n == 0:
		return &Error{Kind: ErrBadResponse, Endpoint: endpoint, StatusCode: status, Detail: "empty body"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: ErrBadResponse, Endpoint: endpoint, StatusCode: status,
			Detail: fmt.Sprintf("truncated JSON after %d bytes", body.n)}
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) && syn.Offset <= 1 {
		return &Error{Kind: ErrBadResponse, Endpoint: endpoint, StatusCode: status,
			Detail: "not JSON (a proxy's HTML or text page?)"}
	}
	return &Error{Kind: ErrBadResponse, Endpoint: endpoint, StatusCode: status, Detail: redact(err.Error(), secrets...)}
}

// statusError turns a non-2xx answer into an *Error, with Groq's own message
// when the body is a JSON error in any form Groq's side sends (see errorField).
func statusError(endpoint string, resp *http.Response, body io.Reader, secrets []string) *Error {
	e := &Error{Endpoint: endpoint, StatusCode: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = ErrUnauthorized
	case code == http.StatusNotFound:
		e.Kind = ErrNotFound
	case code == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
	case code >= 500:
		e.Kind = ErrServer
	default:
		e.Kind = ErrRejected
	}
	if code := resp.StatusCode; code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	switch msg := errorMessage(raw, resp.StatusCode); {
	case msg != "":
		e.Detail = redact(msg, secrets...)
	case len(raw) == 0:
	case json.Valid(raw):
		e.Detail = redact(fmt.Sprintf("JSON body of %d bytes without an error message (%s)", len(raw), resp.Header.Get("Content-Type")), secrets...)
	default:
		e.Detail = redact(fmt.Sprintf("non-JSON body of %d bytes (%s)", len(raw), resp.Header.Get("Content-Type")), secrets...)
	}
	return e
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 || s > 3600 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// doError classifies a failed http.Client.Do: a key or TLS file that cannot
// be read (no request was sent), a redirect that was not followed, a deadline that
// passed, or no answer at all.
func (c *Client) doError(endpoint string, resp *http.Response, err error, secrets []string) *Error {
	var ferr *FileError
	if errors.As(err, &ferr) {
		return &Error{Kind: ErrKey, Endpoint: endpoint, Detail: ferr.Error() + "; nothing was sent", Cause: ferr}
	}
	if errors.Is(err, ErrTLSFile) {
		return &Error{Kind: ErrTLSFile, Endpoint: endpoint, Detail: transportDetail(err, secrets)}
	}
	var rerr *redirectError
	if errors.As(err, &rerr) {
		c.observe(endpoint, strconv.Itoa(rerr.code))
		return &Error{Kind: ErrRedirect, Endpoint: endpoint, StatusCode: rerr.code, Detail: "to " + rerr.detail(secrets)}
	}
	if resp != nil { // another redirect failure: too many
		c.observe(endpoint, strconv.Itoa(resp.StatusCode))
		return &Error{Kind: ErrRedirect, Endpoint: endpoint, StatusCode: resp.StatusCode, Detail: transportDetail(err, secrets)}
	}
	c.observe(endpoint, "error")
	kind := ErrTransport
	if isTimeout(err) {
		kind = ErrTimeout
	}
	return &Error{Kind: kind, Endpoint: endpoint, Detail: transportDetail(err, secrets)}
}

// ParseURL checks a base URL of Groq's metrics API: http(s)://host/path,
// without credentials (the key is sent as a bearer token, never in the URL).
// Its errors do not repeat the URL, which may hold a secret.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("invalid Groq URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("invalid Groq URL: want http(s)://host/path")
	case u.User != nil:
		return nil, fmt.Errorf("invalid Groq URL: it holds a user name or password (user:password@), which would replace the API key; remove them: the key is sent as a bearer token")
	}
	return u, nil
}

// transportDetail describes a failed round trip without repeating the full
// request URL (the query makes it long; the key is never in it), and without
// the secrets: net/http quotes an unparsable Location header in its error.
func transportDetail(err error, secrets []string) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return redact(err.Error(), secrets...)
}

// sentKey is the key one attempt sent, as keyTransport set it (on each
// request of the attempt, redirects included): the secrets every text about
// the attempt is cleaned of, even when no response came back to say it.
type sentKey struct {
	mu  sync.Mutex
	key string
}

// sentKeyContext is the context key of an attempt's *sentKey.
type sentKeyContext struct{}

func (s *sentKey) set(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

func (s *sentKey) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// countingReader counts the bytes read through it.
// bodyChunk is the unit in which readBody reads a body of unknown length.
const bodyChunk = 256 << 10

var bodyChunks = sync.Pool{New: func() any { b := make([]byte, bodyChunk); return &b }}

// readBody reads a 2xx body whole, failing with ErrTooLarge past body's cap.
// A body of announced length, within the cap, is read into one slice of that
// length; any other into fixed-size chunks from a pool, joined once the body
// has ended. No buffer grows by doubling, each growth copying the last: a
// body refused at the cap leaves behind only the pooled chunks, which the
// next refresh reuses, not about twice the cap of garbage, which refresh
// after refresh raised the heap's target and the process's peak memory.
func readBody(body *cappedReader, length int64) ([]byte, error) {
	if length >= 0 && length <= body.max {
		data := make([]byte, length)
		if _, err := io.ReadFull(body, data); err != nil {
			return nil, err // io.ErrUnexpectedEOF: shorter than announced
		}
		if n, _ := body.Read(make([]byte, 1)); n > 0 {
			return nil, errors.New("body longer than its Content-Length")
		}
		return data, nil
	}
	var chunks []*[]byte
	defer func() {
		for _, c := range chunks {
			bodyChunks.Put(c)
		}
	}()
	total := 0
	for done := false; !done; {
		c := bodyChunks.Get().(*[]byte)
		chunks = append(chunks, c)
		buf := *c
		n := 0
		for n < len(buf) {
			m, err := body.Read(buf[n:])
			n += m
			if err == io.EOF {
				done = true
				break
			}
			if err != nil {
				return nil, err
			}
		}
		total += n
	}
	data := make([]byte, total)
	off := 0
	for _, c := range chunks {
		off += copy(data[off:], *c)
	}
	return data, nil
}

// cappedReader reads at most max bytes and fails with ErrTooLarge on the byte
// after, counting what it actually read whatever Content-Length claimed.
type cappedReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, ErrTooLarge
	}
	if left := c.max + 1 - c.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, ErrTooLarge
	}
	return n, err
}
