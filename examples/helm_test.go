//go:build integration

package examples

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// helmCases are the value sets the chart is linted and rendered with: the chart-testing
// files in ci/ (each must exist) and a few --set variants.
type helmCase struct {
	name   string
	values string // a file in the chart's ci/ directory
	set    []string
	want   expect
	check  func(t *testing.T, objs objects) // checks beyond checkObjects
}

var helmCases = []helmCase{
	{
		name:   "defaults",
		values: "default-values.yaml",
		want:   expect{secretName: "groq-api-key"},
		check: func(t *testing.T, objs objects) {
			if n := len(objs.secrets) + len(objs.configMaps) + len(objs.networkPolicies) + len(objs.prometheusRules); n != 0 {
				t.Errorf("defaults: want only a Deployment and a Service, got %d more objects", n)
			}
		},
	},
	{
		name:   "two organizations, custom queries, proxy",
		values: "organizations-values.yaml",
		want: expect{
			serviceMonitor: true, smLabels: map[string]string{"release": "kube-prometheus-stack"},
		},
		check: checkOrganizations,
	},
	{
		name:   "TLS, basic auth, rules, dashboard, NetworkPolicy",
		values: "secure-values.yaml",
		want: expect{
			secretName: "groq-groq-exporter", createsSecret: true, serviceMonitor: true,
			smLabels:    map[string]string{"release": "kube-prometheus-stack"},
			metricsPath: "/groq-metrics", tls: true, basicAuth: true,
		},
		check: checkSecure,
	},
	{
		name: "ScrapeConfig: organizations discovered from /sd, split by a relabelling",
		set: []string{
			"scrapeConfig.enabled=true", "scrapeConfig.labels.release=kube-prometheus-stack",
			"scrapeConfig.relabelings[0].action=HashMod", "scrapeConfig.relabelings[0].sourceLabels[0]=__param_organization",
			"scrapeConfig.relabelings[0].modulus=2", "scrapeConfig.relabelings[0].targetLabel=__tmp_shard",
		},
		want:  expect{secretName: "groq-api-key"},
		check: checkScrapeConfig,
	},
	{
		name: "secret from value, ServiceMonitor, extra args",
		set: []string{
			"apiKey.existingSecret=", "apiKey.value=gsk_test", "apiKey.secretKey=key",
			"serviceMonitor.enabled=true", "serviceMonitor.labels.release=kube-prometheus-stack",
			"extraArgs={--log.format=json,--groq.cache-ttl=30s}",
		},
		want: expect{
			secretName: "groq-groq-exporter", createsSecret: true, serviceMonitor: true,
			smLabels: map[string]string{"release": "kube-prometheus-stack"},
		},
	},
}

// checkScrapeConfig: the ScrapeConfig discovers the organizations from the
// Service's /sd, which the exporter gives as its targets' address, and
// carries the relabelling.
func checkScrapeConfig(t *testing.T, objs objects) {
	if len(objs.scrapeConfigs) != 1 || len(objs.serviceMonitors) != 0 {
		t.Fatalf("want one ScrapeConfig and no ServiceMonitor, got %d and %d", len(objs.scrapeConfigs), len(objs.serviceMonitors))
	}
	sc := objs.scrapeConfigs[0]
	const addr = "groq-groq-exporter.monitoring.svc:10199"
	if sd := sc.Spec.HTTPSDConfigs; len(sd) != 1 || string(sd[0].URL) != "http://"+addr+"/sd" {
		t.Errorf("ScrapeConfig discovers from %+v, want http://%s/sd", sd, addr)
	}
	if sc.Labels["release"] != "kube-prometheus-stack" || sc.Spec.JobName == nil || *sc.Spec.JobName != "groq" {
		t.Errorf("ScrapeConfig labels %v, job %v", sc.Labels, sc.Spec.JobName)
	}
	if rl := sc.Spec.RelabelConfigs; len(rl) != 1 || rl[0].Modulus != 2 {
		t.Errorf("ScrapeConfig relabelings %+v", rl)
	}
	if args := objs.deployments[0].Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--web.external-address="+addr) {
		t.Errorf("the exporter is not told the Service's address: %v", args)
	}
}

