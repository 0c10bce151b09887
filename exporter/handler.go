package exporter

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/collector"
)

// HandlerOpts is what NewHandler serves.
type HandlerOpts struct {
	MetricsPath string
	// ExternalAddress is the host:port service discovery gives as the
	// targets' address; empty means the Host the discovery request came to.
	ExternalAddress string
	CacheTTL        time.Duration // shown on the status page
	Orgs            *Organizations
	Reloader        *Reloader
	Gatherer        prometheus.Gatherer // the exporter's own metrics: API counters, build info, reload gauges
	Runtime         prometheus.Gatherer // the Go and process metrics, gathered at most once a second; may be nil
	Refusals        *Refusals           // counts the scrapes refused with a 400; may be nil
	Logger          log.Logger
}

// routes are the endpoints NewHandler serves besides the metrics path and
// the status page at /, in one table so that Paths cannot drift from them. A
// route whose handler is nil for the options given is not served.
var routes = []struct {
	path    string
	handler func(HandlerOpts) http.Handler
}{
	{ProbePath, func(o HandlerOpts) http.Handler { return probeHandler(o.Orgs, o.Refusals, o.Logger) }},
	{DiscoveryPath, func(o HandlerOpts) http.Handler { return discoveryHandler(o.Orgs, o.ExternalAddress) }},
	{"/-/healthy", func(HandlerOpts) http.Handler { return text("Healthy\n") }},
	{"/-/ready", func(HandlerOpts) http.Handler { return text("Ready\n") }},
	{"/-/reload", func(o HandlerOpts) http.Handler { return reloadHandler(o.Reloader) }},
	{"/config", func(o HandlerOpts) http.Handler { // only with a configuration file
		if o.Reloader.File == "" {
			return nil
		}
		return configHandler(o.Orgs)
	}},
}

// Paths are the paths NewHandler may serve besides the metrics and the
// status page at /: the metrics path may be none of them.
func Paths() []string {
	paths := make([]string, len(routes))
	for i, r := range routes {
		paths[i] = r.path
	}
	return paths
}

// NewHandler routes the exporter's HTTP endpoints: the metrics, /probe, /sd,
// the status page at /, /-/healthy, /-/ready, POST /-/reload and, with a
// configuration file, /config.
func NewHandler(o HandlerOpts) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(o.MetricsPath, metricsHandler(o.Orgs, o.Gatherer, o.Runtime, o.Reloader, o.Refusals, o.Logger))
	for _, r := range routes {
		if h := r.handler(o); h != nil {
			mux.Handle(r.path, h)
		}
	}
	if o.MetricsPath != "/" {
		mux.Handle("/", statusPage(o.MetricsPath, o.CacheTTL, o.Orgs))
	}
	return mux
}

// text answers every request with s.
func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(s)) })
}

// reloadHandler reloads the configuration file on POST, as SIGHUP does, and
// answers 500 with the errors when the new file is refused (the previous
// configuration stays in use). The errors name files, never key contents.
func reloadHandler(rl *Reloader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		if rl.File == "" {
			_, _ = w.Write([]byte("No --config.file: nothing to reload.\n"))
			return
		}
		if err := rl.ReloadLogged(); err != nil {
			http.Error(w, "failed to reload the configuration: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("Configuration reloaded.\n"))
	})
}

// configHandler shows the configuration in use, with inline keys hidden.
func configHandler(orgs *Organizations) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		cfg, _ := orgs.Config()
		_, _ = w.Write([]byte(cfg.String()))
	})
}

// metricsHandler serves the Groq families as the last refresh left them,
// merged with the live self-metrics of g (gathered at most once per
// liveReuse, and again after every refresh and every load of the
// configuration by rl, which may be nil) and of runtime (may be nil;
// gathered at most once per liveReuse, whatever happens). A GET lets the
// organizations refresh first (which waits for Groq only when no refresh is
// recent, within the scrape's own timeout); a HEAD answers the headers a GET
// would, and never refreshes. A request that names an organization, as /probe takes it,
// is a 400 that points to /probe.
func metricsHandler(orgs *Organizations, g, runtime prometheus.Gatherer, rl *Reloader, refused *Refusals, logger log.Logger) http.Handler {
	x := newExposition(g, runtime, rl.Loads, logger)
	x.coalesce = orgs.settings.CacheTTL > 0
	if f := orgs.encoded.Load(); f != nil {
		x.encoded = *f
	}
	orgs.onRender(x.prepare)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if problem := namesOrganization(r); problem != "" {
			refused.refuse(w, r, refusedOnMetric, problem)
			return
		}
		if r.Method != http.MethodHead {
			ctx, cancel := context.WithTimeout(r.Context(), wait(r.Header))
			defer cancel()
			orgs.Refresh(ctx)
		}
		x.serve(w, r, orgs.view())
	})
}

// wait is how long a scrape waits for Groq, from Prometheus's
// X-Prometheus-Scrape-Timeout-Seconds header: see collector.Wait.
func wait(h http.Header) time.Duration {
	s, err := strconv.ParseFloat(h.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	if err != nil {
		s = 0
	}
	return collector.Wait(s)
}
