#!/usr/bin/env bash
# Installs what the tests built with the integration tag (make test) need on a
# Debian machine, and only what is missing: VictoriaMetrics (the Groq
# stand-in), Prometheus and promtool, Chromium (status page), squid (a forward
# proxy for the proxy tests), Docker and a registry (image test), Helm (chart
# test) and actionlint (workflow lint). Plain `go test ./...` needs none of them.
set -euo pipefail

need=()
command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v squid >/dev/null || [ -x /usr/sbin/squid ] || need+=(squid)
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

HELM_VERSION=v3.22.0
if ! command -v helm >/dev/null && [ ! -x "$(go env GOPATH)/bin/helm" ]; then
  echo "installing helm $HELM_VERSION"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

ACTIONLINT_VERSION=v1.7.12
if ! command -v actionlint >/dev/null && [ ! -x "$(go env GOPATH)/bin/actionlint" ]; then
  echo "installing actionlint $ACTIONLINT_VERSION"
  go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
