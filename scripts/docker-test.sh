#!/usr/bin/env bash
# Builds the groq_exporter image on an empty base (scratch) from a locally built static
# binary and checks that the container works: it reads the key from a mounted file,
# queries a fake Groq over HTTPS on loopback (trusting it through the CA bundle at the
# path the image ships one), serves groq_up 1 and Groq's series on /metrics, and runs as
# 65534:65534. Prints the image size.
#
# Needs root when no Docker daemon answers: it then installs docker.io with apt-get if
# dockerd is missing and starts a daemon of its own (vfs storage, no iptables, no bridge;
# the container uses the host's network), which it stops again at the end.
#
# Environment: IMAGE (default groq_exporter:docker-test), DOCKER_HOST (use that daemon).
set -euo pipefail

cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-groq_exporter:docker-test}
CONTAINER=groq-exporter-docker-test-$$
WORK=$(mktemp -d)
DOCKERD_PID=""
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

# --- Docker daemon ------------------------------------------------------------------
for cmd in python3 openssl curl; do
	command -v "$cmd" >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$cmd" >/dev/null ||
		die "$cmd is needed (Debian package $cmd)"
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

# --- Binary and image ---------------------------------------------------------------
VERSION=$(cat VERSION 2>/dev/null || git describe --tags --always 2>/dev/null || echo 0.0.0)
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=$VERSION -X $pkg.Revision=$REVISION -X $pkg.Branch=$BRANCH"
ldflags+=" -X $pkg.BuildUser=$(id -un)@$(hostname) -X $pkg.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"
log "building .build/groq_exporter $VERSION (CGO_ENABLED=0)"
mkdir -p .build
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o .build/groq_exporter .
go version -m .build/groq_exporter | grep -q 'CGO_ENABLED=0' || die "binary is not built with CGO_ENABLED=0"

CA=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$CA" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
fi
cp "$CA" .build/ca-certificates.crt

log "building image $IMAGE on scratch"
docker build --quiet \
	--build-arg BASE=scratch \
	--build-arg VERSION="$VERSION" \
	--build-arg REVISION="$REVISION" \
	-t "$IMAGE" . >/dev/null

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
