package exporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// serveAll routes every endpoint of orgs, as main does.
func serveAll(orgs *Organizations, externalAddress string) http.Handler {
	return NewHandler(HandlerOpts{MetricsPath: "/metrics", ExternalAddress: externalAddress, CacheTTL: time.Hour, Orgs: orgs,
		Reloader: NewReloader("", orgs, nil), Gatherer: prometheus.NewRegistry(), Logger: log.NewNopLogger()})
}

func request(t *testing.T, h http.Handler, method, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

// series parses a text exposition into "name{labels} value" lines, sorted.
func series(t *testing.T, b []byte) []string {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing %s: %v", b, err)
	}
	var out []string
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			ls := model.LabelSet{}
			for _, l := range m.GetLabel() {
				ls[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			out = append(out, fmt.Sprintf("%s%s %g", name, ls, v))
		}
	}
	slices.Sort(out)
	return out
}

// TestProbeServesOneOrganization: /probe?organization=NAME (or target=NAME)
// answers that organization's series and self-metrics alone, without the
// labels service discovery gives Prometheus, so that they are the series of
// /metrics once Prometheus adds them.
func TestProbeServesOneOrganization(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	h := serveAll(orgs, "")
	all := series(t, body(t, request(t, h, http.MethodGet, "/metrics")))
	for _, tc := range []struct {
		org    string
		labels string // as service discovery gives them
	}{
		{"b", `cost_center="cc-2", organization="b", team="search"`},
		{"a", `organization="a", team="ads"`},
		{"c", `organization="c"`},
	} {
		for _, param := range []string{"organization", "target"} {
			resp := request(t, h, http.MethodGet, "/probe?"+param+"="+tc.org)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/probe?%s=%s answered %d: %s", param, tc.org, resp.StatusCode, body(t, resp))
			}
			var got, want []string
			for _, s := range series(t, body(t, resp)) {
				if strings.Contains(s, "organization=") || strings.Contains(s, "team=") {
					t.Errorf("/probe?%s=%s serves a label service discovery gives: %s", param, tc.org, s)
				}
				got = append(got, relabel(s, tc.labels)) // what Prometheus stores: the target labels added
			}
			for _, s := range all {
				if strings.Contains(s, `organization="`+tc.org+`"`) {
					want = append(want, s)
				}
			}
			slices.Sort(got)
			if len(want) < 10 || !slices.Equal(got, want) {
				t.Errorf("/probe?%s=%s with its target labels:\n%s\n/metrics for it:\n%s", param, tc.org, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// relabel adds the labels (a sorted, comma-separated list) to a series
// line, as Prometheus adds target labels, and sorts them.
func relabel(s, labels string) string {
	name, rest, _ := strings.Cut(s, "{")
	inner, value, _ := strings.Cut(rest, "} ")
	parts := strings.Split(labels, ", ")
	if inner != "" {
		parts = append(parts, strings.Split(inner, ", ")...)
	}
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ", ") + "} " + value
}

// TestProbeNegotiatesAsMetrics: /probe answers every format and encoding
// the metrics path negotiates, with the same headers, HEAD included.
func TestProbeNegotiatesAsMetrics(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	h := serveAll(orgs, "")
	for _, accept := range []string{
		"", "text/plain;version=0.0.4", "application/openmetrics-text;version=1.0.0",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	} {
		for _, enc := range []string{"", "gzip", "gzip;q=0"} {
			m := request(t, h, http.MethodGet, "/metrics", "Accept", accept, "Accept-Encoding", enc)
			p := request(t, h, http.MethodGet, "/probe?organization=a", "Accept", accept, "Accept-Encoding", enc)
			head := request(t, h, http.MethodHead, "/probe?organization=a", "Accept", accept, "Accept-Encoding", enc)
			for _, name := range []string{"Content-Type", "Content-Encoding", "Vary"} {
				if got, want := p.Header.Values(name), m.Header.Values(name); !slices.Equal(got, want) {
					t.Errorf("Accept %q, Accept-Encoding %q: /probe answers %s %q, /metrics %q", accept, enc, name, got, want)
				}
			}
			for _, name := range []string{"Content-Type", "Content-Encoding", "Vary", "Content-Length"} {
				if got, want := head.Header.Values(name), p.Header.Values(name); !slices.Equal(got, want) {
					t.Errorf("Accept %q, Accept-Encoding %q: HEAD /probe answers %s %q, GET %q", accept, enc, name, got, want)
				}
			}
			if b := body(t, p); !bytes.Contains(b, []byte("groq_up")) {
				t.Errorf("Accept %q, Accept-Encoding %q: /probe has no groq_up:\n%q", accept, enc, b)
			}
		}
	}
}

// TestProbeRefusesBadNames: a /probe that names no organization of the
// configuration, or names one twice or as an address, is a 400 that says
// what is wrong, and asks Groq nothing.
func TestProbeRefusesBadNames(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL()) // not refreshed yet: a refused probe that refreshed would ask Groq
	if err := orgs.Apply(labelledOrgs(), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	for _, tc := range []struct{ query, want string }{
		{"", "missing parameter: organization (or target)"},
		{"module=a", "missing parameter"},
		{"organization=", "empty parameter"},
		{"target=%20", "empty parameter"},
		{"organization=a&organization=b", "named 2 times"},
		{"organization=a&target=a", "named 2 times"},
		{"organization=nope", `unknown organization "nope": /probe serves the organizations of the configuration (a, b, c); /sd lists them`},
		{"organization=default", `unknown organization "default"`},
		{"target=" + url.QueryEscape("https://evil.example/api"), `organization "https://evil.example/api" looks like an address`},
		{"target=evil.example:443", "looks like an address"},
		{"target=user@evil.example", "looks like an address"},
		{"organization=" + strings.Repeat("x", 10000), `unknown organization "` + strings.Repeat("x", maxShownName) + `…"`},
	} {
		resp := request(t, h, http.MethodGet, "/probe?"+tc.query)
		b := string(body(t, resp))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, tc.want) {
			t.Errorf("/probe?%.80s answered %d %q, want 400 saying %q", tc.query, resp.StatusCode, b, tc.want)
		}
		if len(b) > 500 {
			t.Errorf("/probe?%.80s: an error of %d bytes repeats the request", tc.query, len(b))
		}
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("refused probes made %d calls to Groq", n)
	}
}

// TestMetricsRefusesAnOrganization: /metrics serves every organization, so
// a request that names one, as /probe takes it, is a 400 that says so and
// points to /probe, and asks Groq nothing; other parameters are ignored, as
// before.
func TestMetricsRefusesAnOrganization(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs("")
	if err := orgs.Apply(twoOrgs(g.BaseURL(), g.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	for _, tc := range []struct{ method, query, want string }{
		{http.MethodGet, "organization=a", `/metrics serves every organization and takes no organization or target parameter (got organization="a"). To scrape one organization alone, scrape /probe?organization=a: it leaves the organization label to Prometheus`},
		{http.MethodGet, "target=b", `(got target="b"). To scrape one organization alone, scrape /probe?organization=b:`},
		{http.MethodGet, "organization=a&target=b", `(got organization="a"). To scrape one organization alone, scrape /probe?organization=NAME:`},
		{http.MethodGet, "organization=", `(got organization=""). To scrape one organization alone, scrape /probe?organization=NAME:`},
		{http.MethodGet, "debug=1&target=b", `(got target="b")`},
		{http.MethodGet, "organization=" + strings.Repeat("x", 10000), `(got organization="` + strings.Repeat("x", maxShownName) + `…"). To scrape one organization alone, scrape /probe?organization=NAME:`},
		{http.MethodHead, "organization=a", ""},
	} {
		resp := request(t, h, tc.method, "/metrics?"+tc.query)
		b := string(body(t, resp))
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
			!strings.Contains(b, tc.want) || tc.method == http.MethodGet && !strings.Contains(b, `see README, "Many organizations"`) {
			t.Errorf("%s /metrics?%.80s answered %d %q %q, want 400 saying %q", tc.method, tc.query, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.want)
		}
		if len(b) > 500 {
			t.Errorf("/metrics?%.80s: an error of %d bytes repeats the request", tc.query, len(b))
		}
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("refused scrapes of /metrics made %d calls to Groq", n)
	}

	resp := request(t, h, http.MethodGet, "/metrics?debug=1&module=groq")
	b := string(body(t, resp))
	if resp.StatusCode != http.StatusOK || !strings.Contains(b, `groq_up{organization="a"} 1`) || !strings.Contains(b, `groq_up{organization="b"} 1`) {
		t.Errorf("/metrics with other parameters answered %d:\n%s", resp.StatusCode, b)
	}
	if n := g.Requests(); n != 2 {
		t.Errorf("a scrape of /metrics with other parameters made %d calls to Groq, want one per organization", n)
	}
}

// TestProbeDefaultOrganization: without organizations in the configuration,
// the organization of the command line is /probe's "default", served without
// an organization label, as on /metrics.
func TestProbeDefaultOrganization(t *testing.T) {
	orgs, _, _ := servedOrgs(t, config.Default())
	h := serveAll(orgs, "")
	resp := request(t, h, http.MethodGet, "/probe?organization="+DefaultOrganization)
	got, want := series(t, body(t, resp)), series(t, body(t, request(t, h, http.MethodGet, "/metrics")))
	if resp.StatusCode != http.StatusOK || len(got) < 10 {
		t.Fatalf("/probe?organization=default answered %d, %d series", resp.StatusCode, len(got))
	}
	for _, s := range got {
		if !slices.Contains(want, s) {
			t.Errorf("/probe?organization=default serves %s, which /metrics does not", s)
		}
	}
}

// TestProbeAndMetricsShareTheCache: organizations scraped through /metrics
// and /probe at once, many times, cost one call to Groq each per TTL.
func TestProbeAndMetricsShareTheCache(t *testing.T) {
	a, b := fakeGroq(t, testKey), fakeGroq(t, testKey)
	orgs := newOrgs("")
	if err := orgs.Apply(twoOrgs(a.BaseURL(), b.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	var wg sync.WaitGroup
	for i := range 60 {
		target := []string{"/metrics", "/probe?organization=a", "/probe?target=b"}[i%3]
		wg.Go(func() {
			if resp := request(t, h, http.MethodGet, target, "Accept-Encoding", "gzip"); resp.StatusCode != http.StatusOK {
				t.Errorf("%s answered %d", target, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if na, nb := a.Requests(), b.Requests(); na != 1 || nb != 1 {
		t.Errorf("60 scrapes through /metrics and /probe within the TTL asked Groq %d and %d times, want once each", na, nb)
	}
}

// TestProbeWaitsForItsOrganizationAlone: a /probe of an organization is not
// held by another organization's refresh, and gives up on its own
// organization's within the scrape timeout Prometheus sends, answering
// groq_up 0 rather than hanging.
func TestProbeWaitsForItsOrganizationAlone(t *testing.T) {
	held, free := fakeGroq(t, testKey), fakeGroq(t, testKey)
	block := make(chan struct{})
	defer close(block)
	held.Inject(groqtest.Fault{Block: block})
	orgs := newOrgs("")
	if err := orgs.Apply(twoOrgs(held.BaseURL(), free.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	go request(t, h, http.MethodGet, "/probe?organization=a") // starts a's refresh, held by its Groq
	for held.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}

	done := make(chan *http.Response)
	go func() {
		done <- request(t, h, http.MethodGet, "/probe?organization=b", "X-Prometheus-Scrape-Timeout-Seconds", "3600")
	}()
	select {
	case resp := <-done:
		if b := string(body(t, resp)); !strings.Contains(b, "groq_up 1\n") {
			t.Errorf("/probe of b while a's Groq is held:\n%s", b)
		}
		if !orgs.list()[0].coll.Status().LastRefresh.IsZero() {
			t.Error("/probe of b returned only once a's refresh had ended: it waited for another organization")
		}
	case <-time.After(time.Minute):
		t.Fatal("/probe of b waited for a's refresh")
	}

	go func() {
		done <- request(t, h, http.MethodGet, "/probe?organization=a", "X-Prometheus-Scrape-Timeout-Seconds", "1")
	}()
	select {
	case resp := <-done:
		if b := string(body(t, resp)); !strings.Contains(b, "groq_up 0\n") {
			t.Errorf("/probe of a held organization:\n%s", b)
		}
	case <-time.After(time.Minute):
		t.Fatal("/probe of a held organization ignored X-Prometheus-Scrape-Timeout-Seconds")
	}
}

// TestProbeOfAFailingOrganization: an organization whose Groq refuses its
// key is served with groq_up 0 and its error counted; the others are not
// affected.
func TestProbeOfAFailingOrganization(t *testing.T) {
	a, b := fakeGroq(t, testKey), fakeGroq(t, "gsk_anotherKey")
	orgs := newOrgs("")
	if err := orgs.Apply(twoOrgs(a.BaseURL(), b.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	resp := request(t, h, http.MethodGet, "/probe?organization=b")
	got := string(body(t, resp))
	if resp.StatusCode != http.StatusOK || !strings.Contains(got, "groq_up 0\n") || !strings.Contains(got, `groq_refresh_errors_total{reason="auth"} 1`) ||
		strings.Contains(got, "groq_requests_rate1m") {
		t.Errorf("/probe of an organization whose key is refused answered %d:\n%s", resp.StatusCode, got)
	}
	if got := string(body(t, request(t, h, http.MethodGet, "/probe?organization=a"))); !strings.Contains(got, "groq_up 1\n") || !strings.Contains(got, "groq_requests_rate1m") {
		t.Errorf("/probe of the other organization:\n%s", got)
	}
}

// TestDiscoveryListsOrganizations: service discovery lists one /probe
// target per organization with its organization and configured labels, at
// the address the request came to or the one configured, and follows a
// reload.
func TestDiscoveryListsOrganizations(t *testing.T) {
	orgs, _, g := servedOrgs(t, labelledOrgs())
	discover := func(h http.Handler, host string) []sdTarget {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, DiscoveryPath, nil)
		req.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if ct := w.Header().Get("Content-Type"); w.Code != http.StatusOK || ct != "application/json" {
			t.Fatalf("%s answered %d, Content-Type %q", DiscoveryPath, w.Code, ct)
		}
		var out []sdTarget
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	target := func(addr, name string, labels ...string) sdTarget {
		l := map[string]string{"__metrics_path__": "/probe", "__param_organization": name}
		if name != DefaultOrganization {
			l["organization"] = name
		}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		return sdTarget{Targets: []string{addr}, Labels: l}
	}
	want := []sdTarget{
		target("exporter:10199", "b", "team", "search", "cost_center", "cc-2"),
		target("exporter:10199", "a", "team", "ads"),
		target("exporter:10199", "c"),
	}
	check := func(got, want []sdTarget) {
		t.Helper()
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("service discovery lists\n%s\nwant\n%s", gj, wj)
		}
	}
	check(discover(serveAll(orgs, ""), "exporter:10199"), want)
	for i := range want {
		want[i].Targets = []string{"groq-exporter.monitoring.svc:10199"}
	}
	h := serveAll(orgs, "groq-exporter.monitoring.svc:10199")
	check(discover(h, "10.0.0.7:10199"), want)

	cfg := labelledOrgs()
	cfg.Organizations = append(cfg.Organizations[1:], config.Organization{Name: "d", URL: g.BaseURL(), APIKey: testKey, Labels: map[string]string{"team": "infra"}})
	for i := range cfg.Organizations {
		cfg.Organizations[i].URL = g.BaseURL()
	}
	if err := orgs.Apply(cfg, "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	check(discover(h, ""), []sdTarget{want[1], want[2], target("groq-exporter.monitoring.svc:10199", "d", "team", "infra")})
	if resp := request(t, h, http.MethodGet, "/probe?organization=d"); resp.StatusCode != http.StatusOK {
		t.Errorf("an organization added by a reload: /probe answered %d", resp.StatusCode)
	}
	if resp := request(t, h, http.MethodGet, "/probe?organization=b"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an organization removed by a reload: /probe answered %d", resp.StatusCode)
	}

	orgs2, _, _ := servedOrgs(t, config.Default())
	check(discover(serveAll(orgs2, ""), "exporter:10199"), []sdTarget{target("exporter:10199", DefaultOrganization)})
}

// TestOrganizationLabelsOnMetrics: an organization's labels are on every
// one of its series and self-metrics on /metrics.
func TestOrganizationLabelsOnMetrics(t *testing.T) {
	orgs, _, _ := servedOrgs(t, labelledOrgs())
	got := series(t, body(t, request(t, serveAll(orgs, ""), http.MethodGet, "/metrics")))
	n := 0
	for _, s := range got {
		if strings.Contains(s, `organization="b"`) {
			n++
			if !strings.Contains(s, `team="search"`) || !strings.Contains(s, `cost_center="cc-2"`) {
				t.Errorf("a series of b lacks its labels: %s", s)
			}
		}
		if strings.Contains(s, `organization="c"`) && strings.Contains(s, "team=") {
			t.Errorf("a series of c has another organization's label: %s", s)
		}
	}
	if n < 10 || !slices.Contains(got, `groq_up{cost_center="cc-2", organization="b", team="search"} 1`) {
		t.Errorf("%d series of b; groq_up of b missing its labels:\n%s", n, strings.Join(got, "\n"))
	}
}

// TestRefusedScrapesCounted: each scrape refused with a 400, of /probe or of
// the metrics path, is counted by reason in groq_exporter_scrapes_refused_total
// (every reason there from 0) and logged at debug level with its path and
// reason.
func TestRefusedScrapesCounted(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs("")
	if err := orgs.Apply(twoOrgs(g.BaseURL(), g.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	var logged bytes.Buffer
	refusals := NewRefusals(log.NewLogfmtLogger(log.NewSyncWriter(&logged)))
	for _, r := range refusedReasons {
		if got := testutil.ToFloat64(refusals.counter.WithLabelValues(r)); got != 0 {
			t.Errorf("%s{reason=%q} starts at %v", RefusedName, r, got)
		}
	}
	h := NewHandler(HandlerOpts{MetricsPath: "/metrics", CacheTTL: time.Hour, Orgs: orgs, Reloader: NewReloader("", orgs, nil),
		Gatherer: prometheus.NewRegistry(), Refusals: refusals, Logger: log.NewNopLogger()})
	want := map[string]float64{}
	for _, tc := range []struct{ target, reason string }{
		{"/probe", refusedMissing},
		{"/probe?organization=a&target=b", refusedRepeated},
		{"/probe?organization=", refusedEmpty},
		{"/probe?target=https://elsewhere.example/", refusedAddress},
		{"/probe?organization=nope", refusedUnknown},
		{"/probe?organization=nope", refusedUnknown},
		{"/metrics?organization=a", refusedOnMetric},
	} {
		if resp := request(t, h, http.MethodGet, tc.target); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s answered %d", tc.target, resp.StatusCode)
		}
		want[tc.reason]++
		if !strings.Contains(logged.String(), "reason="+tc.reason) {
			t.Errorf("%s: no debug line with reason=%s in\n%s", tc.target, tc.reason, logged.String())
		}
	}
	if resp := request(t, h, http.MethodGet, "/probe?organization=a"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/probe?organization=a answered %d", resp.StatusCode)
	}
	for _, r := range refusedReasons {
		if got := testutil.ToFloat64(refusals.counter.WithLabelValues(r)); got != want[r] {
			t.Errorf("%s{reason=%q} = %v, want %v", RefusedName, r, got, want[r])
		}
	}
}