func helmArgs(values string, set []string) []string {
	var args []string
	if values != "" {
		args = append(args, "-f", filepath.Join(chartDir, "ci", values))
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

// helmTemplate renders the chart as release "groq" and decodes the objects strictly.
func helmTemplate(t *testing.T, h, values string, set []string) (objects, string) {
	t.Helper()
	out := mustRun(t, ".", h, append([]string{"template", "groq", chartDir, "--namespace", "monitoring"}, helmArgs(values, set)...)...)
	objs, err := decodeManifests("helm template "+strings.Join(helmArgs(values, set), " "), []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return objs, out
}

func TestHelmChart(t *testing.T) {
	h := helm(t)
	for _, tc := range helmCases {
		t.Run(tc.name, func(t *testing.T) {
			mustRun(t, ".", h, append([]string{"lint", "--strict", chartDir}, helmArgs(tc.values, tc.set)...)...)
			objs, _ := helmTemplate(t, h, tc.values, tc.set)
			checkObjects(t, "helm template", objs, tc.want)
			for _, d := range objs.deployments {
				if d.Namespace != "monitoring" {
					t.Errorf("Deployment in namespace %q, want the release namespace", d.Namespace)
				}
			}
			if tc.check != nil {
				tc.check(t, objs)
			}
		})
	}
}

// TestHelmChartCIValues holds the chart-testing convention: every ci/*-values.yaml is one
// of helmCases, and there are at least the three value sets the chart promises.
func TestHelmChartCIValues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Errorf("want at least three ci/*-values.yaml files, got %v", files)
	}
	for _, f := range files {
		if !slices.ContainsFunc(helmCases, func(c helmCase) bool { return c.values == filepath.Base(f) }) {
			t.Errorf("%s is not rendered and checked by any of helmCases", f)
		}
	}
}

// TestHelmChartRequiresKey checks that the chart refuses to render without a key,
// naming the values to set, instead of deploying a pod that cannot start.
func TestHelmChartRequiresKey(t *testing.T) {
	h := helm(t)
	for _, tc := range []struct{ set, want string }{
		{"apiKey.existingSecret=", "set apiKey.existingSecret"},
		{"config.organizations[0].name=production", `organization "production": set existingSecret`},
		{"web.tls.enabled=true", "web.tls.existingSecret"},
		{"web.basicAuth.enabled=true", "web.basicAuth.users"},
	} {
		out, err := run(".", h, "template", "groq", chartDir, "--set", tc.set)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("helm template --set %s: err=%v, want an error containing %q; output:\n%s", tc.set, err, tc.want, out)
		}
	}
}

