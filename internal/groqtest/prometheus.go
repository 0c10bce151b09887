package groqtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PrometheusScrapeInterval is how often Prometheus started by StartPrometheus scrapes its targets; the
// scrape timeout is the same.
const PrometheusScrapeInterval = time.Second

// Prometheus is a Prometheus server on 127.0.0.1 with a temporary storage directory.
type Prometheus struct {
	URL string // base URL, e.g. http://127.0.0.1:41235
	p   *process
}

// StartPrometheus starts the pinned Prometheus (PrometheusTool) on a free loopback port, scraping each
// target URL (such as http://127.0.0.1:10199/metrics) every PrometheusScrapeInterval as job
// "target-<index>", and waits until /-/ready answers. Prometheus passes new targets to its scraper on a
// 5-second tick, so the first scrape comes up to 5s after start; WaitForSamples waits for it.
func StartPrometheus(targets ...string) (*Prometheus, error) {
	config, err := prometheusConfig(targets)
	if err != nil {
		return nil, err
	}
	return StartPrometheusWithConfig(config)
}

// StartPrometheusWithConfig starts prometheus as StartPrometheus does, with config as its configuration
// file: for scrape configurations of its own (service discovery, relabelling).
func StartPrometheusWithConfig(config string) (*Prometheus, error) {
	bin, err := PrometheusTool.Path()
	if err != nil {
		return nil, err
	}
	args := func(dir, addr string) ([]string, error) {
		file := filepath.Join(dir, "prometheus.yml")
		if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
			return nil, err
		}
		return []string{
			"--config.file=" + file,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--log.level=warn",
		}, nil
	}
	p, addr, err := startServer("prometheus", bin, args, "/-/ready")
	if err != nil {
		return nil, err
	}
	return &Prometheus{URL: "http://" + addr, p: p}, nil
}

func prometheusConfig(targets []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %v\n  scrape_timeout: %v\nscrape_configs:\n",
		PrometheusScrapeInterval, PrometheusScrapeInterval)
	for i, t := range targets {
		u, err := url.Parse(t)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("scrape target %q is not an http(s) URL", t)
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/metrics"
		}
		fmt.Fprintf(&b, "  - job_name: %q\n    scheme: %s\n    metrics_path: %q\n    static_configs:\n      - targets: [%q]\n",
			fmt.Sprintf("target-%d", i), u.Scheme, path, u.Host)
	}
	return b.String(), nil
}

// PrometheusForTest starts Prometheus or fails the test, and stops it when the test ends; the server's log
// is added to the test output if the test failed.
func PrometheusForTest(t testing.TB, targets ...string) *Prometheus {
	t.Helper()
	config, err := prometheusConfig(targets)
	if err != nil {
		t.Fatal(err)
	}
	return PrometheusWithConfigForTest(t, config)
}

// PrometheusWithConfigForTest is PrometheusForTest with config as Prometheus's configuration file.
func PrometheusWithConfigForTest(t testing.TB, config string) *Prometheus {
	t.Helper()
	p, err := StartPrometheusWithConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && p.p.log.String() != "" {
			t.Logf("prometheus log:\n%s", p.p.log)
		}
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// Stop stops the server and removes its storage directory.
func (p *Prometheus) Stop() error { return p.p.stop() }

// Query runs an instant PromQL query at the current time.
func (p *Prometheus) Query(ctx context.Context, query string) ([]Sample, error) {
	return instantQuery(ctx, p.URL, "", query)
}

// WaitForSamples repeats query until it returns at least one sample (as it does once a scrape has
// happened) or ctx ends.
func (p *Prometheus) WaitForSamples(ctx context.Context, query string) ([]Sample, error) {
	for {
		s, err := p.Query(ctx, query)
		if err == nil && len(s) > 0 {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no samples for %q (last error: %v): %w", query, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
