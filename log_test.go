package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/go-logfmt/logfmt"

	"github.com/groq-exporter/groq_exporter/internal/groqtest"
)

// TestOneLogPipeline: every line, exporter-toolkit's included, carries the
// same keys (ts, level, caller, msg; never slog's time) in logfmt and in
// JSON, and a start-up error comes out in the chosen format.
func TestOneLogPipeline(t *testing.T) {
	g := groqtest.FakeForTest(t, "gsk_logKey")
	for _, format := range []string{"logfmt", "json"} {
		e := startExporter(t, map[string]string{"GROQ_API_KEY": "gsk_logKey"}, "--groq.url="+g.BaseURL(), "--log.format="+format, "--log.level=debug")
		e.get(t, "/metrics")
		lines := logLines(t, format, e.log.String())
		toolkit := false
		for _, kv := range lines {
			for _, k := range []string{"ts", "level", "caller", "msg"} {
				if kv[k] == "" {
					t.Errorf("%s line without %s: %v", format, k, kv)
				}
			}
			if _, ok := kv["time"]; ok {
				t.Errorf("%s line with slog's time key: %v", format, kv)
			}
			toolkit = toolkit || kv["msg"] == "Listening on"
		}
		if !toolkit {
			t.Errorf("no line of exporter-toolkit's in the %s log:\n%s", format, e.log)
		}

		var stderr groqtest.LogBuffer
		err := run(context.Background(), []string{"--log.format=" + format}, func(string) string { return "" }, io.Discard, &stderr)
		if err == nil {
			t.Fatal("started without a key")
		}
		lines = logLines(t, format, stderr.String())
		if last := lines[len(lines)-1]; last["level"] != "error" || !strings.Contains(last["err"], "no Groq API key") {
			t.Errorf("the start-up error is not a %s error line: %v", format, last)
		}
	}
}

// logLines parses a log in format into one map of keys to values per line.
func logLines(t *testing.T, format, log string) []map[string]string {
	t.Helper()
	var out []map[string]string
	if format == "json" {
		for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
			var kv map[string]any
			if err := json.Unmarshal([]byte(line), &kv); err != nil {
				t.Fatalf("not a JSON line: %q", line)
			}
			m := map[string]string{}
			for k, v := range kv {
				b, _ := json.Marshal(v)
				m[k] = strings.Trim(string(b), `"`)
			}
			out = append(out, m)
		}
		return out
	}
	d := logfmt.NewDecoder(strings.NewReader(log))
	for d.ScanRecord() {
		m := map[string]string{}
		for d.ScanKeyval() {
			m[string(d.Key())] = string(d.Value())
		}
		out = append(out, m)
	}
	if err := d.Err(); err != nil {
		t.Fatalf("not logfmt: %v\n%s", err, log)
	}
	return out
}
