//go:build integration

package exporter

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// shardConfig is examples/prometheus/shards.yml as shard i of n, reading
// the service discovery at sdURL, with every interval one second and without
// its rule file.
func shardConfig(t *testing.T, sdURL string, i, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "prometheus", "shards.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "rule_files")
	cfg["global"] = map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s"}
	jobs := cfg["scrape_configs"].([]any)
	if len(jobs) != 1 {
		t.Fatalf("shards.yml has %d jobs, want 1", len(jobs))
	}
	job := jobs[0].(map[string]any)
	job["scrape_interval"], job["scrape_timeout"] = "1s", "1s"
	sd := job["http_sd_configs"].([]any)[0].(map[string]any)
	sd["url"], sd["refresh_interval"] = sdURL, "1s"
	relabel := job["relabel_configs"].([]any)
	relabel[0].(map[string]any)["modulus"] = n
	relabel[1].(map[string]any)["regex"] = strconv.Itoa(i)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestPrometheusShardsSplitOrganizations: two Prometheus servers, configured
// by examples/prometheus/shards.yml, discover
// 40 organizations from the exporter's service discovery and split them
// with hashmod: each organization is scraped through /probe by exactly one
// shard, with its organization and team labels; Groq is asked at most once
// per TTL per organization; an organization a reload adds is discovered and
// scraped without restarting Prometheus, and one it removes disappears.
func TestPrometheusShardsSplitOrganizations(t *testing.T) {
	const ttl = 2 * time.Second
	fakes := map[string]*groqtest.GatewayServer{}
	orgConfig := func(names ...string) *config.Config {
		cfg := config.Default()
		for _, name := range names {
			if fakes[name] == nil {
				fakes[name] = fakeGroq(t, testKey)
			}
			cfg.Organizations = append(cfg.Organizations, config.Organization{Name: name, URL: fakes[name].BaseURL(), APIKey: testKey,
				Labels: map[string]string{"team": teamOf(name)}})
		}
		return cfg
	}
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("org-%02d", i))
	}
	orgs := NewOrganizations(Settings{Key: testKey, CacheTTL: ttl, MaxStale: time.Hour, Logger: log.NewNopLogger()})
	if err := orgs.Apply(orgConfig(names...), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	srv := httptest.NewServer(NewHandler(HandlerOpts{MetricsPath: "/metrics", CacheTTL: ttl, Orgs: orgs,
		Reloader: NewReloader("", orgs, nil), Gatherer: prometheus.NewRegistry(), Logger: log.NewNopLogger()}))
	t.Cleanup(srv.Close)

	shards := []*groqtest.Prometheus{
		groqtest.PrometheusWithConfigForTest(t, shardConfig(t, srv.URL+DiscoveryPath, 0, 2)),
		groqtest.PrometheusWithConfigForTest(t, shardConfig(t, srv.URL+DiscoveryPath, 1, 2)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// scraped returns, per shard, the organizations whose groq_up it has
	// now, each with its team label.
	scraped := func() [][]string {
		out := make([][]string, len(shards))
		for i, p := range shards {
			samples, err := p.Query(ctx, `groq_up == 1`)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				out[i] = append(out[i], s.Labels["organization"]+"/"+s.Labels["team"])
			}
			slices.Sort(out[i])
		}
		return out
	}
	// waitFor polls until every organization of want is scraped by exactly
	// one shard, and no other organization is.
	waitFor := func(want []string) [][]string {
		t.Helper()
		var wantLabelled []string
		for _, n := range want {
			wantLabelled = append(wantLabelled, n+"/"+teamOf(n))
		}
		slices.Sort(wantLabelled)
		for {
			got := scraped()
			all := slices.Sorted(slices.Values(slices.Concat(got...)))
			if slices.Equal(all, wantLabelled) {
				return got
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the shards scrape\n%v\nand\n%v\nwant each of %v by exactly one", got[0], got[1], wantLabelled)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	got := waitFor(names)
	if len(got[0]) == 0 || len(got[1]) == 0 {
		t.Errorf("hashmod gave one shard nothing: %d and %d organizations", len(got[0]), len(got[1]))
	}

	// Groq calls per TTL while both shards scrape every second.
	start := time.Now()
	time.Sleep(3 * ttl)
	end := time.Now()
	for _, name := range names {
		n := 0
		for _, c := range fakes[name].Calls() {
			if !c.Time.Before(start) && c.Time.Before(end) {
				n++
			}
		}
		if n > 4 { // 3 TTLs: at most one call per TTL, and one more for where the window falls
			t.Errorf("%s: Groq asked %d times in 3 TTLs of scrapes every second", name, n)
		}
	}

	// A reload adds org-40 and removes org-00.
	next := append(slices.Clone(names[1:]), "org-40")
	if err := orgs.Apply(orgConfig(next...), "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	waitFor(next)
}

func teamOf(org string) string {
	return "team-" + org[len(org)-1:]
}
