// Package exporter holds what the HTTP server serves: the Groq organizations
// (each a groq.Client and a collector.Collector), kept across configuration
// reloads, and the handlers of /metrics, /probe, /sd, the status page,
// /-/reload and /config. It parses no flags: main hands it Settings and turns
// its typed errors into hints; only its texts for users name a flag they set
// (--config.file).
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/groq"
)

// Name is the exporter's name: its User-Agent and build_info.
const Name = "groq_exporter"

// Settings are what the command line says. The organization they describe
// (URL and key) serves when the configuration file lists none.
type Settings struct {
	URL string
	// KeyFile holds the key, re-read on every request; else Key is the key.
	KeyFile, Key string
	// KeySource says where KeyFile or Key came from, in the words of the
	// command line (e.g. "--groq.api-key-file=/run/key"); it ends the
	// messages about a rejected key.
	KeySource string
	// URLSource says where URL came from, for the messages about a 404.
	URLSource string
	// MaxBytesSource says where MaxResponseBytes came from, for the
	// messages about a response over it.
	MaxBytesSource string

	Timeout            time.Duration
	MaxResponseBytes   int64
	CacheTTL, MaxStale time.Duration
	Observer           groq.Observer
	Logger             log.Logger
}

// ErrNoKey: no key anywhere (no key file, no key) for the organization of
// the command line.
var ErrNoKey = errors.New("no Groq API key")

// KeyError is a key file that cannot be used: it cannot be read, is not a
// regular file, is too large, or holds no usable key. Err is the
// *groq.FileError, which names the file and says why.
type KeyError struct {
	File string
	// Organization and ConfigFile name where the file is configured; both
	// are empty for the key file of the command line.
	Organization, ConfigFile string
	Err                      error
}

func (e *KeyError) Error() string {
	msg := "cannot read the Groq API key: " + e.Err.Error()
	if e.Organization != "" {
		msg = fmt.Sprintf("%s: organization %q: %s", e.ConfigFile, e.Organization, msg)
	}
	return msg
}

func (e *KeyError) Unwrap() error { return e.Err }

// organization is one Groq organization, built and serving.
type organization struct {
	name   string // "" for the organization of the command line: no organization label
	url    string // redacted, fit to show
	coll   *collector.Collector
	client *groq.Client
	reg    *prometheus.Registry // gathers coll when collectFamilies cannot
	strip  []string             // the labels /probe leaves off
	spec   orgSpec              // what it was built from, to keep it (and its cache) when a reload leaves it unchanged

	// keyFrom says where the key comes from, never the key: a file, the
	// configuration file, a flag or the environment.
	keyFrom string

	rendering sync.Mutex // one snapshot of this organization at a time
	descs     descNames  // what its collector's Descs read as
}

// DefaultOrganization is the name /probe and service discovery give the
// organization of the command line, which has no organization label.
const DefaultOrganization = "default"

// probeName is the organization's name in /probe and service discovery.
func (org *organization) probeName() string {
	if org.name == "" {
		return DefaultOrganization
	}
	return org.name
}

type orgSpec struct {
	org     config.Organization
	builtin config.Builtin
	queries []config.Query
}

// A view is the set of organizations being served with each one's last
// snapshot. Every refresh of an organization publishes a new view that
// replaces its snapshot alone; a reload publishes one with the new set.
type view struct {
	version uint64 // later views have higher numbers
	orgs    []*organization
	snaps   []*orgSnapshot // of orgs[i]
	index   map[string]int // probe name → index, shared by the views of one set
}

// lookup returns the organization named name in /probe, and its snapshot.
func (v *view) lookup(name string) (*organization, *orgSnapshot, bool) {
	i, ok := v.index[name]
	if !ok {
		return nil, nil, false
	}
	return v.orgs[i], v.snaps[i], true
}

// Organizations serves the collectors of every organization, and replaces
// the whole set on a reload while scrapes go on: a scrape sees the old set or
// the new one, never a mix.
type Organizations struct {
	settings Settings
	started  time.Time // when the exporter started, for the status page

	publishing sync.Mutex // one new view at a time; held for no longer than a copy
	cur        atomic.Pointer[view]
	prepare    atomic.Pointer[func(*view)] // builds the /metrics answers of a new view of one organization

	// encoded, if set, is told of every answer built, of /probe and of
	// /metrics (metricsHandler passes it on): for tests.
	encoded atomic.Pointer[func(answerKey)]

	mu         sync.RWMutex
	orgs       []*organization
	cfg        *config.Config
	configFile string
	generation uint64 // counts swaps
}

