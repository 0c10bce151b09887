package main

import (
	"strings"
	"testing"
)

// TestStatusPage: the landing page shows the live state of the refreshes,
// and never the key.
func TestStatusPage(t *testing.T) {
	const key = "gsk_statusPageSecret42"
	g, groqURL := newGroqFixture(t, key)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": key}, "--groq.url="+groqURL, "--groq.cache-ttl=0")

	_, page := e.get(t, "/")
	for _, want := range []string{groqURL, "none yet", "No series yet", `href="/metrics"`} {
		if !strings.Contains(page, want) {
			t.Errorf("before any scrape, / lacks %q:\n%s", want, page)
		}
	}

	e.get(t, "/metrics")
	_, page = e.get(t, "/")
	for _, want := range []string{`id="outcome">succeeded`, "groq_ttft_latency_seconds</code></td><td>6", "openai/gpt-oss-120b", "llama-3.3-70b-versatile", "Cache age"} {
		if !strings.Contains(page, want) {
			t.Errorf("after a scrape, / lacks %q:\n%s", want, page)
		}
	}

	g.SetKeys("gsk_someOtherKey")
	e.get(t, "/metrics")
	_, page = e.get(t, "/")
	for _, want := range []string{`id="outcome">failed`, "Groq rejected the API key", "invalid API key", "<code>auth</code> 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("after a failed refresh, / lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "statusPageSecret") || strings.Contains(page, "someOtherKey") {
		t.Error("the status page shows a key")
	}
	if code, _ := e.get(t, "/nope"); code != 404 {
		t.Errorf("GET /nope = %d, want 404", code)
	}
}
