package exporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
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
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// servedOrgs returns organizations refreshed once from a fake Groq, and a
// registry of live self-metrics whose values do not change between scrapes.
func servedOrgs(t *testing.T, cfg *config.Config) (*Organizations, *prometheus.Registry, *groqtest.GatewayServer) {
	t.Helper()
	g := fakeGroq(t, testKey)
	api := collector.NewAPIMetrics()
	orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, CacheTTL: time.Hour, MaxStale: time.Hour, Observer: api})
	for i := range cfg.Organizations {
		cfg.Organizations[i].URL = g.BaseURL()
	}
	if err := orgs.Apply(cfg, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	live := prometheus.NewRegistry()
	live.MustRegister(api, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "go_fixed", Help: "A live metric that sorts before groq_."}, func() float64 { return 1 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "groq_m_live", Help: "A live metric between Groq families."}, func() float64 { return 2 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zz_last", Help: "A live metric that sorts last."}, func() float64 { return 3 }))
	orgs.Refresh(context.Background())
	return orgs, live, g
}

func get(t *testing.T, h http.Handler, method string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "/metrics", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body) // checks the CRC and the length
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return b
}

// TestExpositionIsPromhttps: what a scrape gets, bytes rendered once per
// refresh merged with live metrics, is byte for byte what promhttp serves for
// the same metrics, in every format it negotiates, plain and gzipped.
func TestExpositionIsPromhttps(t *testing.T) {
	for _, cfg := range []*config.Config{config.Default(), labelledOrgs()} {
		cfg.Queries = []config.Query{{Name: "groq_custom", Help: "A custom query.", Query: "requests:rate1m"}}
		orgs, live, _ := servedOrgs(t, cfg)
		samePromhttp(t, metricsHandler(orgs, live, nil, nil, nil, log.NewNopLogger()), orgs, live)
	}
}

// labelledOrgs are three organizations with labels of their own, each to be
// given the URL of the fake Groq by servedOrgs.
func labelledOrgs() *config.Config {
	cfg := config.Default()
	cfg.Organizations = []config.Organization{
		{Name: "b", APIKey: testKey, Labels: map[string]string{"team": "search", "cost_center": "cc-2"}},
		{Name: "a", APIKey: testKey, Labels: map[string]string{"team": "ads"}},
		{Name: "c", APIKey: testKey},
	}
	return cfg
}

// samePromhttp checks that ours, the metrics path, serves byte for byte
// what promhttp serves for orgs and live registered in one registry.
func samePromhttp(t *testing.T, ours http.Handler, orgs *Organizations, live *prometheus.Registry) {
	t.Helper()
	all := prometheus.NewRegistry()
	all.MustRegister(orgs, live)
	theirs := promhttp.HandlerFor(all, promhttp.HandlerOpts{EnableOpenMetrics: true})

	for _, accept := range []string{
		"",
		"text/plain;version=0.0.4",
		"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
		"application/openmetrics-text;version=0.0.1",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
		"text/plain;version=1.0.0;escaping=allow-utf-8",
	} {
		for _, enc := range []string{"", "gzip", "gzip;q=0", "br, gzip;q=0.5"} {
			a, b := get(t, ours, http.MethodGet, "Accept", accept, "Accept-Encoding", enc), get(t, theirs, http.MethodGet, "Accept", accept, "Accept-Encoding", enc)
			if a.Header.Get("Content-Type") != b.Header.Get("Content-Type") || a.Header.Get("Content-Encoding") != b.Header.Get("Content-Encoding") ||
				!slices.Equal(a.Header.Values("Vary"), b.Header.Values("Vary")) {
				t.Errorf("Accept %q, Accept-Encoding %q: Content-Type %q, Content-Encoding %q; promhttp: %q, %q", accept, enc,
					a.Header.Get("Content-Type"), a.Header.Get("Content-Encoding"), b.Header.Get("Content-Type"), b.Header.Get("Content-Encoding"))
			}
			wire, theirWire := a.ContentLength, b.ContentLength
			if got, want := body(t, a), body(t, b); !bytes.Equal(got, want) {
				t.Errorf("Accept %q, Accept-Encoding %q: the body differs from promhttp's:\n%s\nwant:\n%s", accept, enc, got, want)
			}
			if theirWire > 0 && float64(wire) > 1.03*float64(theirWire) {
				t.Errorf("Accept %q, Accept-Encoding %q: %d bytes on the wire, promhttp %d", accept, enc, wire, theirWire)
			}
		}
	}
}

