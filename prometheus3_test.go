//go:build integration

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestPrometheus3DefaultAccept: Prometheus 3, with its default scrape protocols, asks for
// OpenMetrics 1.0.0 with UTF-8 names allowed (escaping=allow-utf-8 in the Accept header)
// and gzip; the exporter answers OpenMetrics 1.0.0 gzipped, and Prometheus ingests every
// series (up 1, the Groq series queryable with their labels). A proxy in front of the
// exporter records what each side sent.
func TestPrometheus3DefaultAccept(t *testing.T) {
	t.Parallel()
	const key = "gsk_prometheus3TestKey"
	g := groqtest.FakeForTest(t, key)
	g.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": key}, "--groq.url="+g.BaseURL())

	var (
		mu                         sync.Mutex
		accept, encoding, respType string
		respEncoding               string
	)
	target, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		mu.Lock()
		defer mu.Unlock()
		accept, encoding = r.Request.Header.Get("Accept"), r.Request.Header.Get("Accept-Encoding")
		respType, respEncoding = r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding")
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	prom := groqtest.PrometheusForTest(t, front.URL+"/metrics")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	samples, err := prom.WaitForSamples(ctx, `groq_ttft_latency_seconds{percentile="p99"}`)
	if err != nil {
		t.Fatalf("%v\nexporter log:\n%s", err, e.log)
	}
	if len(samples) == 0 || samples[0].Labels["model"] == "" {
		t.Errorf("Prometheus has %v, want p99 TTFT series with a model label", samples)
	}
	waitFor(t, ctx, prom, `up == 1`)

	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"application/openmetrics-text;version=1.0.0", "escaping=allow-utf-8", "text/plain;version=0.0.4"} {
		if !strings.Contains(accept, want) {
			t.Errorf("Prometheus %s sent Accept %q, which lacks %q: not the default of Prometheus 3", groqtest.PrometheusVersion, accept, want)
		}
	}
	if !strings.HasPrefix(respType, "application/openmetrics-text; version=1.0.0") || !strings.Contains(encoding, "gzip") || respEncoding != "gzip" {
		t.Errorf("to Accept %q, Accept-Encoding %q the exporter answered Content-Type %q, Content-Encoding %q; want OpenMetrics 1.0.0, gzipped",
			accept, encoding, respType, respEncoding)
	}
}
