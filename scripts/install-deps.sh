#!/usr/bin/env bash
# Installs what the tests built with the integration tag (make test) need on a
# Debian machine, and only what is missing: VictoriaMetrics (the Groq
# stand-in), Chromium (status page), squid (a forward proxy for the proxy
# tests), Docker and a registry (image test) from Debian; Prometheus, promtool
# and Alertmanager built from their upstream modules at pinned versions; Helm
# (chart test) and actionlint (workflow lint). Plain `go test ./...` needs none
# of them.
set -euo pipefail

need=()
command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
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

# Prometheus 3 and Alertmanager, as users run them today, built from the
# upstream modules into one directory per version (internal/groqtest/tools.go
# looks there and checks the module version each binary records). A binary is
# rebuilt only when it is missing or was built from another version. A cold
# build of all three takes 10 to 20 minutes on 2 cores; later runs take none.
# GROQ_EXPORTER_TOOLS moves the directory (default ~/.cache/groq_exporter/tools).
PROMETHEUS_VERSION=v0.316.0   # Prometheus 3.16.0; keep in step with internal/groqtest/tools.go
ALERTMANAGER_VERSION=v0.35.0
tools_dir="${GROQ_EXPORTER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/groq_exporter/tools}"

# built_from BINARY MODULE VERSION: true if BINARY exists and was built from MODULE@VERSION.
built_from() {
  [ -x "$1" ] && [ "$(go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $2 "@" $3; exit }')" = "$2@$3" ]
}

# install_tool MODULE VERSION NAME...: go install MODULE/cmd/NAME@VERSION for
# each NAME not yet built from MODULE@VERSION in its versioned directory.
install_tool() {
  local module=$1 version=$2; shift 2
  local dir="$tools_dir/${module##*/}-$version" pkgs=()
  for name in "$@"; do
    built_from "$dir/$name" "$module" "$version" || pkgs+=("$module/cmd/$name@$version")
  done
  [ ${#pkgs[@]} -eq 0 ] && return
  echo "installing ${pkgs[*]} into $dir"
  mkdir -p "$dir"
  GOBIN="$dir" go install "${pkgs[@]}"
}
install_tool github.com/prometheus/prometheus "$PROMETHEUS_VERSION" prometheus promtool

# Alertmanager's module leaves out its web UI's built assets (ui/app/dist, made
# by npm), which ui/web.go embeds, so `go install ...@version` fails. It is
# built from a copy of the module with a placeholder page in their place (the
# tests use only its API), stamped with its version as its release is.
install_alertmanager() {
  local module=github.com/prometheus/alertmanager version=$ALERTMANAGER_VERSION
  local dir="$tools_dir/alertmanager-$version"
  if [ -x "$dir/alertmanager" ] && "$dir/alertmanager" --version 2>&1 | grep -q "^alertmanager, version ${version#v} "; then
    return
  fi
  echo "installing $module/cmd/alertmanager@$version into $dir"
  local src moddir
  src=$(mktemp -d)
  moddir=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -r "$moddir" "$src/alertmanager"
  chmod -R u+w "$src/alertmanager"
  for ui in elm mantine; do
    mkdir -p "$src/alertmanager/ui/app/dist/$ui"
    echo "Alertmanager $version built without its web UI (scripts/install-deps.sh)" >"$src/alertmanager/ui/app/dist/$ui/index.html"
  done
  mkdir -p "$dir"
  (cd "$src/alertmanager" && go build -mod=mod -o "$dir/alertmanager" \
    -ldflags "-X github.com/prometheus/common/version.Version=${version#v} -X github.com/prometheus/common/version.Revision=$version" \
    ./cmd/alertmanager)
  rm -rf "$src"
}
install_alertmanager
