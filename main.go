// Command groq_exporter serves the usage metrics of a Groq organization,
// read from Groq's Prometheus-compatible query API, on /metrics for a
// Prometheus to scrape. It parses the flags, wires the packages together and
// serves; the exporter package holds what it serves.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/exporter"
	"github.com/groq-exporter/groq_exporter/groq"
)

const (
	defaultListenAddr  = ":10199"
	defaultMetricsPath = "/metrics"
	apiKeyEnv          = "GROQ_API_KEY"
	readHeaderTimeout  = 10 * time.Second
	shutdownTimeout    = 5 * time.Second
	// defaultIdleTimeout closes a scraper's keep-alive connection after this
	// long unused: longer than a 1m scrape interval, so that it is reused.
	defaultIdleTimeout = 90 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var logged loggedError
		if !errors.As(err, &logged) {
			fmt.Fprintln(os.Stderr, exporter.Name+":", err)
		}
		os.Exit(1)
	}
}

// flags are what the command line says.
type flags struct {
	url, keyFile, configFile, metricsPath, logLevel, logFormat string
	externalAddress                                            string
	timeout, cacheTTL, maxStale, idleTimeout                   time.Duration
	maxBytes                                                   units.Base2Bytes
	configCheck, groqCheck                                     bool
	autoMemLimit                                               bool
	memLimitRatio                                              float64
	toolkit                                                    *web.FlagConfig
}

func parseFlags(args []string, stdout, stderr io.Writer) (*flags, error) {
	app := kingpin.New(exporter.Name, "Serves the usage metrics of a Groq organization on /metrics.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	var f flags
	app.Flag("groq.url", "Base URL of Groq's Prometheus-compatible metrics API.").
		Default(groq.DefaultURL).StringVar(&f.url)
	app.Flag("groq.api-key-file", "File holding the Groq API key, re-read on every request so that a rotated key works without a restart. Without it the key comes from $"+apiKeyEnv+".").
		PlaceHolder("PATH").StringVar(&f.keyFile)
	durationFlag(app, "groq.timeout", "Timeout of each request to Groq.", groq.DefaultTimeout, &f.timeout)
	durationFlag(app, "groq.cache-ttl", "How long one answer from Groq is reused: Groq is asked at most once per TTL, however many Prometheus servers scrape. 0 asks on every scrape.",
		collector.DefaultCacheTTL, &f.cacheTTL)
	durationFlag(app, "groq.max-stale", "How long the last good values are still served while refreshes from Groq fail.",
		collector.DefaultMaxStale, &f.maxStale)
	f.maxBytes = groq.DefaultMaxResponseBytes
	app.Flag("groq.max-response-bytes", "Largest response body read from Groq.").
		Default(units.Base2Bytes(groq.DefaultMaxResponseBytes).String()).SetValue(namedValue{"groq.max-response-bytes", (*bytesValue)(&f.maxBytes)})
	app.Flag("config.file", "Optional YAML file: custom MetricsQL queries, the built-in families to export, several Groq organizations. Reloaded on SIGHUP and POST /-/reload.").
		PlaceHolder("PATH").StringVar(&f.configFile)
	app.Flag("config.check", "Validate --config.file (and the key and TLS files it names) without contacting Groq, print \"config OK\" or one line per problem, and exit.").BoolVar(&f.configCheck)
	app.Flag("groq.check", "Ask Groq once with the configured key and URL, print whether the key works and what becomes of each series Groq serves, and exit 0 if it works, else 1.").BoolVar(&f.groqCheck)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").
		Default(defaultMetricsPath).StringVar(&f.metricsPath)
	app.Flag("web.external-address", "host:port that service discovery ("+exporter.DiscoveryPath+") gives as the address of the organizations' "+exporter.ProbePath+" targets, when Prometheus reaches the exporter through a Service or ingress; empty means the host the discovery request came to.").
		PlaceHolder("HOST:PORT").StringVar(&f.externalAddress)
	durationFlag(app, "web.idle-timeout", "How long a scraper's keep-alive connection is kept open unused.", defaultIdleTimeout, &f.idleTimeout)
	enumFlag(app, "log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]",
		&f.logLevel, "info", "debug", "info", "warn", "error")
	enumFlag(app, "log.format", "Output format of log messages. One of: [logfmt, json]", &f.logFormat, "logfmt", "logfmt", "json")
	app.Flag("auto-gomemlimit", "Set the Go memory limit to --auto-gomemlimit.ratio of the container's memory limit (cgroup), or of the machine's memory without one, as Prometheus does; $GOMEMLIMIT, when set, wins. --no-auto-gomemlimit leaves it unset.").
		Default("true").BoolVar(&f.autoMemLimit)
	app.Flag("auto-gomemlimit.ratio", "Share of the container's memory limit the Go memory limit is set to, above 0 and at most 1.").
		Default("0.9").FloatVar(&f.memLimitRatio)
	f.toolkit = kingpinflag.AddFlags(app, defaultListenAddr)
	setVersion()
	app.Version(version.Print(exporter.Name))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	return &f, f.check()
}

// check refuses flag values that parse but cannot work.
func (f *flags) check() error {
	if _, err := groq.ParseURL(f.url); err != nil {
		return fmt.Errorf("--groq.url: %w", err)
	}
	switch {
	case !strings.HasPrefix(f.metricsPath, "/"):
		return fmt.Errorf("--web.telemetry-path=%s: must start with /, e.g. /metrics", f.metricsPath)
	case strings.ContainsFunc(f.metricsPath, func(r rune) bool { return unicode.IsSpace(r) || r == '{' || r == '}' }):
		return fmt.Errorf("--web.telemetry-path=%q: must be a plain path, without white space or braces", f.metricsPath)
	case slices.Contains(exporter.Paths(), f.metricsPath):
		return fmt.Errorf("--web.telemetry-path=%s: the exporter serves something else there; choose another path", f.metricsPath)
	case f.timeout <= 0:
		return fmt.Errorf("--groq.timeout=%s: must be positive", f.timeout)
	case f.cacheTTL < 0 || f.maxStale < 0:
		return errors.New("--groq.cache-ttl and --groq.max-stale must not be negative")
	case f.idleTimeout <= 0:
		return fmt.Errorf("--web.idle-timeout=%s: must be positive", f.idleTimeout)
	case f.memLimitRatio <= 0 || f.memLimitRatio > 1:
		return fmt.Errorf("--auto-gomemlimit.ratio=%v: must be above 0 and at most 1", f.memLimitRatio)
	}
	if a := f.externalAddress; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" || strings.Contains(a, "/") {
			return fmt.Errorf("--web.external-address=%s: must be host:port, e.g. groq-exporter.monitoring.svc:10199", a)
		}
	}
	return nil
}

