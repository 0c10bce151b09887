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

// TestApplyRefusesTheWholeSet: one organization that cannot be built leaves
// the running set in place, and the error names its key file, organization
// and configuration file.
func TestApplyRefusesTheWholeSet(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	running := orgs.list()
	cfg := twoOrgs(g.BaseURL(), g.BaseURL())
	missing := filepath.Join(t.TempDir(), "b.key")
	cfg.Organizations[1].APIKey, cfg.Organizations[1].APIKeyFile = "", missing
	err := orgs.Apply(cfg, "orgs.yml")
	var kerr *KeyError
	if !errors.As(err, &kerr) || kerr.Organization != "b" || kerr.ConfigFile != "orgs.yml" || kerr.File != missing {
		t.Fatalf("Apply = %v, want a KeyError for organization b's key file", err)
	}
	if !strings.HasPrefix(err.Error(), `orgs.yml: organization "b": cannot read the Groq API key: the key file `+missing) {
		t.Errorf("error %q does not name the file, organization and key file", err)
	}
	if got := orgs.list(); len(got) != 1 || got[0] != running[0] {
		t.Error("a refused configuration replaced the running organizations")
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

// TestCheckAsksNobody: --config.check builds every organization, reading
// their keys, without a call to Groq.
func TestCheckAsksNobody(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL())
	if _, err := orgs.Check(twoOrgs(g.BaseURL(), g.BaseURL()), "orgs.yml"); err != nil {
		t.Fatal(err)
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
