package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testNames stands in for the names the collector and main pass to Load.
var testNames = Names{
	Builtin: []string{
		"groq_e2e_latency_seconds", "groq_queue_latency_seconds", "groq_requests_increase1m",
		"groq_requests_rate1m", "groq_tokens_in", "groq_tokens_out", "groq_ttft_latency_seconds",
	},
	Reserved:         []string{"groq_up", "groq_scrape_duration_seconds", "groq_query_success"},
	ReservedPrefixes: []string{"go_", "process_"},
	ReservedLabels:   []string{"model", "percentile", "status_code"},
}

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/good.yml", testNames)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Builtin: Builtin{
			Enabled:        true,
			Families:       []string{"groq_requests_rate1m", "groq_ttft_latency_seconds"},
			Models:         `llama-3\..*|qwen.*`,
			DocumentedOnly: true,
		},
		Organizations: []Organization{
			{Name: "prod", APIKeyFile: filepath.Join("testdata", "keys", "prod.key"), URL: "https://api.groq.com/v1/metrics/prometheus",
				Labels: map[string]string{"cost_center": "cc-7"}},
			{Name: "staging", APIKey: "gsk_inline_secret_value", URL: "http://127.0.0.1:8428"},
		},
		Queries: []Query{
			{
				Name:         "groq_error_ratio",
				Help:         "Share of requests per model that did not succeed, over the last minute.",
				Query:        "sum by (model) (requests:rate1m{status_code!~\"2..\"})\n  /\nsum by (model) (requests:rate1m)\n",
				Labels:       []string{"model"},
				RenameLabels: map[string]string{"model": "groq_model"},
				StaticLabels: map[string]string{"team": "ml"},
				Timeout:      Duration(5 * time.Second),
			},
			{
				Name:  "groq_requests_increase1m",
				Help:  "Requests within the last minute, summed over status codes.",
				Query: "sum by (model) (requests:increase1m)",
			},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(good.yml) =\n%#v\nwant\n%#v", cfg, want)
	}
}

// An empty file, a null document and a present but empty builtin section all
// mean the defaults: every built-in family, one organization, no queries.
func TestDefaults(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "---\n", "builtin:\n", "builtin: {}\n", "queries: []\n"} {
		cfg, errs := parse([]byte(doc), testNames)
		if len(errs) > 0 {
			t.Errorf("parse(%q): %v", doc, errs)
			continue
		}
		if !cfg.Builtin.Enabled || len(cfg.Builtin.Families) > 0 || cfg.Builtin.Models != "" ||
			len(cfg.Organizations) > 0 || len(cfg.Queries) > 0 {
			t.Errorf("parse(%q) = %+v, want the defaults", doc, *cfg)
		}
	}
}

