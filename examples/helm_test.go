//go:build integration

package examples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
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
			if n := len(objs.secrets) + len(objs.configMaps) + len(objs.networkPolicies) + len(objs.prometheusRules) + len(objs.pdbs); n != 0 {
				t.Errorf("defaults: want only a Deployment, a Service and a ServiceAccount, got %d more objects", n)
			}
			if len(objs.serviceAccounts) != 1 || objs.deployments[0].Spec.Template.Spec.ServiceAccountName != objs.serviceAccounts[0].Name {
				t.Errorf("defaults: want the pod to run as the ServiceAccount the chart creates")
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
		name:   "platform: proxy-only egress, company CA, conventions, tuned alerts",
		values: "platform-values.yaml",
		want: expect{
			secretName: "groq-api-key", serviceMonitor: true,
			smLabels: map[string]string{"release": "kube-prometheus-stack"},
		},
		check: checkPlatform,
	},
	{
		name:   "ScrapeConfig with TLS and basic auth",
		values: "secure-values.yaml",
		set:    []string{"serviceMonitor.enabled=false", "scrapeConfig.enabled=true"},
		want: expect{
			secretName: "groq-groq-exporter", createsSecret: true,
			metricsPath: "/groq-metrics", tls: true, basicAuth: true,
		},
		check: checkSecureScrapeConfig,
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

// checkSecureScrapeConfig: with TLS and basic auth, the ScrapeConfig
// discovers over HTTPS and scrapes over HTTPS, both with the CA and the
// credentials the ServiceMonitor would use.
func checkSecureScrapeConfig(t *testing.T, objs objects) {
	if len(objs.scrapeConfigs) != 1 {
		t.Fatalf("want one ScrapeConfig, got %d", len(objs.scrapeConfigs))
	}
	spec := objs.scrapeConfigs[0].Spec
	if spec.Scheme == nil || *spec.Scheme != "HTTPS" || spec.TLSConfig == nil || spec.BasicAuth == nil {
		t.Errorf("the scrapes: scheme %v, TLS %v, basic auth %v", spec.Scheme, spec.TLSConfig, spec.BasicAuth)
	}
	if sd := spec.HTTPSDConfigs; len(sd) != 1 || !strings.HasPrefix(string(sd[0].URL), "https://") || sd[0].TLSConfig == nil || sd[0].BasicAuth == nil {
		t.Errorf("the discovery: %+v", sd)
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
			checkStandardLabels(t, objs)
			checkNoOpenEgress(t, objs)
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
		// A NetworkPolicy with no way to Groq nor to a proxy.
		{"networkPolicy.enabled=true,networkPolicy.groqCIDRs=null", "set networkPolicy.proxy.to"},
		{"companyCA.configMap=a,companyCA.secret=b", "companyCA: set configMap or secret, not both"},
		// Tuning an alert that does not exist, or a threshold an alert does not have.
		{"prometheusRule.enabled=true,prometheusRule.alerts.GroqNoSuchAlert.enabled=false", "prometheusRule.alerts: no alert GroqNoSuchAlert"},
		{"prometheusRule.enabled=true,prometheusRule.alerts.GroqExporterDown.threshold=1", "GroqExporterDown.threshold: the alert has no threshold"},
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
			if img := d.Spec.Template.Spec.Containers[0].Image; img != wantImage && !strings.HasPrefix(img, wantImage+"@sha256:") {
				t.Errorf("helm template (%s): image %s, want %s (with image.digest: @sha256:...)", tc.name, img, wantImage)
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

// checkStandardLabels: every object carries the labels of the prometheus-community charts,
// helm.sh/chart and app.kubernetes.io/{name,instance,version,managed-by}, with the chart's
// version, which is VERSION.
func checkStandardLabels(t *testing.T, objs objects) {
	t.Helper()
	version := strings.TrimSpace(readRoot(t, "VERSION"))
	want := map[string]string{
		"helm.sh/chart": "groq-exporter-" + version, "app.kubernetes.io/version": version,
		"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "groq",
	}
	for _, m := range objs.all() {
		if !subset(want, m.Labels) || m.Labels["app.kubernetes.io/name"] == "" {
			t.Errorf("%s: labels %v, want them to include %v and app.kubernetes.io/name", m.Name, m.Labels, want)
		}
	}
}

// checkNoOpenEgress: no egress rule of a NetworkPolicy has an empty `to`, which Kubernetes
// reads as "to every address".
func checkNoOpenEgress(t *testing.T, objs objects) {
	t.Helper()
	for _, np := range objs.networkPolicies {
		for i, e := range np.Spec.Egress {
			if len(e.To) == 0 {
				t.Errorf("NetworkPolicy %s: egress rule %d has no `to`, which allows %v to everyone", np.Name, i, e.Ports)
			}
		}
	}
}

// checkPlatform checks what a platform team's cluster needs: egress only to the proxy
// (no rule to Groq, none open), the company CA trusted through SSL_CERT_DIR from a
// ConfigMap, extra mounts and a sidecar, the naming, labelling and scheduling conventions,
// a PodDisruptionBudget, the ServiceMonitor and PrometheusRule in the monitoring namespace
// with relabelings, and the alerts tuned, dropped and pointed at another runbook.
func checkPlatform(t *testing.T, objs objects) {
	d := objs.deployments[0]
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]

	// fullnameOverride and commonLabels reach every object.
	for _, m := range objs.all() {
		if !strings.HasPrefix(m.Name, "groq-usage") && m.Name != "groq-usage-exporter" {
			t.Errorf("object %s: want the name from fullnameOverride (groq-usage)", m.Name)
		}
		if m.Labels["team"] != "platform" {
			t.Errorf("object %s: no commonLabels team=platform: %v", m.Name, m.Labels)
		}
	}
	if want := "ghcr.io/groq-exporter/groq_exporter:" + strings.TrimSpace(readRoot(t, "VERSION")) +
		"@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"; c.Image != want {
		t.Errorf("image %s, want %s (image.digest)", c.Image, want)
	}
	if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 3 {
		t.Errorf("revisionHistoryLimit %v, want 3", d.Spec.RevisionHistoryLimit)
	}
	if len(objs.serviceAccounts) != 1 || objs.serviceAccounts[0].Name != "groq-usage-exporter" || pod.ServiceAccountName != "groq-usage-exporter" ||
		objs.serviceAccounts[0].Annotations["eks.amazonaws.com/role-arn"] == "" {
		t.Errorf("want ServiceAccount groq-usage-exporter with its annotation, used by the pod (pod uses %q)", pod.ServiceAccountName)
	}
	if pod.PriorityClassName != "monitoring" || len(pod.TopologySpreadConstraints) != 1 {
		t.Errorf("priorityClassName %q, topologySpreadConstraints %v", pod.PriorityClassName, pod.TopologySpreadConstraints)
	}
	if len(objs.pdbs) != 1 || objs.pdbs[0].Spec.MaxUnavailable == nil || objs.pdbs[0].Spec.MaxUnavailable.IntValue() != 1 ||
		!subset(objs.pdbs[0].Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("want a PodDisruptionBudget maxUnavailable 1 selecting the pod")
	}
	svc := objs.services[0]
	if svc.Annotations["prometheus.io/scrape"] != "false" || svc.Labels["exposure"] != "internal" || svc.Spec.Type != "ClusterIP" {
		t.Errorf("Service: annotations %v labels %v type %s", svc.Annotations, svc.Labels, svc.Spec.Type)
	}
	if c.LivenessProbe.InitialDelaySeconds != 10 || c.LivenessProbe.FailureThreshold != 5 || c.ReadinessProbe.PeriodSeconds != 5 {
		t.Errorf("probes do not follow the values: liveness %+v readiness %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	if len(pod.Containers) != 2 || pod.Containers[1].Name != "sidecar" {
		t.Errorf("want the sidecar from extraContainers after the exporter")
	}

	// The company CA: a file of the mounted ConfigMap, in the directory SSL_CERT_DIR names.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	caDir := env["SSL_CERT_DIR"]
	var caVolume *corev1.Volume
	for name, path := range mounts {
		if path == caDir {
			v := volumes[name]
			caVolume = &v
		}
	}
	if caDir == "" || caVolume == nil || caVolume.ConfigMap == nil || caVolume.ConfigMap.Name != "corp-ca" ||
		len(caVolume.ConfigMap.Items) != 1 || caVolume.ConfigMap.Items[0].Key != "corp-ca.pem" {
		t.Errorf("want SSL_CERT_DIR (%q) to be where ConfigMap corp-ca's corp-ca.pem is mounted; volumes %v mounts %v", caDir, volumes, mounts)
	}
	if env["HTTPS_PROXY"] == "" {
		t.Errorf("extraEnv HTTPS_PROXY missing: %v", c.Env)
	}
	if v := volumes["corp-client-ca"]; v.Secret == nil || v.Secret.SecretName != "corp-client-ca" || mounts["corp-client-ca"] != "/etc/ssl/corp" {
		t.Errorf("extraSecretMounts: want Secret corp-client-ca at /etc/ssl/corp, got %+v at %q", v, mounts["corp-client-ca"])
	}
	if v := volumes["corp-bundle"]; v.ConfigMap == nil || mounts["corp-bundle"] != "/etc/ssl/corp-bundle" {
		t.Errorf("extraVolumes/extraVolumeMounts: want ConfigMap corp-bundle at /etc/ssl/corp-bundle")
	}

	// Egress: DNS and the proxy only.
	if len(objs.networkPolicies) != 1 {
		t.Fatalf("want one NetworkPolicy, got %d", len(objs.networkPolicies))
	}
	var egress []string
	for _, e := range objs.networkPolicies[0].Spec.Egress {
		for _, p := range e.Ports {
			for _, to := range e.To {
				where := "selector"
				if to.IPBlock != nil {
					where = to.IPBlock.CIDR
				}
				egress = append(egress, fmt.Sprintf("%s/%s->%s", *p.Protocol, p.Port.String(), where))
			}
		}
	}
	want := []string{"UDP/53->selector", "TCP/53->selector", "TCP/3128->10.20.30.40/32"}
	if !slices.Equal(egress, want) {
		t.Errorf("proxy-only NetworkPolicy allows %v, want exactly %v", egress, want)
	}

	// ServiceMonitor and PrometheusRule in the monitoring namespace, selecting the release's.
	sm := objs.serviceMonitors[0]
	if sm.Namespace != "monitoring" || len(sm.Spec.Endpoints[0].RelabelConfigs) != 2 || len(sm.Spec.Endpoints[0].MetricRelabelConfigs) != 1 {
		t.Errorf("ServiceMonitor: namespace %q, relabelings %v, metricRelabelings %v", sm.Namespace, sm.Spec.Endpoints[0].RelabelConfigs, sm.Spec.Endpoints[0].MetricRelabelConfigs)
	}
	if len(objs.prometheusRules) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(objs.prometheusRules))
	}
	pr := objs.prometheusRules[0]
	if pr.Namespace != "monitoring" || pr.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PrometheusRule: namespace %q labels %v", pr.Namespace, pr.Labels)
	}
	rules := map[string]monitoringv1.Rule{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			rules[r.Alert] = r
			if u := r.Annotations["runbook_url"]; u != "https://wiki.corp.example/runbooks/groq.md#"+strings.ToLower(r.Alert) {
				t.Errorf("alert %s: runbook_url %q, want it under prometheusRule.runbookBaseURL", r.Alert, u)
			}
		}
	}
	if _, ok := rules["GroqQueueLatencyGrowing"]; ok {
		t.Errorf("GroqQueueLatencyGrowing was dropped (enabled: false) but is rendered")
	}
	r := rules["GroqHighErrorRatio"]
	if !strings.HasSuffix(strings.TrimSpace(r.Expr.String()), "> 0.02") || r.For == nil || *r.For != "5m" ||
		r.Labels["severity"] != "critical" || r.Labels["team"] != "platform" {
		t.Errorf("GroqHighErrorRatio not tuned: expr %q for %v labels %v", r.Expr.String(), r.For, r.Labels)
	}
	if r := rules["GroqHighRateLimitRatio"]; !strings.HasSuffix(strings.TrimSpace(r.Expr.String()), "> 0.10") {
		t.Errorf("GroqHighRateLimitRatio changed though not tuned: %q", r.Expr.String())
	}
}

