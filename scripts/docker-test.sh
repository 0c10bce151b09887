#!/usr/bin/env bash
# Builds the groq_exporter images as a release does and checks them end to end:
#
#  - `make docker` builds linux/amd64 and linux/arm64 images on an empty base (scratch)
#    from the binaries `make crossbuild` puts in .build/linux-<arch>/;
#  - `make docker-push docker-manifest` pushes both to a local registry (Debian's
#    docker-registry, started here on loopback) under one manifest list per tag
#    (<version> and <major>.<minor>);
#  - the manifest lists and both images' configuration and binaries are read back from the
#    registry's HTTP API: platforms, entrypoint, user, version and licence labels, ELF
#    machine, /LICENSE and /NOTICE;
#  - every local image is removed, the manifest list is pulled back by tag (which gives
#    the amd64 image on this host) and the arm64 image by digest, and their metadata
#    checked;
#  - the pulled amd64 container reads the key from a mounted file, queries a fake Groq over
#    HTTPS on loopback (trusting it through the CA bundle at the path the image ships one),
#    serves groq_up 1 and Groq's series on /metrics, and runs as 65534:65534.
#  - the Helm chart is pushed to the same registry as an OCI artifact, pulled back and
#    rendered from oci://.
# Prints the image sizes.
#
# Needs root when no Docker daemon answers: it then installs docker.io with apt-get if
# dockerd is missing and starts a daemon of its own (vfs storage, no iptables, no bridge;
# the container uses the host's network), which it stops again at the end. Installs
# docker-registry with apt-get if it is missing.
#
# Environment: DOCKER_HOST (use that daemon), KEEP_LOGS=1 (print the container log).
set -euo pipefail

cd "$(dirname "$0")/.."
CONTAINER=groq-exporter-docker-test-$$
WORK=$(mktemp -d)
DOCKERD_PID=""
REGISTRY_PID=""
FAKE_PID=""

log() { printf '==> %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
	set +e
	if docker inspect "$CONTAINER" >/dev/null 2>&1; then
		if [ "${KEEP_LOGS:-0}" = 1 ] || [ "$rc" != 0 ]; then
			echo "--- container log"
			docker logs "$CONTAINER" 2>&1 | tail -n 30
		fi
		docker rm -f "$CONTAINER" >/dev/null
	fi
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	[ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
	if [ -n "$DOCKERD_PID" ]; then
		log "stopping the dockerd this script started"
		kill "$DOCKERD_PID" 2>/dev/null
		for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
		# dockerd leaves its network namespace mount behind.
		grep -o " $WORK/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount 2>/dev/null
	fi
	rm -rf "$WORK"
}
rc=0
trap 'rc=$?; cleanup; exit $rc' EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Tools and the Docker daemon --------------------------------------------------------
for pkg in python3 openssl curl make docker-registry; do
	command -v "$pkg" >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null ||
		die "$pkg is needed (Debian package $pkg)"
done
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		[ "$(id -u)" = 0 ] || die "no Docker daemon answers and installing docker.io needs root"
		log "installing docker.io"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
	fi
	[ "$(id -u)" = 0 ] || die "no Docker daemon answers and starting dockerd needs root"
	log "starting dockerd (state in $WORK/docker)"
	mkdir -p "$WORK/docker"
	# vfs works on any filesystem (overlay2 fails inside some containers); no iptables
	# rules and no docker0 bridge are made on the host: the test container uses
	# --network host.
	dockerd \
		--data-root="$WORK/docker/data" \
		--exec-root="$WORK/docker/exec" \
		--pidfile="$WORK/docker/dockerd.pid" \
		--host="unix://$WORK/docker/docker.sock" \
		--storage-driver=vfs \
		--iptables=false \
		--ip6tables=false \
		--bridge=none \
		>"$WORK/docker/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	export DOCKER_HOST="unix://$WORK/docker/docker.sock"
	for _ in $(seq 1 120); do
		docker info >/dev/null 2>&1 && break
		kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 30 "$WORK/docker/dockerd.log" >&2; DOCKERD_PID=""; die "dockerd exited"; }
		sleep 0.5
	done
	docker info >/dev/null 2>&1 || { tail -n 30 "$WORK/docker/dockerd.log" >&2; die "dockerd did not answer within 60s"; }
