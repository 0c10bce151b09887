//go:build integration

package examples

import (
	"slices"
	"strings"
	"testing"
)

// helmCases are the value sets the chart is linted and rendered with.
var helmCases = []struct {
	name string
	set  []string
	want expect
}{
	{
		name: "defaults",
		want: expect{secretName: "groq-api-key"},
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

func helmArgs(set []string) []string {
	var args []string
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

// helmTemplate renders the chart as release "groq" and decodes the objects strictly.
func helmTemplate(t *testing.T, h string, set []string) (objects, string) {
	t.Helper()
	out := mustRun(t, ".", h, append([]string{"template", "groq", chartDir, "--namespace", "monitoring"}, helmArgs(set)...)...)
	objs, err := decodeManifests("helm template "+strings.Join(set, " "), []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return objs, out
}

func TestHelmChart(t *testing.T) {
	h := helm(t)
	for _, tc := range helmCases {
		t.Run(tc.name, func(t *testing.T) {
			mustRun(t, ".", h, append([]string{"lint", "--strict", chartDir}, helmArgs(tc.set)...)...)
			objs, _ := helmTemplate(t, h, tc.set)
			checkObjects(t, "helm template", objs, tc.want)
			for _, d := range objs.deployments {
				if d.Namespace != "monitoring" {
					t.Errorf("Deployment in namespace %q, want the release namespace", d.Namespace)
				}
			}
		})
	}
}

// TestHelmChartRequiresKey checks that the chart refuses to render without a key,
// naming the values to set, instead of deploying a pod that cannot start.
func TestHelmChartRequiresKey(t *testing.T) {
	h := helm(t)
	out, err := run(".", h, "template", "groq", chartDir, "--set", "apiKey.existingSecret=")
	if err == nil || !strings.Contains(out, "set apiKey.existingSecret") {
		t.Errorf("helm template without a key: err=%v, want an error naming apiKey.existingSecret; output:\n%s", err, out)
	}
}

// TestHelmChartFlags checks that every flag the rendered chart passes is one groq_exporter
// has; TestExporterFlags checks the other examples.
func TestHelmChartFlags(t *testing.T) {
	flags, _ := helpFlags(t, exporterBinary(t))
	used := map[string][]string{}
	h := helm(t)
	for _, tc := range helmCases {
		objs, _ := helmTemplate(t, h, tc.set)
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
