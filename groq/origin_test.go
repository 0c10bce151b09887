package groq_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonconfig "github.com/prometheus/common/config"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestRedirectElsewhereNotFollowed: Groq's URL answers a redirect to
// another origin, on the same host and another port or on another host; the
// client does not follow it, so the other server receives nothing (no key),
// and the error says what happened, where it pointed, and is ErrRedirect.
// prometheus/common's client, as the exporter builds it, follows redirects
// and adds the key to every hop: this is what keeps the key home.
func TestRedirectElsewhereNotFollowed(t *testing.T) {
	hc, err := commonconfig.NewClientFromConfig(commonconfig.DefaultHTTPClientConfig, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{301, 302, 307, 308} {
		for _, where := range []string{"same host, other port", "other host"} {
			t.Run(fmt.Sprintf("%d %s", code, where), func(t *testing.T) {
				other := groqtest.OriginForTest(t)
				to := other.URL
				if where == "other host" {
					to = strings.Replace(to, "127.0.0.1", "localhost", 1)
				}
				moved := groqtest.RedirectForTest(t, code, to)
				c, rec := newTestClient(t, moved.URL+"/v1", func(c *groq.Config) { c.HTTPClient = hc; c.Key = groq.TestKey })
				_, err := c.Query(context.Background(), "up")
				checkErr(t, err, groq.ErrRedirect, code, "another origin")
				if !strings.Contains(err.Error(), to+"/v1/api/v1/query") || strings.Contains(err.Error(), "query=") {
					t.Errorf("error %q does not say where the redirect pointed (without the query)", err)
				}
				if got := other.Authorizations(); len(got) != 0 {
					t.Errorf("the other origin received %d requests (Authorization %q), want none", len(got), got)
				}
				if got := moved.Authorizations(); len(got) != 1 || got[0] != "Bearer "+groq.TestKey {
					t.Errorf("the configured origin received %q, want the key once (not retried)", got)
				}
				if reqs, _ := rec.counts(); len(reqs) != 1 || reqs[0] != fmt.Sprintf("query %d", code) {
					t.Errorf("observer saw %v, want one request answered %d", reqs, code)
				}
			})
		}
	}
}

// TestRedirectWithinOriginFollowed: a redirect to another path of the same
// origin is followed with the key, and the answer there is used.
func TestRedirectWithinOriginFollowed(t *testing.T) {
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		if !strings.HasPrefix(r.URL.Path, "/new/") {
			http.Redirect(w, r, "/new"+r.URL.RequestURI(), http.StatusPermanentRedirect)
			return
		}
		_, _ = io.WriteString(w, groq.OKBody)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL+"/v1", func(c *groq.Config) { c.Key = groq.TestKey })
	if _, err := c.Query(context.Background(), "up"); err != nil {
		t.Fatal(err)
	}
	if len(auths) != 2 || auths[1] != "Bearer "+groq.TestKey {
		t.Errorf("Authorization of the two hops %q, want the key on both", auths)
	}
}

// TestRedirectsSwitchedOff: with follow_redirects: false, a redirect is not
// followed even within the origin, and says so.
func TestRedirectsSwitchedOff(t *testing.T) {
	cfg := commonconfig.DefaultHTTPClientConfig
	cfg.FollowRedirects = false
	hc, err := commonconfig.NewClientFromConfig(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	target := groqtest.OriginForTest(t)
	moved := groqtest.RedirectForTest(t, http.StatusMovedPermanently, target.URL)
	c, _ := newTestClient(t, moved.URL, func(c *groq.Config) { c.HTTPClient = hc; c.Key = groq.TestKey })
	_, err = c.Query(context.Background(), "up")
	checkErr(t, err, groq.ErrRedirect, http.StatusMovedPermanently, "follow_redirects is false")
	if len(target.Authorizations()) != 0 {
		t.Error("the redirect was followed")
	}
}

// TestKeyFileGoneOrEmpty: a key file that becomes empty or unreadable while
// running fails the call as ErrKey, naming the file, and sends nothing (an
// empty key is never sent); a restored file works at once.
func TestKeyFileGoneOrEmpty(t *testing.T) {
	origin := groqtest.OriginForTest(t)
	file := filepath.Join(t.TempDir(), "key")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(groq.TestKey + "\n")
	c, rec := newTestClient(t, origin.URL, func(c *groq.Config) { c.KeyFile = file })
	if _, err := c.Query(context.Background(), "up"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, say string
		break_    func()
	}{
		{"emptied", "is empty", func() { write(" \n") }},
		{"removed", "no such file", func() { os.Remove(file) }},
		{"a directory", "is a directory", func() { os.Mkdir(file, 0o700) }},
	} {
		tc.break_()
		_, err := c.Query(context.Background(), "up")
		if !errors.Is(err, groq.ErrKey) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.say) {
			t.Errorf("%s: error %v, want ErrKey naming %s and saying %q", tc.name, err, file, tc.say)
		}
		if errors.Is(err, groq.ErrTransport) {
			t.Errorf("%s: error %v says Groq cannot be reached", tc.name, err)
		}
		os.RemoveAll(file)
	}
	if got := origin.Authorizations(); len(got) != 1 {
		t.Errorf("%d requests sent, want only the first: %q", len(got), got)
	}
	if reqs, retries := rec.counts(); len(reqs) != 1 || retries != 0 {
		t.Errorf("observer saw %v and %d retries, want the first request only", reqs, retries)
	}
	write(groq.TestKey)
	if _, err := c.Query(context.Background(), "up"); err != nil {
		t.Errorf("restored key file: %v", err)
	}
}

func TestInClear(t *testing.T) {
	for u, want := range map[string]bool{
		"https://api.groq.com/v1":     false,
		"http://api.groq.com/v1":      true,
		"http://10.0.0.7:8428":        true,
		"http://127.0.0.1:8428":       false,
		"http://127.5.0.1:8428":       false,
		"http://[::1]:8428":           false,
		"http://localhost:8428/v1":    false,
		"HTTP://LOCALHOST.example:80": true,
	} {
		c, err := groq.New(groq.Config{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.InClear(); got != want {
			t.Errorf("InClear(%s) = %v, want %v", u, got, want)
		}
	}
}
