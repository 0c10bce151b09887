package groqtest

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GatewayPrefix is the path under which Groq serves its Prometheus HTTP API.
const GatewayPrefix = "/v1/metrics/prometheus"

// gatewayPaths are the API paths Groq offers below GatewayPrefix.
var gatewayPaths = regexp.MustCompile(`^/api/v1/(query|query_range|series|labels|label/[^/]+/values|status/tsdb)$`)

// Body is the kind of body a Fault answers with.
type Body int

const (
	JSONError Body = iota // {"status":"error","errorType":"…","error":"…"}, as Groq answers
	HTMLPage              // a text/html error page, as a load balancer in front answers
	PlainText             // a one-line text/plain message
	EmptyBody             // no body at all
)

// Fault is a misbehaviour of the Gateway for the next requests, or an answer it gives instead of the one
// its series would give. The fields combine: Delay applies first, then Block, Hang, Hangup, then the answer
// (Status, Text, Endless or Trickle); Truncate applies to the answer from the series.
//
// Go's http.Transport retries a GET once on a new connection when a reused keep-alive connection is
// closed without an answer, so a single Hangup is invisible to a Go client with an idle connection: use
// Times: 2 to make it see the error.
type Fault struct {
	Times  int             // requests the fault applies to; 0 means every request until ClearFaults
	Query  string          // if set, the fault applies only to requests whose query is exactly this expression
	Delay  time.Duration   // wait before answering (cut short when the client gives up)
	Block  <-chan struct{} // wait until this is closed before answering (cut short when the client gives up)
	Hang   bool            // accept the request and never answer, until the client gives up
	Hangup bool            // close the connection without answering (the client sees EOF; see above)

	// Status answers with this HTTP status instead of the series: with Text if set, else with a body of
	// kind Body. With Text, Endless or Trickle set, it defaults to 200.
	Status     int
	RetryAfter string            // Retry-After header sent with the answer, e.g. "1" or an HTTP date
	Header     map[string]string // more headers sent with the answer, e.g. Content-Type
	Body       Body              // what to answer with Status when Text is empty
	Text       string            // the body, verbatim (no Content-Type unless Header sets one)
	// Echo replaces, in Text and in the Header values, ${authorization} with the request's Authorization
	// header, ${key} with its bearer key and ${key#gsk_} with that key without the gsk_ prefix: what a
	// careless upstream or proxy that repeats the credential would answer.
	Echo bool

	Endless       int64         // answer with a body of this many bytes: a vector that never closes (see Endless)
	ContentLength bool          // with Endless: announce its length in Content-Length
	Trickle       time.Duration // start a vector answer, then send one space per Trickle until the client goes away

	Truncate bool // answer from the series, but send only the first half of the body
}

// answers says whether the fault replaces the answer from the series.
func (f Fault) answers() bool {
	return f.Status != 0 || f.Text != "" || f.Endless > 0 || f.Trickle > 0
}

// Call is one request the Gateway received.
type Call struct {
	Method string
	Path   string      // below GatewayPrefix, e.g. /api/v1/query
	Form   url.Values  // query string and form body
	Header http.Header // the request's headers, Authorization included
	Time   time.Time   // when it arrived
	// Written is how many body bytes the Gateway wrote; final once the request is done (after
	// GatewayServer.Close, for one the client gave up on).
	Written int64
}

// Query returns the request's MetricsQL expression (the query parameter).
func (c Call) Query() string { return c.Form.Get("query") }

// Gateway is an http.Handler that behaves like Groq's metrics endpoint: it serves the Prometheus HTTP API
// paths Groq offers below GatewayPrefix, requires "Authorization: Bearer <key>" with one of its accepted
// keys (any request, with or without a key, when it has none), answers everything else with a Groq-style
// JSON 404, and misbehaves on demand (Inject). It records every request. It is safe for concurrent use.
//
// A Gateway from NewGateway proxies to VictoriaMetrics' /api/v1/…; one from NewFake answers from the samples
// it is given (see NewFake).
type Gateway struct {
	upstream *url.URL // nil for a fake

	mu      sync.Mutex
	keys    map[string]bool
	faults  []Fault
	calls   []Call
	series  []Sample
	answers map[string][]Sample
}

// NewGateway returns a Gateway in front of the VictoriaMetrics at upstream (its base URL) accepting keys.
func NewGateway(upstream string, keys ...string) (*Gateway, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("gateway upstream %q is not a URL", upstream)
	}
	g := &Gateway{upstream: u}
	g.SetKeys(keys...)
	return g, nil
}

// SetKeys replaces the accepted API keys, e.g. to test key rotation. With none, every request is accepted.
func (g *Gateway) SetKeys(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys = make(map[string]bool, len(keys))
	for _, k := range keys {
		g.keys[k] = true
	}
}