// TestHeadAsksNobody: a HEAD of the metrics answers the headers a GET
// would (Content-Type, Content-Encoding, Vary, Content-Length), no body, and
// never refreshes.
func TestHeadAsksNobody(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := metricsHandler(orgs, prometheus.NewRegistry(), nil, nil, nil, log.NewNopLogger())
	if resp := get(t, h, http.MethodHead); resp.StatusCode != http.StatusOK || g.Requests() != 0 {
		t.Fatalf("the first HEAD answered %d and made %d calls to Groq", resp.StatusCode, g.Requests())
	}
	for _, enc := range []string{"", "gzip"} {
		getResp := get(t, h, http.MethodGet, "Accept-Encoding", enc)
		calls := g.Requests()
		head := get(t, h, http.MethodHead, "Accept-Encoding", enc)
		if n := g.Requests() - calls; n != 0 {
			t.Fatalf("HEAD made %d calls to Groq", n)
		}
		if b, _ := io.ReadAll(head.Body); head.StatusCode != http.StatusOK || len(b) != 0 {
			t.Errorf("HEAD answered %d with %d bytes of body", head.StatusCode, len(b))
		}
		for _, name := range []string{"Content-Type", "Content-Encoding", "Vary", "Content-Length"} {
			if got, want := head.Header.Values(name), getResp.Header.Values(name); !slices.Equal(got, want) {
				t.Errorf("Accept-Encoding %q: HEAD answers %s %q, GET %q", enc, name, got, want)
			}
		}
	}
}

// TestScrapesShareOneRendering: concurrent scrapes of the metrics share one
// answer, built once; a refresh of one organization builds it again, once,
// and gathers no other organization.
func TestScrapesShareOneRendering(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	_, gathered, scrape := gatheringExposition(t, orgs, func() uint64 { return 0 }, nil)
	before := orgs.view()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { scrape() })
	}
	wg.Wait()
	if orgs.view() != before {
		t.Fatal("scrapes within the TTL made a new view")
	}
	if n := gathered.Load(); n != 1 {
		t.Errorf("100 scrapes of one view built the answer %d times, want 1", n)
	}

	a := orgs.list()[1]
	orgs.render(a) // what a's refresh does
	after := orgs.view()
	if after == before {
		t.Fatal("a refresh made no new view")
	}
	for i := range after.orgs {
		if changed := after.snaps[i] != before.snaps[i]; changed != (after.orgs[i] == a) {
			t.Errorf("organization %s: snapshot taken again %v after a refresh of %s alone", after.orgs[i].name, changed, a.name)
		}
	}
	for range 10 {
		wg.Go(func() { scrape() })
	}
	wg.Wait()
	if n := gathered.Load(); n != 2 {
		t.Errorf("scrapes after a refresh built %d answers in all, want 2", n)
	}
}

// TestSelfMetricsReused: scrapes of one view share one gathering of the
// live self-metrics while it is recent; a new view (a refresh) or a
// configuration load gathers them again at once.
func TestSelfMetricsReused(t *testing.T) {
	orgs, _, _ := servedOrgs(t, config.Default())
	var loads atomic.Uint64
	x, gathered, scrape := gatheringExposition(t, orgs, loads.Load, nil)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { x.serve(w, r, orgs.view()) })

	first := scrape()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if got := scrape(); got != first {
				t.Error("a scrape within the reuse got other bytes")
			}
		})
	}
	wg.Wait()
	if n := gathered.Load(); n != 1 {
		t.Fatalf("51 scrapes of one view gathered the self-metrics %d times, want 1", n)
	}
	orgs.render(orgs.list()[0]) // what every refresh does
	if !strings.Contains(scrape(), "go_gathered 2\n") {
		t.Errorf("a new view did not gather the self-metrics again (%d gatherings)", gathered.Load())
	}
	loads.Add(1)
	if !strings.Contains(scrape(), "go_gathered 3\n") {
		t.Errorf("a configuration load did not gather the self-metrics again (%d gatherings)", gathered.Load())
	}
	if got := string(body(t, get(t, h, http.MethodGet))); !strings.Contains(got, "go_gathered 4\n") {
		t.Errorf("another format did not get its own answer (%d gatherings)", gathered.Load())
	}
}

