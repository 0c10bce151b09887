//go:build integration

package groqtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPrometheusScrapesTarget(t *testing.T) {
	t.Parallel() // most of its time is Prometheus' 5-second wait before it first hands targets to its scraper
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/custom/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE groqtest_probe gauge\ngroqtest_probe{model=\"llama-3.1-8b-instant\"} 42\n")
	}))
	t.Cleanup(target.Close)
	prom := PrometheusForTest(t, target.URL+"/custom/metrics")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := prom.WaitForSamples(ctx, "groqtest_probe")
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(target.URL, "http://")
	want := fmt.Sprintf(`groqtest_probe{instance=%q,job="target-0",model="llama-3.1-8b-instant"} 42`, host)
	if len(got) != 1 || got[0].String() != want {
		t.Fatalf("Prometheus answered %v, want [%s]", got, want)
	}
	up, err := prom.Query(ctx, "up")
	if err != nil || len(up) != 1 || up[0].Value != 1 {
		t.Fatalf("up = %v (%v), want 1", up, err)
	}
}
