package groq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// The classes of failure a caller can act on, all of them. Every error the
// Client returns wraps one of them, so errors.Is tells them apart; ErrTimeout
// is the one that also wraps another (ErrTransport: a deadline is a transport
// failure too), so a caller that tells them apart asks for ErrTimeout first.
var (
	// ErrUnauthorized: Groq refused the API key (401 or 403).
	ErrUnauthorized = errors.New("Groq rejected the API key")
	// ErrNotFound: the endpoint does not exist (404): a wrong URL, or an
	// organization without the metrics API (an Enterprise feature).
	ErrNotFound = errors.New("metrics API not found (a wrong URL, or an organization without the metrics API, an Enterprise feature)")
	// ErrRateLimited: Groq answered 429 Too Many Requests.
	ErrRateLimited = errors.New("rate-limited by Groq")
	// ErrServer: Groq answered with a 5xx status.
	ErrServer = errors.New("Groq-side failure")
	// ErrRejected: Groq refused the request itself, usually the query (other 4xx, or status "error").
	ErrRejected = errors.New("Groq rejected the query")
	// ErrBadResponse: the body is not the Prometheus API JSON that was expected
	// (HTML from a proxy, empty, truncated).
	ErrBadResponse = errors.New("unexpected response from Groq")
	// ErrResultType: a well-formed answer whose result is not an instant
	// vector (a matrix for a range selector such as foo[5m], a scalar, a
	// string): the query asks for something else than series with one value.
	ErrResultType = errors.New("the query's result is not an instant vector")
	// ErrTLSFile: a file of the HTTP client's TLS configuration (CA file,
	// client certificate or its key) cannot be read or used; nothing was
	// sent. The transport that reads them returns an error wrapping it.
	ErrTLSFile = errors.New("cannot use a TLS file")
	// ErrTooLarge: the body is larger than the configured cap.
	ErrTooLarge = errors.New("response from Groq exceeds the size limit")
	// ErrTransport: no HTTP answer at all (DNS, connection refused, timeout).
	ErrTransport = errors.New("cannot reach Groq")
	// ErrTimeout: no answer, or not all of it, before the deadline (the
	// request's timeout or the scrape's). It wraps ErrTransport.
	ErrTimeout = fmt.Errorf("%w in time", ErrTransport)
	// ErrKey: the API key could not be read or used: its file is missing,
	// unreadable, not a regular file, over MaxKeyFileBytes, or holds no
	// usable key (ParseKey); a *FileError says which and why. Nothing was
	// sent.
	ErrKey = errors.New("cannot read the Groq API key")
	// ErrRedirect: Groq's URL answered with a redirect that was not
	// followed: to another origin (scheme, host and port) than the configured
	// one, where the key must not go, or with redirects switched off.
	ErrRedirect = errors.New("redirect not followed")
)

// Error is what every failed call returns: the class of failure, the HTTP
// status when there was one, and what Groq or the body said, with anything that
// looks like a credential removed.
type Error struct {
	Kind       error         // one of the Err… values above
	Endpoint   string        // e.g. "query"
	StatusCode int           // 0 when there was no HTTP answer
	RetryAfter time.Duration // from a 429's or 503's Retry-After header
	Detail     string        // safe to log: credentials redacted, length capped
	// Cause, when set, is what failed below the class: a *FileError for
	// ErrKey. errors.Is and errors.As find it as they find Kind.
	Cause error
}

