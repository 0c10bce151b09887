package groq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many redirects within the configured origin are
// followed, as net/http's default.
const maxRedirects = 10

// origin is the scheme, host and port of a URL: where the key may go.
type origin struct{ scheme, host, port string }

func originOf(u *url.URL) origin {
	o := origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	if o.port == "" {
		switch o.scheme {
		case "http":
			o.port = "80"
		case "https":
			o.port = "443"
		}
	}
	return o
}

func (o origin) String() string {
	return o.scheme + "://" + net.JoinHostPort(o.host, o.port)
}

// InClear reports whether the key travels unencrypted beyond this machine:
// plain http:// to a host that is not loopback.
func (c *Client) InClear() bool {
	return c.origin.scheme == "http" && !c.Loopback()
}

// Loopback reports whether the URL's host is this machine (localhost, or a
// loopback address), where the key does not travel.
func (c *Client) Loopback() bool {
	if c.origin.host == "localhost" {
		return true
	}
	ip := net.ParseIP(c.origin.host)
	return ip != nil && ip.IsLoopback()
}

// guard wraps hc so that the key goes to the configured origin only: its
// transport adds the key to requests for that origin and removes any
// Authorization header from the others, and redirects to another origin are
// not followed (Do fails with ErrRedirect). Redirects within the origin
// follow hc's own policy.
func (c *Client) guard(hc *http.Client, keyFile, key string) *http.Client {
	g := *hc
	next := g.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	g.Transport = &keyTransport{next: next, origin: c.origin, keyFile: keyFile, key: strings.TrimSpace(key)}
	policy := hc.CheckRedirect
	g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if policy != nil {
			if err := policy(req, via); err != nil {
				return err // not followed (http.ErrUseLastResponse: the 3xx is the answer)
			}
		}
		if o := originOf(req.URL); o != c.origin {
			return &redirectError{to: req.URL, code: req.Response.StatusCode,
				why: fmt.Sprintf("another origin than %s, the configured one: the key goes nowhere else", c.origin)}
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &g
}

// redirectError is what the redirect policy returns for a redirect it does
// not follow.
type redirectError struct {
	to   *url.URL
	code int
	why  string
}

func (e *redirectError) Error() string { return "to " + e.detail(nil) }

func (e *redirectError) detail(secrets []string) string { return showURL(e.to, secrets) + ", " + e.why }

func (e *redirectError) Unwrap() error { return ErrRedirect }

// showURL is a URL without its credentials, query and fragment: where a
// redirect pointed, fit to log. Its path is shown unescaped, so that the
// secrets are found in it whatever escaping the Location used.
func showURL(u *url.URL, secrets []string) string {
	if u == nil {
		return "an unknown location"
	}
	return redact(u.Scheme+"://"+u.Host+u.Path, secrets...)
}

// redirectAnswer describes a 3xx answer the HTTP client did not follow
// (follow_redirects: false).
func redirectAnswer(endpoint string, resp *http.Response, secrets []string) *Error {
	to := "no Location"
	if loc, err := resp.Location(); err == nil {
		to = showURL(loc, secrets)
	} else if resp.Header.Get("Location") != "" {
		to = "a Location that is not a URL"
	}
	return &Error{Kind: ErrRedirect, Endpoint: endpoint, StatusCode: resp.StatusCode,
		Detail: "to " + to + "; redirects are not followed (follow_redirects is false)"}
}

// keyTransport adds "Authorization: Bearer <key>" to requests for the
// configured origin, reading the key file again for each (ReadKeyFile: a
// file that is not a regular one, too large or slow to read fails the
// request with a *FileError, and nothing is sent), and sends requests
// for any other origin without an Authorization header.
type keyTransport struct {
	next         http.RoundTripper
	origin       origin
	keyFile, key string
}

func (t *keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if originOf(r.URL) != t.origin {
		if r.Header.Get("Authorization") == "" {
			return t.next.RoundTrip(r)
		}
		r = r.Clone(r.Context())
		r.Header.Del("Authorization")
		return t.next.RoundTrip(r)
	}
	key := t.key
	if t.keyFile != "" {
		var err error
		if key, err = ReadKeyFile(r.Context(), t.keyFile); err != nil {
			return nil, err
		}
	}
	if key == "" {
		return t.next.RoundTrip(r)
	}
	if sent, ok := r.Context().Value(sentKeyContext{}).(*sentKey); ok {
		sent.set(key)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+key)
	return t.next.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport below.
func (t *keyTransport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