// TestAnswersReadyBeforeScrapes: with one organization, a refresh builds
// the answers of the formats in use before any scrape asks, and once the
// live metrics of an answer are older than the reuse, the scrape still gets
// it at once while a rebuild gathers them again for the scrapes that follow:
// no scrape builds.
func TestAnswersReadyBeforeScrapes(t *testing.T) {
	orgs, _, _ := servedOrgs(t, config.Default())
	x, gathered, scrape := gatheringExposition(t, orgs, func() uint64 { return 0 }, nil)
	orgs.onRender(x.prepare)

	scrape()
	orgs.render(orgs.list()[0]) // what every refresh does
	if n := gathered.Load(); n != 2 {
		t.Fatalf("%d gatherings after a refresh, want 2: the refresh did not build the answer", n)
	}
	if got := scrape(); !strings.Contains(got, "go_gathered 2\n") || gathered.Load() != 2 {
		t.Errorf("the scrape after a refresh did not get the answer the refresh built (%d gatherings)", gathered.Load())
	}

	x.mu.Lock()
	x.reuse = 0 // every answer is old from now on
	x.mu.Unlock()
	if got := scrape(); !strings.Contains(got, "go_gathered 2\n") {
		t.Error("a scrape of an old answer waited for a new one")
	}
	for gathered.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	for !strings.Contains(scrape(), "go_gathered 3\n") {
		time.Sleep(time.Millisecond) // the rebuild is being kept
	}
}

// TestNoScrapeWaitsForANewSnapshot: while a refresh builds the answers of its
// view, scrapes are served the last view's at once; the new view is served
// only once its answers are ready.
func TestNoScrapeWaitsForANewSnapshot(t *testing.T) {
	orgs, _, _ := servedOrgs(t, config.Default())
	var hold atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	x, gathered, scrape := gatheringExposition(t, orgs, func() uint64 { return 0 }, func() {
		if hold.Load() {
			entered <- struct{}{}
			<-release
		}
	})
	orgs.onRender(x.prepare)

	scrape()
	before := orgs.view()
	hold.Store(true)
	rendered := make(chan *view)
	go func() { orgs.render(orgs.list()[0]); rendered <- orgs.view() }() // what every refresh does
	<-entered                                                            // the refresh is building the new view's answer
	hold.Store(false)
	if orgs.view() != before {
		close(release)
		<-rendered
		t.Fatal("a new view is served before its answers are built: a scrape would wait for them")
	}
	if got := scrape(); !strings.Contains(got, "go_gathered 1\n") {
		t.Errorf("a scrape during a refresh did not get the last answer:\n%s", got)
	}
	close(release)
	after := <-rendered
	if after == before {
		t.Fatal("the refresh's view is not served once its answers are built")
	}
	if got := scrape(); !strings.Contains(got, "go_gathered 2\n") || gathered.Load() != 2 {
		t.Errorf("the scrape after the refresh did not get the answer it built (%d gatherings)", gathered.Load())
	}
}

// gatheringExposition serves orgs through an exposition whose one live
// family, go_gathered, counts its gatherings (after calling gather, if set),
// and whose answers are reused for an hour. It returns the exposition, the
// count, and a gzip scrape.
func gatheringExposition(t *testing.T, orgs *Organizations, loads func() uint64, gather func()) (*exposition, *atomic.Uint64, func() string) {
	var gathered atomic.Uint64
	live := prometheus.NewRegistry()
	live.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "go_gathered", Help: "Gatherings so far."},
		func() float64 {
			if gather != nil {
				gather()
			}
			return float64(gathered.Add(1))
		}))
	x := newExposition(live, nil, loads, log.NewNopLogger())
	x.reuse = time.Hour
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { x.serve(w, r, orgs.view()) })
	scrape := func() string { return string(body(t, get(t, h, http.MethodGet, "Accept-Encoding", "gzip"))) }
	return x, &gathered, scrape
}

