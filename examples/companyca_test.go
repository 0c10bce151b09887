//go:build integration

package examples

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestChartCompanyCATrusted: the company CA the chart mounts (companyCA, from the platform
// value set) makes the exporter trust a Groq whose certificate that CA signed. The test
// lays the CA file out as the kubelet mounts a ConfigMap (the key a symlink into ..data,
// itself a symlink to a timestamped directory), passes the SSL_CERT_DIR the chart renders,
// pointed at that directory, and expects groq_up 1; without it, the same exporter does not
// trust the certificate (groq_up 0), so the mounted CA is what made the difference.
func TestChartCompanyCATrusted(t *testing.T) {
	objs, _ := helmTemplate(t, helm(t), "platform-values.yaml", nil)
	pod := objs.deployments[0].Spec.Template.Spec
	c := pod.Containers[0]
	var certDir string
	for _, e := range c.Env {
		if e.Name == "SSL_CERT_DIR" {
			certDir = e.Value
		}
	}
	var key string
	for _, m := range c.VolumeMounts {
		if m.MountPath != certDir {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && len(v.ConfigMap.Items) == 1 {
				key = v.ConfigMap.Items[0].Path
			}
		}
	}
	if certDir == "" || key == "" {
		t.Fatalf("the chart renders no SSL_CERT_DIR (%q) with a ConfigMap file mounted there (%q)", certDir, key)
	}

	ca := groqtest.CAForTest(t)
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	const apiKey = "gsk_companyCATestKey"
	g := groqtest.NewFake(apiKey)
	g.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	srv, err := g.StartTLS("", cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	// The kubelet's layout of a ConfigMap volume.
	mount := t.TempDir()
	stamp := filepath.Join(mount, "..2026_12_07_12_00_00.000000001")
	if err := os.Mkdir(stamp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteFile(filepath.Join(stamp, key)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(stamp), filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", key), filepath.Join(mount, key)); err != nil {
		t.Fatal(err)
	}

	bin := exporterBinary(t)
	up := regexp.MustCompile(`(?m)^groq_up (\S+)$`)
	groqUp := func(name string, env ...string) string {
		t.Helper()
		addr := groqtest.FreeAddr(t)
		cmd := exec.Command(bin, "--web.listen-address="+addr, "--groq.url="+srv.BaseURL())
		cmd.Env = append([]string{"GROQ_API_KEY=" + apiKey}, env...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SSL_CERT_") && !strings.HasPrefix(kv, "GROQ_API_KEY=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		_, exited := startProcess(t, name, cmd)
		var v string
		waitUntil(t, name+" to serve groq_up", exited, func() bool {
			code, body, err := httpGet("http://" + addr + "/metrics")
			m := up.FindStringSubmatch(body)
			if err != nil || code != http.StatusOK || m == nil {
				return false
			}
			v = m[1]
			return true
		})
		return v
	}
	if v := groqUp("exporter with the company CA", "SSL_CERT_DIR="+mount); v != "1" {
		t.Errorf("with SSL_CERT_DIR at the mounted company CA: groq_up %s, want 1", v)
	}
	if v := groqUp("exporter without it"); v != "0" {
		t.Errorf("without the company CA: groq_up %s, want 0 (the certificate must not be trusted otherwise)", v)
	}
}
