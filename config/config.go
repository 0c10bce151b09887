// Package config reads the exporter's optional configuration file: custom
// MetricsQL queries, which built-in families to export, and the Groq
// organizations to read. Everything is validated at load, and every problem is
// reported on one line that names the file, the query or organization, and
// what is wrong.
//
// The package depends on neither the collector nor the Groq client: the caller
// passes in the metric names the exporter already uses (Names).
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metricsql"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/groq-exporter/groq_exporter/internal/safefile"
)

// OrganizationLabel is the label that names the organization of every series
// once the file lists organizations. Queries may not use it.
const OrganizationLabel = "organization"

// Config is the content of the configuration file.
type Config struct {
	// Builtin selects the built-in families (Groq's documented series).
	Builtin Builtin `yaml:"builtin"`
	// Organizations are the Groq organizations to read. Empty means one
	// organization, configured by the command-line flags, and no
	// organization label.
	Organizations []Organization `yaml:"organizations,omitempty"`
	// Queries are the custom MetricsQL queries, run for every organization.
	Queries []Query `yaml:"queries,omitempty"`
}

// Builtin selects the built-in families.
type Builtin struct {
	// Enabled: false exports no built-in family. Default true.
	Enabled bool `yaml:"enabled"`
	// Families restricts the built-in families by exported name; empty means all.
	Families []string `yaml:"families,omitempty"`
	// Models, a regular expression matched against the whole model name,
	// restricts the models of the built-in families; empty means all.
	Models string `yaml:"models,omitempty"`
	// DocumentedOnly keeps the export to the families Groq documents; by
	// default every series Groq serves with a recording-rule style name is
	// exported. Families implies it.
	DocumentedOnly bool `yaml:"documented_only,omitempty"`
}

// Organization is one Groq organization and the key that reads its metrics.
type Organization struct {
	// Name is the value of the organization label.
	Name string `yaml:"name"`
	// APIKeyFile holds the organization's API key; it is read again on every
	// request, so that a rotated key works without a reload. A relative path
	// is relative to the directory of the configuration file.
	APIKeyFile string `yaml:"api_key_file,omitempty"`
	// APIKey is the key itself. Prefer APIKeyFile. Never printed.
	APIKey config.Secret `yaml:"api_key,omitempty"`
	// URL is the base URL of the organization's metrics API; empty means the
	// command line's. It may not hold credentials (user:password@).
	URL string `yaml:"url,omitempty"`
	// HTTPClientConfig is how the organization's requests travel: proxy,
	// TLS (a private CA, a client certificate, the server name), redirects,
	// HTTP/2. It is prometheus/common's HTTP client configuration without
	// its credentials (authorization, basic_auth, oauth2, bearer_token): the
	// key comes from api_key_file or api_key. Nil means what the command
	// line's organization does: the proxy and CAs of the environment
	// (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR).
	HTTPClientConfig *config.HTTPClientConfig `yaml:"http_client_config,omitempty"`
	// Labels are added to every series of the organization on /metrics
	// (team, cost_center, …) and given as target labels by service
	// discovery, so that Prometheus adds them to what it scrapes from /probe.
	// Their names may not be ones the exporter or Groq sets.
	Labels map[string]string `yaml:"labels,omitempty"`
}

// Query is a custom MetricsQL query exported as one gauge family.
type Query struct {
	// Name is the exported metric name, and the query label of the
	// per-query self-metrics.
	Name string `yaml:"name"`
	Help string `yaml:"help"`
	// Query is the MetricsQL expression, run as an instant query.
	Query string `yaml:"query"`
	// Labels are the result labels to keep. Empty keeps every label of the
	// result but __name__.
	Labels []string `yaml:"labels,omitempty"`
	// RenameLabels maps a result label to the name it is exported under.
	RenameLabels map[string]string `yaml:"rename_labels,omitempty"`
	// StaticLabels are added to every series of the query.
	StaticLabels map[string]string `yaml:"static_labels,omitempty"`
	// Timeout caps this query's request to Groq; zero leaves only the
	// scrape's deadline and the timeout of each request.
	Timeout Duration `yaml:"timeout,omitempty"`
}