// TestHelmChartSchema: values.schema.json rejects what the chart does not know, so a typo
// fails helm template (and install and upgrade) instead of the pod: a misspelt key at any
// depth, a key of another chart, a wrong type. Known values pass, --set-json ones included.
func TestHelmChartSchema(t *testing.T) {
	h := helm(t)
	for _, set := range [][]string{
		{"--set", "config.builtin.famlies={groq_requests_rate1m}"},
		{"--set", "replicaCount=2"},
		{"--set", "serviceAccount.craete=false"},
		{"--set", "networkPolicy.proxy.port=3128"},
		{"--set", "prometheusRule.alerts.GroqHighErrorRatio.treshold=0.1"},
		{"--set", "prometheusRule.labels.release=x"},
		{"--set", "service.port=http"},
		{"--set", "image.digest=latest"},
		{"--set-json", `extraSecretMounts=[{"name":"ca","mountPath":"/ca"}]`},
	} {
		out, err := run(".", h, append([]string{"template", "groq", chartDir}, set...)...)
		if err == nil || !strings.Contains(out, "values don't meet the specifications of the schema") {
			t.Errorf("helm template %s: err=%v, want a schema error; output:\n%.600s", strings.Join(set, " "), err, out)
		}
	}
	// What the issue found silently ignored now renders.
	out := mustRun(t, ".", h, "template", "groq", chartDir, "--set-json",
		`extraVolumes=[{"name":"corp-ca","configMap":{"name":"corp-ca"}}]`, "--set-json",
		`extraVolumeMounts=[{"name":"corp-ca","mountPath":"/etc/ssl/corp","readOnly":true}]`)
	objs, err := decodeManifests("helm template --set-json extraVolumes", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	pod := objs.deployments[0].Spec.Template.Spec
	if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "corp-ca" }) ||
		!slices.ContainsFunc(pod.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/etc/ssl/corp" }) {
		t.Errorf("--set-json extraVolumes and extraVolumeMounts did not reach the pod")
	}
}

