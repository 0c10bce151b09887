//go:build integration

package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// The tests in this file run the exporter against a real VictoriaMetrics (what
// Groq runs) behind a gateway that speaks Groq's API, and have a real
// Prometheus scrape it. They fail, naming the Debian package, when the
// servers are missing.

const realKey = "gsk_realServerKey0123456789"

// groqStandIn starts VictoriaMetrics with one round of synthetic Groq series,
// behind a gateway that accepts realKey.
func groqStandIn(t *testing.T) (*groqtest.VictoriaMetrics, *groqtest.Loader, *groqtest.GatewayServer) {
	t.Helper()
	vm := groqtest.VictoriaMetricsForTest(t)
	loader := groqtest.NewLoader(vm, 42)
	if _, err := loader.WriteNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	return vm, loader, groqtest.GatewayForTest(t, vm, realKey)
}

// parseExposition returns the samples of an exposition as `name{labels} value`
// strings, keeping the families for which keep is true.
func parseExposition(t *testing.T, text string, keep func(name string) bool) []string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	var out []string
	for name, mf := range mfs {
		if !keep(name) {
			continue
		}
		for _, m := range mf.GetMetric() {
			s := groqtest.Sample{Labels: map[string]string{"__name__": name}, Value: m.GetGauge().GetValue()}
			for _, lp := range m.GetLabel() {
				s.Labels[lp.GetName()] = lp.GetValue()
			}
			out = append(out, s.String())
		}
	}
	slices.Sort(out)
	return out
}