// NewOrganizations returns an empty set; Apply fills it.
func NewOrganizations(s Settings) *Organizations {
	if s.Logger == nil {
		s.Logger = log.NewNopLogger()
	}
	o := &Organizations{settings: s, started: time.Now()}
	o.cur.Store(&view{index: map[string]int{}})
	return o
}

// render takes a new snapshot of org's families, builds the /probe answers
// of the formats scraped so far (with a cache), and publishes it: after each of org's
// refreshes, so that scrapes find the bytes ready. It costs what org serves,
// whatever the other organizations do.
func (o *Organizations) render(org *organization) {
	org.rendering.Lock()
	defer org.rendering.Unlock()
	snap, err := newOrgSnapshot(org)
	if err != nil {
		level.Error(o.settings.Logger).Log("msg", "Gathering the Groq families failed; serving the rest", "organization", org.probeName(), "err", err)
	}
	// Built ahead only with a cache: with --groq.cache-ttl=0 every scrape
	// refreshes, and builds the one answer it asks for.
	if _, prev, ok := o.view().lookup(org.probeName()); ok && o.settings.CacheTTL > 0 {
		for _, k := range prev.probe.keys() {
			snap.probe.get(k, func() *answer { return o.encodeProbe(snap, k, o.settings.Logger) })
		}
	}
	o.publish(func(v *view) bool {
		i, ok := v.index[org.probeName()]
		if !ok || v.orgs[i] != org {
			return false // removed by a reload meanwhile
		}
		v.snaps[i] = snap
		return true
	})
}

// encodeProbe builds the /probe answer of snap for k.
func (o *Organizations) encodeProbe(snap *orgSnapshot, k answerKey, logger log.Logger) *answer {
	if f := o.encoded.Load(); f != nil {
		(*f)(k)
	}
	return encode(snap.probeFamilies(), k, logger)
}

// publish stores a copy of the current view changed by change, unless it
// returns false. The answers of /metrics for the new view are built first
// when it has one organization and a cache: until they are, scrapes get the
// last view's, and none waits for them. With --groq.cache-ttl=0 each scrape
// builds the answer of the view its own refresh made, in its format alone.
func (o *Organizations) publish(change func(*view) bool) {
	o.publishing.Lock()
	defer o.publishing.Unlock()
	cur := o.cur.Load()
	next := &view{version: cur.version + 1, orgs: cur.orgs, snaps: slices.Clone(cur.snaps), index: cur.index}
	if !change(next) {
		return
	}
	if f := o.prepare.Load(); f != nil && len(next.orgs) == 1 && o.settings.CacheTTL > 0 {
		(*f)(next)
	}
	o.cur.Store(next)
}

// onRender has f build the /metrics answers of every new view of a single
// organization, before any scrape asks for them.
func (o *Organizations) onRender(f func(*view)) { o.prepare.Store(&f) }

// view returns the organizations and their families as the last refreshes
// left them.
func (o *Organizations) view() *view { return o.cur.Load() }

// Close stops the refresh-ahead loops of every organization and closes their
// idle connections: on shutdown.
func (o *Organizations) Close() {
	for _, org := range o.list() {
		org.close()
	}
}

func (org *organization) close() {
	org.coll.Close()
	org.client.Close()
}

