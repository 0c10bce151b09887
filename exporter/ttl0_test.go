package exporter

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
)

// With --groq.cache-ttl=0 a scrape asks Groq and encodes the one answer it
// asked for: no other format, no gzip it did not ask for, nothing for /probe
// or /metrics ahead of a scrape, whichever formats were scraped before and
// however many organizations there are.
func TestTTL0ScrapeEncodesWhatItAsked(t *testing.T) {
	for _, cfg := range []*config.Config{config.Default(), labelledOrgs()} {
		g := fakeGroq(t, testKey)
		api := collector.NewAPIMetrics()
		orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, Observer: api}) // TTL 0
		for i := range cfg.Organizations {
			cfg.Organizations[i].URL = g.BaseURL()
		}
		if err := orgs.Apply(cfg, ""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(orgs.Close)
		live := prometheus.NewRegistry()
		live.MustRegister(api)
		var mu sync.Mutex
		var encoded []answerKey
		hook := func(k answerKey) {
			mu.Lock()
			encoded = append(encoded, k)
			mu.Unlock()
		}
		orgs.encoded.Store(&hook)
		metrics, probe := metricsHandler(orgs, live, nil, log.NewNopLogger()), probeHandler(orgs, log.NewNopLogger())

		asks := []struct {
			accept, encoding string
			format           expfmt.FormatType
		}{
			{"text/plain", "", expfmt.TypeTextPlain},
			{"application/openmetrics-text;version=1.0.0", "gzip", expfmt.TypeOpenMetrics},
			{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "", expfmt.TypeProtoDelim},
			{"text/plain", "gzip", expfmt.TypeTextPlain},
		}
		probeName := orgs.list()[0].probeName()
		for round := range 3 {
			for _, a := range asks {
				for _, path := range []string{"/metrics", "/probe?organization=" + probeName} {
					h, want := metrics, len(orgs.list())
					if path != "/metrics" {
						h, want = probe, 1
					}
					mu.Lock()
					encoded = nil
					mu.Unlock()
					before := g.Requests()
					req := httptest.NewRequest(http.MethodGet, path, nil)
					req.Header.Set("Accept", a.accept)
					req.Header.Set("Accept-Encoding", a.encoding)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						t.Fatalf("%s: %d %s", path, w.Code, w.Body)
					}
					time.Sleep(10 * time.Millisecond) // anything a scrape left running
					mu.Lock()
					got := slices.Clone(encoded)
					mu.Unlock()
					if len(got) != 1 || got[0].format.FormatType() != a.format || got[0].gzip != (a.encoding == "gzip") {
						t.Errorf("%d organizations, round %d, %s asking %s %s: encoded %v, want that alone", len(orgs.list()), round, path, a.accept, a.encoding, got)
					}
					if asked := g.Requests() - before; asked != want {
						t.Errorf("%s: Groq asked %d times, want %d (once per organization served)", path, asked, want)
					}
				}
			}
		}
	}
}