// Duration is a time.Duration written as in Prometheus configuration files:
// "30s", "1m", "1h30m".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration %q (want e.g. 5s or 1m)", n.Line, s)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return model.Duration(d).String(), nil }

// Names are the metric names the exporter exports on its own. The collector
// and main own them; Load takes them so that this package depends on neither.
type Names struct {
	// Builtin are the exported names of the built-in families, the only
	// values builtin.families accepts. A query may take the name of a
	// built-in family that is switched off.
	Builtin []string
	// Reserved are the self-metrics; no query may take their names.
	Reserved []string
	// ReservedPrefixes are prefixes of self-metrics (go_, process_); no
	// query name may start with one.
	ReservedPrefixes []string
	// ReservedLabels are the label names the exporter sets or Groq sends
	// (model, percentile, …); an organization's labels may not take them.
	ReservedLabels []string
}

func (n Names) reserved(name string) bool {
	return slices.Contains(n.Reserved, name) ||
		slices.ContainsFunc(n.ReservedPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

// MaxFileBytes bounds the configuration file: a few kilobytes describe
// dozens of organizations and queries.
const MaxFileBytes = 4 << 20

// Load reads and validates the configuration file. Every problem is one line
// of the error, prefixed with the file name.
func Load(filename string, names Names) (*Config, error) {
	// Never blocking: a FIFO or a stuck file system must not hang the start,
	// --config.check or a reload (safefile).
	data, err := safefile.Read(context.Background(), filename, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("cannot read the configuration file: %s %w", filename, err)
	}
	cfg, errs := parse(data, names)
	if len(errs) > 0 {
		for i, e := range errs {
			errs[i] = filename + ": " + e
		}
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	dir := filepath.Dir(filename)
	for i := range cfg.Organizations {
		org := &cfg.Organizations[i]
		org.APIKeyFile = config.JoinDir(dir, org.APIKeyFile)
		if org.HTTPClientConfig != nil {
			org.HTTPClientConfig.SetDirectory(dir)
		}
	}
	return cfg, nil
}

// String renders the configuration as YAML with the keys hidden.
func (c *Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("<cannot render the configuration: %v>", err)
	}
	return string(b)
}

// parse decodes data strictly (unknown fields are errors) and validates it.
func parse(data []byte, names Names) (*Config, []string) {
	cfg := Default() // what an empty or null document means
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	switch {
	case errors.Is(err, io.EOF): // an empty file
	case err != nil:
		return nil, yamlErrors(err)
	default:
		var extra any
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, []string{"more than one YAML document; the file must hold exactly one"}
		}
	}
	if errs := cfg.validate(names); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// Default is the configuration of an empty file, and of no file at all: every
// built-in family, the organization of the flags, no custom query.
func Default() *Config { return &Config{Builtin: Builtin{Enabled: true}} }

// UnmarshalYAML implements the obsolete yaml.v3 unmarshaller interface, which,
// unlike the Node one, keeps the decoder's KnownFields setting.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = *Default()
	type rawConfig Config
	return unmarshal((*rawConfig)(c))
}

// UnmarshalYAML sets the defaults of a builtin section that is present.
func (b *Builtin) UnmarshalYAML(unmarshal func(any) error) error {
	*b = Builtin{Enabled: true}
	type rawBuiltin Builtin
	return unmarshal((*rawBuiltin)(b))
}

// UnmarshalYAML implements the obsolete yaml.v3 unmarshaller interface (see Config).
func (o *Organization) UnmarshalYAML(unmarshal func(any) error) error {
	type rawOrganization Organization
	return unmarshal((*rawOrganization)(o))
}

// UnmarshalYAML implements the obsolete yaml.v3 unmarshaller interface (see Config).
func (q *Query) UnmarshalYAML(unmarshal func(any) error) error {
	type rawQuery Query
	return unmarshal((*rawQuery)(q))
}

var (
	// Exported names carry no colons: those are for recording rules.
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	orgNameRE    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
)

// Validate checks a configuration that was not loaded from a file (Load
// does): the one place where what the exporter accepts is decided.
func (c *Config) Validate(names Names) error {
	if errs := c.validate(names); len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// validate checks everything that decoding cannot, and returns every problem.
func (c *Config) validate(names Names) []string {
	var p problems
	enabled := c.checkBuiltin(names, &p)
	orgs := map[string]int{}
	for i, o := range c.Organizations {
		c.checkOrganization(i, o, names, orgs, &p)
	}
	queries := map[string]int{}
	for i, q := range c.Queries {
		checkQuery(i, q, names, enabled, queries, &p)
	}
	return p
}

// problems are what validate found, each "where: what", on one line.
type problems []string

func (p *problems) add(where, format string, args ...any) {
	*p = append(*p, where+": "+oneLine(fmt.Sprintf(format, args...)))
}

// checkBuiltin checks builtin:, and returns the built-in families it exports.
func (c *Config) checkBuiltin(names Names, p *problems) (enabled map[string]bool) {
	enabled = map[string]bool{}
	b := c.Builtin
	switch {
	case !b.Enabled && len(b.Families) > 0:
		p.add("builtin", "families are listed but enabled is false")
	case b.Enabled && len(b.Families) == 0:
		for _, f := range names.Builtin {
			enabled[f] = true
		}
	}
	for _, f := range b.Families {
		switch {
		case !b.Enabled:
		case !slices.Contains(names.Builtin, f):
			p.add("builtin", "unknown family %q (known: %s)", f, strings.Join(names.Builtin, ", "))
		case enabled[f]:
			p.add("builtin", "family %s is listed twice", f)
		default:
			enabled[f] = true
		}
	}
	if b.Models != "" {
		if !b.Enabled {
			p.add("builtin", "models is set but enabled is false")
		} else if _, err := regexp.Compile("^(?:" + b.Models + ")$"); err != nil {
			p.add("builtin", "models is not a valid regular expression: %v", err)
		}
	}
	if b.DocumentedOnly && !b.Enabled {
		p.add("builtin", "documented_only is set but enabled is false")
	}
	if !b.Enabled && len(c.Queries) == 0 {
		p.add("builtin", "nothing to export: enabled is false and there are no queries")
	}
	return enabled
}

// checkOrganization checks the organization o, the i-th; seen holds the
// names of those before it.
func (c *Config) checkOrganization(i int, o Organization, names Names, seen map[string]int, p *problems) {
	where := fmt.Sprintf("organization #%d", i+1)
	if o.Name != "" {
		where = fmt.Sprintf("organization %q", o.Name)
	}
	switch j, dup := seen[o.Name]; {
	case o.Name == "":
		p.add(where, "name is missing")
	case !orgNameRE.MatchString(o.Name):
		p.add(where, "name must be letters, digits, '_', '.' or '-', starting with a letter or digit")
	case dup:
		p.add(where, "duplicate name (also organization #%d)", j+1)
	default:
		seen[o.Name] = i
	}
	switch {
	case o.APIKeyFile != "" && o.APIKey != "":
		p.add(where, "api_key and api_key_file are both set; keep one")
	case o.APIKeyFile == "" && o.APIKey == "" && len(c.Organizations) > 1:
		p.add(where, "api_key_file is missing (only a single organization may take its key from the command line)")
	}
	if o.URL != "" {
		// The URL is not repeated where it may hold a secret.
		switch u, err := url.Parse(o.URL); {
		case err != nil:
			p.add(where, "url is not a valid URL")
		case u.User != nil:
			p.add(where, "url holds a user name or password (user:password@), which would replace the API key; remove them: the key is sent as a bearer token")
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			p.add(where, "url %q is not an http(s)://host/path URL", o.URL)
		}
	}
	for _, e := range o.checkLabels(names, c.Queries) {
		p.add(where, "%s", e)
	}
	if h := o.HTTPClientConfig; h != nil {
		for _, f := range []struct {
			name string
			set  bool
		}{
			// Decoding moves bearer_token(_file) into authorization.
			{"basic_auth", h.BasicAuth != nil}, {"oauth2", h.OAuth2 != nil},
			{"authorization (nor bearer_token, bearer_token_file)", h.Authorization != nil || h.BearerToken != "" || h.BearerTokenFile != ""},
		} {
			if f.set {
				p.add(where, "http_client_config: %s is not allowed: the key comes from api_key_file or api_key, and is sent as a bearer token", f.name)
			}
		}
	}
}

// checkQuery checks the custom query q, the i-th; enabled are the built-in
// families exported, seen the names of the queries before it.
func checkQuery(i int, q Query, names Names, enabled map[string]bool, seen map[string]int, p *problems) {
	where := fmt.Sprintf("query #%d", i+1)
	if q.Name != "" {
		where = fmt.Sprintf("query %q", q.Name)
	}
	j, dup := seen[q.Name]
	switch {
	case q.Name == "":
		p.add(where, "name is missing")
	case !metricNameRE.MatchString(q.Name):
		p.add(where, "name is not a valid metric name (want [a-zA-Z_][a-zA-Z0-9_]*, no colons)")
	case names.reserved(q.Name):
		p.add(where, "name is one of the exporter's own metrics")
	case enabled[q.Name]:
		p.add(where, "name is a built-in family; switch that family off under builtin: to export it from a query")
	case dup:
		p.add(where, "duplicate name (also query #%d)", j+1)
	default:
		seen[q.Name] = i
	}
	if strings.TrimSpace(q.Help) == "" {
		p.add(where, "help is missing")
	}
	if strings.TrimSpace(q.Query) == "" {
		p.add(where, "query is missing")
	} else if e, err := metricsql.Parse(q.Query); err != nil {
		p.add(where, "invalid MetricsQL: %v", err)
	} else if msg := notInstant(e); msg != "" {
		p.add(where, "%s", msg)
	}
	if q.Timeout < 0 {
		p.add(where, "timeout must not be negative")
	}
	for _, e := range q.checkLabels() {
		p.add(where, "%s", e)
	}
}

// notInstant says why a parsed query cannot give an instant vector, the only
// result an exporter can serve, and how to fix it; "" if it can. Groq would
// answer a matrix to a range selector or a subquery at the top.
func notInstant(e metricsql.Expr) string {
	r, ok := e.(*metricsql.RollupExpr)
	switch {
	case !ok || r.Window == nil:
		return ""
	case r.ForSubquery():
		return fmt.Sprintf("the query is a subquery (%s): it returns a range of values per series, not one; "+
			"wrap it in a function over time, e.g. max_over_time(%s)", e.AppendString(nil), e.AppendString(nil))
	}
	return fmt.Sprintf("the query is a range selector (%s): it returns a range of values per series, not one; "+
		"wrap it in a function over time, e.g. rate(%s) or last_over_time(%s)", e.AppendString(nil), e.AppendString(nil), e.AppendString(nil))
}

// checkLabels checks labels, rename_labels and static_labels, and that the
// exported label names they make are distinct.
func (q *Query) checkLabels() []string {
	var errs []string
	bad := func(n string) string {
		switch {
		case !labelNameRE.MatchString(n):
			return "is not a valid label name"
		case strings.HasPrefix(n, "__"):
			return "is reserved (names starting with __ are Prometheus's own)"
		case n == OrganizationLabel:
			return "is reserved (the exporter sets it)"
		}
		return ""
	}
	kept := map[string]bool{}
	for _, l := range q.Labels {
		if l == "__name__" {
			errs = append(errs, "labels: __name__ cannot be kept (the metric name is the query's name)")
			continue
		}
		if kept[l] {
			errs = append(errs, fmt.Sprintf("labels: %q is listed twice", l))
		}
		kept[l] = true
	}
	exported := map[string]string{} // exported label name → where it comes from
	for _, l := range q.Labels {
		if l == "__name__" {
			continue
		}
		to, renamed := q.RenameLabels[l]
		if !renamed {
			to = l
		}
		if why := bad(to); why != "" {
			if renamed {
				errs = append(errs, fmt.Sprintf("rename_labels: %q → %q: %q %s", l, to, to, why))
			} else {
				errs = append(errs, fmt.Sprintf("labels: %q %s; rename it under rename_labels", l, why))
			}
			continue
		}
		if from, ok := exported[to]; ok && from != l {
			errs = append(errs, fmt.Sprintf("labels %q and %q are both exported as %q", from, l, to))
			continue
		}
		exported[to] = l
	}
	for _, from := range sortedKeys(q.RenameLabels) {
		to := q.RenameLabels[from]
		switch {
		case len(q.Labels) > 0 && !kept[from]:
			errs = append(errs, fmt.Sprintf("rename_labels: %q is not in labels", from))
		case len(q.Labels) == 0 && bad(to) != "":
			errs = append(errs, fmt.Sprintf("rename_labels: %q → %q: %q %s", from, to, to, bad(to)))
		}
	}
	for _, n := range sortedKeys(q.StaticLabels) {
		if why := bad(n); why != "" {
			errs = append(errs, fmt.Sprintf("static_labels: %q %s", n, why))
		} else if from, ok := exported[n]; ok {
			errs = append(errs, fmt.Sprintf("static_labels: %q is also the exported name of result label %q", n, from))
		}
	}
	return errs
}

// checkLabels checks the names of an organization's labels: valid, and none
// that the exporter, Groq or a query already gives a series.
func (o *Organization) checkLabels(names Names, queries []Query) []string {
	var errs []string
	for _, n := range sortedKeys(o.Labels) {
		why := ""
		switch {
		case !labelNameRE.MatchString(n):
			why = "is not a valid label name (want [a-zA-Z_][a-zA-Z0-9_]*)"
		case strings.HasPrefix(n, "__"):
			why = "is reserved (names starting with __ are Prometheus's own)"
		case n == OrganizationLabel || slices.Contains(names.ReservedLabels, n):
			why = "is a label the exporter or Groq already sets on series"
		case n == "job" || n == "instance":
			why = "is a label Prometheus sets on every target"
		default:
			for _, q := range queries {
				if q.exports(n) {
					why = fmt.Sprintf("is a label of query %q", q.Name)
					break
				}
			}
		}
		if why != "" {
			errs = append(errs, fmt.Sprintf("labels: %q %s", n, why))
		}
	}
	return errs
}

// exports tells whether the query's series may carry label n: kept, renamed
// to it or static. A query that keeps every label may carry any.
func (q *Query) exports(n string) bool {
	if _, ok := q.StaticLabels[n]; ok {
		return true
	}
	for from, to := range q.RenameLabels {
		if to == n && (len(q.Labels) == 0 || slices.Contains(q.Labels, from)) {
			return true
		}
	}
	if _, renamed := q.RenameLabels[n]; renamed {
		return false
	}
	return slices.Contains(q.Labels, n)
}

// yamlErrors turns a decoding error into one line per problem, in words.
func yamlErrors(err error) []string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{oneLine(strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		if m := unknownFieldRE.FindStringSubmatch(e); m != nil {
			if s, ok := sections[m[3]]; ok {
				e = fmt.Sprintf("line %s: unknown field %q in %s (known: %s)", m[1], m[2], s.name, knownFields(s.typ))
			} else if m[3] == "plain" { // prometheus/common's types, all decoded through a type plain
				e = fmt.Sprintf("line %s: unknown field %q in http_client_config or one of its sections (see %s)", m[1], m[2], httpConfigDoc)
			}
		}
		out = append(out, oneLine(e))
	}
	return out
}

// httpConfigDoc documents the fields of http_client_config.
const httpConfigDoc = "https://prometheus.io/docs/prometheus/latest/configuration/configuration/#http_config"

var unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.+) not found in type config\.(\w+)$`)

// sections names, for error messages, the types decoded with KnownFields.
var sections = map[string]struct {
	name string
	typ  reflect.Type
}{
	"rawConfig":       {"the top level", reflect.TypeFor[Config]()},
	"rawBuiltin":      {"builtin", reflect.TypeFor[Builtin]()},
	"rawOrganization": {"an organization", reflect.TypeFor[Organization]()},
	"rawQuery":        {"a query", reflect.TypeFor[Query]()},
}

// knownFields lists the YAML keys of a struct type.
func knownFields(t reflect.Type) string {
	var keys []string
	for f := range t.Fields() {
		if k, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return strings.Join(keys, ", ")
}

// oneLine keeps an error on its line, whatever a parser put in it.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
