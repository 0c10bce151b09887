package groq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
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
		for _, k := range []error{ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrServer, ErrRejected, ErrBadResponse, ErrTooLarge, ErrTransport, ErrRedirect, ErrKey, ErrTLSFile, ErrResultType} {
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

// refAnswer decodes an answer with encoding/json alone, strictly: every label
// a string, every value [number, "number" or number]. It is what DecodeAnswer
// must agree with whenever it succeeds.
func refAnswer(body []byte) ([]Sample, bool) {
	var resp struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  []json.RawMessage
			}
		}
	}
	if json.Unmarshal(body, &resp) != nil || resp.Status != "success" || resp.Data.ResultType != "vector" {
		return nil, false
	}
	out := []Sample{}
	for _, s := range resp.Data.Result {
		if len(s.Value) != 2 || len(s.Value[0]) == 0 || s.Value[0][0] != '-' && (s.Value[0][0] < '0' || s.Value[0][0] > '9') {
			return nil, false
		}
		text := string(s.Value[1])
		if json.Unmarshal(s.Value[1], &text) != nil && (text[0] != '-' && (text[0] < '0' || text[0] > '9')) {
			return nil, false
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, Sample{Labels: LabelsFromMap(s.Metric), Value: v})
	}
	return out, true
}

// FuzzDecodeAnswer: on any body, DecodeAnswer either fails or accounts for
// every element of the result (returned or dropped, with a safe example per
// reason), and no name or value it returns holds the key the request sent;
// where strict encoding/json decoding succeeds, it returns exactly the same
// samples (the key's forms replaced) and drops nothing.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range fuzzQuerySeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		vector(goodSeries, `{"metric":{"status_code":200,"a":true,"b":null,"c":{}},"value":[1,"1e400"]}`, `{"metric":{}}`, `1`),
		vector(`{"METRIC":{"m\u0065":"\ud800\"\\"},"Value":[1,"\u0031"],"x":[{"value":[1,"2"]}]}`, `{"metric":{"a":"1"},"metric":{"b":"2"},"value":[1,2]}`),
		`{"status":"success","isPartial":true,"warnings":["a","b"],"data":{"result":[{"metric":null,"value":[-1e3,"NaN"]}],"resultType":"vector"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(vector(`{"metric":{"__name__":"` + testKey + `","m":"a` + testKey[4:] + `b","` + testKey + `":"x"},"value":[1,"1"]}`)))
	// As the client decodes: knowing the key the request carried.
	sent := &http.Request{Header: http.Header{"Authorization": {"Bearer " + testKey}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeAnswer(bytes.NewReader(body), sentSecrets(sent))
		ref, refOK := refAnswer(body)
		if err != nil {
			if refOK {
				t.Fatalf("DecodeAnswer failed (%v) where encoding/json decodes %d samples", err, len(ref))
			}
			var gerr *Error
			if errors.As(err, &gerr) {
				checkSafe(t, gerr.Detail)
			}
			return
		}
		var whole struct {
			Data struct{ Result []json.RawMessage }
		}
		if json.Unmarshal(body, &whole) == nil {
			n := len(a.Samples)
			for reason, k := range a.Dropped {
				if k <= 0 || a.DropExamples[reason] == "" {
					t.Fatalf("reason %q: %d dropped, example %q", reason, k, a.DropExamples[reason])
				}
				n += k
			}
			if n != len(whole.Data.Result) {
				t.Fatalf("%d elements in the result, %d samples + dropped %v", len(whole.Data.Result), len(a.Samples), a.Dropped)
			}
		}
		for _, s := range a.DropExamples {
			checkSafe(t, s)
		}
		for _, s := range a.Warnings {
			checkSafe(t, s)
		}
		secrets := sentSecrets(sent)
		for _, s := range a.Samples {
			for _, l := range s.Labels {
				for _, secret := range secrets {
					if strings.Contains(l.Name, secret) || strings.Contains(l.Value, secret) {
						t.Fatalf("label %q=%q holds the key", l.Name, l.Value)
					}
				}
			}
		}
		if !refOK {
			return
		}
		for _, s := range ref {
			for _, l := range s.Labels {
				if scrub(l.Name, secrets) != l.Name || scrub(l.Value, secrets) != l.Value {
					return // encoding/json keeps the key; which label a collision keeps is not compared
				}
			}
		}
		if a.Dropped != nil || len(a.Samples) != len(ref) {
			t.Fatalf("%d samples and dropped %v (%v), encoding/json gives %d", len(a.Samples), a.Dropped, a.DropExamples, len(ref))
		}
		for i, s := range a.Samples {
			r := ref[i]
			if !slices.Equal(s.Labels, r.Labels) || s.Value != r.Value && !(math.IsNaN(s.Value) && math.IsNaN(r.Value)) {
				t.Fatalf("sample %d: %q %v, encoding/json gives %q %v", i, s.Labels, s.Value, r.Labels, r.Value)
			}
		}
	})
}