// TestHelmChartVersion holds the chart's version and appVersion, and so the image tag every
// rendering deploys, to the repository's VERSION; no example deploys :latest.
func TestHelmChartVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	var chart struct {
		Version    string `json:"version"`
		AppVersion string `json:"appVersion"`
	}
	if b, err = os.ReadFile(filepath.Join(chartDir, "Chart.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.Version != version || chart.AppVersion != version {
		t.Errorf("Chart.yaml: version %q, appVersion %q; want both %q (VERSION)", chart.Version, chart.AppVersion, version)
	}
	wantImage := "ghcr.io/groq-exporter/groq_exporter:" + version
	for _, d := range kubernetesManifests(t).deployments {
		if img := d.Spec.Template.Spec.Containers[0].Image; img != wantImage {
			t.Errorf("%s: image %s, want %s", kubernetesDir, img, wantImage)
		}
	}
	h := helm(t)
	for _, tc := range helmCases {
		objs, _ := helmTemplate(t, h, tc.values, tc.set)
		for _, d := range objs.deployments {
			if img := d.Spec.Template.Spec.Containers[0].Image; img != wantImage {
				t.Errorf("helm template (%s): image %s, want %s", tc.name, img, wantImage)
			}
		}
	}
	err = filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := os.ReadFile(p)
		if bytes.Contains(b, []byte("groq_exporter:latest")) {
			t.Errorf("%s deploys groq_exporter:latest; pin the release", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHelmChartFilesMatchExamples: the chart ships copies of the alerting rules and the
// dashboard (Helm reads no file outside the chart); they must be the examples' files.
func TestHelmChartFilesMatchExamples(t *testing.T) {
	for src, dst := range map[string]string{
		rulesFile:     filepath.Join(chartDir, "files", filepath.Base(rulesFile)),
		dashboardFile: filepath.Join(chartDir, "files", filepath.Base(dashboardFile)),
	} {
		a, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: cp %s %s", dst, src, src, dst)
		}
	}
}

// renderedFile returns a file of a rendered Secret, failing the test if it is missing.
func renderedFile(t *testing.T, objs objects, secret, key string) string {
	t.Helper()
	s := findSecret(objs, secret)
	if s == nil {
		t.Fatalf("no Secret %s rendered", secret)
	}
	v, ok := secretValue(s, key)
	if !ok {
		t.Fatalf("Secret %s has no %s", secret, key)
	}
	return v
}

// checkOrganizations checks the configuration file the chart renders for two
// organizations: each organization's api_key_file is a file of its mounted Secret (the
// existing one, or the one the chart creates with the key in it), http_client_config and the
// queries pass through, and the binary accepts the file (--config.check) with the key files
// where the mounts put them. It also checks the proxy environment and the pod's checksum of
// the configuration.
func checkOrganizations(t *testing.T, objs objects) {
	d := objs.deployments[0]
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	configFile := flagValue(c, "--config.file")
	secret, key, ok := mountedSecretFile(pod, c, configFile)
	if !ok {
		t.Fatalf("--config.file=%q is not a file of a mounted Secret", configFile)
	}
	text := renderedFile(t, objs, secret, key)
	var cfg struct {
		Builtin       map[string]any   `json:"builtin"`
		Queries       []map[string]any `json:"queries"`
		Organizations []struct {
			Name             string         `json:"name"`
			APIKeyFile       string         `json:"api_key_file"`
			URL              string         `json:"url"`
			HTTPClientConfig map[string]any `json:"http_client_config"`
		} `json:"organizations"`
	}
	if err := yaml.UnmarshalStrict([]byte(text), &cfg); err != nil {
		t.Fatalf("rendered configuration file: %v\n%s", err, text)
	}
	if len(cfg.Organizations) != 2 || len(cfg.Queries) != 2 || cfg.Builtin["models"] == nil {
		t.Errorf("rendered configuration file lacks organizations, queries or builtin:\n%s", text)
	}
	wantSecrets := map[string]string{"production": "groq-production", "research": "groq-groq-exporter-org-research"}
	for _, org := range cfg.Organizations {
		s, k, ok := mountedSecretFile(pod, c, org.APIKeyFile)
		if !ok || s != wantSecrets[org.Name] {
			t.Errorf("organization %s: api_key_file %s is not a file of the Secret %s (got %q %q)", org.Name, org.APIKeyFile, wantSecrets[org.Name], s, k)
		}
		if org.Name == "research" {
			checkSecretHasKey(t, "organization research", objs, s, k)
			if org.HTTPClientConfig["proxy_url"] != "http://proxy.internal:3128" || org.URL == "" {
				t.Errorf("organization research: url and http_client_config not passed through: %+v", org)
			}
		} else if findSecret(objs, s) != nil {
			t.Errorf("organization %s: its existing Secret %s must not be rendered", org.Name, s)
		}
	}
	if flagValue(c, "--groq.api-key-file") != "" {
		t.Errorf("with organizations the single key flag must go")
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["HTTPS_PROXY"] == "" || env["NO_PROXY"] == "" {
		t.Errorf("extraEnv did not reach the container: %v", c.Env)
	}
	if sum := d.Spec.Template.Annotations["checksum/config"]; len(sum) != 64 {
		t.Errorf("pod template: want a checksum/config annotation, got %q", sum)
	}

	// The exporter accepts the file, with each key where its Secret is mounted.
	root := t.TempDir()
	for _, org := range cfg.Organizations {
		f := filepath.Join(root, org.APIKeyFile)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("gsk_test\n"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	local := strings.ReplaceAll(text, "/etc/groq-exporter/", root+"/etc/groq-exporter/")
	checkConfigAccepted(t, exporterBinary(t), root, local)
}

// checkSecure checks the TLS, basic auth, rule, dashboard and NetworkPolicy objects.
func checkSecure(t *testing.T, objs objects) {
	pod := objs.deployments[0].Spec.Template.Spec
	c := pod.Containers[0]
	webFile := flagValue(c, "--web.config.file")
	secret, key, ok := mountedSecretFile(pod, c, webFile)
	if !ok {
		t.Fatalf("--web.config.file=%q is not a file of a mounted Secret", webFile)
	}
	var web struct {
		TLS struct {
			CertFile string `json:"cert_file"`
			KeyFile  string `json:"key_file"`
		} `json:"tls_server_config"`
		Users map[string]string `json:"basic_auth_users"`
	}
	if err := yaml.UnmarshalStrict([]byte(renderedFile(t, objs, secret, key)), &web); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{web.TLS.CertFile, web.TLS.KeyFile} {
		if s, _, ok := mountedSecretFile(pod, c, f); !ok || s != "groq-exporter-tls" {
			t.Errorf("web config names %q, not a file of the mounted TLS Secret groq-exporter-tls", f)
		}
	}
	if !strings.HasPrefix(web.Users["prometheus"], "$2") {
		t.Errorf("web config: want a bcrypt hash for user prometheus, got %v", web.Users)
	}

	// The PrometheusRule holds the examples' rules.
	if len(objs.prometheusRules) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(objs.prometheusRules))
	}
	pr := objs.prometheusRules[0]
	var rf ruleFile
	if b, err := os.ReadFile(rulesFile); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	if len(pr.Spec.Groups) != len(rf.Groups) || pr.Labels["release"] != "kube-prometheus-stack" {
		t.Fatalf("PrometheusRule: %d groups, labels %v; want %d groups and release label", len(pr.Spec.Groups), pr.Labels, len(rf.Groups))
	}
	for i, g := range rf.Groups {
		got := pr.Spec.Groups[i]
		if len(got.Rules) != len(g.Rules) {
			t.Errorf("PrometheusRule group %s: %d rules, want %d", g.Name, len(got.Rules), len(g.Rules))
			continue
		}
		for j, r := range g.Rules {
			gr := got.Rules[j]
			if gr.Alert != r.Alert || gr.Expr.String() != r.Expr || gr.Labels["severity"] != r.Labels["severity"] ||
				gr.Annotations["description"] != r.Annotations["description"] || (r.For != "" && (gr.For == nil || string(*gr.For) != r.For)) {
				t.Errorf("PrometheusRule %s differs from %s", r.Alert, rulesFile)
			}
		}
	}

	// The dashboard ConfigMap, labelled for Grafana's sidecar, holds the examples' dashboard.
	if len(objs.configMaps) != 1 {
		t.Fatalf("want one ConfigMap (the dashboard), got %d", len(objs.configMaps))
	}
	cm := objs.configMaps[0]
	want, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if json.Unmarshal(want, &a) != nil || json.Unmarshal([]byte(cm.Data["groq-dashboard.json"]), &b) != nil || !jsonEqual(a, b) {
		t.Errorf("ConfigMap %s: groq-dashboard.json is not %s", cm.Name, dashboardFile)
	}
	if cm.Labels["grafana_dashboard"] != "1" || cm.Annotations["grafana_folder"] != "Groq" {
		t.Errorf("ConfigMap %s: labels %v annotations %v; want grafana_dashboard: \"1\" and the folder", cm.Name, cm.Labels, cm.Annotations)
	}

	// The NetworkPolicy: scrapes in on the metrics port from Prometheus, out DNS and 443.
	if len(objs.networkPolicies) != 1 {
		t.Fatalf("want one NetworkPolicy, got %d", len(objs.networkPolicies))
	}
	np := objs.networkPolicies[0].Spec
	if !subset(np.PodSelector.MatchLabels, objs.deployments[0].Spec.Template.Labels) || len(np.PodSelector.MatchLabels) == 0 {
		t.Errorf("NetworkPolicy selects %v, not the pod", np.PodSelector.MatchLabels)
	}
	if len(np.Ingress) != 1 || len(np.Ingress[0].Ports) != 1 || np.Ingress[0].Ports[0].Port.String() != "http-metrics" || len(np.Ingress[0].From) == 0 {
		t.Errorf("NetworkPolicy: want ingress from Prometheus to http-metrics only, got %+v", np.Ingress)
	}
	egress := map[string]bool{}
	for _, e := range np.Egress {
		for _, p := range e.Ports {
			egress[string(*p.Protocol)+"/"+p.Port.String()] = true
		}
	}
	for _, p := range []string{"UDP/53", "TCP/53", "TCP/443"} {
		if !egress[p] {
			t.Errorf("NetworkPolicy: no egress on %s (have %v)", p, egress)
		}
	}
	if !slices.Contains(np.PolicyTypes, "Egress") || !slices.Contains(np.PolicyTypes, "Ingress") {
		t.Errorf("NetworkPolicy: policyTypes %v", np.PolicyTypes)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// checkConfigAccepted runs groq_exporter --config.check on a configuration file.
func checkConfigAccepted(t *testing.T, bin, dir, config string) {
	t.Helper()
	f := filepath.Join(dir, "groq_exporter.yml")
	if err := os.WriteFile(f, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(dir, bin, "--config.check", "--config.file="+f); err != nil {
		t.Fatalf("groq_exporter --config.check rejects the rendered configuration: %v\n%s\n%s", err, out, config)
	}
}

// TestHelmChartRollsOnConfigChange: a changed configuration file changes the pod template's
// checksum, so that helm upgrade rolls the pod onto the new file.
func TestHelmChartRollsOnConfigChange(t *testing.T) {
	h := helm(t)
	sum := func(set ...string) string {
		objs, _ := helmTemplate(t, h, "organizations-values.yaml", set)
		return objs.deployments[0].Spec.Template.Annotations["checksum/config"]
	}
	a, b := sum(), sum("config.queries[0].timeout=9s")
	if a == "" || a == b {
		t.Errorf("checksum/config %q before and %q after changing a query: want it to change", a, b)
	}
	if c := sum("config.organizations[1].http_client_config.proxy_url=http://other:3128"); c == a {
		t.Errorf("checksum/config unchanged after changing an organization's proxy")
	}
}

// TestHelmChartFlags checks that every flag the rendered chart passes is one groq_exporter
// has; TestExporterFlags checks the other examples.
func TestHelmChartFlags(t *testing.T) {
	flags, _ := helpFlags(t, exporterBinary(t))
	used := map[string][]string{}
	h := helm(t)
	for _, tc := range helmCases {
		objs, _ := helmTemplate(t, h, tc.values, tc.set)
		for _, d := range objs.deployments {
			for _, f := range containerFlags(d.Spec.Template.Spec.Containers[0]) {
				if where := "helm template (" + tc.name + ")"; !slices.Contains(used[f], where) {
					used[f] = append(used[f], where)
				}
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("the rendered chart passes no flags")
	}
	checkFlags(t, flags, used)
}