// TestHelmChartValuesDocumented: the chart's README lists every value of values.yaml.
func TestHelmChartValuesDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !slices.Contains([]string{"resources", "podSecurityContext", "securityContext", "networkPolicy.dns.podSelector"}, key) {
				walk(key+".", sub)
				continue
			}
			if !strings.Contains(string(readme), "| `"+key+"` |") {
				t.Errorf("%s/README.md does not list the value %s", chartDir, key)
			}
		}
	}
	walk("", values)
}

// TestHelmCommandsInDocs: every `helm install` command in a code block of the READMEs
// renders with `helm template` against this checkout's chart (a value the chart does not
// know, or no longer knows, fails on the schema). The chart reference (a path or oci://)
// is replaced by the checkout's chart; --version is dropped.
func TestHelmCommandsInDocs(t *testing.T) {
	h := helm(t)
	n := 0
	for _, doc := range []string{filepath.Join(repoRoot, "README.md"), "README.md", filepath.Join(chartDir, "README.md")} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		inBlock := false
		var cmd string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				inBlock = !inBlock
				continue
			}
			if !inBlock {
				continue
			}
			if cmd == "" && !strings.HasPrefix(line, "helm install ") {
				continue
			}
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			cmd += " " + strings.TrimSuffix(strings.TrimSpace(line), "\\")
			if strings.HasSuffix(strings.TrimSpace(line), "\\") {
				continue
			}
			fields := strings.Fields(cmd)
			cmd = ""
			args := []string{"template", fields[2], chartDir}
			for i := 4; i < len(fields); i++ {
				if fields[i] == "--version" {
					i++
					continue
				}
				f := fields[i]
				if strings.Contains(f, "helm/groq-exporter/") { // a values file given by its path from the doc's directory
					f = filepath.Join(chartDir, f[strings.Index(f, "helm/groq-exporter/")+len("helm/groq-exporter/"):])
				}
				args = append(args, f)
			}
			n++
			if out, err := run(".", h, args...); err != nil {
				t.Errorf("%s: %s\nas helm %s: %v\n%.600s", doc, strings.Join(fields, " "), strings.Join(args, " "), err, out)
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d helm install commands in the READMEs, want at least 3", n)
	}
}
