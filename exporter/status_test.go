package exporter

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// probeLinks finds the /probe links of a status page; the second group is
// set for the link of an organization's details.
var probeLinks = regexp.MustCompile(`<a href="(/probe\?[^"]*)"( id="probe)?`)

// TestStatusPageLinksProbe: every organization's row, and its details, link
// the /probe URL that scrapes it alone, its name escaped; following a link
// answers 200 with that organization's series, from its own Groq. The page
// links service discovery.
func TestStatusPageLinksProbe(t *testing.T) {
	// The configuration's names need no escaping ([a-zA-Z0-9_.-]); "r&d team"
	// does, so that a wider rule cannot make the links wrong unnoticed.
	names := []string{"a", "b", "r&d team"}
	fakes := map[string]*groqtest.GatewayServer{}
	cfg := config.Default()
	for _, name := range names {
		fakes[name] = fakeGroq(t, testKey)
		cfg.Organizations = append(cfg.Organizations, config.Organization{Name: name, URL: fakes[name].BaseURL(), APIKey: testKey})
	}
	orgs := newOrgs("")
	if err := orgs.Apply(cfg, "orgs.yml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	page := string(body(t, request(t, h, http.MethodGet, "/")))
	if !strings.Contains(page, `<a href="/sd">service discovery</a>`) {
		t.Error("the status page does not link service discovery")
	}
	if !strings.Contains(page, `<a href="/probe?organization=r%26d%20team">`) {
		t.Errorf("the status page does not link r&d team's /probe with its name escaped: %q", probeLinks.FindAllString(page, -1))
	}

	// Following each row's link asks the Groq of one organization, each once.
	links := probeLinks.FindAllStringSubmatch(page, -1)
	if len(links) != len(names) {
		t.Fatalf("%d /probe links for %d organizations:\n%s", len(links), len(names), page)
	}
	hrefs := map[string]string{} // by the organization whose Groq it asked
	for _, l := range links {
		href := html.UnescapeString(l[1])
		before := map[string]int{}
		for name, g := range fakes {
			before[name] = g.Requests()
		}
		resp := request(t, h, http.MethodGet, href)
		if b := string(body(t, resp)); resp.StatusCode != http.StatusOK || !strings.Contains(b, "groq_up 1\n") || !strings.Contains(b, "groq_requests_rate1m") {
			t.Errorf("following %s: %d\n%s", href, resp.StatusCode, b)
		}
		for name, g := range fakes {
			if g.Requests() > before[name] {
				if hrefs[name] != "" {
					t.Errorf("%s and %s both scrape %s", hrefs[name], href, name)
				}
				hrefs[name] = href
			}
		}
	}
	if len(hrefs) != len(names) {
		t.Errorf("the rows' /probe links scrape %v, want each of %q", hrefs, names)
	}

	// An organization's details link the same URL.
	for _, name := range names {
		details := string(body(t, request(t, h, http.MethodGet, "/?organization="+url.QueryEscape(name))))
		var detail []string
		for _, l := range probeLinks.FindAllStringSubmatch(details, -1) {
			if l[2] != "" {
				detail = append(detail, html.UnescapeString(l[1]))
			}
		}
		if len(detail) != 1 || detail[0] != hrefs[name] {
			t.Errorf("the details of %s link %q, want %q", name, detail, hrefs[name])
		}
	}
}

// TestStatusPageLinksDefaultProbe: the flags' organization, shown alone,
// links /probe?organization=default, which answers its series.
func TestStatusPageLinksDefaultProbe(t *testing.T) {
	g := fakeGroq(t, testKey)
	orgs := newOrgs(g.BaseURL())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orgs.Close)
	h := serveAll(orgs, "")
	page := string(body(t, request(t, h, http.MethodGet, "/")))
	links := probeLinks.FindAllStringSubmatch(page, -1)
	if len(links) != 1 || links[0][1] != ProbePath+"?organization="+DefaultOrganization || links[0][2] == "" {
		t.Fatalf("the page of the flags' organization links %q, want its details to link /probe?organization=default:\n%s", links, page)
	}
	resp := request(t, h, http.MethodGet, links[0][1])
	if b := string(body(t, resp)); resp.StatusCode != http.StatusOK || !strings.Contains(b, "groq_up 1\n") || !strings.Contains(b, "groq_requests_rate1m") || g.Requests() != 1 {
		t.Errorf("following %s: %d, %d calls to Groq\n%s", links[0][1], resp.StatusCode, g.Requests(), b)
	}
}
