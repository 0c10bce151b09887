package main

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/groq-exporter/groq_exporter/collector"
)

const (
	readHeaderTimeout = 10 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// newMux routes the exporter's HTTP endpoints.
func newMux(metricsPath string, cacheTTL time.Duration, rl *reloader, g prometheus.Gatherer, logger log.Logger) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, metricsHandler(rl.group, g, logger))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Healthy\n"))
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Ready\n"))
	})
	mux.Handle("/-/reload", reloadHandler(rl))
	if rl.file != "" {
		mux.Handle("/config", configHandler(rl))
	}
	if metricsPath != "/" {
		mux.Handle("/", statusPage(metricsPath, cacheTTL, rl))
	}
	return mux, nil
}

// reloadHandler reloads the configuration file on POST, as SIGHUP does, and
// answers 500 with the errors when the new file is refused (the previous
// configuration stays in use). The errors name files, never key contents.
func reloadHandler(rl *reloader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		if rl.file == "" {
			_, _ = w.Write([]byte("No --config.file: nothing to reload.\n"))
			return
		}
		if err := rl.reloadFromFile(); err != nil {
			http.Error(w, "failed to reload the configuration: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("Configuration reloaded.\n"))
	})
}

// configHandler shows the configuration in use, with inline keys hidden.
func configHandler(rl *reloader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(rl.config().String()))
	})
}

// refresher is what a scrape refreshes before the registry is gathered.
type refresher interface{ Refresh(context.Context) }

// metricsHandler refreshes every organization from Groq (or joins the
// refresh under way, or finds the cache fresh) within the scrape's own
// timeout, then serves the registry.
func metricsHandler(coll refresher, g prometheus.Gatherer, logger log.Logger) http.Handler {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      promhttpLogger{level.Error(logger)},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), refreshBudget(r.Header))
		defer cancel()
		coll.Refresh(ctx)
		h.ServeHTTP(w, r)
	})
}

// refreshBudget is how long a scrape may wait for Groq: Prometheus's scrape
// timeout (X-Prometheus-Scrape-Timeout-Seconds) less a margin to encode and
// send the answer, or collector.DefaultRefreshTimeout without the header.
func refreshBudget(h http.Header) time.Duration {
	s, err := strconv.ParseFloat(h.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	if err != nil || s <= 0 {
		return collector.DefaultRefreshTimeout
	}
	timeout := time.Duration(s * float64(time.Second))
	return timeout - min(timeout/5, time.Second)
}

// promhttpLogger adapts a go-kit logger to promhttp's Println interface.
type promhttpLogger struct{ logger log.Logger }

func (l promhttpLogger) Println(v ...any) { l.logger.Log("msg", v) }