func TestLoadBad(t *testing.T) {
	tests := []struct {
		file string
		want []string // the error, one line each
	}{
		{"bad-syntax.yml", []string{
			"line 2: did not find expected node content",
		}},
		{"bad-two-documents.yml", []string{
			"more than one YAML document; the file must hold exactly one",
		}},
		{"bad-type.yml", []string{
			"line 1: cannot unmarshal !!str `groq_x` into []config.Query",
		}},
		{"bad-unknown-field.yml", []string{
			`line 1: unknown field "querys" in the top level (known: builtin, organizations, queries)`,
		}},
		{"bad-unknown-field-query.yml", []string{
			`line 5: unknown field "expr" in a query (known: name, help, query, labels, rename_labels, static_labels, timeout)`,
			`line 6: invalid duration "5 seconds" (want e.g. 5s or 1m)`,
		}},
		{"bad-metricsql.yml", []string{
			`query "groq_x": invalid MetricsQL: argList: unexpected token ""; want ",", ")"; unparsed data: ""`,
		}},
		{"bad-range-query.yml", []string{
			`query "groq_window": the query is a range selector (requests:rate1m[5m]): it returns a range of values per series, not one; wrap it in a function over time, e.g. rate(requests:rate1m[5m]) or last_over_time(requests:rate1m[5m])`,
			`query "groq_subquery": the query is a subquery (sum(requests:rate1m)[10m:1m]): it returns a range of values per series, not one; wrap it in a function over time, e.g. max_over_time(sum(requests:rate1m)[10m:1m])`,
		}},
		{"bad-query-names.yml", []string{
			`query #1: name is missing`,
			`query "groq-x": name is not a valid metric name (want [a-zA-Z_][a-zA-Z0-9_]*, no colons)`,
			`query "groq:x": name is not a valid metric name (want [a-zA-Z_][a-zA-Z0-9_]*, no colons)`,
			`query "groq_up": name is one of the exporter's own metrics`,
			`query "process_cpu_seconds_total": name is one of the exporter's own metrics`,
			`query "groq_requests_rate1m": name is a built-in family; switch that family off under builtin: to export it from a query`,
			`query "groq_dup": duplicate name (also query #7)`,
			`query "groq_empty": help is missing`,
			`query "groq_empty": query is missing`,
		}},
		{"bad-organization-labels.yml", []string{
			`organization "search": labels: "__tenant" is reserved (names starting with __ are Prometheus's own)`,
			`organization "search": labels: "bad-name" is not a valid label name (want [a-zA-Z_][a-zA-Z0-9_]*)`,
			`organization "search": labels: "job" is a label Prometheus sets on every target`,
			`organization "search": labels: "model" is a label the exporter or Groq already sets on series`,
			`organization "search": labels: "organization" is a label the exporter or Groq already sets on series`,
			`organization "search": labels: "owner" is a label of query "groq_owned"`,
			`organization "search": labels: "percentile" is a label the exporter or Groq already sets on series`,
		}},
		{"bad-labels.yml", []string{
			`query "groq_x": labels: "model" is listed twice`,
			`query "groq_x": labels: "organization" is reserved (the exporter sets it); rename it under rename_labels`,
			`query "groq_x": labels: "__meta" is reserved (names starting with __ are Prometheus's own); rename it under rename_labels`,
			`query "groq_x": labels "model" and "project_id" are both exported as "model"`,
			`query "groq_x": rename_labels: "status_code" → "__code": "__code" is reserved (names starting with __ are Prometheus's own)`,
			`query "groq_x": labels: "bad-name" is not a valid label name; rename it under rename_labels`,
			`query "groq_x": rename_labels: "zone" is not in labels`,
			`query "groq_x": static_labels: "9lives" is not a valid label name`,
			`query "groq_x": static_labels: "model" is also the exported name of result label "model"`,
			`query "groq_x": static_labels: "organization" is reserved (the exporter sets it)`,
			`query "groq_y": rename_labels: "a" → "organization": "organization" is reserved (the exporter sets it)`,
			`query "groq_z": labels: __name__ cannot be kept (the metric name is the query's name)`,
		}},
		{"bad-organizations.yml", []string{
			`organization "prod": api_key and api_key_file are both set; keep one`,
			`organization "prod": duplicate name (also organization #1)`,
			`organization "bad name": name must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
			`organization #4: name is missing`,
			`organization #4: url "ftp://example.com" is not an http(s)://host/path URL`,
			`organization "staging": api_key_file is missing (only a single organization may take its key from the command line)`,
			`organization "staging": url "http://" is not an http(s)://host/path URL`,
		}},
		{"bad-http-client-config.yml", []string{
			`organization "basic": http_client_config: basic_auth is not allowed: the key comes from api_key_file or api_key, and is sent as a bearer token`,
			`organization "bearer": http_client_config: authorization (nor bearer_token, bearer_token_file) is not allowed: the key comes from api_key_file or api_key, and is sent as a bearer token`,
			`organization "oauth": http_client_config: oauth2 is not allowed: the key comes from api_key_file or api_key, and is sent as a bearer token`,
			`organization "token": http_client_config: authorization (nor bearer_token, bearer_token_file) is not allowed: the key comes from api_key_file or api_key, and is sent as a bearer token`,
			`organization "userinfo": url holds a user name or password (user:password@), which would replace the API key; remove them: the key is sent as a bearer token`,
			`organization "unparsable": url is not a valid URL`,
		}},
		{"bad-unknown-field-http.yml", []string{
			`line 8: unknown field "server_nme" in http_client_config or one of its sections (see https://prometheus.io/docs/prometheus/latest/configuration/configuration/#http_config)`,
		}},
		{"bad-http-client-values.yml", []string{
			`if proxy_from_environment is configured, proxy_url must not be configured`,
		}},
		{"bad-builtin.yml", []string{
			`builtin: unknown family "groq_nope" (known: groq_e2e_latency_seconds, groq_queue_latency_seconds, groq_requests_increase1m, groq_requests_rate1m, groq_tokens_in, groq_tokens_out, groq_ttft_latency_seconds)`,
			`builtin: family groq_requests_rate1m is listed twice`,
			"builtin: models is not a valid regular expression: error parsing regexp: missing closing ): `^(?:llama(()$`",
		}},
		{"bad-builtin-off.yml", []string{
			`builtin: families are listed but enabled is false`,
			`builtin: models is set but enabled is false`,
			`builtin: documented_only is set but enabled is false`,
			`builtin: nothing to export: enabled is false and there are no queries`,
		}},
		{"bad-nothing.yml", []string{
			`builtin: nothing to export: enabled is false and there are no queries`,
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			seen[path] = true
			cfg, err := Load(path, testNames)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error", path, cfg)
			}
			want := path + ": " + strings.Join(tt.want, "\n"+path+": ")
			if err.Error() != want {
				t.Errorf("Load(%s) error:\n%s\nwant:\n%s", path, err, want)
			}
			if strings.Contains(err.Error(), "gsk_") {
				t.Errorf("Load(%s) error shows an API key", path)
			}
		})
	}
	files, _ := filepath.Glob("testdata/bad-*.yml")
	for _, f := range files {
		if !seen[f] {
			t.Errorf("%s has no case in the table", f)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml", testNames)
	if want := "cannot read the configuration file: testdata/does-not-exist.yml cannot be read: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("Load(missing) error = %v, want %q", err, want)
	}
}