fi
log "Docker daemon $(docker version --format '{{.Server.Version}}'), storage driver $(docker info --format '{{.Driver}}')"

# `make docker` builds through BuildKit, which records each image's platform: a Docker CLI
# with the buildx plugin, or one older than 23.0, which has BuildKit built in.
DOCKER_CLI=""
for cli in $(type -ap docker); do
	if "$cli" buildx version >/dev/null 2>&1; then
		DOCKER_CLI=$cli
		break
	fi
	major=$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)
	if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -lt 23 ]; then
		DOCKER_CLI=$cli
		break
	fi
done
[ -n "$DOCKER_CLI" ] || die "no docker CLI on PATH builds with BuildKit: install the buildx plugin (docker-buildx) or docker.io"

# --- Local registry -------------------------------------------------------------------------
# Debian's docker-registry (the CNCF distribution registry) on loopback, storing in $WORK.
# dockerd talks plain HTTP to registries on 127.0.0.0/8 without being configured to.
REGISTRY=127.0.0.1:$(free_port)
mkdir -p "$WORK/registry"
printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
	"$WORK/registry/data" "$REGISTRY" >"$WORK/registry/config.yml"
docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 1 60); do
	curl -fsS -o /dev/null "http://$REGISTRY/v2/" 2>/dev/null && break
	kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$WORK/registry/log" >&2; REGISTRY_PID=""; die "docker-registry exited"; }
	sleep 0.5
done
curl -fsS -o /dev/null "http://$REGISTRY/v2/" || die "docker-registry did not answer on $REGISTRY"
log "registry on $REGISTRY ($(docker-registry --version 2>&1 | awk '{print $NF}'))"

VERSION=$(cat VERSION)

# --- The Helm chart as an OCI artifact, as a release pushes it next to the image ------------------
# helm package, helm push to oci://<registry>/charts, then helm pull (the same bytes) and
# helm template straight from oci:// (the same objects as from the checkout; a values typo
# still fails there: the schema travels with the chart). The registry speaks plain HTTP on
# loopback: --plain-http.
HELM=$(command -v helm || echo "$(go env GOPATH)/bin/helm")
[ -x "$HELM" ] || die "helm is needed: go install helm.sh/helm/v3/cmd/helm@v3.22.0"
export HELM_CONFIG_HOME="$WORK/helm/config" HELM_CACHE_HOME="$WORK/helm/cache" HELM_DATA_HOME="$WORK/helm/data"
CHART_REF="oci://$REGISTRY/charts/groq-exporter"
mkdir -p "$WORK/chart" "$WORK/chart-pulled"
"$HELM" package examples/helm/groq-exporter --destination "$WORK/chart" >/dev/null || die "helm package failed"
pushed=$("$HELM" push "$WORK/chart/groq-exporter-$VERSION.tgz" "oci://$REGISTRY/charts" --plain-http 2>&1) ||
	die "helm push: $pushed"
log "helm push: $(tr '\n' ' ' <<<"$pushed")"
"$HELM" pull "$CHART_REF" --version "$VERSION" --plain-http --destination "$WORK/chart-pulled" >/dev/null 2>&1 ||
	die "helm pull $CHART_REF --version $VERSION failed"
cmp -s "$WORK/chart/groq-exporter-$VERSION.tgz" "$WORK/chart-pulled/groq-exporter-$VERSION.tgz" ||
	die "the chart pulled from $CHART_REF differs from the one pushed"
media=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$REGISTRY/v2/charts/groq-exporter/manifests/$VERSION" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["mediaType"])')
[ "$media" = application/vnd.cncf.helm.config.v1+json ] || die "$CHART_REF:$VERSION is not a Helm chart artifact ($media)"
"$HELM" template groq "$CHART_REF" --version "$VERSION" --plain-http -n monitoring \
	--set serviceMonitor.enabled=true --set prometheusRule.enabled=true >"$WORK/chart-oci.yaml" 2>"$WORK/chart-oci.log" ||
	{ cat "$WORK/chart-oci.log" >&2; die "helm template $CHART_REF failed"; }
"$HELM" template groq examples/helm/groq-exporter -n monitoring \
	--set serviceMonitor.enabled=true --set prometheusRule.enabled=true >"$WORK/chart-local.yaml" ||
	die "helm template of the checkout's chart failed"