// Apply builds the organizations cfg describes (read from configFile, "" for
// none), keeping those of the running set that are unchanged with their
// caches. Unless the set is empty (the first load, served on the first
// scrape), new organizations are refreshed before the swap, so that no scrape
// serves an organization that was never asked. An organization of the file
// whose key or TLS files cannot be read yet is built anyway and served down
// until they can (see build); one that cannot be built at all (the command
// line's organization without a key) changes nothing.
func (o *Organizations) Apply(cfg *config.Config, configFile string) error {
	running := o.list()
	specs := specsOf(cfg)
	next := make([]*organization, 0, len(specs))
	var fresh []*organization
	byName := make(map[string]*organization, len(running)) // names are unique: one comparison per organization
	for _, r := range running {
		byName[r.name] = r
	}
	for _, s := range specs {
		if r := byName[s.org.Name]; r != nil && reflect.DeepEqual(r.spec, s) {
			next = append(next, r)
			continue
		}
		org, err := o.build(s, configFile)
		if err != nil {
			return err
		}
		next = append(next, org)
		fresh = append(fresh, org)
	}
	if len(running) > 0 {
		warmUp(fresh)
	}
	o.mu.Lock()
	o.orgs, o.cfg, o.configFile = next, cfg, configFile
	o.generation++
	o.mu.Unlock()
	// Published outside o.mu: building the answers of a new view gathers
	// the live self-metrics, which must be free to read the set.
	o.publish(func(v *view) bool {
		kept := map[*organization]*orgSnapshot{}
		for i, org := range v.orgs {
			kept[org] = v.snaps[i]
		}
		v.orgs, v.snaps, v.index = next, make([]*orgSnapshot, len(next)), make(map[string]int, len(next))
		for i, org := range next {
			v.index[org.probeName()] = i
			if v.snaps[i] = kept[org]; v.snaps[i] == nil {
				// Taken while no other view can be published, so that it is
				// no older than what a render of org dropped meanwhile.
				snap, err := newOrgSnapshot(org)
				if err != nil {
					level.Error(o.settings.Logger).Log("msg", "Gathering the Groq families failed; serving the rest", "organization", org.probeName(), "err", err)
				}
				v.snaps[i] = snap
			}
		}
		return true
	})
	for _, org := range running {
		if !slices.Contains(next, org) {
			org.close()
		}
	}
	for _, org := range next {
		kv := []any{"msg", "Groq metrics API", "url", org.url, "cache_ttl", o.settings.CacheTTL}
		if org.name != "" {
			kv = append(kv, "organization", org.name)
		}
		level.Info(o.settings.Logger).Log(kv...)
		if org.client.InClear() {
			level.Warn(o.settings.Logger).Log(append([]any{"msg", "The API key travels unencrypted: the Groq URL is plain http:// to a host that is not loopback; use https://"}, kv[2:]...)...)
		}
		if hc := org.spec.org.HTTPClientConfig; hc != nil && hc.TLSConfig.InsecureSkipVerify && !org.client.InClear() && !org.client.Loopback() {
			level.Warn(o.settings.Logger).Log(append([]any{"msg", "The API key can be read on its way: tls_config.insecure_skip_verify is true, so any server can pretend to be Groq; give its CA in tls_config.ca_file instead"}, kv[2:]...)...)
		}
	}
	return nil
}

// Check checks every file the organizations of cfg name, and builds them,
// without contacting Groq or serving them: --config.check. Every file is
// treated alike: one that does not exist (and no key at all for the command
// line's organization) is a warning, since CI checks the configuration where
// the secrets are absent; one that exists but cannot be read or used (an
// empty key file, a CA that does not parse) is a problem. Each is one line
// that names the file.
func (o *Organizations) Check(cfg *config.Config, configFile string) (warnings, problems []string) {
	quiet := o.settings
	quiet.Logger = log.NewNopLogger()
	q := NewOrganizations(quiet)
	const absent = " (it must exist where the exporter runs)"
	for _, s := range specsOf(cfg) {
		where := ""
		if s.org.Name != "" {
			where = fmt.Sprintf("%s: organization %q: ", configFile, s.org.Name)
		}
		keyFile, key := s.org.APIKeyFile, string(s.org.APIKey)
		if keyFile == "" && key == "" {
			keyFile, key = o.settings.KeyFile, o.settings.Key
		}
		var kerr *KeyError
		switch err := checkKey(keyFile, key); {
		case errors.As(err, &kerr) && errors.Is(kerr.Err, fs.ErrNotExist):
			warnings = append(warnings, where+kerr.Error()+absent)
		case errors.Is(err, ErrNoKey):
			warnings = append(warnings, err.Error()+" (the command line's organization needs one to run)")
		case err != nil:
			problems = append(problems, where+err.Error())
		}
		if hc := s.org.HTTPClientConfig; hc != nil {
			var terr *TLSFileError
			switch err := (&tlsFiles{cfg: *hc}).problem(); {
			case !errors.As(err, &terr):
			case terr.File == "":
				problems = append(problems, where+fmt.Sprintf("tls_config: %v", terr.Err))
			case errors.Is(terr.Err, fs.ErrNotExist):
				warnings = append(warnings, where+fmt.Sprintf("tls_config %s %s %v", terr.Field, terr.File, terr.Err)+absent)
			default:
				problems = append(problems, where+fmt.Sprintf("tls_config %s %s %v", terr.Field, terr.File, terr.Err))
			}
		}
		org, err := q.build(s, configFile)
		if err != nil {
			var kerr *KeyError
			if !errors.As(err, &kerr) && !errors.Is(err, ErrNoKey) { // those are above
				problems = append(problems, err.Error())
			}
			continue
		}
		org.close()
	}
	return warnings, problems
}

