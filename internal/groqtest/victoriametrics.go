package groqtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// VictoriaMetrics is a single-node VictoriaMetrics server on 127.0.0.1 with a temporary data directory.
type VictoriaMetrics struct {
	URL string // base URL, e.g. http://127.0.0.1:41234
	p   *process
}

// StartVictoriaMetrics starts victoria-metrics (from PATH, else /usr/bin) on a free loopback port and
// waits until /health answers.
//
// -search.latencyOffset=0s stops instant queries from hiding the last 30s of samples. With Flush after
// each import, a sample is returned by /api/v1/query as soon as the wall clock is one second past its
// timestamp (the Loader stamps its rounds one second in the past for that reason). -search.disableCache
// keeps the rollup result cache from answering range queries with results computed before a backfill
// or a deletion.
func StartVictoriaMetrics() (*VictoriaMetrics, error) {
	bin, err := findBinary("victoria-metrics", "victoria-metrics")
	if err != nil {
		return nil, err
	}
	args := func(dir, addr string) ([]string, error) {
		return []string{
			"-httpListenAddr=" + addr,
			"-storageDataPath=" + dir,
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=WARN",
		}, nil
	}
	p, addr, err := startServer("victoria-metrics", bin, args, "/health")
	if err != nil {
		return nil, err
	}
	return &VictoriaMetrics{URL: "http://" + addr, p: p}, nil
}

// VictoriaMetricsForTest starts VictoriaMetrics or fails the test, and stops it when the test ends; the
// server's log is added to the test output if the test failed.
func VictoriaMetricsForTest(t testing.TB) *VictoriaMetrics {
	t.Helper()
	vm, err := StartVictoriaMetrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && vm.p.log.String() != "" {
			t.Logf("victoria-metrics log:\n%s", vm.p.log)
		}
		if err := vm.Stop(); err != nil {
			t.Error(err)
		}
	})
	return vm
}

// Stop stops the server and removes its data directory.
func (vm *VictoriaMetrics) Stop() error { return vm.p.stop() }

// Query runs an instant MetricsQL query directly against VictoriaMetrics (no gateway) at the current time.
func (vm *VictoriaMetrics) Query(ctx context.Context, query string) ([]Sample, error) {
	return instantQuery(ctx, vm.URL, "", query)
}

// Import writes samples in the Prometheus text format, with explicit millisecond timestamps, through
// /api/v1/import/prometheus. They become queryable after Flush.
func (vm *VictoriaMetrics) Import(ctx context.Context, text []byte) error {
	return vm.call(ctx, http.MethodPost, "/api/v1/import/prometheus", bytes.NewReader(text))
}

// Flush makes everything imported so far searchable at once (/internal/force_flush); without it new
// series take several seconds to appear.
func (vm *VictoriaMetrics) Flush(ctx context.Context) error {
	return vm.call(ctx, http.MethodGet, "/internal/force_flush", nil)
}

// DeleteSeries deletes every series that matches the series selector match; they vanish from queries at
// once.
func (vm *VictoriaMetrics) DeleteSeries(ctx context.Context, match string) error {
	return vm.call(ctx, http.MethodPost, "/api/v1/admin/tsdb/delete_series?"+url.Values{"match[]": {match}}.Encode(), nil)
}

func (vm *VictoriaMetrics) call(ctx context.Context, method, path string, body io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, method, vm.URL+path, body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("victoria-metrics %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