diff -u "$WORK/chart-local.yaml" "$WORK/chart-oci.yaml" >&2 || die "the chart from $CHART_REF renders differently from the checkout's"
typo=$("$HELM" template groq "$CHART_REF" --version "$VERSION" --plain-http --set config.builtin.famlies=x 2>&1) &&
	die "helm template $CHART_REF accepted the typo config.builtin.famlies"
grep -q "values don't meet the specifications of the schema" <<<"$typo" || die "a typo from $CHART_REF failed without the schema's error: $typo"
log "chart $CHART_REF:$VERSION: pulled back identical, renders as the checkout's, rejects a values typo"

# --- Images for amd64 and arm64, one manifest list per tag -----------------------------------
MAJOR_MINOR=$(cut -d. -f1,2 <<<"$VERSION")
REPO=$REGISTRY/groq-exporter
NAME=groq-exporter/groq_exporter
CA=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$CA" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
fi
make_docker() {
	make --no-print-directory DOCKER="$DOCKER_CLI" DOCKER_REPO="$REPO" DOCKER_ARCHS="amd64 arm64" \
		BASE=scratch DOCKER_INSECURE=1 "$@" >"$WORK/make.log" 2>&1 ||
		{ tail -n 30 "$WORK/make.log" >&2; die "make $* failed"; }
}
log "make docker: linux/amd64 and linux/arm64 on scratch ($DOCKER_CLI $("$DOCKER_CLI" version --format '{{.Client.Version}}'))"
make_docker docker
go version -m .build/linux-amd64/groq_exporter | grep -q 'CGO_ENABLED=0' || die "binary is not built with CGO_ENABLED=0"
go version -m .build/linux-arm64/groq_exporter | grep -q 'GOARCH=arm64' || die ".build/linux-arm64/groq_exporter is not built for arm64"
for arch in amd64 arm64; do
	size=$(docker image inspect -f '{{.Size}}' "$REPO/groq_exporter-linux-$arch:$VERSION")
	log "image groq_exporter-linux-$arch:$VERSION: $size bytes ($((size / 1024 / 1024)) MiB)"
done
log "make docker-push docker-manifest: tags $VERSION and $MAJOR_MINOR"
make_docker docker-push docker-manifest

# Read back from the registry's HTTP API: each tag is a manifest list of linux/amd64 and
# linux/arm64 (the same two images), and each image has the right platform, entrypoint,
# user and version in its configuration and a binary for its architecture (ELF machine).
python3 - "$REGISTRY" "$NAME" "$VERSION" "$MAJOR_MINOR" >"$WORK/arm64-digest" <<'PYTHON'
import io, json, sys, tarfile, urllib.request

registry, name, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
INDEX = "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
ELF_MACHINE = {"amd64": 62, "arm64": 183}

def get(path, accept=None):
    req = urllib.request.Request("http://%s/v2/%s/%s" % (registry, name, path))
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req) as r:
        return r.read()

def fail(msg):
    sys.exit("FAIL: " + msg)

lists = {}
for tag in tags:
    index = json.loads(get("manifests/" + tag, INDEX))
    if "manifests" not in index:
        fail("%s:%s is not a manifest list but %s" % (name, tag, index.get("mediaType")))
    lists[tag] = {"%s/%s" % (m["platform"]["os"], m["platform"]["architecture"]): m["digest"]
                  for m in index["manifests"]}
    if sorted(lists[tag]) != ["linux/amd64", "linux/arm64"]:
        fail("%s:%s lists %s, want linux/amd64 and linux/arm64" % (name, tag, sorted(lists[tag])))
if any(l != lists[tags[0]] for l in lists.values()):
    fail("the tags %s name different images: %s" % (tags, lists))

