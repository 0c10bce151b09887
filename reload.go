package main

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

// settings are what the flags say. Every load of the configuration file
// builds on them: the flags' URL and key serve when the file lists no
// organization (or one without a key).
type settings struct {
	url, keyFile, envKey string
	timeout              time.Duration
	maxBytes             int64
	cacheTTL, maxStale   time.Duration
	observer             groq.Observer
	logger               log.Logger
}

// organization is one Groq organization, built and serving.
type organization struct {
	name string // "" for the single organization of the flags: no organization label
	url  string
	coll *collector.Collector
	// what it was built from, to keep its cache when a reload leaves it unchanged
	spec orgSpec
}

type orgSpec struct {
	org     config.Organization
	builtin config.Builtin
	queries []config.Query
}

// configNames are the metric names the exporter exports on its own, which
// no custom query may take.
func configNames() config.Names {
	return config.Names{
		Builtin:          collector.BuiltinFamilies(),
		Reserved:         append(collector.SelfMetrics(), "groq_exporter_build_info", reloadSuccessName, reloadTimestampName),
		ReservedPrefixes: []string{"go_", "process_"},
	}
}

// load reads the configuration file (none if file is "") and builds the
// organizations it describes, reusing those of prev that are unchanged. It
// reads key files but does not contact Groq.
func (s settings) load(file string, prev []*organization) (*config.Config, []*organization, error) {
	cfg := config.Default()
	if file != "" {
		var err error
		if cfg, err = config.Load(file, configNames()); err != nil {
			return nil, nil, err
		}
	}
	orgs := cfg.Organizations
	if len(orgs) == 0 {
		orgs = []config.Organization{{}} // the flags' organization, unnamed
	}
	out := make([]*organization, 0, len(orgs))
	for _, o := range orgs {
		spec := orgSpec{org: o, builtin: cfg.Builtin, queries: cfg.Queries}
		if old := findOrg(prev, spec); old != nil {
			out = append(out, old)
			continue
		}
		org, err := s.build(spec)
		if err != nil {
			if o.Name != "" {
				err = fmt.Errorf("%s: organization %q: %w", file, o.Name, err)
			}
			return nil, nil, err
		}
		out = append(out, org)
	}
	return cfg, out, nil
}

func findOrg(prev []*organization, spec orgSpec) *organization {
	for _, o := range prev {
		if reflect.DeepEqual(o.spec, spec) {
			return o
		}
	}
	return nil
}

// build makes the client and the collector of one organization.
func (s settings) build(spec orgSpec) (*organization, error) {
	o := spec.org
	var keyFile, key string
	switch {
	case o.APIKeyFile != "":
		keyFile = o.APIKeyFile
	case o.APIKey != "":
		key = string(o.APIKey)
	default: // the flags' key; the config package allows this for a single organization only
		keyFile, key = s.keyFile, s.envKey
	}
	httpClient, err := newHTTPClient(keyFile, key)
	if err != nil {
		return nil, err
	}
	url := o.URL
	if url == "" {
		url = s.url
	}
	client, err := groq.New(groq.Config{
		URL: url, HTTPClient: httpClient, Timeout: s.timeout,
		MaxResponseBytes: s.maxBytes, MaxRetries: groq.DefaultMaxRetries, Observer: s.observer,
	})
	if err != nil {
		return nil, err
	}
	coll, err := collector.New(client, s.collectorOptions(spec))
	if err != nil {
		return nil, err
	}
	return &organization{name: o.Name, url: client.URL(), coll: coll, spec: spec}, nil
}

// collectorOptions are the collector's options for one organization.
func (s settings) collectorOptions(spec orgSpec) collector.Options {
	logger := s.logger
	if logger == nil {
		logger = log.NewNopLogger()
	}
	logger = log.With(logger, "component", "collector")
	if spec.org.Name != "" {
		logger = log.With(logger, "organization", spec.org.Name)
	}
	opts := collector.Options{
		CacheTTL: s.cacheTTL, MaxStale: s.maxStale, Logger: logger, Organization: spec.org.Name,
		NoBuiltin: !spec.builtin.Enabled, Families: spec.builtin.Families, Models: spec.builtin.Models,
	}
	for _, q := range spec.queries {
		opts.Queries = append(opts.Queries, collector.Query{
			Name: q.Name, Help: q.Help, Expr: q.Query, Labels: q.Labels, Rename: q.RenameLabels,
			Static: q.StaticLabels, Timeout: time.Duration(q.Timeout),
		})
	}
	return opts
}

