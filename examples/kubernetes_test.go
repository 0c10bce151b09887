package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// objects are the Kubernetes objects of one set of manifests, decoded into the API types.
type objects struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	secrets         []*corev1.Secret
	configMaps      []*corev1.ConfigMap
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	prometheusRules []*monitoringv1.PrometheusRule
	scrapeConfigs   []*monitoringv1alpha1.ScrapeConfig
	serviceAccounts []*corev1.ServiceAccount
	pdbs            []*policyv1.PodDisruptionBudget
}

// all returns the metadata of every object, for checks that hold for each.
func (o objects) all() []*metav1.ObjectMeta {
	var m []*metav1.ObjectMeta
	for _, x := range o.deployments {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.services {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.secrets {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.configMaps {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.networkPolicies {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.serviceMonitors {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.prometheusRules {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.serviceAccounts {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.pdbs {
		m = append(m, &x.ObjectMeta)
	}
	for _, x := range o.scrapeConfigs {
		m = append(m, &x.ObjectMeta)
	}
	return m
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifests splits multi-document YAML and decodes every document strictly into
// its typed API struct, as the API server would: duplicate keys, unknown fields and
// wrongly cased field names are errors. Kinds the examples do not use are errors too.
func decodeManifests(source string, data []byte) (objects, error) {
	var objs objects
	for i, doc := range docSeparator.Split(string(data), -1) {
		j, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return objs, fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		if s := strings.TrimSpace(string(j)); s == "null" || s == "" {
			continue // only comments
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
			return objs, fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			o := &appsv1.Deployment{}
			objs.deployments, obj = append(objs.deployments, o), o
		case "v1 Service":
			o := &corev1.Service{}
			objs.services, obj = append(objs.services, o), o
		case "v1 Secret":
			o := &corev1.Secret{}
			objs.secrets, obj = append(objs.secrets, o), o
		case "v1 ConfigMap":
			o := &corev1.ConfigMap{}
			objs.configMaps, obj = append(objs.configMaps, o), o
		case "networking.k8s.io/v1 NetworkPolicy":
			o := &networkingv1.NetworkPolicy{}
			objs.networkPolicies, obj = append(objs.networkPolicies, o), o
		case "monitoring.coreos.com/v1 ServiceMonitor":
			o := &monitoringv1.ServiceMonitor{}
			objs.serviceMonitors, obj = append(objs.serviceMonitors, o), o
		case "monitoring.coreos.com/v1alpha1 ScrapeConfig":
			o := &monitoringv1alpha1.ScrapeConfig{}
			objs.scrapeConfigs, obj = append(objs.scrapeConfigs, o), o
		case "monitoring.coreos.com/v1 PrometheusRule":
			o := &monitoringv1.PrometheusRule{}
			objs.prometheusRules, obj = append(objs.prometheusRules, o), o
		case "v1 ServiceAccount":
			o := &corev1.ServiceAccount{}
			objs.serviceAccounts, obj = append(objs.serviceAccounts, o), o
		case "policy/v1 PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			objs.pdbs, obj = append(objs.pdbs, o), o
		default:
			return objs, fmt.Errorf("%s: document %d: unexpected object %s %s", source, i, tm.APIVersion, tm.Kind)
		}
		strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err != nil {
			return objs, fmt.Errorf("%s: %s: %w", source, tm.Kind, err)
		}
		if len(strict) > 0 {
			return objs, fmt.Errorf("%s: %s: %v", source, tm.Kind, strict)
		}
	}
	return objs, nil
}

// expect describes what one set of manifests must contain.
type expect struct {
	secretName     string // Secret holding the key --groq.api-key-file names; "" with organizations
	createsSecret  bool   // whether the set contains that Secret
	serviceMonitor bool
	smLabels       map[string]string // labels the ServiceMonitor must carry
	metricsPath    string            // --web.telemetry-path; "" is /metrics
	tls            bool              // served over HTTPS
	basicAuth      bool              // behind basic auth
}

// checkObjects checks that the objects form a working, hardened groq_exporter
// deployment: security settings, port and probes, the key file flag pointing at the
// mounted Secret, and Service and ServiceMonitor selecting what they should.
// It returns every command-line flag the container is given.
func checkObjects(t *testing.T, source string, objs objects, want expect) []string {
	t.Helper()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format, append([]any{source}, args...)...)
	}
	if len(objs.deployments) != 1 || len(objs.services) != 1 {
		t.Fatalf("%s: want one Deployment and one Service, got %d and %d", source, len(objs.deployments), len(objs.services))
	}
	d, svc := objs.deployments[0], objs.services[0]

	// Deployment and pod.
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		errorf("Deployment: want replicas: 1")
	}
	podLabels := d.Spec.Template.Labels
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 || !subset(d.Spec.Selector.MatchLabels, podLabels) {
		errorf("Deployment: selector %v does not select the pod labels %v", d.Spec.Selector, podLabels)
	}
	pod := d.Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		errorf("pod: want automountServiceAccountToken: false")
	}
	psc := pod.SecurityContext
	switch {
	case psc == nil:
		errorf("pod: no securityContext")
	default:
		if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			errorf("pod: want runAsNonRoot: true")
		}
		if psc.RunAsUser == nil || *psc.RunAsUser != 65534 || psc.RunAsGroup == nil || *psc.RunAsGroup != 65534 {
			errorf("pod: want runAsUser and runAsGroup 65534")
		}
		if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			errorf("pod: want seccompProfile RuntimeDefault")
		}
	}
	// The exporter's container comes first; the chart's extraContainers follow it.
	if len(pod.Containers) == 0 || pod.Containers[0].Name != "groq-exporter" {
		t.Fatalf("%s: want the groq-exporter container first, got %d containers", source, len(pod.Containers))
	}
	c := pod.Containers[0]
	csc := c.SecurityContext
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		errorf("container: want allowPrivilegeEscalation false, readOnlyRootFilesystem true, capabilities drop [ALL]")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		errorf("container: want cpu and memory requests and a memory limit, got %v", c.Resources)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http-metrics" || c.Ports[0].ContainerPort != exporterPort {
		errorf("container: want one port http-metrics %d, got %+v", exporterPort, c.Ports)
	}
	scheme := corev1.URISchemeHTTP
	if want.tls {
		scheme = corev1.URISchemeHTTPS
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/-/healthy"}, {"readinessProbe", c.ReadinessProbe, "/-/ready"}} {
		switch {
		case p.probe == nil:
			errorf("container: no %s", p.name)
		case want.basicAuth:
			// Every path answers 401 without credentials, which the kubelet does not have.
			if p.probe.TCPSocket == nil || p.probe.TCPSocket.Port.String() != "http-metrics" || p.probe.HTTPGet != nil {
				errorf("container: behind basic auth want %s on the TCP port http-metrics, got %+v", p.name, p.probe.ProbeHandler)
			}
		case p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http-metrics" ||
			(p.probe.HTTPGet.Scheme != scheme && (p.probe.HTTPGet.Scheme != "" || want.tls)):
			errorf("container: want %s %s GET %s on port http-metrics, got %+v", p.name, scheme, p.path, p.probe.ProbeHandler)
		}
	}

	// The key file flag must name a file of the mounted Secret.
	flags := containerFlags(c)
	keyFile := flagValue(c, "--groq.api-key-file")
	if want.secretName != "" {
		secret, key, ok := mountedSecretFile(pod, c, keyFile)
		if keyFile == "" || !ok || secret != want.secretName {
			errorf("--groq.api-key-file=%q does not name a file of the mounted Secret %q (got Secret %q key %q)", keyFile, want.secretName, secret, key)
		}
		if want.createsSecret {
			checkSecretHasKey(t, source, objs, secret, key)
		} else if findSecret(objs, want.secretName) != nil {
			errorf("want no Secret %s (an existing one is used), but the set contains it", want.secretName)
		}
	} else if keyFile != "" {
		errorf("with organizations want no --groq.api-key-file, got %q", keyFile)
	}
	for _, vm := range c.VolumeMounts {
		if !vm.ReadOnly {
			errorf("volume %s: mount it readOnly", vm.Name)
		}
	}
	metricsPath := want.metricsPath
	if metricsPath == "" {
		metricsPath = "/metrics"
	}
	if p := flagValue(c, "--web.telemetry-path"); p != "" && p != metricsPath || p == "" && metricsPath != "/metrics" {
		errorf("--web.telemetry-path=%q, want %q", p, metricsPath)
	}

	// Service.
	if len(svc.Spec.Selector) == 0 || !subset(svc.Spec.Selector, podLabels) {
		errorf("Service: selector %v does not select the pod labels %v", svc.Spec.Selector, podLabels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http-metrics" || svc.Spec.Ports[0].TargetPort.String() != "http-metrics" {
		errorf("Service: want one port named http-metrics with targetPort http-metrics, got %+v", svc.Spec.Ports)
	}

	// ServiceMonitor.
	if !want.serviceMonitor {
		if len(objs.serviceMonitors) != 0 {
			errorf("want no ServiceMonitor, got %d", len(objs.serviceMonitors))
		}
		return flags
	}
	if len(objs.serviceMonitors) != 1 {
		t.Fatalf("%s: want one ServiceMonitor, got %d", source, len(objs.serviceMonitors))
	}
	sm := objs.serviceMonitors[0]
	if !subset(want.smLabels, sm.Labels) {
		errorf("ServiceMonitor: labels %v, want them to include %v", sm.Labels, want.smLabels)
	}
	if len(sm.Spec.Selector.MatchLabels) == 0 || !subset(sm.Spec.Selector.MatchLabels, svc.Labels) {
		errorf("ServiceMonitor: selector %v does not select the Service labels %v", sm.Spec.Selector.MatchLabels, svc.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("%s: ServiceMonitor: want one endpoint, got %d", source, len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != "http-metrics" || ep.Path != metricsPath || ep.Interval != "30s" {
		errorf("ServiceMonitor: want port http-metrics, path %s, interval 30s, got %q %q %q", metricsPath, ep.Port, ep.Path, ep.Interval)
	}
	if wantScheme := strings.ToLower(string(scheme)); ep.Scheme != nil && string(*ep.Scheme) != wantScheme || ep.Scheme == nil && want.tls {
		errorf("ServiceMonitor: want scheme %s, got %v", wantScheme, ep.Scheme)
	}
	if want.basicAuth && (ep.BasicAuth == nil || ep.BasicAuth.Username.Name == "" || ep.BasicAuth.Password.Name == "") {
		errorf("ServiceMonitor: behind basic auth want basicAuth from a Secret, got %+v", ep.BasicAuth)
	}
	jobGroq := false
	for _, r := range ep.RelabelConfigs {
		if r.TargetLabel == "job" && r.Replacement != nil && *r.Replacement == "groq" {
			jobGroq = true
		}
	}
	if !jobGroq {
		errorf("ServiceMonitor: want a relabeling setting job=\"groq\", which the alerting rules select")
	}
	return flags
}

func subset(sub, super map[string]string) bool {
	for k, v := range sub {
		if super[k] != v {
			return false
		}
	}
	return true
}

// containerFlags returns the names of the --flags in a container's command and args.
func containerFlags(c corev1.Container) []string {
	var flags []string
	for _, a := range slices.Concat(c.Command, c.Args) {
		if strings.HasPrefix(a, "--") {
			name, _, _ := strings.Cut(a, "=")
			flags = append(flags, name)
		}
	}
	return flags
}

func flagValue(c corev1.Container, flag string) string {
	for _, a := range slices.Concat(c.Command, c.Args) {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

// kubernetesManifests decodes every manifest in kubernetes/ into one set of objects.
func kubernetesManifests(t *testing.T) objects {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", kubernetesDir, err)
	}
	var all objects
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeManifests(f, b)
		if err != nil {
			t.Fatal(err)
		}
		all.deployments = append(all.deployments, objs.deployments...)
		all.services = append(all.services, objs.services...)
		all.secrets = append(all.secrets, objs.secrets...)
		all.configMaps = append(all.configMaps, objs.configMaps...)
		all.networkPolicies = append(all.networkPolicies, objs.networkPolicies...)
		all.prometheusRules = append(all.prometheusRules, objs.prometheusRules...)
		all.serviceMonitors = append(all.serviceMonitors, objs.serviceMonitors...)
	}
	return all
}

func TestKubernetesManifests(t *testing.T) {
	checkObjects(t, kubernetesDir, kubernetesManifests(t), expect{
		secretName:     "groq-api-key",
		createsSecret:  true,
		serviceMonitor: true,
		smLabels:       map[string]string{"release": "kube-prometheus-stack"},
	})
}

// TestDecodeManifestsIsStrict makes sure the decoder rejects what the API server rejects.
func TestDecodeManifestsIsStrict(t *testing.T) {
	for _, tc := range []struct{ name, doc, err string }{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n", `unknown field "spec.selectr"`},
		{"wrong case", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {Selector: {a: b}}\n", `unknown field "spec.Selector"`},
		{"duplicate key", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: z}\n", `key "metadata" already set`},
		{"unknown kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "unexpected object v1 Pod"},
		{"rule typo", "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\nspec: {groups: [{name: g, rules: [{alert: A, expr: up, fro: 5m}]}]}\n", `unknown field "spec.groups[0].rules[0].fro"`},
		{"monitor typo", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {endpoints: [{prot: http}]}\n", `unknown field "spec.endpoints[0].prot"`},
		{"wrong value type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: one}\n", "cannot unmarshal string"},
		{"bad second object", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: z}\nstringdata: {a: b}\n", `unknown field "stringdata"`},
	} {
		_, err := decodeManifests(tc.name, []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.err)
		}
	}
	if _, err := decodeManifests("ok", []byte("# comment only\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x}\n")); err != nil {
		t.Errorf("valid manifest: %v", err)
	}
}

// mountedSecretFile returns the Secret and key a file path of container c comes from.
func mountedSecretFile(pod corev1.PodSpec, c corev1.Container, file string) (secret, key string, ok bool) {
	for _, vm := range c.VolumeMounts {
		rel, found := strings.CutPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !found {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != vm.Name || v.Secret == nil {
				continue
			}
			if len(v.Secret.Items) == 0 {
				return v.Secret.SecretName, rel, true
			}
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					return v.Secret.SecretName, it.Key, true
				}
			}
		}
	}
	return "", "", false
}

func findSecret(objs objects, name string) *corev1.Secret {
	for _, s := range objs.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// secretValue returns a Secret's value for key from data or stringData.
func secretValue(s *corev1.Secret, key string) (string, bool) {
	if v, ok := s.Data[key]; ok {
		return string(v), true
	}
	v, ok := s.StringData[key]
	return v, ok
}

func checkSecretHasKey(t *testing.T, source string, objs objects, name, key string) {
	t.Helper()
	s := findSecret(objs, name)
	if s == nil {
		t.Errorf("%s: want the Secret %s, which the set creates", source, name)
		return
	}
	if v, ok := secretValue(s, key); !ok || strings.TrimSpace(v) == "" {
		t.Errorf("%s: Secret %s has no key %q", source, name, key)
	}
}