func (e *Error) Error() string {
	msg := e.Endpoint + ": " + e.Kind.Error()
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// maxDetail caps how much of an upstream message ends up in an error.
const maxDetail = 256

// minSecret is the length under which a key is not removed from texts: a
// key that short is a placeholder (a local VictoriaMetrics without
// authentication takes any), and removing it would garble every message
// without hiding anything.
const minSecret = 6

// secretsOf are the forms in which key may come back in a text, longest
// first: as it is, without Groq's gsk_ prefix, and escaped as a URL path, a
// URL query, a Go string (the net/http errors that quote a Location) and a
// JSON string. Whatever the key looks like (a Groq key or any bearer token),
// each form is removed from every text the client keeps.
func secretsOf(key string) []string {
	key = strings.TrimSpace(key)
	if len(key) < minSecret {
		return nil
	}
	out := []string{key}
	add := func(s string) {
		if len(s) >= minSecret && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if rest, ok := strings.CutPrefix(key, "gsk_"); ok && len(rest) >= 8 {
		add(rest)
	}
	add(url.PathEscape(key))
	add(url.QueryEscape(key))
	if q := strconv.Quote(key); len(q) > 2 {
		add(q[1 : len(q)-1])
	}
	if j, err := json.Marshal(key); err == nil && len(j) > 2 {
		add(string(j[1 : len(j)-1]))
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// sentSecrets are the credentials a request carried, as it went out (after
// the round trippers that add them): the token of its Authorization header
// and the URL's password, in every form secretsOf lists.
func sentSecrets(r *http.Request) []string {
	if r == nil {
		return nil
	}
	out := secretsOf(sentToken(r))
	if r.URL != nil && r.URL.User != nil {
		if p, ok := r.URL.User.Password(); ok {
			out = append(out, secretsOf(p)...)
		}
	}
	return out
}

// sentToken is the token of r's Authorization header.
func sentToken(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if _, token, ok := strings.Cut(auth, " "); ok {
		return token
	}
	return auth
}

// secretCache keeps the forms of the last key it listed: an organization
// sends the same key on every call, and listing its forms (secretsOf) takes
// a dozen allocations.
type secretCache struct {
	mu    sync.Mutex
	key   string
	forms []string
	set   bool
}

// of returns secretsOf(key). The list is shared: append to it copies it.
func (c *secretCache) of(key string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.set || key != c.key {
		c.key, c.forms, c.set = key, slices.Clip(secretsOf(key)), true
	}
	return c.forms
}

// scrub removes secrets from a text that is data (a series name, a label
// value), and nothing else: it is not a message, so it is neither escaped
// nor capped here. A series that would carry the key carries "<redacted>".
func scrub(s string, secrets []string) string {
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}

// credentialRE matches Groq API keys and bearer tokens, in case an upstream
// message or proxy page echoes a request header back.
var credentialRE = regexp.MustCompile(`(?i)(gsk_|bearer\s+)[A-Za-z0-9._~+/=-]+`)

// redact makes an upstream-provided string safe to log: the given secrets
// (the credentials the request carried) and anything that looks like a
// credential removed, control characters dropped, length capped.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		s = strings.ReplaceAll(s, secret, "<redacted>")
	}
	// White space and control characters become plain spaces before the
	// credential pattern runs, so that "Bearer\vkey" cannot slip past it.
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = credentialRE.ReplaceAllString(s, "${1}<redacted>")
	out := make([]rune, 0, min(len(s), maxDetail+1))
	for _, r := range s {
		out = append(out, r)
		if len(out) >= maxDetail {
			out = append(out, '…')
			break
		}
	}
	return string(out)
}

// errorField is the "error" of an answer, in either form Groq's side sends:
// VictoriaMetrics' (and Prometheus's) plain string, or the OpenAI-style
// object of Groq's API gateway, {"message":…,"type":…,"code":…}. Any other
// form is ignored rather than failing the decoding of the rest.
type errorField struct {
	text string
}

func (e *errorField) UnmarshalJSON(b []byte) error {
	switch b = bytes.TrimSpace(b); {
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &e.text)
	case len(b) > 0 && b[0] == '{':
		var obj struct {
			Message, Type, Code json.RawMessage
		}
		if json.Unmarshal(b, &obj) != nil {
			return nil
		}
		var extra []string
		if t := scalarText(obj.Type); t != "" {
			extra = append(extra, "type "+t)
		}
		if c := scalarText(obj.Code); c != "" {
			extra = append(extra, "code "+c)
		}
		e.text = scalarText(obj.Message)
		switch {
		case len(extra) == 0:
		case e.text == "":
			e.text = strings.Join(extra, ", ")
		default:
			e.text += " (" + strings.Join(extra, ", ") + ")"
		}
	}
	return nil
}

// scalarText is the text of a JSON string, number or boolean; "" for
// anything else (null, objects, arrays, nothing).
func scalarText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case float64, bool:
		return strings.TrimSpace(string(raw))
	}
	return ""
}

// errorBody is a non-2xx answer's body when it is JSON.
type errorBody struct {
	ErrorType string     `json:"errorType"`
	Error     errorField `json:"error"`
}

// errorMessage returns what an error body says, in Groq's own words, or ""
// when it is not JSON or names no error. errorType is put in front when it
// adds something: VictoriaMetrics' is the HTTP status again ("422"),
// Prometheus's a class ("bad_data").
func errorMessage(raw []byte, status int) string {
	var body errorBody
	// A field of an unexpected type fails Unmarshal but leaves the others set.
	_ = json.Unmarshal(raw, &body)
	if body.Error.text == "" {
		return ""
	}
	if t := body.ErrorType; t != "" && t != strconv.Itoa(status) {
		return t + ": " + body.Error.text
	}
	return body.Error.text
}
