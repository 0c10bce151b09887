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

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

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