// TestOneTypePerName: an upstream series whose name becomes that of a
// self-metric's family (api:requests → groq_api_requests, the OpenMetrics
// name of the counter groq_api_requests_total) is dropped as name_collision,
// so that every format has one TYPE line per name.
func TestOneTypePerName(t *testing.T) {
	g := fakeGroq(t, testKey)
	g.SetSeries(append(groqtest.VectorSamples(groqtest.PerModel),
		groqtest.Sample{Labels: map[string]string{"__name__": "api:requests", "model": "m"}, Value: 7})...)
	api := collector.NewAPIMetrics()
	orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, CacheTTL: time.Hour, MaxStale: time.Hour, Observer: api})
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	live := prometheus.NewRegistry()
	live.MustRegister(api)
	h := metricsHandler(orgs, live, nil, nil, nil, log.NewNopLogger())
	for _, accept := range []string{"application/openmetrics-text;version=1.0.0", "text/plain;version=0.0.4"} {
		got := string(body(t, get(t, h, http.MethodGet, "Accept", accept)))
		types := map[string]int{}
		for line := range strings.Lines(got) {
			if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
				name, _, _ = strings.Cut(name, " ")
				types[name]++
				if types[name] > 1 {
					t.Errorf("Accept %q: two TYPE lines for %s:\n%s", accept, name, got)
				}
			}
		}
		if !strings.Contains(got, `groq_series_dropped{reason="name_collision"} 1`) {
			t.Errorf("Accept %q: the colliding series is not counted as name_collision:\n%s", accept, got)
		}
	}
}

// TestQueryNamedAfterACounterRefused: a custom query may not take the
// OpenMetrics name of a counter the exporter serves (groq_api_requests for
// groq_api_requests_total): it would be a second TYPE line for that name.
func TestQueryNamedAfterACounterRefused(t *testing.T) {
	cfg := config.Default()
	cfg.Queries = []config.Query{{Name: "groq_api_requests", Help: "Clashes.", Query: "requests:rate1m"}}
	if err := cfg.Validate(ConfigNames()); err == nil || !strings.Contains(err.Error(), `query "groq_api_requests": name is one of the exporter's own metrics`) {
		t.Errorf("a query named groq_api_requests: %v", err)
	}
}

