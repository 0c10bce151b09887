package groqtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// EmptyVector is a successful instant-query answer without series.
const EmptyVector = `{"status":"success","data":{"resultType":"vector","result":[]}}`

// Origin is a plain HTTP server on a loopback port that records the Authorization header of every request
// it receives. Without a redirect it answers every request with EmptyVector, standing for a server that a
// redirect from Groq's URL leads to (does the key arrive there?); with one (RedirectForTest) it answers
// every request with that redirect, standing for a Groq URL that moved. It is safe for concurrent use.
type Origin struct {
	*httptest.Server
	code int    // redirect status; 0 answers EmptyVector
	to   string // base URL the request URI is appended to

	mu    sync.Mutex
	auths []string
}

// OriginForTest starts an Origin that answers EmptyVector; it is closed when the test ends.
func OriginForTest(t testing.TB) *Origin {
	return startOrigin(t, 0, "")
}

// RedirectForTest starts an Origin that answers every request with code (301, 302, 307, 308) and a
// Location of to followed by the request's path and query; it is closed when the test ends.
func RedirectForTest(t testing.TB, code int, to string) *Origin {
	return startOrigin(t, code, strings.TrimRight(to, "/"))
}

func startOrigin(t testing.TB, code int, to string) *Origin {
	t.Helper()
	o := &Origin{code: code, to: to}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

func (o *Origin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.auths = append(o.auths, r.Header.Get("Authorization"))
	o.mu.Unlock()
	if o.code != 0 {
		http.Redirect(w, r, o.to+r.URL.RequestURI(), o.code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, EmptyVector)
}

// Authorizations returns the Authorization header of each request received, oldest first ("" for a
// request without one).
func (o *Origin) Authorizations() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.auths...)
}
