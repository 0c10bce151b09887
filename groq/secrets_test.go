package groq_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	commonconfig "github.com/prometheus/common/config"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// oddKeys are keys that do not look like Groq's: no gsk_ prefix, nothing a
// pattern would recognise, and characters that URLs, Go strings and JSON
// escape, so that the key comes back in another form than it went out.
var oddKeys = []string{
	"Zq9XuNotAGroqKeyButSecret42",
	`tok3n/With+Odd=Chars&<"%>\end`,
	"012345678901234567890123",
}

// keyForms are the forms in which key could show in a text.
func keyForms(key string) []string {
	q := strconv.Quote(key)
	j, _ := json.Marshal(key)
	return []string{key, url.PathEscape(key), url.QueryEscape(key), (&url.URL{Path: key}).EscapedPath(),
		q[1 : len(q)-1], string(j[1 : len(j)-1])}
}

func checkNoKey(t *testing.T, key, where, text string) {
	t.Helper()
	for _, form := range keyForms(key) {
		if strings.Contains(text, form) {
			t.Errorf("the key (as %q) shows in %s: %q", form, where, text)
			return
		}
	}
}

// TestAnyKeyRedacted: whatever the key looks like, no error shows it: not
// for an unparsable Location header (net/http quotes it in its error), not
// for a redirect to another origin (its target is shown), not for a redirect
// that is not followed; and no series carries it, as its name, a label's
// name or a label's value (they reach the log, the status page and
// --groq.check): the key's forms become "<redacted>".
func TestAnyKeyRedacted(t *testing.T) {
	elsewhere := groqtest.OriginForTest(t)
	other := strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)
	for _, key := range oddKeys {
		keyInPath := url.PathEscape(key)
		for _, tc := range []struct {
			name     string
			fault    groqtest.Fault
			noFollow bool
		}{
			{name: "unparsable Location", fault: groqtest.Fault{Status: http.StatusFound, Echo: true,
				Header: map[string]string{"Location": "/%zz${key}"}}},
			{name: "redirect to another origin", fault: groqtest.Fault{Status: http.StatusFound,
				Header: map[string]string{"Location": other + "/moved/" + keyInPath + "/x"}}},
			{name: "redirect not followed", noFollow: true, fault: groqtest.Fault{Status: http.StatusMovedPermanently,
				Header: map[string]string{"Location": "/moved/" + keyInPath}}},
			{name: "JSON error", fault: groqtest.Fault{Status: http.StatusBadRequest, Echo: true,
				Text: `{"status":"error","errorType":"bad_data","error":"the key ${key} is odd"}`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := groqtest.FakeForTest(t)
				g.Inject(tc.fault)
				cfg := commonconfig.DefaultHTTPClientConfig
				cfg.FollowRedirects = !tc.noFollow
				hc, err := commonconfig.NewClientFromConfig(cfg, "test")
				if err != nil {
					t.Fatal(err)
				}
				c, _ := newTestClient(t, g.BaseURL(), func(c *groq.Config) { c.Key, c.HTTPClient, c.MaxRetries = key, hc, 0 })
				_, err = c.Query(context.Background(), "up")
				if err == nil {
					t.Fatal("no error")
				}
				checkNoKey(t, key, "the error", err.Error())
				if !strings.Contains(err.Error(), "<redacted>") && tc.name == "unparsable Location" {
					t.Errorf("error %q: want the key's place marked <redacted>", err)
				}
			})
		}
		t.Run("series", func(t *testing.T) {
			g := groqtest.FakeForTest(t, key)
			g.SetSeries(
				groqtest.Sample{Labels: map[string]string{"__name__": key, "model": "m"}, Value: 1},
				groqtest.Sample{Labels: map[string]string{"__name__": "requests:rate1m", "model": "a " + key + " b"}, Value: 2},
				groqtest.Sample{Labels: map[string]string{"__name__": "requests:rate1m", key: "x"}, Value: 3},
			)
			c, _ := newTestClient(t, g.BaseURL(), func(c *groq.Config) { c.Key = key })
			samples, err := c.Query(context.Background(), `{__name__=~".+"}`)
			if err != nil || len(samples) != 3 {
				t.Fatalf("%d samples, %v", len(samples), err)
			}
			var all []string
			for _, s := range samples {
				for _, l := range s.Labels {
					all = append(all, l.Name+"="+l.Value)
				}
			}
			text := strings.Join(all, " ")
			checkNoKey(t, key, "the samples", text)
			for _, want := range []string{"__name__=<redacted>", "model=a <redacted> b", "<redacted>=x"} {
				if !strings.Contains(text, want) {
					t.Errorf("the samples %q do not hold %q", text, want)
				}
			}
		})
	}
}
