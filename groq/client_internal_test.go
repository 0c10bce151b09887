package groq

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// The tests of the client that need no upstream; those that talk to one are in package groq_test
// (client_test.go), with the fake Groq of internal/groqtest.

// testKey is a credential in Groq's format; no error may ever show it.
const testKey = "gsk_TESTKEY0123456789abcdefABCDEF"

const okBody = `{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[
 {"metric":{"__name__":"requests:rate1m","model":"llama","status_code":"200"},"value":[1764430000,"12.5"]},
 {"metric":{"__name__":"ttft_latency_seconds:p99:rate5m","model":"llama"},"value":[1764430000.123,"NaN"]},
 {"metric":{"__name__":"tokens_in:p50:rate5m","model":"llama"},"value":[1764430000,"+Inf"]},
 {"metric":{"__name__":"tokens_out:p50:rate5m","model":"llama"},"value":[1764430000, "-Inf"]}
]},"stats":{"seriesFetched":"4","executionTimeMsec":1}}`

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
