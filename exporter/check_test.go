package exporter

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/config"
	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// namesSeries are a documented series, one Groq added, an older-scheme twin
// of the documented one and a name the exporter cannot translate.
func namesSeries() []groqtest.Sample {
	return []groqtest.Sample{
		{Labels: map[string]string{"__name__": "requests:rate1m", "model": "m", "status_code": "200"}, Value: 1},
		{Labels: map[string]string{"__name__": "cached_tokens:p99:rate5m", "model": "m"}, Value: 2},
		{Labels: map[string]string{"__name__": "model_status_code:requests:rate1m", "model": "m", "status_code": "200"}, Value: 1},
		{Labels: map[string]string{"__name__": "a:b:c:d:e", "model": "m"}, Value: 3},
	}
}

// TestCheckGroq: --groq.check asks Groq once, says the key works and prints
// what became of each series name; with a refused key it says so, with
// Groq's words, and fails.
func TestCheckGroq(t *testing.T) {
	g := groqtest.FakeForTest(t, testKey)
	g.SetSeries(namesSeries()...)
	var out bytes.Buffer
	if err := newOrgs(g.BaseURL()).CheckGroq(context.Background(), config.Default(), "", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if n := g.Requests(); n != 1 {
		t.Errorf("%d calls to Groq, want 1", n)
	}
	for _, want := range []string{
		`: OK, the key works: 2 series in 2 families, from 4 series names, 1 models`,
		`GROQ SERIES +SERIES +EXPORTED AS \(OR WHY NOT\)`,
		`\na:b:c:d:e +1 +not exported: 1 bad_name\n`,
		`\ncached_tokens:p99:rate5m +1 +groq_cached_tokens\n`,
		`\nmodel_status_code:requests:rate1m +1 +not exported: 1 name_collision; → groq_requests_rate1m, as requests:rate1m is\n`,
		`\nrequests:rate1m +1 +groq_requests_rate1m\n`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output does not match %q:\n%s", want, out.String())
		}
	}

	bad := NewOrganizations(Settings{URL: g.BaseURL(), Key: "gsk_wrong", KeySource: "$GROQ_API_KEY"})
	out.Reset()
	err := bad.CheckGroq(context.Background(), config.Default(), "", &out)
	if !errors.Is(err, ErrCheckFailed) || !strings.Contains(out.String(), "FAILED: ") || !strings.Contains(out.String(), "$GROQ_API_KEY") {
		t.Errorf("a refused key: %v\n%s", err, out.String())
	}
}

// TestStatusPageNames: the status page shows the same table.
func TestStatusPageNames(t *testing.T) {
	g := groqtest.FakeForTest(t, testKey)
	g.SetSeries(namesSeries()...)
	orgs := newOrgs(g.BaseURL())
	if err := orgs.Apply(config.Default(), ""); err != nil {
		t.Fatal(err)
	}
	orgs.Refresh(context.Background())
	rec := httptest.NewRecorder()
	statusPage("/metrics", 0, orgs).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`<tr><td><code>cached_tokens:p99:rate5m</code></td><td>1</td><td>groq_cached_tokens</td></tr>`,
		`<tr><td><code>a:b:c:d:e</code></td><td>1</td><td>not exported: 1 bad_name</td></tr>`,
		`<td><code>model_status_code:requests:rate1m</code></td><td>1</td><td>not exported: 1 name_collision; → groq_requests_rate1m, as requests:rate1m is</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