// enumFlag adds a flag that takes one of values, whose error names it and the
// values: kingpin's own says only "enum value must be one of ...".
func enumFlag(app *kingpin.Application, name, help string, p *string, def string, values ...string) {
	*p = def
	app.Flag(name, help).Default(def).SetValue(namedValue{name, &enumValue{p, values}})
}

type enumValue struct {
	p      *string
	values []string
}

func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.values, s) {
		return fmt.Errorf("must be one of %s", strings.Join(e.values, ", "))
	}
	*e.p = s
	return nil
}

func (e *enumValue) String() string { return *e.p }

// versionFile is the repository's VERSION, the version of a binary built
// without the release's -ldflags (plain go build or go run).
//
//go:embed VERSION
var versionFile string

// setVersion fills in the version a plain `go build` leaves empty: the
// module version `go install ...@vX.Y.Z` records, else VERSION. The revision
// comes from the build's VCS information (prometheus/common/version).
func setVersion() {
	if version.Version != "" {
		return
	}
	info, _ := debug.ReadBuildInfo()
	version.Version = fallbackVersion(info, versionFile)
}

var releaseVersion = regexp.MustCompile(`^v(\d+\.\d+\.\d+)$`)

func fallbackVersion(info *debug.BuildInfo, file string) string {
	if info != nil {
		if m := releaseVersion.FindStringSubmatch(info.Main.Version); m != nil {
			return m[1]
		}
	}
	if v := strings.TrimSpace(file); v != "" {
		return v
	}
	return "unknown"
}

