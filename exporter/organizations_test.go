package exporter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	commonconfig "github.com/prometheus/common/config"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

const testKey = "gsk_organizationsTestKey"

// fakeGroq starts a fake Groq serving a few series of every documented family.
func fakeGroq(t *testing.T, keys ...string) *groqtest.GatewayServer {
	t.Helper()
	s := groqtest.FakeForTest(t, keys...)
	s.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	return s
}

func newOrgs(url string) *Organizations {
	return NewOrganizations(Settings{URL: url, Key: testKey, KeySource: "the test's key", CacheTTL: time.Hour, MaxStale: time.Hour})
}

func twoOrgs(a, b string) *config.Config {
	cfg := config.Default()
	cfg.Organizations = []config.Organization{
		{Name: "a", URL: a, APIKey: testKey},
		{Name: "b", URL: b, APIKey: testKey},
	}
	return cfg
}

// TestApplyKeepsUnchangedOrganizations: an organization a reload leaves as
// it was keeps its collector and its cache: no call to Groq, none to warm up.
func TestApplyKeepsUnchangedOrganizations(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	first := orgs.list()[0]
	orgs.Refresh(context.Background())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	if orgs.list()[0] != first {
		t.Error("an unchanged organization was built again")
	}
	if n := g.Requests(); n != 1 {
		t.Errorf("%d calls to Groq, want 1: the unchanged organization keeps its cache", n)
	}
}

// TestApplyWarmsUpNewOrganizations: an organization a reload adds is asked
// before the swap, so that no scrape serves it unasked; the one it keeps is
// not asked again; the served set is the new one.
func TestApplyWarmsUpNewOrganizations(t *testing.T) {
	a, b := fakeGroq(t, testKey), fakeGroq(t, testKey)
	orgs := newOrgs("")
	one := twoOrgs(a.BaseURL(), b.BaseURL())
	one.Organizations = one.Organizations[:1]
	if err := orgs.Apply(one, "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	if err := orgs.Apply(twoOrgs(a.BaseURL(), b.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	if n := b.Requests(); n != 1 {
		t.Errorf("the added organization was asked %d times before Apply returned, want 1", n)
	}
	orgs.Refresh(context.Background())
	if n := a.Requests(); n != 1 {
		t.Errorf("the kept organization was asked %d times, want 1", n)
	}
	if n := testutil.CollectAndCount(orgs, "groq_up"); n != 2 {
		t.Errorf("%d groq_up series, want one per organization", n)
	}
	cfg, file := orgs.Config()
	if len(cfg.Organizations) != 2 || file != "orgs.yml" {
		t.Errorf("Config() = %d organizations from %q", len(cfg.Organizations), file)
	}
}