const (
	reloadSuccessName   = "groq_config_last_reload_successful"
	reloadTimestampName = "groq_config_last_reload_success_timestamp_seconds"
)

// reloader holds the running configuration and replaces it on SIGHUP or
// POST /-/reload. A file that does not load leaves the running configuration
// in place.
type reloader struct {
	file     string // "" without --config.file: nothing to reload
	settings settings
	group    *collector.Group
	logger   log.Logger

	success, timestamp prometheus.Gauge

	reloading sync.Mutex // one load at a time

	mu   sync.RWMutex
	cfg  *config.Config // nil without --config.file
	orgs []*organization
}

func newReloader(file string, s settings, logger log.Logger) *reloader {
	return &reloader{
		file: file, settings: s, group: collector.NewGroup(), logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: reloadSuccessName,
			Help: "1 if the last load of --config.file succeeded, else 0 (the previous configuration stays in use).",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: reloadTimestampName,
			Help: "Unix time of the last successful load of --config.file.",
		}),
	}
}

// Reload loads the configuration file again and, if it is valid, swaps in the
// organizations and queries it describes, all at once. Organizations that it
// leaves unchanged keep their cache; the others are asked before the swap
// (on the first load: on the first scrape).
func (r *reloader) Reload() error {
	r.reloading.Lock()
	defer r.reloading.Unlock()
	cfg, orgs, err := r.settings.load(r.file, r.organizations())
	if err != nil {
		r.success.Set(0)
		return err
	}
	if r.file == "" {
		cfg = nil
	}
	cs := make([]*collector.Collector, len(orgs))
	for i, o := range orgs {
		cs[i] = o.coll
	}
	if r.organizations() != nil {
		r.warmUp(orgs)
	}
	r.mu.Lock()
	r.cfg, r.orgs = cfg, orgs
	r.group.Set(cs)
	r.mu.Unlock()
	r.success.Set(1)
	r.timestamp.SetToCurrentTime()
	for _, o := range orgs {
		kv := []any{"msg", "Groq metrics API", "url", o.url, "cache_ttl", r.settings.cacheTTL}
		if o.name != "" {
			kv = append(kv, "organization", o.name)
		}
		level.Info(r.logger).Log(kv...)
	}
	if cfg != nil {
		level.Info(r.logger).Log("msg", "Loaded the configuration file", "file", r.file,
			"organizations", len(cfg.Organizations), "queries", len(cfg.Queries), "builtin", cfg.Builtin.Enabled)
	}
	return nil
}

// warmUp refreshes the organizations a reload adds or changes before they
// are swapped in, so that no scrape serves an organization that was never
// asked; scrapes go on meanwhile with the previous set.
func (r *reloader) warmUp(orgs []*organization) {
	ctx, cancel := context.WithTimeout(context.Background(), collector.DefaultRefreshTimeout)
	defer cancel()
	running := r.organizations()
	var wg sync.WaitGroup
	for _, o := range orgs {
		if !slices.Contains(running, o) {
			wg.Go(func() { o.coll.Refresh(ctx) })
		}
	}
	wg.Wait()
}

// reloadFromFile is what SIGHUP and POST /-/reload call: Reload, logged.
func (r *reloader) reloadFromFile() error {
	if r.file == "" {
		level.Info(r.logger).Log("msg", "No --config.file: nothing to reload")
		return nil
	}
	if err := r.Reload(); err != nil {
		level.Error(r.logger).Log("msg", "Reloading the configuration failed; the previous one stays in use", "err", err)
		return err
	}
	return nil
}

// organizations returns the organizations being served.
func (r *reloader) organizations() []*organization {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.orgs
}

// config returns the configuration being served, nil without --config.file.
func (r *reloader) config() *config.Config {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cfg
}

// Describe and Collect serve the reload gauges, with --config.file only.
func (r *reloader) Describe(ch chan<- *prometheus.Desc) {
	r.success.Describe(ch)
	r.timestamp.Describe(ch)
}

func (r *reloader) Collect(ch chan<- prometheus.Metric) {
	r.success.Collect(ch)
	r.timestamp.Collect(ch)
}
