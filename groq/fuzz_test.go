package groq

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets. Plain `go test` runs the seeds below and the corpus in
// testdata/fuzz/<Target>; `go test -fuzz=<Target>` searches for more.

// staticTransport answers every request with one canned response, without a
// network, so that the fuzzer can run the client's whole read path quickly.
type staticTransport struct {
	status      int
	contentType string
	body        []byte
}

func (s staticTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // as prometheus/common's round tripper adds the key
	r.Header.Set("Authorization", "Bearer "+testKey)
	h := http.Header{}
	if s.contentType != "" {
		h.Set("Content-Type", s.contentType)
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: io.NopCloser(bytes.NewReader(s.body)),
		ContentLength: int64(len(s.body)), Request: r}, nil
}

var fuzzQuerySeeds = []string{
	okBody,
	`{"status":"success","data":{"resultType":"vector","result":[]}}`,
	`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"requests:rate1m","model":"\u00e9\ud800"},"value":[1.5,"1e308"]}]}}`,
	`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0x1p-2"]},{"metric":{},"value":[1,"-0"]}]}}`,
	`{"status":"error","errorType":"bad_data","error":"Authorization: Bearer ` + testKey + `"}`,
	`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`,
	`{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`,
	`{"status":"success","data":{"result":[{"metric":{},"value":[1,"1"]}],"resultType":"string"}}`,
	`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1",2]}]}}`,
	`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[]}]}}`,
	`{"status":"success","data":{"resultType":"Bearer ` + testKey + `","result":1}}`,
	`{"status":"success","data":{"resultType":"` + strings.Repeat("m", 300) + `"}}`,
	`<html><body>502 Bad Gateway</body></html>`,
	``,
	`null`,
	`{"status":"success","data":null}`,
	`{"status":"success","data":{"resultType":"vector","result":[` + strings.Repeat(`{"metric":{},"value":[1,"1"]},`, 40),
}

// FuzzQuery: whatever status and body Groq or a proxy answers, Query returns
// either samples or an *Error of exactly one class whose message is safe to
// log: no control characters, bounded length, no credential.
func FuzzQuery(f *testing.F) {
	for _, s := range fuzzQuerySeeds {
		f.Add(200, "application/json", []byte(s))
	}
	f.Add(401, "application/json", []byte(`{"status":"error","errorType":"401","error":"bad key `+testKey+`"}`))
	f.Add(429, "text/plain", []byte("slow down"))
	f.Add(503, "text/html; charset=utf-8", []byte("<html>gsk_x</html>"))
	f.Add(302, "", []byte(nil))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return // net/http never hands such a status to a client
		}
		c, err := New(Config{URL: "http://groq.invalid", MaxRetries: -1, MaxResponseBytes: 4 << 10,
			HTTPClient: &http.Client{Transport: staticTransport{status, contentType, body}}})
		if err != nil {
			t.Fatal(err)
		}
		samples, err := c.Query(context.Background(), "up")
		if err == nil {
			if status/100 != 2 {
				t.Fatalf("status %d accepted", status)
			}
			for _, s := range samples {
				if math.IsNaN(s.Value) && !bytes.Contains(bytes.ToLower(body), []byte("nan")) {
					t.Fatalf("NaN out of a body without one")
				}
			}
			return
		}
		var gerr *Error
		if !errors.As(err, &gerr) {
			t.Fatalf("error %T %v is not a *groq.Error", err, err)
		}
		kinds := 0
		for _, k := range []error{ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrServer, ErrRejected, ErrBadResponse, ErrTooLarge, ErrTransport, ErrRedirect, ErrKey} {
			if errors.Is(err, k) {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("error %v is of %d classes", err, kinds)
		}
		checkSafe(t, gerr.Detail)
	})
}

// checkSafe fails if s is not fit for a log line or could carry a credential.
func checkSafe(t *testing.T, s string) {
	t.Helper()
	if n := utf8.RuneCountInString(s); n > maxDetail+1 {
		t.Fatalf("detail of %d characters, more than %d", n, maxDetail+1)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("detail %q has a control character", s)
		}
	}
	if strings.Contains(s, testKey[4:]) {
		t.Fatalf("detail %q shows the key", s)
	}
	for _, m := range credentialRE.FindAllString(s, -1) {
		if !strings.HasSuffix(m, "<redacted>") && !strings.HasSuffix(strings.ToLower(m), "bearer") {
			t.Fatalf("detail %q still holds %q", s, m)
		}
	}
}

// FuzzRedact: a Groq key or bearer token anywhere in a message is gone after
// redact, whatever surrounds it.
func FuzzRedact(f *testing.F) {
	f.Add("error: ", "gsk_", "abcDEF0123456789", " rest")
	f.Add("Authorization: ", "Bearer ", "abc.def~ghi", "")
	f.Add("\x00\n", "bearer\t\t", "xyz", "\xff\xfe")
	f.Add(strings.Repeat("x", 250), "GSK_", "0123456789", "")
	f.Fuzz(func(t *testing.T, before, prefix, key, after string) {
		lp := strings.ToLower(prefix)
		if lp != "gsk_" && (!strings.HasPrefix(lp, "bearer") || strings.TrimSpace(prefix[6:]) != "" || len(prefix) == 6) {
			return
		}
		if len(key) < 8 || strings.Trim(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-") != "" {
			return
		}
		if strings.Contains(before+prefix, key) || strings.Contains(after, key) {
			return
		}
		out := redact(before + prefix + key + after)
		if strings.Contains(out, key) {
			t.Fatalf("redact(%q) = %q keeps the key", before+prefix+key+after, out)
		}
		checkSafe(t, out)
	})
}