// Inject queues faults. Each request is handled by the first queued fault that applies to it (see
// Fault.Query), which is dropped once it has been applied Times times; a fault with Times 0 stays until
// ClearFaults.
func (g *Gateway) Inject(faults ...Fault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, faults...)
}

// ClearFaults drops all queued faults.
func (g *Gateway) ClearFaults() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = nil
}

// Requests returns the number of requests received, whatever they were answered with.
func (g *Gateway) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// Calls returns the requests received, oldest first.
func (g *Gateway) Calls() []Call {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Call(nil), g.calls...)
}

// CallsFor returns the number of requests whose query was exactly expr.
func (g *Gateway) CallsFor(expr string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.calls {
		if c.Query() == expr {
			n++
		}
	}
	return n
}

// ServeHTTP implements http.Handler. It checks, in order: the path (404), the queued fault (as a proxy in
// front of Groq, before any key check), the key (401), the method (405); then it answers from its series
// or asks VictoriaMetrics.
func (g *Gateway) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	path, found := strings.CutPrefix(r.URL.EscapedPath(), GatewayPrefix)
	known := found && gatewayPaths.MatchString(path)
	key, hasBearer := bearer(r)
	g.mu.Lock()
	call := len(g.calls)
	g.calls = append(g.calls, Call{Method: r.Method, Path: path, Form: r.Form, Header: r.Header.Clone(), Time: time.Now()})
	var fault Fault
	if known {
		fault = g.nextFault(r.Form.Get("query"))
	}
	open, validKey := len(g.keys) == 0, g.keys[key]
	g.mu.Unlock()

	w := &countingWriter{ResponseWriter: rw}
	defer func() {
		g.mu.Lock()
		g.calls[call].Written = w.n
		g.mu.Unlock()
	}()
	if !known {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown path %s", r.URL.Path))
		return
	}
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault.Block != nil {
		select {
		case <-fault.Block:
		case <-r.Context().Done():
			return
		}
	}
	if fault.Hang {
		<-r.Context().Done()
		return
	}
	if fault.Hangup {
		hangup(w)
		return
	}
	if fault.answers() {
		writeFault(w, r, fault)
		return
	}
	switch {
	case open:
	case !hasBearer:
		writeError(w, http.StatusUnauthorized, `missing API key: send the header "Authorization: Bearer <API key>"`)
		return
	case !validKey:
		writeError(w, http.StatusUnauthorized, "invalid API key")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use GET or POST")
		return
	}
	var a answer
	if g.upstream != nil {
		a = g.proxy(r, path)
	} else {
		a = g.fromSeries(r, path)
	}
	if fault.Truncate {
		a.body = a.body[:len(a.body)/2]
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// nextFault returns the fault for a request with query expr and uses it up; g.mu must be held.
func (g *Gateway) nextFault(expr string) Fault {
	for i, f := range g.faults {
		if f.Query != "" && f.Query != expr {
			continue
		}
		if f.Times > 0 {
			g.faults[i].Times--
			if g.faults[i].Times == 0 {
				g.faults = append(g.faults[:i:i], g.faults[i+1:]...)
			}
		}
		return f
	}
	return Fault{}
}

func bearer(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", false
	}
	return key, true
}

// answer is what the Gateway answers a request with, before any Truncate.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// errorAnswer is a Groq-style error (see writeError).
func errorAnswer(code int, msg string) answer {
	return answer{code, "application/json", errorBody(code, msg)}
}

// proxy asks VictoriaMetrics the same question at /api/v1/… and returns its status, content type and body.
func (g *Gateway) proxy(r *http.Request, path string) answer {
	u := strings.TrimSuffix(g.upstream.String(), "/") + path
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	var body io.Reader
	if r.Method == http.MethodPost {
		body = strings.NewReader(r.PostForm.Encode())
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, body)
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, err.Error())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errorAnswer(http.StatusBadGateway, "metrics backend unavailable")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return errorAnswer(http.StatusBadGateway, "metrics backend unavailable")
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), data}
}

// errorBody is a Groq error: {"status":"error","errorType":"unauthorized","error":"…"}, errorType being
// the status text in snake case.
func errorBody(code int, msg string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", strings.ReplaceAll(strings.ToLower(http.StatusText(code)), " ", "_"), msg})
	return b.Bytes()
}

// writeError answers like Groq (see errorBody).
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(errorBody(code, msg))
}