// TestOrganizationsMergedOncePerView: the answers built again for their
// live self-metrics reuse the merge of the view's organizations (which sorts
// every series of several organizations again) and each organization's
// series encoded once; a refresh of the same series (a new view) keeps the
// merged order and has its own organization alone encoded again.
func TestOrganizationsMergedOncePerView(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	x, gathered, scrape := gatheringExposition(t, orgs, func() uint64 { return 0 }, nil)
	x.mu.Lock()
	x.reuse = 0 // every answer is old at once: a scrape has one built again
	x.mu.Unlock()
	idle := func() { // no rebuild left in the background
		for {
			x.mu.Lock()
			busy := len(x.rebuilding) > 0
			x.mu.Unlock()
			if !busy {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	for gathered.Load() < 5 {
		scrape()
		time.Sleep(time.Millisecond)
	}
	idle()
	if n := x.merges.Load(); n != 1 {
		t.Errorf("%d answers of one view merged the organizations %d times, want once", gathered.Load(), n)
	}
	if n := x.textEncodes.Load(); n != 3 {
		t.Errorf("%d answers of one view of 3 organizations encoded organizations %d times, want 3 (each once)", gathered.Load(), n)
	}
	orgs.render(orgs.list()[0]) // what a refresh with the same series does
	scrape()
	idle()
	if n := x.merges.Load(); n != 1 {
		t.Errorf("after a refresh of the same series: %d merges in all, want the one before", n)
	}
	if n := x.textEncodes.Load(); n != 4 {
		t.Errorf("after a refresh of one organization: %d encodings of organizations in all, want 4 (that one again)", n)
	}
}

// TestMergedOrderKeptAcrossRefreshes: with several organizations, a view
// whose refreshed organizations have the series they had serves the new
// values in the merged order kept from the last view, without sorting every
// series again, byte for byte what promhttp serves; a refresh that brings a
// new series merges again.
func TestMergedOrderKeptAcrossRefreshes(t *testing.T) {
	g, ga := fakeGroq(t, testKey), fakeGroq(t, testKey) // ga serves organization a
	api := collector.NewAPIMetrics()
	orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, Observer: api}) // TTL 0: every scrape refreshes
	cfg := config.Default()                                                           // organizations with the same label names, whose series interleave
	for _, name := range []string{"b", "a", "c"} {
		cfg.Organizations = append(cfg.Organizations, config.Organization{Name: name, APIKey: testKey, Labels: map[string]string{"team": "t-" + name}})
	}
	for i, org := range cfg.Organizations {
		cfg.Organizations[i].URL = g.BaseURL()
		if org.Name == "a" {
			cfg.Organizations[i].URL = ga.BaseURL()
		}
	}
	if err := orgs.Apply(cfg, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	live := prometheus.NewRegistry()
	live.MustRegister(api)
	x := newExposition(live, nil, func() uint64 { return 0 }, log.NewNopLogger())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orgs.Refresh(r.Context())
		x.serve(w, r, orgs.view())
	})
	samples := groqtest.VectorSamples(2 * groqtest.PerModel) // two models: the organizations' series interleave
	g.SetSeries(samples...)
	ga.SetSeries(samples...)
	samePromhttp(t, h, orgs, live)
	for i := range samples {
		samples[i].Value = samples[i].Value*3 + 1
	}
	g.SetSeries(samples...)
	ga.SetSeries(samples...)
	if got := string(body(t, get(t, h, http.MethodGet))); !strings.Contains(got, fmt.Sprintf(" %v\n", samples[0].Value)) {
		t.Fatalf("the refresh's values are not served:\n%s", got)
	}
	samePromhttp(t, h, orgs, live)
	if n := x.merges.Load(); n != 1 {
		t.Errorf("refreshes of the same series sorted every series %d times, want once", n)
	}
	// Organization a has as many series as before, one of them another: a
	// model that sorts first.
	last := len(samples) - 1
	moved := map[string]string{}
	for k, v := range samples[last].Labels {
		moved[k] = v
	}
	moved["model"] = "aaa-first"
	samples[last] = groqtest.Sample{Labels: moved, Value: 5}
	ga.SetSeries(samples...)
	if got := string(body(t, get(t, h, http.MethodGet))); !strings.Contains(got, `model="aaa-first"`) {
		t.Fatalf("the new series is not served:\n%s", got)
	}
	samePromhttp(t, h, orgs, live)
	if n := x.merges.Load(); n != 2 {
		t.Errorf("after a series was replaced by another: %d merges, want 2", n)
	}
}