// specsOf lists what each organization of cfg is built from.
func specsOf(cfg *config.Config) []orgSpec {
	orgs := cfg.Organizations
	if len(orgs) == 0 {
		orgs = []config.Organization{{}} // the organization of the command line, unnamed
	}
	specs := make([]orgSpec, len(orgs))
	for i, org := range orgs {
		specs[i] = orgSpec{org: org, builtin: cfg.Builtin, queries: cfg.Queries}
	}
	return specs
}

// warmUp refreshes orgs at once, within the default refresh timeout.
func warmUp(orgs []*organization) {
	ctx, cancel := context.WithTimeout(context.Background(), collector.DefaultRefreshTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, org := range orgs {
		wg.Go(func() { org.coll.Refresh(ctx) })
	}
	wg.Wait()
}

// build makes the client and the collector of one organization.
func (o *Organizations) build(spec orgSpec, configFile string) (*organization, error) {
	s := o.settings
	org := spec.org
	keyFile, key, keySource, url, urlSource := org.APIKeyFile, string(org.APIKey), "", org.URL, ""
	fail := func(err error) (*organization, error) {
		if org.Name != "" {
			err = fmt.Errorf("%s: organization %q: %w", configFile, org.Name, err)
		}
		return nil, err
	}
	switch {
	case keyFile != "":
		keySource = fmt.Sprintf("api_key_file %s of organization %q in %s", keyFile, org.Name, configFile)
	case key != "":
		keySource = fmt.Sprintf("api_key of organization %q in %s", org.Name, configFile)
	default: // the command line's key; config allows this for a single organization only
		keyFile, key, keySource = s.KeyFile, s.Key, s.KeySource
	}
	if url == "" {
		url, urlSource = s.URL, s.URLSource
	} else {
		urlSource = fmt.Sprintf("url of organization %q in %s", org.Name, configFile)
	}
	logger := log.With(s.Logger, "component", "collector")
	if org.Name != "" {
		logger = log.With(logger, "organization", org.Name)
	}
	// An organization of the file whose key file or TLS files cannot be read
	// yet starts anyway, down, and comes up by itself once they can: a
	// team's Secret created late must not stop the others. The command
	// line's organization fails here, at once.
	var pending []error
	if err := checkKey(keyFile, key); err != nil {
		var kerr *KeyError
		if !errors.As(err, &kerr) || org.APIKeyFile == "" {
			return fail(err)
		}
		pending = append(pending, err)
	}
	httpClient, tlsErr, err := newHTTPClient(org.HTTPClientConfig)
	if err != nil {
		return fail(fmt.Errorf("http_client_config: %w", err))
	}
	if tlsErr != nil {
		pending = append(pending, tlsErr)
	}
	for _, err := range pending {
		level.Warn(logger).Log("msg", "Serving the organization as down until its file can be used; it is tried again on every refresh", "err", err)
	}
	client, err := groq.New(groq.Config{
		URL: url, HTTPClient: httpClient, KeyFile: keyFile, Key: key, Timeout: s.Timeout,
		MaxResponseBytes: s.MaxResponseBytes, MaxRetries: groq.DefaultMaxRetries, Observer: s.Observer,
	})
	if err != nil {
		httpClient.CloseIdleConnections()
		return fail(err)
	}
	built := &organization{name: org.Name, url: client.URL(), client: client, spec: spec, reg: prometheus.NewRegistry(), keyFrom: keySource}
	switch {
	case org.APIKeyFile != "":
		built.keyFrom = "file " + org.APIKeyFile
	case org.APIKey != "":
		built.keyFrom = "api_key in " + configFile
	}
	if org.Name != "" {
		built.strip = append(built.strip, config.OrganizationLabel)
	}
	built.strip = append(built.strip, slices.Sorted(maps.Keys(org.Labels))...)
	coll, err := collector.New(hinted{client, keySource, urlSource, s.MaxBytesSource}, collector.Options{
		CacheTTL: s.CacheTTL, MaxStale: s.MaxStale, Logger: logger, Organization: org.Name, Labels: org.Labels,
		Builtin: &spec.builtin, Queries: spec.queries, Reserved: ConfigNames().Reserved, OnRefresh: func() { o.render(built) },
		RefreshTimeout: max(s.Timeout, collector.DefaultRefreshTimeout),
	})
	if err != nil {
		client.Close()
		return fail(err)
	}
	built.coll = coll
	built.reg.MustRegister(coll)
	return built, nil
}

// hinted is a groq.Client whose errors say where the key, the URL or the
// size limit came from, when Groq refuses the key, does not know the URL or
// answers more than the limit.
type hinted struct {
	*groq.Client
	keySource, urlSource, maxBytesSource string
}

func (h hinted) QueryAnswer(ctx context.Context, expr string) (*groq.Answer, error) {
	answer, err := h.Client.QueryAnswer(ctx, expr)
	switch {
	case (errors.Is(err, groq.ErrUnauthorized) || errors.Is(err, groq.ErrKey)) && h.keySource != "":
		err = fmt.Errorf("%w (the key comes from %s)", err, h.keySource)
	case errors.Is(err, groq.ErrNotFound) && h.urlSource != "":
		err = fmt.Errorf("%w (the URL comes from %s%s)", err, h.urlSource, urlHint(h.Client.URL()))
	case errors.Is(err, groq.ErrTooLarge) && h.maxBytesSource != "":
		err = fmt.Errorf("%w (the limit is %s)", err, h.maxBytesSource)
	}
	return answer, err
}

// urlHint says what is wrong with a Groq URL that answered 404 when it is one
// of the URLs people try first: Groq's OpenAI-compatible API, or the query
// endpoint itself (the client appends /api/v1/query to the base URL).
func urlHint(u string) string {
	path := strings.TrimRight(u, "/")
	if i := strings.Index(path, "://"); i >= 0 {
		if j := strings.IndexByte(path[i+3:], '/'); j >= 0 {
			path = path[i+3+j:]
		} else {
			path = ""
		}
	}
	switch {
	case strings.Contains(path, "/openai/"):
		return "; that is Groq's OpenAI-compatible API, not its metrics API: set it to " + groq.DefaultURL
	case strings.HasSuffix(path, "/api/v1/query") || strings.HasSuffix(path, "/api/v1/query_range") || strings.HasSuffix(path, "/api/v1"):
		return "; give the base URL without /api/v1/..., which the exporter appends, e.g. " + groq.DefaultURL
	}
	return ""
}

// checkKey checks that the key can be sent: keyFile (read again by the
// client for every request) holds a usable key, read as the client reads it
// (groq.ReadKeyFile: never blocking, bounded, within a deadline), or else
// key is set.
func checkKey(keyFile, key string) error {
	switch {
	case keyFile != "":
		if _, err := groq.ReadKeyFile(context.Background(), keyFile); err != nil {
			return &KeyError{File: keyFile, Err: err}
		}
	case strings.TrimSpace(key) == "":
		return ErrNoKey
	}
	return nil
}

// list returns the organizations being served.
func (o *Organizations) list() []*organization {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.orgs
}

func (o *Organizations) current() ([]*organization, uint64) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.orgs, o.generation
}