func writeFault(w http.ResponseWriter, r *http.Request, f Fault) {
	expand := func(s string) string { return s }
	if f.Echo {
		auth := r.Header.Get("Authorization")
		key, _ := bearer(r)
		expand = strings.NewReplacer("${authorization}", auth, "${key}", key, "${key#gsk_}", strings.TrimPrefix(key, "gsk_")).Replace
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	for k, v := range f.Header {
		w.Header().Set(k, expand(v))
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case f.Endless > 0:
		if f.ContentLength {
			w.Header().Set("Content-Length", strconv.FormatInt(f.Endless, 10))
		}
		w.WriteHeader(status)
		io.Copy(w, Endless(f.Endless))
		return
	case f.Trickle > 0:
		w.WriteHeader(status)
		trickle(w, r, f.Trickle)
		return
	case f.Text != "":
		w.WriteHeader(status)
		io.WriteString(w, expand(f.Text))
		return
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	switch f.Body {
	case JSONError:
		writeError(w, status, strings.ToLower(http.StatusText(status)))
	case HTMLPage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", text, text)
	case PlainText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, text)
	case EmptyBody:
		w.WriteHeader(status)
	}
}

// trickle starts a successful answer, then sends a space every interval until the client goes away: a
// body that never ends.
func trickle(w http.ResponseWriter, r *http.Request, every time.Duration) {
	rc := http.NewResponseController(w)
	io.WriteString(w, vectorHead)
	for {
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(every):
		}
	}
}

// hangup closes the client's connection without writing anything.
func hangup(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	conn.Close()
}

// countingWriter counts the body bytes written; http.ResponseController reaches the writer below through
// Unwrap.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// GatewayServer serves a Gateway on a loopback httptest server that can be taken down and brought back on
// the same address.
type GatewayServer struct {
	*Gateway
	*httptest.Server
	ln *switchListener
}

// Start serves the Gateway on addr (host:port; "" for a free 127.0.0.1 port).
func (g *Gateway) Start(addr string) (*GatewayServer, error) { return g.start(addr, nil) }

// StartTLS serves the Gateway over HTTPS with cert (see CA.Issue) on addr ("" for a free 127.0.0.1
// port). Its URL starts with https://127.0.0.1:port; a client reaches it under a name of cert.
func (g *Gateway) StartTLS(addr string, cert tls.Certificate) (*GatewayServer, error) {
	return g.start(addr, &tls.Config{Certificates: []tls.Certificate{cert}})
}

func (g *Gateway) start(addr string, tlsConfig *tls.Config) (*GatewayServer, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := newSwitchListener(addr)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(g)
	srv.Listener.Close()
	srv.Listener = ln
	if tlsConfig != nil {
		srv.TLS = tlsConfig
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return &GatewayServer{Gateway: g, Server: srv, ln: ln}, nil
}

// GatewayForTest starts a Gateway in front of vm accepting keys, or fails the test; it is closed when the
// test ends.
func GatewayForTest(t testing.TB, vm *VictoriaMetrics, keys ...string) *GatewayServer {
	t.Helper()
	g, err := NewGateway(vm.URL, keys...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// BaseURL is what the exporter takes as --groq.url: the server URL plus GatewayPrefix.
func (s *GatewayServer) BaseURL() string { return s.URL + GatewayPrefix }

// Down closes the listening socket and every open connection: new connections are refused until Up.
func (s *GatewayServer) Down() {
	s.ln.down()
	s.CloseClientConnections()
}

// Up listens again on the same address after Down.
func (s *GatewayServer) Up() error { return s.ln.up() }

// switchListener is a net.Listener whose socket can be closed and reopened on the same address while the
// http.Server using it keeps running: while it is down, Accept waits.
type switchListener struct {
	addr net.Addr

	mu      sync.Mutex
	ln      net.Listener  // nil while down
	changed chan struct{} // closed and replaced on every change of ln or closed
	closed  bool
}

func newSwitchListener(addr string) (*switchListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &switchListener{addr: ln.Addr(), ln: ln, changed: make(chan struct{})}, nil
}

func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		ln, changed, closed := l.ln, l.changed, l.closed
		l.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		if ln == nil {
			<-changed
			continue
		}
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		select {
		case <-changed: // taken down or closed meanwhile
		default:
			return nil, err
		}
	}
}

// wake tells a waiting Accept that ln or closed changed; l.mu must be held. It must come before closing
// the old socket, so that Accept knows the error from that socket is expected.
func (l *switchListener) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *switchListener) down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.wake()
		l.ln.Close()
		l.ln = nil
	}
}

func (l *switchListener) up() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil || l.closed {
		return nil
	}
	ln, err := net.Listen("tcp", l.addr.String())
	if err != nil {
		return fmt.Errorf("gateway listen again on %s: %w", l.addr, err)
	}
	l.ln = ln
	l.wake()
	return nil
}

func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		l.wake()
		if l.ln != nil {
			l.ln.Close()
			l.ln = nil
		}
	}
	return nil
}

func (l *switchListener) Addr() net.Addr { return l.addr }