// A query may export the name of a built-in family that is switched off,
// e.g. to rebuild it from another naming scheme.
func TestBuiltinNameOfDisabledFamily(t *testing.T) {
	doc := `
builtin: {enabled: false}
queries:
  - name: groq_requests_rate1m
    help: h
    query: sum by (model, status_code) (model_project_id_status_code:requests:rate5m)
`
	if _, errs := parse([]byte(doc), testNames); len(errs) > 0 {
		t.Error(errs)
	}
}

// http_client_config is prometheus/common's HTTPClientConfig, decoded with
// its defaults (follow_redirects and enable_http2 on), its relative paths
// taken from the directory of the file, and shown without the proxy's
// password.
func TestLoadHTTPClientConfig(t *testing.T) {
	cfg, err := Load("testdata/good-http-client-config.yml", testNames)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Organizations[0].HTTPClientConfig
	if h == nil {
		t.Fatal("no http_client_config")
	}
	if h.ProxyURL.String() != "http://proxy:gsk_proxy_password@proxy.example.com:3128" ||
		h.NoProxy != "localhost,.internal" || h.ProxyConnectHeader["X-Team"][0] != "ml" {
		t.Errorf("proxy settings %q %q %v", h.ProxyURL.String(), h.NoProxy, h.ProxyConnectHeader)
	}
	if h.TLSConfig.CAFile != filepath.Join("testdata", "ca.pem") || h.TLSConfig.CertFile != "/etc/groq/client.crt" ||
		h.TLSConfig.ServerName != "api.groq.com" || h.TLSConfig.MinVersion.String() != "TLS12" {
		t.Errorf("tls_config %+v", h.TLSConfig)
	}
	if !h.FollowRedirects || h.EnableHTTP2 {
		t.Errorf("follow_redirects %v enable_http2 %v, want the default true and the file's false", h.FollowRedirects, h.EnableHTTP2)
	}
	if cfg.Organizations[1].HTTPClientConfig != nil {
		t.Error("an organization without http_client_config has one")
	}
	if s := cfg.String(); strings.Contains(s, "gsk_proxy_password") || !strings.Contains(s, "proxy_url: http://proxy:xxxxx@proxy.example.com:3128") {
		t.Errorf("String() shows the proxy's password, or not the proxy:\n%s", s)
	}
}

// The configuration shown on the status page and in logs hides inline keys.
func TestStringHidesSecrets(t *testing.T) {
	cfg, err := Load("testdata/good.yml", testNames)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.String()
	if strings.Contains(s, "gsk_inline_secret_value") || !strings.Contains(s, "api_key: <secret>") {
		t.Errorf("String() does not hide the inline key:\n%s", s)
	}
	if !strings.Contains(s, "timeout: 5s") {
		t.Errorf("String() lost the timeout:\n%s", s)
	}
}
