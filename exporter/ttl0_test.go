package exporter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
		metrics, probe := metricsHandler(orgs, live, nil, nil, nil, log.NewNopLogger()), probeHandler(orgs, nil, log.NewNopLogger())

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

// TestRuntimeGatheredOncePerReuse: the Go and process metrics are gathered
// at most once per reuse however many answers are built (with
// --groq.cache-ttl=0, one per scrape), while the exporter's own metrics are
// gathered for every answer: each scrape's groq_api_requests_total counts
// the Groq call that scrape made.
func TestRuntimeGatheredOncePerReuse(t *testing.T) {
	g := fakeGroq(t, testKey)
	api := collector.NewAPIMetrics()
	orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, Observer: api}) // TTL 0
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	live, runtime := prometheus.NewRegistry(), prometheus.NewRegistry()
	live.MustRegister(api)
	var gathered atomic.Uint64
	runtime.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "process_gathered", Help: "Gatherings so far."},
		func() float64 { return float64(gathered.Add(1)) }))
	x := newExposition(live, runtime, func() uint64 { return 0 }, log.NewNopLogger())
	x.reuse = time.Hour
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orgs.Refresh(r.Context())
		x.serve(w, r, orgs.view())
	})
	for i := 1; i <= 20; i++ {
		got := string(body(t, get(t, h, http.MethodGet, "Accept-Encoding", "gzip")))
		if want := fmt.Sprintf("groq_api_requests_total{code=\"200\",endpoint=\"query\"} %d\n", i); !strings.Contains(got, want) {
			t.Fatalf("scrape %d does not count its own Groq call: want %q in\n%s", i, want, got)
		}
		if !strings.Contains(got, "process_gathered 1\n") {
			t.Fatalf("scrape %d: the Go and process metrics were gathered again within the reuse (%d gatherings)", i, gathered.Load())
		}
	}
	if g.Requests() != 20 {
		t.Errorf("20 scrapes with --groq.cache-ttl=0 asked Groq %d times", g.Requests())
	}
}
