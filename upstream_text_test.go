package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestUpstreamTextEscaped: series names and label values from Groq that hold
// newlines, ANSI escapes (clear the screen, set the terminal's title, colour)
// or a bidirectional override, and a name of a megabyte, reach the log, the
// status page and what --groq.check prints escaped (`\x1b`, `\n`) and cut
// short: no raw control character, no line of a megabyte. (That a name of a
// megabyte becomes a family of a megabyte on /metrics is another matter.)
func TestUpstreamTextEscaped(t *testing.T) {
	// (The built-in selector's regular expression, .+:.+, matches no name
	// with a newline: newlines come in label values.)
	const evil = "evil:\x1b[2J\x1b]0;pwned\x07\u202e"
	const evilShown = `evil:\x1b[2J\x1b]0;pwned\a\u202e`
	huge := "huge:" + strings.Repeat("a", 1<<20)
	g := groqtest.FakeForTest(t, e2eKey)
	g.SetSeries(append(groqtest.RecordedSamples(t, "collector/testdata/all_families.json"),
		// Not exported (bad_name), and the first such: the log's example.
		groqtest.Sample{Labels: map[string]string{"__name__": "bad\x1b" + huge, "model": "m"}, Value: 1},
		groqtest.Sample{Labels: map[string]string{"__name__": evil, "model": "m"}, Value: 1},
		groqtest.Sample{Labels: map[string]string{"__name__": huge, "model": "m"}, Value: 1},
		groqtest.Sample{Labels: map[string]string{"__name__": "requests:rate1m", "model": "m\x1b[31m\nlevel=error msg=forged"}, Value: 1},
	)...)
	const maxLine = 4 << 10
	checkText := func(t *testing.T, where, text string) {
		t.Helper()
		if i := strings.IndexAny(text, "\x1b\x07\u202e"); i >= 0 {
			t.Errorf("%s holds a raw control character: %q", where, text[max(0, i-40):min(len(text), i+40)])
		}
		for _, line := range strings.Split(text, "\n") {
			if len(line) > maxLine {
				t.Errorf("%s has a line of %d bytes: %.100q…", where, len(line), line)
			}
			if strings.HasPrefix(strings.TrimSpace(line), "level=error msg=forged") {
				t.Errorf("%s has a line forged by a series name: %q", where, line)
			}
		}
	}
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			env := map[string]string{"GROQ_API_KEY": e2eKey}
			// Under -race on a busy machine, fetching and decoding these
			// megabytes takes seconds (7 s seen on 2 loaded cores), near
			// the 10 s defaults of a request, of a refresh and of the
			// scrape's wait: this test is about escaping, not time, so the
			// scrape waits (for as long as it takes) until the refresh is
			// done, and is asked to be up.
			args := []string{"--groq.url=" + g.BaseURL(), "--groq.cache-ttl=0", "--groq.timeout=2m", "--log.level=debug", "--log.format=" + format}
			e := startExporter(t, env, args...)
			if _, body := e.get(t, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds", "150"); metricLine(body, "groq_up") != "1" {
				t.Fatalf("the scrape did not wait for a successful refresh: groq_up %q\nlog:\n%.4000s", metricLine(body, "groq_up"), e.log)
			}
			_, page := e.get(t, "/")
			checkText(t, "the status page", page)
			if !strings.Contains(page, evilShown) || !strings.Contains(page, `m\x1b[31m\nlevel=error msg=forged`) {
				t.Errorf("the status page does not show the names escaped")
			}
			if len(page) > 256<<10 {
				t.Errorf("the status page is %d bytes: the megabyte name was not cut", len(page))
			}
			checkText(t, "the log", e.log.String())

			var stdout, stderr bytes.Buffer
			_ = run(context.Background(), append([]string{"--groq.check"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
			checkText(t, "--groq.check's output", stdout.String()+stderr.String())
			if !strings.Contains(stdout.String(), evilShown) {
				t.Errorf("--groq.check does not show the name escaped:\n%s", stdout.String())
			}
		})
	}
}