// tlsFake starts a fake Groq over HTTPS whose certificate a new CA signed,
// and returns it with the CA.
func tlsFake(t *testing.T, keys ...string) (*groqtest.GatewayServer, *groqtest.CA) {
	t.Helper()
	ca := groqtest.CAForTest(t)
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	g := groqtest.NewFake(keys...)
	g.SetSeries(groqtest.VectorSamples(groqtest.PerModel)...)
	s, err := g.StartTLS("", cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, ca
}

// TestApplyIsolatesMissingFiles: a reload that adds an organization whose
// key file does not exist yet and one whose CA file does not exist yet is
// applied: the running organization stays up, the two new ones are served
// down with the reason and the file in their error, and they come up by
// themselves once the files are there, with no reload.
func TestApplyIsolatesMissingFiles(t *testing.T) {
	g := fakeGroq(t, testKey)
	secure, ca := tlsFake(t, testKey)
	orgs := NewOrganizations(Settings{CacheTTL: 0, MaxStale: time.Hour}) // every Refresh asks
	cfg := twoOrgs(g.BaseURL(), g.BaseURL())
	dir := t.TempDir()
	keyFile, caFile := filepath.Join(dir, "b.key"), filepath.Join(dir, "ca.pem")
	cfg.Organizations[1].APIKey, cfg.Organizations[1].APIKeyFile = "", keyFile
	cfg.Organizations = append(cfg.Organizations, config.Organization{Name: "c", URL: secure.BaseURL(), APIKey: testKey,
		HTTPClientConfig: &commonconfig.HTTPClientConfig{TLSConfig: commonconfig.TLSConfig{CAFile: caFile}, FollowRedirects: true}})
	if err := orgs.Apply(twoOrgs(g.BaseURL(), g.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	if err := orgs.Apply(cfg, "orgs.yml"); err != nil {
		t.Fatalf("Apply = %v; an organization whose files are missing must not stop the others", err)
	}
	orgs.Refresh(context.Background())
	state := func() map[string]collector.Status {
		out := map[string]collector.Status{}
		for _, o := range orgs.list() {
			out[o.name] = o.coll.Status()
		}
		return out
	}
	st := state()
	if !st["a"].Up {
		t.Errorf("organization a is down: %s", st["a"].LastError)
	}
	for name, want := range map[string]struct{ reason, file string }{"b": {"key", keyFile}, "c": {"tls_file", caFile}} {
		var o *organization
		for _, x := range orgs.list() {
			if x.name == name {
				o = x
			}
		}
		if st[name].Up || !strings.Contains(st[name].LastError, want.file) {
			t.Errorf("organization %s: up %v, last error %q; want down, naming %s", name, st[name].Up, st[name].LastError, want.file)
		}
		if got := o.coll.RefreshErrors(); got[want.reason] == 0 || len(got) != 1 {
			t.Errorf("organization %s: failed runs %v, want reason %s only", name, got, want.reason)
		}
	}
	if n := secure.Requests(); n != 0 {
		t.Errorf("%d requests reached the HTTPS Groq without its CA", n)
	}

	if err := os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	for name, s := range state() {
		if !s.Up {
			t.Errorf("organization %s still down once its file exists: %s", name, s.LastError)
		}
	}

	// A CA file removed while running is the same trouble, and the same cure.
	if err := os.Remove(caFile); err != nil {
		t.Fatal(err)
	}
	secure.CloseClientConnections() // a new connection reads the CA again
	orgs.Refresh(context.Background())
	if st := state()["c"]; st.Up || !strings.Contains(st.LastError, "cannot use a TLS file: tls_config ca_file "+caFile) {
		t.Errorf("organization c with its CA file removed: up %v, last error %q", st.Up, st.LastError)
	}
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	if st := state()["c"]; !st.Up {
		t.Errorf("organization c still down once its CA file is back: %s", st.LastError)
	}
}

// TestKeyErrors: no key at all, and a key file that is empty.
func TestKeyErrors(t *testing.T) {
	if err := NewOrganizations(Settings{URL: "http://127.0.0.1:1"}).Apply(config.Default(), ""); !errors.Is(err, ErrNoKey) {
		t.Errorf("without a key: %v, want ErrNoKey", err)
	}
	empty := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := NewOrganizations(Settings{URL: "http://127.0.0.1:1", KeyFile: empty}).Apply(config.Default(), "")
	var kerr *KeyError
	if !errors.As(err, &kerr) || kerr.Organization != "" || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("an empty key file: %v, want a KeyError saying it is empty", err)
	}
}

// TestHints: when Groq refuses the key, the error says where the key came
// from: the command line's words for its organization, the organization and
// file for one of the configuration file.
func TestHints(t *testing.T) {
	g := fakeGroq(t, "gsk_anotherKey")
	orgs := newOrgs(g.BaseURL())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	if e := orgs.list()[0].coll.Status().LastError; !strings.Contains(e, "Groq rejected the API key") || !strings.Contains(e, "(the key comes from the test's key)") {
		t.Errorf("last error %q does not say where the key came from", e)
	}
	cfg := twoOrgs(g.BaseURL(), g.BaseURL())
	if err := orgs.Apply(cfg, "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	if e := orgs.list()[1].coll.Status().LastError; !strings.Contains(e, `(the key comes from api_key of organization "b" in orgs.yml)`) {
		t.Errorf("last error %q does not name the organization and file", e)
	}
}

// TestURLHints: the URLs people try first, Groq's OpenAI-compatible API and
// the query endpoint itself, answer 404, and the error says what to set
// --groq.url to instead.
func TestURLHints(t *testing.T) {
	g := fakeGroq(t, testKey)
	for _, tc := range []struct{ path, want string }{
		{"/openai/v1", "(the URL comes from --groq.url; that is Groq's OpenAI-compatible API, not its metrics API: set it to https://api.groq.com/v1/metrics/prometheus)"},
		{"/v1/metrics/prometheus/api/v1/query", "(the URL comes from --groq.url; give the base URL without /api/v1/..., which the exporter appends, e.g. https://api.groq.com/v1/metrics/prometheus)"},
		{"/elsewhere", "(the URL comes from --groq.url)"},
	} {
		u := g.URL + tc.path
		orgs := NewOrganizations(Settings{URL: u, URLSource: "--groq.url", Key: testKey, KeySource: "the test's key", CacheTTL: time.Hour, MaxStale: time.Hour})
		if err := orgs.Apply(config.Default(), ""); err != nil {
			t.Fatal(err)
		}
		orgs.Refresh(context.Background())
		if e := orgs.list()[0].coll.Status().LastError; !strings.Contains(e, "404") || !strings.Contains(e, tc.want) {
			t.Errorf("--groq.url=%s: last error %q, want 404 and %q", tc.path, e, tc.want)
		}
		orgs.Close()
	}
}

// TestCheckAsksNobody: --config.check builds every organization, reading
// their keys, without a call to Groq.
func TestCheckAsksNobody(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL())
	if warnings, problems := orgs.Check(twoOrgs(g.BaseURL(), g.BaseURL()), "orgs.yml"); len(warnings)+len(problems) > 0 {
		t.Fatal(warnings, problems)
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("Check made %d calls to Groq", n)
	}
	if len(orgs.list()) != 0 {
		t.Error("Check changed the served organizations")
	}
}

// TestReloaderKeepsTheRunningConfiguration: a file that does not load leaves
// the running configuration, and says so in the reload gauge.
func TestReloaderKeepsTheRunningConfiguration(t *testing.T) {
	g := fakeGroq(t, testKey)
	file := filepath.Join(t.TempDir(), "groq.yml")
	if err := os.WriteFile(file, []byte("builtin:\n  families: [groq_requests_rate1m]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	orgs := newOrgs(g.BaseURL())
	rl := NewReloader(file, orgs, nil)
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("builtin:\n  families: [groq_nope]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rl.ReloadLogged(); err == nil || !strings.Contains(err.Error(), `unknown family "groq_nope"`) {
		t.Errorf("reload of a bad file: %v", err)
	}
	if got := testutil.ToFloat64(rl.success); got != 0 {
		t.Errorf("%s %v after a failed reload, want 0", ReloadSuccessName, got)
	}
	if cfg, _ := orgs.Config(); len(cfg.Builtin.Families) != 1 || cfg.Builtin.Families[0] != "groq_requests_rate1m" {
		t.Errorf("the running configuration changed: %+v", cfg.Builtin)
	}
}