for platform, digest in sorted(lists[tags[0]].items()):
    arch = platform.split("/")[1]
    manifest = json.loads(get("manifests/" + digest, MANIFEST))
    config = json.loads(get("blobs/" + manifest["config"]["digest"]))
    c = config["config"]
    labels = c.get("Labels") or {}
    got = (config["os"], config["architecture"], c.get("Entrypoint"), c.get("User"),
           labels.get("org.opencontainers.image.version"), labels.get("org.opencontainers.image.licenses"))
    want = ("linux", arch, ["/bin/groq_exporter"], "65534:65534", tags[0], "Apache-2.0")
    if got != want:
        fail("%s image (os, architecture, entrypoint, user, version, licenses) = %s, want %s" % (platform, got, want))
    machine = None
    legal = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(get("blobs/" + layer["digest"]))) as tar:
            for member in tar.getmembers():
                if member.name.lstrip("./") == "bin/groq_exporter":
                    head = tar.extractfile(member).read(20)
                    if head[:4] != b"\x7fELF":
                        fail("%s: /bin/groq_exporter is not an ELF binary" % platform)
                    machine = int.from_bytes(head[18:20], "little")
                elif member.name.lstrip("./") in ("LICENSE", "NOTICE"):
                    legal[member.name.lstrip("./")] = tar.extractfile(member).read()
    for f in ("LICENSE", "NOTICE"):
        if legal.get(f) != open(f, "rb").read():
            fail("%s image: /%s is missing or differs from the repository's" % (platform, f))
    if machine != ELF_MACHINE[arch]:
        fail("%s: /bin/groq_exporter has ELF machine %s, want %d" % (platform, machine, ELF_MACHINE[arch]))
    print("==> registry: %s:%s %s is %s, entrypoint %s, user %s, ELF machine %d" % (
        name, "/".join(tags), platform, digest[:19], c["Entrypoint"], c["User"], machine), file=sys.stderr)
print(lists[tags[0]]["linux/arm64"])
PYTHON
ARM64_DIGEST=$(cat "$WORK/arm64-digest")

# Forget every local image, so that what runs below is what the registry gives back.
docker image ls --format '{{.Repository}}:{{.Tag}}' | grep "^$REGISTRY/" | xargs -r docker image rm -f >/dev/null
[ -z "$(docker image ls -q "$REPO/groq_exporter-linux-amd64")" ] || die "the locally built images are still there"

IMAGE=$REPO/groq_exporter:$VERSION
log "pulling $IMAGE (the manifest list) on this linux/amd64 host"
docker pull -q "$IMAGE" >/dev/null
platform=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$IMAGE")
[ "$platform" = linux/amd64 ] || die "pulling $IMAGE gave a $platform image, want linux/amd64"
log "pulling the arm64 image by digest ($ARM64_DIGEST)"
docker pull -q --platform linux/arm64 "$REPO/groq_exporter@$ARM64_DIGEST" >/dev/null
arm64=$(docker image inspect -f '{{.Os}}/{{.Architecture}} {{json .Config.Entrypoint}} {{.Config.User}}' "$REPO/groq_exporter@$ARM64_DIGEST")
[ "$arm64" = 'linux/arm64 ["/bin/groq_exporter"] 65534:65534' ] ||
	die "arm64 image: $arm64, want linux/arm64 [\"/bin/groq_exporter\"] 65534:65534"
log "arm64 image: $arm64"

# --- The pulled amd64 image -------------------------------------------------------------------
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[ "$user" = "65534:65534" ] || die "image user is '$user', want 65534:65534"
label=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")
[ "$label" = "$VERSION" ] || die "image version label is '$label', want $VERSION"
docker run --rm "$IMAGE" --version 2>&1 | grep -q "version $VERSION" ||
	die "groq_exporter --version in the image does not report $VERSION"
docker create --name "$CONTAINER" "$IMAGE" >/dev/null
docker cp "$CONTAINER:/etc/ssl/certs/ca-certificates.crt" "$WORK/image-ca.crt"
docker rm "$CONTAINER" >/dev/null
cmp -s "$WORK/image-ca.crt" "$CA" || die "the image has no copy of $CA at /etc/ssl/certs/ca-certificates.crt"

# --- Fake Groq ------------------------------------------------------------------------
# A throwaway self-signed certificate for 127.0.0.1; the container trusts it through a bundle
# of the host's CAs plus this certificate, mounted where the image keeps its bundle.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=fake-groq" \
	-addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$WORK/fake-groq.key" -out "$WORK/fake-groq.crt" 2>/dev/null
cat "$CA" "$WORK/fake-groq.crt" >"$WORK/ca-certificates.crt"
chmod 0444 "$WORK/ca-certificates.crt"
GROQ_PORT=$(free_port)
python3 - "$GROQ_PORT" "$WORK/fake-groq.crt" "$WORK/fake-groq.key" >"$WORK/fake-groq.log" 2>&1 <<'EOF' &
# Answers the Prometheus query API over HTTPS as Groq's metrics API does, with fixed series.
import json, re, ssl, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

