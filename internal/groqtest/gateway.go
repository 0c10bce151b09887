package groqtest

import (
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

// Fault is a misbehaviour of the Gateway for the next requests. The fields combine: Delay applies first,
// then Hangup, then Status; Truncate applies to the proxied answer.
//
// Go's http.Transport retries a GET once on a new connection when a reused keep-alive connection is
// closed without an answer, so a single Hangup is invisible to a Go client with an idle connection: use
// Times: 2 to make it see the error.
type Fault struct {
	Times      int           // requests the fault applies to; 0 means every request until ClearFaults
	Delay      time.Duration // wait before answering (cut short when the client gives up)
	Hangup     bool          // close the connection without answering (the client sees EOF; see above)
	Status     int           // answer with this HTTP status and Body instead of asking VictoriaMetrics
	RetryAfter string        // Retry-After header sent with Status, e.g. "1"
	Body       Body          // what to answer with Status
	Truncate   bool          // ask VictoriaMetrics, but send only the first half of its JSON body
}

// Call is one request the Gateway received.
type Call struct {
	Method string
	Path   string     // below GatewayPrefix, e.g. /api/v1/query
	Form   url.Values // query string and form body
}

// Gateway is an http.Handler that behaves like Groq's metrics endpoint: it serves the Prometheus HTTP API
// paths Groq offers below GatewayPrefix by proxying them to VictoriaMetrics' /api/v1/…, requires
// "Authorization: Bearer <key>" with one of its accepted keys, answers everything else with a Groq-style
// JSON 404, and misbehaves on demand (Inject). It records every request. It is safe for concurrent use.
type Gateway struct {
	upstream *url.URL

	mu     sync.Mutex
	keys   map[string]bool
	faults []Fault
	calls  []Call
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

// SetKeys replaces the accepted API keys, e.g. to test key rotation.
func (g *Gateway) SetKeys(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys = make(map[string]bool, len(keys))
	for _, k := range keys {
		g.keys[k] = true
	}
}

// Inject queues faults. Each request is handled by the first queued fault, which is dropped once it has
// been applied Times times; a fault with Times 0 stays until ClearFaults.
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

// ServeHTTP implements http.Handler. It checks, in order: the path (404), the queued fault (as a proxy in
// front of Groq, before any key check), the key (401), the method (405); then it asks VictoriaMetrics.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	path, found := strings.CutPrefix(r.URL.EscapedPath(), GatewayPrefix)
	known := found && gatewayPaths.MatchString(path)
	key, hasBearer := bearer(r)
	g.mu.Lock()
	g.calls = append(g.calls, Call{Method: r.Method, Path: path, Form: r.Form})
	var fault Fault
	if known {
		fault = g.nextFault()
	}
	validKey := g.keys[key]
	g.mu.Unlock()

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
	if fault.Hangup {
		hangup(w)
		return
	}
	if fault.Status != 0 {
		writeFault(w, fault)
		return
	}
	switch {
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
	g.proxy(w, r, path, fault.Truncate)
}

// nextFault returns the fault for this request and uses it up; g.mu must be held.
func (g *Gateway) nextFault() Fault {
	if len(g.faults) == 0 {
		return Fault{}
	}
	f := g.faults[0]
	if f.Times > 0 {
		g.faults[0].Times--
		if g.faults[0].Times == 0 {
			g.faults = g.faults[1:]
		}
	}
	return f
}

func bearer(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", false
	}
	return key, true
}

// proxy asks VictoriaMetrics the same question at /api/v1/… and copies its status, content type and body.
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request, path string, truncate bool) {
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
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		writeError(w, http.StatusBadGateway, "metrics backend unavailable")
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		writeError(w, http.StatusBadGateway, "metrics backend unavailable")
		return
	}
	if truncate {
		data = data[:len(data)/2]
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(resp.StatusCode)
	w.Write(data)
}

// writeError answers like Groq: {"status":"error","errorType":"unauthorized","error":"…"}, errorType being
// the status text in snake case.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", strings.ReplaceAll(strings.ToLower(http.StatusText(code)), " ", "_"), msg})
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	text := fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
	switch f.Body {
	case JSONError:
		writeError(w, f.Status, strings.ToLower(http.StatusText(f.Status)))
	case HTMLPage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", text, text)
	case PlainText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(f.Status)
		fmt.Fprintln(w, text)
	case EmptyBody:
		w.WriteHeader(f.Status)
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
