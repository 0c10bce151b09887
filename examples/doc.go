// Package examples holds no code. Its tests check that the files users copy from this
// directory (Prometheus configs, alerting rules, the Grafana dashboard, Kubernetes
// manifests and the Helm chart) are valid and agree with the groq_exporter binary.
//
// It is a module of its own so that its test-only dependencies (Kubernetes API types,
// YAML, PromQL parsing) stay out of the exporter's module. Run the tests from this
// directory with `go test ./...` (Go only); `go test -tags integration ./...` adds those
// that run promtool (Debian package prometheus) and helm.
package examples