NAMES = ["requests:rate1m", "requests:increase1m"] + [
    "%s:%s:rate5m" % (m, p)
    for m in ["e2e_latency_seconds", "ttft_latency_seconds", "queue_latency_seconds", "tokens_in", "tokens_out"]
    for p in ["p50", "p95", "p99"]]

def series():
    for n in NAMES:
        labels = {"__name__": n, "model": "llama-3.1-8b-instant"}
        if n.startswith("requests:"):
            labels["status_code"] = "200"
        yield labels

def matching(query):
    """Series whose name the query names: exactly, or through {__name__=~"..."}."""
    names = set(re.findall(r'[a-z_0-9]+:[a-z_0-9:]+', query))
    regexes = re.findall(r'__name__\s*=~\s*"([^"]*)"', query)
    return [s for s in series() if s["__name__"] in names
            or any(re.fullmatch(r, s["__name__"]) for r in regexes)]

class Handler(BaseHTTPRequestHandler):
    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        params = parse_qs(url.query)
        if self.command == "POST":
            length = int(self.headers.get("Content-Length", 0))
            params.update(parse_qs(self.rfile.read(length).decode()))
        if self.headers.get("Authorization") != "Bearer docker-test-key":
            return self.answer(401, {"status": "error", "errorType": "401", "error": "invalid API key"})
        if url.path.endswith("/api/v1/query"):
            result = [{"metric": s, "value": [time.time(), "2.5"]}
                      for s in matching(" ".join(params.get("query", [])))]
            return self.answer(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
        if url.path.endswith("/api/v1/label/__name__/values"):
            return self.answer(200, {"status": "success", "data": NAMES})
        if url.path.endswith("/api/v1/series"):
            data = [s for m in params.get("match[]", []) for s in matching(m)]
            return self.answer(200, {"status": "success", "data": data})
        self.answer(404, {"status": "error", "errorType": "404", "error": "not found"})

    do_POST = do_GET

server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
EOF
FAKE_PID=$!

# --- Run the container ----------------------------------------------------------------
PORT=$(free_port)
printf 'docker-test-key\n' >"$WORK/api-key"
chmod 0444 "$WORK/api-key" # readable by 65534 inside the container
log "running $IMAGE on 127.0.0.1:$PORT against a fake Groq on https://127.0.0.1:$GROQ_PORT"
docker run -d --name "$CONTAINER" \
	--network host \
	--read-only \
	--cap-drop ALL \
	--security-opt no-new-privileges \
	-v "$WORK/api-key:/etc/groq-exporter/api-key:ro" \
	-v "$WORK/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro" \
	"$IMAGE" \
	--groq.api-key-file=/etc/groq-exporter/api-key \
	--groq.url="https://127.0.0.1:$GROQ_PORT/v1/metrics/prometheus" \
	--web.listen-address="127.0.0.1:$PORT" >/dev/null

metrics=""
for _ in $(seq 1 120); do
	[ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || die "container exited"
	metrics=$(curl -fsS "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true)
	grep -qE '^groq_up(\{[^}]*\})? 1$' <<<"$metrics" && break
	sleep 0.5
done
grep -qE '^groq_up(\{[^}]*\})? 1$' <<<"$metrics" || die "/metrics has no 'groq_up 1'"
grep -qE '^groq_requests_rate1m\{' <<<"$metrics" || die "/metrics has no groq_requests_rate1m series"
for path in /-/healthy /-/ready; do
	curl -fsS -o /dev/null "http://127.0.0.1:$PORT$path" || die "GET $path failed"
done
log "/metrics: $(grep -E '^groq_(up|requests_rate1m)' <<<"$metrics" | tr '\n' ' ')"

# Scratch has no id or shell to docker exec; read the process's credentials from /proc.
pid=$(docker inspect -f '{{.State.Pid}}' "$CONTAINER")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
if [ "$uids" != "65534 65534 65534 65534" ] || [ "$gids" != "65534 65534 65534 65534" ]; then
	die "container process runs as uid ($uids) gid ($gids), want 65534"
fi
log "container process runs as uid/gid 65534 (image user $user)"

size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
log "image $IMAGE: $size bytes ($((size / 1024 / 1024)) MiB)"
echo "docker-test: PASS"
