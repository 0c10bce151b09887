// Command groq_exporter serves the usage metrics of a Groq organization,
// read from Groq's Prometheus-compatible query API, on /metrics for a
// Prometheus to scrape.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/groq"
)

const (
	exporterName       = "groq_exporter"
	defaultListenAddr  = ":10199"
	defaultMetricsPath = "/metrics"
	apiKeyEnv          = "GROQ_API_KEY"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, exporterName+":", err)
		os.Exit(1)
	}
}

// run parses args, wires the exporter and serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	app := kingpin.New(exporterName, "Serves the usage metrics of a Groq organization on /metrics.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	var (
		groqURL = app.Flag("groq.url", "Base URL of Groq's Prometheus-compatible metrics API.").
			Default(groq.DefaultURL).String()
		keyFile = app.Flag("groq.api-key-file", "File holding the Groq API key, re-read on every request so that a rotated key works without a restart. Without it the key comes from $"+apiKeyEnv+".").
			PlaceHolder("PATH").String()
		timeout = app.Flag("groq.timeout", "Timeout of each request to Groq.").
			Default(groq.DefaultTimeout.String()).Duration()
		cacheTTL = app.Flag("groq.cache-ttl", "How long one answer from Groq is reused: Groq is asked at most once per TTL, however many Prometheus servers scrape. 0 asks on every scrape.").
				Default(collector.DefaultCacheTTL.String()).Duration()
		maxStale = app.Flag("groq.max-stale", "How long the last good values are still served while refreshes from Groq fail.").
				Default(collector.DefaultMaxStale.String()).Duration()
		maxBytes = app.Flag("groq.max-response-bytes", "Largest response body read from Groq.").
				Default("8MiB").Bytes()
		configFile = app.Flag("config.file", "Optional YAML file: custom MetricsQL queries, the built-in families to export, several Groq organizations. Reloaded on SIGHUP and POST /-/reload.").
				PlaceHolder("PATH").String()
		configCheck = app.Flag("config.check", "Validate --config.file (and the key files it names) without contacting Groq, print \"config OK\" or the errors, and exit.").Bool()
		metricsPath = app.Flag("web.telemetry-path", "Path under which to expose metrics.").
				Default(defaultMetricsPath).String()
		logLevel  = app.Flag("log.level", "Only log messages with the given severity or above.").Default("info").Enum("debug", "info", "warn", "error")
		logFormat = app.Flag("log.format", "Output format of log messages.").Default("logfmt").Enum("logfmt", "json")
	)
	toolkitFlags := kingpinflag.AddFlags(app, defaultListenAddr)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		return err
	}

	apiMetrics := collector.NewAPIMetrics()
	set := settings{
		url: *groqURL, keyFile: *keyFile, envKey: getenv(apiKeyEnv), timeout: *timeout, maxBytes: int64(*maxBytes),
		cacheTTL: *cacheTTL, maxStale: *maxStale, observer: apiMetrics,
	}
	if *configCheck {
		if *configFile == "" {
			return errors.New("--config.check needs --config.file")
		}
		if _, _, err := set.load(*configFile, nil); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "config OK")
		return nil
	}

	base := newBaseLogger(stderr, *logLevel, *logFormat)
	logger := log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	level.Info(logger).Log("msg", "Starting "+exporterName, "version", version.Info())
	level.Info(logger).Log("msg", "Build context", "build_context", version.BuildContext())

	set.logger = logger
	rl := newReloader(*configFile, set, logger)
	if err := rl.Reload(); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(rl.group, apiMetrics, versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if *configFile != "" {
		reg.MustRegister(rl)
	}

	mux, err := newMux(*metricsPath, *cacheTTL, rl, reg, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				_ = rl.reloadFromFile()
			case <-ctx.Done():
				return
			}
		}
	}()

	// exporter-toolkit logs through slog: into the same go-kit logger, which
	// filters by level; the handler adds its own time and caller.
	slogger := slog.New(sloggokit.NewGoKitHandler(base, slog.LevelDebug))
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, toolkitFlags, slogger) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		level.Info(logger).Log("msg", "Shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			// Connections still open after the grace period (a slow scrape, or
			// one that never sent a request) are cut: stopping must not fail.
			level.Warn(logger).Log("msg", "Closing connections left after the shutdown grace period", "err", err)
			return srv.Close()
		}
		return nil
	}
}

// newHTTPClient builds the client that talks to Groq, with the API key as a
// bearer token: from keyFile (re-read on every request) or else from envKey.
func newHTTPClient(keyFile, envKey string) (*http.Client, error) {
	auth := &commonconfig.Authorization{Type: "Bearer"}
	switch {
	case keyFile != "":
		key, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read the Groq API key: %w", err)
		}
		if strings.TrimSpace(string(key)) == "" {
			return nil, fmt.Errorf("the Groq API key file %s is empty", keyFile)
		}
		auth.CredentialsFile = keyFile
	case strings.TrimSpace(envKey) != "":
		auth.Credentials = commonconfig.Secret(strings.TrimSpace(envKey))
	default:
		return nil, errors.New("no Groq API key: set $" + apiKeyEnv + " or --groq.api-key-file")
	}
	cfg := commonconfig.DefaultHTTPClientConfig
	cfg.Authorization = auth
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("HTTP client configuration: %w", err)
	}
	return commonconfig.NewClientFromConfig(cfg, exporterName, commonconfig.WithUserAgent(version.ComponentUserAgent(exporterName)))
}

// newBaseLogger returns the go-kit logger every component writes to, in the
// chosen format and filtered by level.
func newBaseLogger(w io.Writer, lvl, format string) log.Logger {
	var l log.Logger
	if format == "json" {
		l = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		l = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	return level.NewFilter(l, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
}