// expectedFromVM asks VictoriaMetrics directly for every built-in series and
// translates the answer by hand into what the exporter must serve.
func expectedFromVM(t *testing.T, vm *groqtest.VictoriaMetrics) []string {
	t.Helper()
	samples, err := vm.Query(context.Background(), `{__name__=~"requests:.*|.*:rate5m"}`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range samples {
		labels := maps.Clone(s.Labels)
		parts := strings.Split(s.Name(), ":")
		if len(parts) == 3 {
			labels["__name__"] = "groq_" + parts[0]
			labels["percentile"] = parts[1]
		} else {
			labels["__name__"] = "groq_requests_" + parts[1]
		}
		out = append(out, groqtest.Sample{Labels: labels, Value: s.Value}.String())
	}
	slices.Sort(out)
	return out
}

func isGroqSeries(name string) bool {
	return slices.Contains([]string{"groq_requests_increase1m", "groq_requests_rate1m", "groq_e2e_latency_seconds",
		"groq_ttft_latency_seconds", "groq_queue_latency_seconds", "groq_tokens_in", "groq_tokens_out"}, name)
}

// TestAgainstVictoriaMetrics: every exported value equals what a direct
// MetricsQL query against VictoriaMetrics returns; a model added to or
// removed from VictoriaMetrics shows up or goes away.
func TestAgainstVictoriaMetrics(t *testing.T) {
	t.Parallel()
	vm, loader, gw := groqStandIn(t)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": realKey}, "--groq.url="+gw.BaseURL(), "--groq.cache-ttl=0")

	scrape := func() []string {
		code, body := e.get(t, "/metrics")
		if code != 200 || !strings.Contains(body, "\ngroq_up 1\n") {
			t.Fatalf("scrape: %d\n%s\n%s", code, body, e.log)
		}
		promtoolCheckMetrics(t, body)
		return parseExposition(t, body, isGroqSeries)
	}
	got, want := scrape(), expectedFromVM(t, vm)
	if len(want) != 3*(2*4+5*3) {
		t.Fatalf("VictoriaMetrics holds %d series, want 69 (3 models)", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("exported series differ from VictoriaMetrics':\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	if n := gw.Requests(); n != 1 {
		t.Errorf("one scrape made %d calls to the gateway, want 1", n)
	}

	loader.AddModel("groq/new-model")
	if _, err := loader.WriteNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(scrape(), "\n"); !strings.Contains(got, `groq_ttft_latency_seconds{model="groq/new-model",percentile="p99"}`) {
		t.Errorf("added model not exported:\n%s", got)
	}
	if err := loader.RemoveModel(context.Background(), "groq/new-model"); err != nil {
		t.Fatal(err)
	}
	got, want = scrape(), expectedFromVM(t, vm)
	if strings.Contains(strings.Join(got, "\n"), "new-model") || !slices.Equal(got, want) {
		t.Errorf("after removing the model, exported series differ from VictoriaMetrics':\n%s", strings.Join(got, "\n"))
	}
}

// TestPrometheusScrapesExporter: a real Prometheus scrapes the exporter and
// finds the Groq series with the expected names and labels; when Groq goes
// away the scrape still succeeds and says groq_up 0.
func TestPrometheusScrapesExporter(t *testing.T) {
	t.Parallel()
	_, _, gw := groqStandIn(t)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": realKey}, "--groq.url="+gw.BaseURL(), "--groq.cache-ttl=0")
	prom := groqtest.PrometheusForTest(t, e.url+"/metrics")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	samples, err := prom.WaitForSamples(ctx, `groq_ttft_latency_seconds{percentile="p99"}`)
	if err != nil {
		t.Fatalf("%v\nexporter log:\n%s", err, e.log)
	}
	if len(samples) != 3 {
		t.Errorf("Prometheus has %d p99 TTFT series, want one per model (3): %v", len(samples), samples)
	}
	for _, q := range []string{`groq_requests_rate1m{status_code="429"}`, `groq_tokens_out{percentile="p50"}`, `groq_queue_latency_seconds`} {
		if s, err := prom.Query(ctx, q); err != nil || len(s) == 0 {
			t.Errorf("Prometheus query %s: %v %v", q, s, err)
		}
	}
	for _, s := range samples {
		if s.Labels["model"] == "" || s.Labels["job"] == "" {
			t.Errorf("series lacks model or job: %s", s)
		}
	}
	waitFor(t, ctx, prom, `up == 1`)
	waitFor(t, ctx, prom, `groq_up == 1`)

	gw.Down()
	waitFor(t, ctx, prom, `groq_up == 0`)
	waitFor(t, ctx, prom, `up == 1`)
	if !strings.Contains(e.log.String(), "cannot reach Groq") {
		t.Errorf("log does not say Groq is unreachable:\n%s", e.log)
	}
}

// waitFor polls until query returns a sample scraped after the call began.
func waitFor(t *testing.T, ctx context.Context, prom *groqtest.Prometheus, query string) {
	t.Helper()
	start := time.Now()
	for {
		s, err := prom.Query(ctx, query+` and timestamp(`+strings.Fields(query)[0]+`) > `+strconv.FormatInt(start.Unix(), 10))
		if err == nil && len(s) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus never answered %s (last error %v)", query, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestBadKeyAgainstGateway: a key the gateway refuses gives groq_up 0 and a
// log line that says so, without the key.
func TestBadKeyAgainstGateway(t *testing.T) {
	t.Parallel()
	_, _, gw := groqStandIn(t)
	const wrong = "gsk_wrongKeyABCDEFGHIJ"
	e := startExporter(t, map[string]string{"GROQ_API_KEY": wrong}, "--groq.url="+gw.BaseURL(), "--log.level=debug")
	_, body := e.get(t, "/metrics")
	if !strings.Contains(body, "\ngroq_up 0\n") || !strings.Contains(body, `groq_api_requests_total{code="401",endpoint="query"} 1`) {
		t.Errorf("want groq_up 0 after one 401:\n%s", body)
	}
	log := e.log.String()
	if !strings.Contains(log, "Groq rejected the API key") || !strings.Contains(log, "HTTP 401") {
		t.Errorf("log does not say the key was rejected:\n%s", log)
	}
	if strings.Contains(log, "wrongKey") {
		t.Errorf("the key appears in the log:\n%s", log)
	}
}

const realErrorRatio = `sum by (model) (requests:rate1m{status_code!~"2.."}) / sum by (model) (requests:rate1m)`

// TestConfigAgainstVictoriaMetrics: two organizations, each a VictoriaMetrics
// of its own behind a gateway with its own key, and one custom query. Every
// value the exporter serves equals what the same MetricsQL returns from that
// organization's VictoriaMetrics, labelled with the organization; when one
// organization's gateway goes away, only its groq_up falls.
func TestConfigAgainstVictoriaMetrics(t *testing.T) {
	t.Parallel()
	type org struct {
		name, key string
		vm        *groqtest.VictoriaMetrics
		gw        *groqtest.GatewayServer
	}
	orgs := []*org{{name: "alpha", key: "gsk_alphaRealKey0123456789"}, {name: "beta", key: "gsk_betaRealKey0123456789"}}
	dir := t.TempDir()
	cfg := "builtin:\n  families: [groq_requests_rate1m]\norganizations:\n"
	for i, o := range orgs {
		o.vm = groqtest.VictoriaMetricsForTest(t)
		models := groqtest.DefaultModels[:2+i] // the organizations use different models
		if _, err := groqtest.NewLoader(o.vm, int64(42+i), models...).WriteNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		o.gw = groqtest.GatewayForTest(t, o.vm, o.key)
		writeFile(t, filepath.Join(dir, o.name+".key"), o.key+"\n")
		cfg += fmt.Sprintf("  - name: %s\n    api_key_file: %s.key\n    url: %s\n", o.name, o.name, o.gw.BaseURL())
	}
	cfg += fmt.Sprintf("queries:\n  - name: groq_error_ratio\n    help: Share of requests that did not succeed.\n    query: '%s'\n    labels: [model]\n", realErrorRatio)
	cfgFile := filepath.Join(dir, "groq.yml")
	writeFile(t, cfgFile, cfg)
	e := startExporter(t, nil, "--config.file="+cfgFile, "--groq.cache-ttl=0")

	// want is what the exporter must serve: each organization's own answers
	// to the built-in request rates and to the custom query.
	var want []string
	for _, o := range orgs {
		for name, q := range map[string]string{"groq_requests_rate1m": "requests:rate1m", "groq_error_ratio": realErrorRatio} {
			samples, err := o.vm.Query(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(samples) == 0 {
				t.Fatalf("%s: VictoriaMetrics has nothing for %s", o.name, q)
			}
			for _, s := range samples {
				labels := maps.Clone(s.Labels)
				labels["__name__"], labels["organization"] = name, o.name
				want = append(want, groqtest.Sample{Labels: labels, Value: s.Value}.String())
			}
		}
	}
	slices.Sort(want)

	code, body := e.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("scrape: %d\n%s", code, body)
	}
	promtoolCheckMetrics(t, body)
	got := parseExposition(t, body, func(name string) bool { return name == "groq_requests_rate1m" || name == "groq_error_ratio" })
	if !sameSamples(got, want) {
		t.Errorf("exported series differ from VictoriaMetrics':\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	for _, line := range []string{
		`groq_up{organization="alpha"} 1`, `groq_up{organization="beta"} 1`,
		`groq_query_success{organization="alpha",query="groq_error_ratio"} 1`,
		`groq_query_success{organization="beta",query="groq_error_ratio"} 1`,
		`groq_config_last_reload_successful 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", line, body)
		}
	}

	orgs[1].gw.Down()
	_, body = e.get(t, "/metrics")
	for _, line := range []string{`groq_up{organization="alpha"} 1`, `groq_up{organization="beta"} 0`, `groq_query_success{organization="beta",query="groq_error_ratio"} 0`} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("with beta down, /metrics lacks %s:\n%s", line, body)
		}
	}
	if log := e.log.String(); strings.Contains(log, "RealKey") {
		t.Errorf("a key appears in the log:\n%s", log)
	}
}

// sameSamples compares two sorted lists of `series value` strings: the same
// series, and values equal but for the last bits of a float sum, which
// VictoriaMetrics adds up in no fixed order.
func sameSamples(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		gs, gv, _ := strings.Cut(got[i], "} ")
		ws, wv, _ := strings.Cut(want[i], "} ")
		g, err1 := strconv.ParseFloat(gv, 64)
		w, err2 := strconv.ParseFloat(wv, 64)
		if gs != ws || err1 != nil || err2 != nil || math.Abs(g-w) > 1e-12*math.Max(math.Abs(g), math.Abs(w)) {
			return false
		}
	}
	return true
}
