#!/usr/bin/env bash
# Runs every fuzz target for a while (default 1m each; FUZZTIME=10m for longer)
# and stops at the first failure. Plain `go test` runs only the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-1m}"
parallel="${FUZZPARALLEL:-$(nproc)}"
for pkg in ./groq ./collector; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "== $pkg $target for $fuzztime"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg"
	done
done
