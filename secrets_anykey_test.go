package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// oddKey is a key that looks like no Groq key (no gsk_ prefix), so that no
// pattern can find it: only the exporter's knowing its own key can.
const oddKey = "Zq9XuNotAGroqKeyButSecret42"

func checkNoOddKey(t *testing.T, where, text string) {
	t.Helper()
	for _, form := range []string{oddKey, url.PathEscape(oddKey), "NotAGroqKey"} {
		if strings.Contains(text, form) {
			t.Errorf("the key shows in %s:\n%s", where, text)
			return
		}
	}
}

// TestAnyKeyNeverShown: with a key that does not start with gsk_, a series
// whose name is the key, a label that carries it, and a redirect whose
// Location holds it (unparsable, or to another origin) show it nowhere: not
// in the log (both formats), /metrics, the status page, nor what
// --groq.check prints.
func TestAnyKeyNeverShown(t *testing.T) {
	series := func(g *groqtest.GatewayServer) {
		g.SetSeries(append(groqtest.RecordedSamples(t, "collector/testdata/all_families.json"),
			groqtest.Sample{Labels: map[string]string{"__name__": oddKey, "model": "m"}, Value: 1},
			groqtest.Sample{Labels: map[string]string{"__name__": oddKey + ":rate1m", "model": "m"}, Value: 1},
			groqtest.Sample{Labels: map[string]string{"__name__": "requests:" + oddKey, "model": "m"}, Value: 1},
			groqtest.Sample{Labels: map[string]string{"__name__": "requests:rate1m", "model": "llama-" + oddKey}, Value: 2},
		)...)
	}
	elsewhere := groqtest.OriginForTest(t)
	for name, setup := range map[string]func(*groqtest.GatewayServer){
		"series named by the key": series,
		"unparsable Location": func(g *groqtest.GatewayServer) {
			g.Inject(groqtest.Fault{Status: 302, Echo: true, Header: map[string]string{"Location": "/%zz${key}"}})
		},
		"Location elsewhere": func(g *groqtest.GatewayServer) {
			to := strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1) + "/p/${key}/q"
			g.Inject(groqtest.Fault{Status: 302, Echo: true, Header: map[string]string{"Location": to}})
		},
	} {
		for _, format := range []string{"logfmt", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				g := groqtest.FakeForTest(t, oddKey)
				setup(g)
				env := map[string]string{"GROQ_API_KEY": oddKey}
				args := []string{"--groq.url=" + g.BaseURL(), "--groq.cache-ttl=0", "--log.level=debug", "--log.format=" + format}
				e := startExporter(t, env, args...)
				_, body := e.get(t, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds", "5")
				checkNoOddKey(t, "/metrics", body)
				_, page := e.get(t, "/")
				checkNoOddKey(t, "the status page", page)
				checkNoOddKey(t, "the log", e.log.String())
				if g.Requests() == 0 {
					t.Fatal("Groq was never asked")
				}

				var stdout, stderr bytes.Buffer
				_ = run(context.Background(), append([]string{"--groq.check"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
				checkNoOddKey(t, "--groq.check's output", stdout.String()+stderr.String())
				if stdout.Len() == 0 {
					t.Errorf("--groq.check printed nothing; stderr:\n%s", stderr.String())
				}
			})
		}
	}
}
