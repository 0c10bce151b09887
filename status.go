package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/common/version"

	"github.com/groq-exporter/groq_exporter/collector"
)

//go:embed status.html
var statusHTML string

var statusTemplate = template.Must(template.New("status").Parse(statusHTML))

type count struct {
	Name  string
	Count int
}

// statusPage is the landing page: links, and what the last refreshes from
// Groq found, rendered on the server with no external assets. It shows the
// URL, never the key; error texts come from the client, which redacts
// credentials.
func statusPage(metricsPath, groqURL string, cacheTTL time.Duration, coll *collector.Collector) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		st := coll.Status()
		data := struct {
			Version, MetricsPath, URL string
			CacheTTL, CacheAge, Took  time.Duration
			Status                    collector.Status
			Families, Dropped         []count
		}{
			Version: version.Version, MetricsPath: metricsPath, URL: groqURL, CacheTTL: cacheTTL, Status: st,
			Families: counts(st.Families), Dropped: counts(st.Dropped),
			Took: st.Duration.Round(time.Millisecond),
		}
		if data.Version == "" {
			data.Version = "(development build)"
		}
		if !st.LastRefresh.IsZero() {
			data.CacheAge = time.Since(st.LastRefresh).Round(time.Second)
		}
		var buf bytes.Buffer
		if err := statusTemplate.Execute(&buf, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
}

// counts lists the non-zero entries of m, sorted by name.
func counts(m map[string]int) []count {
	var out []count
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			out = append(out, count{k, m[k]})
		}
	}
	return out
}