// TestNegotiateKeepsFewHeaders: each Accept header negotiates what
// expfmt.NegotiateAccept says, the first time and every time after, and the
// formats kept stay bounded however many different headers arrive.
func TestNegotiateKeepsFewHeaders(t *testing.T) {
	headers := []string{"", "text/plain;version=0.0.4", "application/openmetrics-text;version=1.0.0",
		"application/openmetrics-text;version=0.0.1;q=0.9,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "*/*"}
	for i := range 3 * acceptKept {
		headers = append(headers, fmt.Sprintf("text/plain;version=0.0.4;q=0.%d,application/openmetrics-text;version=1.0.0;q=0.5", i%9+1)+strings.Repeat(" ", i))
	}
	for range 2 {
		for _, accept := range headers {
			h := http.Header{"Accept": {accept}}
			if got, want := negotiate(h), expfmt.NegotiateAccept(h, expfmt.DefaultOpenMetricsAcceptedFormats()...); got != want {
				t.Fatalf("Accept %q negotiated %q, want %q", accept, got, want)
			}
		}
	}
	accepted.RLock()
	n := len(accepted.m)
	accepted.RUnlock()
	if n > acceptKept {
		t.Errorf("%d Accept headers kept, want at most %d", n, acceptKept)
	}
}

// TestRefreshesCoalesced: with several organizations and a cache, the
// answer of /metrics is built at most once per reuse however many
// organizations refresh within it. The scrapes of the views that follow
// within the reuse get that answer as it is; the first scrape after it gets
// every refresh, without waiting for a rebuild in the background; a
// configuration load is served at once. One organization's views are never
// coalesced. With --groq.cache-ttl=0 every scrape is served the view its own
// refresh made (TestTTL0ScrapeEncodesWhatItAsked).
func TestRefreshesCoalesced(t *testing.T) {
	g := fakeGroq(t, testKey)
	api := collector.NewAPIMetrics()
	orgs := NewOrganizations(Settings{URL: g.BaseURL(), Key: testKey, MaxStale: time.Hour, Observer: api}) // every scrape refreshes
	cfg := labelledOrgs()
	for i := range cfg.Organizations {
		cfg.Organizations[i].URL = g.BaseURL()
	}
	if err := orgs.Apply(cfg, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	var loads atomic.Uint64
	x, gathered, _ := gatheringExposition(t, orgs, loads.Load, nil)
	x.coalesce = true // as metricsHandler has it with a cache
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orgs.Refresh(r.Context()) // every organization asks Groq
		x.serve(w, r, orgs.view())
	})
	scrape := func() string { return string(body(t, get(t, h, http.MethodGet))) }
	samples := groqtest.VectorSamples(groqtest.PerModel)
	value := func(i int) string { return fmt.Sprintf(" %v\n", samples[0].Value*10+float64(i)) }
	set := func(i int) {
		for j := range samples {
			samples[j].Value = samples[j].Value*10 + float64(i)
		}
		g.SetSeries(samples...)
		for j := range samples {
			samples[j].Value = (samples[j].Value - float64(i)) / 10
		}
	}

	set(1)
	first := scrape()
	if !strings.Contains(first, value(1)) {
		t.Fatalf("the first scrape does not serve Groq's values:\n%s", first)
	}
	set(2)
	before := orgs.view()
	for range 5 {
		if got := scrape(); got != first {
			t.Fatalf("a scrape within the reuse was not served the answer already built:\n%s", got)
		}
	}
	if orgs.view() == before {
		t.Fatal("the scrapes made no new view: nothing was coalesced")
	}
	if n := gathered.Load(); n != 1 {
		t.Errorf("5 scrapes within the reuse, each after 3 refreshes, built %d answers, want 1", n)
	}

	x.mu.Lock()
	x.reuse = 0 // the answer is older than the reuse from now on
	x.mu.Unlock()
	if got := scrape(); !strings.Contains(got, value(2)) || !strings.Contains(got, "go_gathered 2\n") {
		t.Errorf("the first scrape after the reuse was not served the refreshes at once:\n%s", got)
	}
	x.mu.Lock()
	x.reuse = time.Hour
	x.mu.Unlock()
	loads.Add(1)
	if got := scrape(); !strings.Contains(got, "go_gathered 3\n") {
		t.Errorf("a configuration load within the reuse was not served at once:\n%s", got)
	}

	// One organization's views are never coalesced: its new view's answers
	// are built as it comes, and an answer of the view before, built late
	// by a scrape that stopped waiting for Groq, must not stand for it.
	one, _, _ := servedOrgs(t, config.Default())
	x1, gathered1, scrape1 := gatheringExposition(t, one, func() uint64 { return 0 }, nil)
	x1.coalesce = true
	scrape1()
	one.render(one.list()[0]) // what a refresh does
	if got := scrape1(); !strings.Contains(got, "go_gathered 2\n") {
		t.Errorf("one organization's new view was served an answer of the view before (%d gatherings)", gathered1.Load())
	}

	// metricsHandler coalesces with a cache: two scrapes in a row, a
	// refresh between them, build one answer.
	cached, _, _ := servedOrgs(t, labelledOrgs())
	var built atomic.Uint64
	count := func(answerKey) { built.Add(1) }
	cached.encoded.Store(&count)
	mh := metricsHandler(cached, prometheus.NewRegistry(), nil, nil, nil, log.NewNopLogger())
	get(t, mh, http.MethodGet)
	cached.render(cached.list()[0]) // what a refresh does
	get(t, mh, http.MethodGet)
	if n := built.Load(); n != 1 {
		t.Errorf("/metrics built %d answers for two scrapes in a row with a cache, a refresh between them, want 1", n)
	}
}