// Config returns the configuration being served and the file it came from
// ("" for none).
func (o *Organizations) Config() (*config.Config, string) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.cfg, o.configFile
}

// Refresh refreshes every organization at once (each with its own cache and
// coalescing) and returns when all are done or ctx ends. If the set was
// replaced meanwhile, the new set is refreshed too, so that a scrape does not
// serve organizations that were never asked.
func (o *Organizations) Refresh(ctx context.Context) {
	orgs, gen := o.current()
	for {
		if len(orgs) == 1 { // the common case: no goroutine per scrape
			orgs[0].coll.Refresh(ctx)
		} else {
			var wg sync.WaitGroup
			for _, org := range orgs {
				wg.Go(func() { org.coll.Refresh(ctx) })
			}
			wg.Wait()
		}
		var now uint64
		if orgs, now = o.current(); now == gen || ctx.Err() != nil {
			return
		}
		gen = now
	}
}

// Describe sends nothing: the collectors are unchecked.
func (o *Organizations) Describe(chan<- *prometheus.Desc) {}

// Collect sends every organization's series and self-metrics as the
// collectors hold them now. The served paths do not use it (they serve the
// snapshots); it lets a registry gather the set, as tests compare with it.
func (o *Organizations) Collect(ch chan<- prometheus.Metric) {
	for _, org := range o.list() {
		org.coll.Collect(ch)
	}
}
