// Package examples holds no code. Its tests check that the files users copy from this
// directory (Prometheus configs, alerting rules, the Grafana dashboard, Kubernetes
// manifests and the Helm chart) and the repository's workflows are valid and agree with the
// groq_exporter binary, and run the dashboard and the federation against real servers.
//
// It is a module of its own so that its test-only dependencies (Kubernetes API types,
// YAML, PromQL parsing) stay out of the exporter's module. Run the tests from this
// directory with `go test ./...` (Go only); `go test -tags integration ./...` adds those
// that start Prometheus, promtool, VictoriaMetrics, helm and actionlint (README.md says how
// to install each).
package examples