// setMemoryLimit sets the Go memory limit to ratio of what provider says
// the process may use, unless $GOMEMLIMIT sets it, and logs the outcome.
func setMemoryLimit(ratio float64, provider memlimit.Provider, logger log.Logger) {
	limit, err := memlimit.Set(memlimit.WithRatio(ratio), memlimit.WithProvider(provider))
	switch {
	case err != nil:
		level.Warn(logger).Log("msg", "Could not set the Go memory limit from the container's", "err", err)
	case os.Getenv("GOMEMLIMIT") != "":
		level.Info(logger).Log("msg", "Go memory limit from $GOMEMLIMIT", "limit", os.Getenv("GOMEMLIMIT"))
	case limit == math.MaxInt64:
		level.Info(logger).Log("msg", "No memory limit found; the Go memory limit stays unset")
	default:
		level.Info(logger).Log("msg", "Go memory limit set", "limit_bytes", limit, "ratio", ratio)
	}
}

// durationFlag adds a duration flag whose errors name it: kingpin's own
// say only 'time: missing unit in duration "10"'.
func durationFlag(app *kingpin.Application, name, help string, def time.Duration, p *time.Duration) {
	*p = def
	app.Flag(name, help).Default(def.String()).SetValue(namedValue{name, (*durationValue)(p)})
}

type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return fmt.Errorf("a duration needs a unit, e.g. %ss", s)
		}
		return errors.New("not a duration (e.g. 10s, 1m30s)")
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string { return time.Duration(*d).String() }

type bytesValue units.Base2Bytes

func (b *bytesValue) Set(s string) error {
	v, err := units.ParseBase2Bytes(s)
	if err != nil {
		return errors.New("not a size (e.g. 8MiB, 512KiB)")
	}
	*b = bytesValue(v)
	return nil
}

func (b *bytesValue) String() string { return units.Base2Bytes(*b).String() }

// namedValue is a flag value whose parse errors name the flag and the value.
type namedValue struct {
	name string
	v    kingpin.Value
}

func (n namedValue) Set(s string) error {
	if err := n.v.Set(s); err != nil {
		return fmt.Errorf("--%s=%s: %w", n.name, s, err)
	}
	return nil
}

func (n namedValue) String() string { return n.v.String() }

// settings turns the flags into what the exporter package takes.
func (f *flags) settings(getenv func(string) string, observer groq.Observer, logger log.Logger) exporter.Settings {
	s := exporter.Settings{
		URL: f.url, URLSource: "--groq.url", KeyFile: f.keyFile, MaxBytesSource: "--groq.max-response-bytes",
		Timeout: f.timeout, MaxResponseBytes: int64(f.maxBytes), CacheTTL: f.cacheTTL, MaxStale: f.maxStale,
		Observer: observer, Logger: logger,
	}
	if f.keyFile != "" {
		s.KeySource = "--groq.api-key-file=" + f.keyFile
	} else {
		s.Key, s.KeySource = getenv(apiKeyEnv), "$"+apiKeyEnv
	}
	return s
}

// run parses args, wires the exporter and serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	base := newBaseLogger(stderr, f.logLevel, f.logFormat)
	logger := log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	if err := serve(ctx, f, getenv, stdout, stderr, base, logger); err != nil {
		var reported errReported
		if errors.As(err, &reported) {
			return loggedError{err}
		}
		level.Error(logger).Log("msg", "groq_exporter stopped", "err", hint(err))
		return loggedError{hint(err)}
	}
	return nil
}

// errReported is the failure of a one-shot command (--config.check,
// --groq.check) that has already said why in its own words: nothing more is
// printed, the exit status is 1.
type errReported struct{ error }

func (e errReported) Unwrap() error { return e.error }

