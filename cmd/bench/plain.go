package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/groq-exporter/groq_exporter/groq"
)

// servePlain is the floor of the --groq.cache-ttl=0 rows: the least a
// client_golang exporter does to serve Groq's answer on every scrape. It asks
// groqURL once per scrape (the project's groq.Client: the same HTTP client
// and decoder), makes one const gauge per series (the name prefixed groq_,
// colons made underscores, the labels as they came), and lets promhttp
// gather (with the Go and process collectors, as a plain exporter's default
// registry has them), negotiate, encode and gzip once. What it leaves out
// and the exporter does: the translation rules, the self-metrics of the
// refresh, the cache.
func servePlain(groqURL, apiKey, addr string) error {
	c, err := groq.New(groq.Config{URL: groqURL, Key: apiKey, Timeout: time.Minute})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), plainCollector{c})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("Ready\n")) })
	return http.ListenAndServe(addr, mux)
}

// plainCollector asks Groq on every Collect: the usual way of an exporter
// without a cache.
type plainCollector struct{ c *groq.Client }

func (p plainCollector) Describe(chan<- *prometheus.Desc) {}

func (p plainCollector) Collect(ch chan<- prometheus.Metric) {
	a, err := p.c.QueryAnswer(context.Background(), `{__name__=~".+"}`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(prometheus.NewDesc("groq_error", "Asking Groq failed.", nil, nil), err)
		return
	}
	type key struct{ name, labels string }
	descs := map[key]*prometheus.Desc{}
	var names, values []string
	for _, s := range a.Samples {
		names, values = names[:0], values[:0]
		name := ""
		for _, l := range s.Labels {
			if l.Name == "__name__" {
				name = "groq_" + strings.ReplaceAll(l.Value, ":", "_")
				continue
			}
			names, values = append(names, l.Name), append(values, l.Value)
		}
		k := key{name, strings.Join(names, ",")}
		d := descs[k]
		if d == nil {
			d = prometheus.NewDesc(name, "Groq's "+name+".", append([]string(nil), names...), nil)
			descs[k] = d
		}
		if m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, s.Value, values...); err == nil {
			ch <- m
		}
	}
}