func serve(ctx context.Context, f *flags, getenv func(string) string, stdout, stderr io.Writer, base, logger log.Logger) error {
	apiMetrics := collector.NewAPIMetrics()
	orgs := exporter.NewOrganizations(f.settings(getenv, apiMetrics, logger))
	if f.configCheck {
		if f.configFile == "" {
			fmt.Fprintln(stderr, "--config.check needs --config.file")
			return errReported{errors.New("--config.check needs --config.file")}
		}
		cfg, err := exporter.LoadConfig(f.configFile)
		var warnings, problems []string
		if err != nil {
			problems = strings.Split(err.Error(), "\n") // one problem a line
		} else {
			warnings, problems = orgs.Check(cfg, f.configFile)
		}
		for _, w := range warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		if len(problems) > 0 {
			return errReported{fmt.Errorf("%d problems in %s", len(problems), f.configFile)}
		}
		fmt.Fprintln(stdout, "config OK")
		return nil
	}
	if f.groqCheck {
		// The verdict is the output: no log of the refreshes (nothing is
		// served), only the lines WriteCheck prints.
		orgs = exporter.NewOrganizations(f.settings(getenv, apiMetrics, log.NewNopLogger()))
		cfg, err := exporter.LoadConfig(f.configFile)
		if err == nil {
			err = orgs.CheckGroq(ctx, cfg, f.configFile, stdout)
		}
		if err != nil && !errors.Is(err, exporter.ErrCheckFailed) {
			fmt.Fprintln(stderr, hint(err)) // one problem a line
		}
		if err != nil {
			return errReported{err}
		}
		return nil
	}
	if file := *f.toolkit.WebConfigFile; file != "" {
		// Checked before anything starts, so that a broken file is the one
		// error, not a failure after "Listening on".
		if err := web.Validate(file); err != nil {
			return fmt.Errorf("--web.config.file=%s: %w", file, err)
		}
	}

	level.Info(logger).Log("msg", "Starting "+exporter.Name, "version", version.Info())
	level.Info(logger).Log("msg", "Build context", "build_context", version.BuildContext())
	if f.autoMemLimit {
		setMemoryLimit(f.memLimitRatio, memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem), logger)
	}
	rl := exporter.NewReloader(f.configFile, orgs, logger)
	if err := rl.Reload(); err != nil {
		return err
	}
	defer orgs.Close()
	reg, runtime, refusals := prometheus.NewRegistry(), prometheus.NewRegistry(), exporter.NewRefusals(logger)
	reg.MustRegister(apiMetrics, versioncollector.NewCollector(exporter.Name), refusals)
	if f.configFile != "" {
		reg.MustRegister(rl)
	}
	runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &http.Server{ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: f.idleTimeout, Handler: exporter.NewHandler(exporter.HandlerOpts{
		MetricsPath: f.metricsPath, ExternalAddress: f.externalAddress, CacheTTL: f.cacheTTL, Orgs: orgs, Reloader: rl,
		Gatherer: reg, Runtime: runtime, Refusals: refusals, Logger: logger,
	})}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				_ = rl.ReloadLogged()
			case <-ctx.Done():
				return
			}
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, f.toolkit, newSlogger(base)) }()
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

// hint adds to an error of the exporter package what to do about it, in the
// words of the command line.
func hint(err error) error {
	var kerr *exporter.KeyError
	switch {
	case errors.Is(err, exporter.ErrNoKey):
		return fmt.Errorf("%w: set $%s or --groq.api-key-file", err, apiKeyEnv)
	case errors.As(err, &kerr) && kerr.Organization == "":
		return fmt.Errorf("--groq.api-key-file: %w", err)
	}
	return err
}

// loggedError is an error run has already logged.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

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

// newSlogger is the logger exporter-toolkit takes: its lines go into the same
// go-kit logger with the same keys as the exporter's (ts, level, caller, msg),
// filtered by the same level.
func newSlogger(base log.Logger) *slog.Logger {
	return slog.New(untimed{sloggokit.NewGoKitHandler(log.With(base, "ts", log.DefaultTimestampUTC), slog.LevelDebug)})
}

// untimed drops slog's own time, which would be a second timestamp under
// another key: the go-kit logger adds ts.
type untimed struct{ slog.Handler }

func (h untimed) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{}
	return h.Handler.Handle(ctx, r)
}

func (h untimed) WithAttrs(attrs []slog.Attr) slog.Handler {
	return untimed{h.Handler.WithAttrs(attrs)}
}

func (h untimed) WithGroup(name string) slog.Handler { return untimed{h.Handler.WithGroup(name)} }
