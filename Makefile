# groq_exporter: `make run` starts it (against the local sandbox without
# $GROQ_API_KEY), `make test` runs every test. See README.md.

GO       ?= go
VERSION  ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG     := github.com/prometheus/common/version
LDFLAGS  := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) \
            -X $(VPKG).BuildUser=$(shell id -un)@$(shell hostname) -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: build run test deps sandbox crossbuild tarballs

# A static binary with version information.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o groq_exporter .

# Release builds, laid out as promu lays them out: .build/<os>-<arch>/groq_exporter.
# PLATFORMS picks a subset, e.g. make crossbuild PLATFORMS="linux/amd64 linux/arm64".
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
crossbuild:
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		echo ">> building .build/$$os-$$arch/groq_exporter$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
			-o .build/$$os-$$arch/groq_exporter$$ext .; \
	done

# One groq_exporter-<version>.<os>-<arch>.tar.gz per platform (a directory with the
# binary, LICENSE, NOTICE and README.md, as Prometheus releases are packed) and their
# sha256sums.txt.
TARBALLS_DIR ?= .tarballs
tarballs: crossbuild
	@set -e; rm -rf $(TARBALLS_DIR); mkdir -p $(TARBALLS_DIR); \
	for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		name=groq_exporter-$(VERSION).$$os-$$arch; \
		mkdir -p $(TARBALLS_DIR)/$$name; \
		cp .build/$$os-$$arch/groq_exporter$$ext LICENSE NOTICE README.md $(TARBALLS_DIR)/$$name/; \
		tar -C $(TARBALLS_DIR) --owner=0 --group=0 --sort=name -czf $(TARBALLS_DIR)/$$name.tar.gz $$name; \
		rm -r $(TARBALLS_DIR)/$$name; \
		echo ">> $(TARBALLS_DIR)/$$name.tar.gz"; \
	done; \
	cd $(TARBALLS_DIR) && sha256sum *.tar.gz > sha256sums.txt

# Container images, one per architecture, each from the binary crossbuild made for it
# (node_exporter's pattern: the Dockerfile copies .build/$${OS}-$${ARCH}/groq_exporter).
# Each is tagged <version> and <major>.<minor>. BuildKit sets the image's platform; the
# Dockerfile only copies files, so an arm64 image builds on amd64 without emulation.
# BASE=scratch builds without pulling a base image.
#   make docker                         $(DOCKER_REPO)/groq_exporter-linux-<arch>:<tag>
#   make docker-push docker-manifest    push them, then one multi-architecture manifest
#                                       list $(DOCKER_REPO)/groq_exporter:<tag> over them
DOCKER           ?= docker
DOCKER_REPO      ?= ghcr.io/groq-exporter
DOCKER_ARCHS     ?= amd64 arm64
DOCKER_IMAGE     := $(DOCKER_REPO)/groq_exporter
MAJOR_MINOR      := $(word 1,$(subst ., ,$(VERSION))).$(word 2,$(subst ., ,$(VERSION)))
DOCKER_TAGS      := $(VERSION) $(MAJOR_MINOR)
DOCKER_INSECURE  ?=
DOCKER_BUILD_ARCHS := $(addprefix docker-build-,$(DOCKER_ARCHS))
DOCKER_PUSH_ARCHS  := $(addprefix docker-push-,$(DOCKER_ARCHS))
.PHONY: docker docker-push docker-manifest $(DOCKER_BUILD_ARCHS) $(DOCKER_PUSH_ARCHS)

docker: $(DOCKER_BUILD_ARCHS)

$(DOCKER_BUILD_ARCHS): docker-build-%:
	$(MAKE) --no-print-directory crossbuild PLATFORMS=linux/$*
	cp /etc/ssl/certs/ca-certificates.crt .build/
	DOCKER_BUILDKIT=1 $(DOCKER) build --platform linux/$* \
		--build-arg ARCH=$* --build-arg OS=linux $(if $(BASE),--build-arg BASE=$(BASE)) \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		$(foreach tag,$(DOCKER_TAGS),-t $(DOCKER_IMAGE)-linux-$*:$(tag)) .

docker-push: $(DOCKER_PUSH_ARCHS)

$(DOCKER_PUSH_ARCHS): docker-push-%:
	$(foreach tag,$(DOCKER_TAGS),$(DOCKER) push $(DOCKER_IMAGE)-linux-$*:$(tag) &&) true

# DOCKER_INSECURE=1 talks plain HTTP to the registry (a local test registry only).
docker-manifest:
	$(foreach tag,$(DOCKER_TAGS),\
		$(DOCKER) manifest create --amend $(if $(DOCKER_INSECURE),--insecure) $(DOCKER_IMAGE):$(tag) \
			$(foreach arch,$(DOCKER_ARCHS),$(DOCKER_IMAGE)-linux-$(arch):$(tag)) && \
		$(DOCKER) manifest push --purge $(if $(DOCKER_INSECURE),--insecure) $(DOCKER_IMAGE):$(tag) &&) true

# Runs the exporter against Groq when $$GROQ_API_KEY is set, else against the
# local sandbox (VictoriaMetrics with synthetic Groq traffic).
# PORT moves the exporter off 10199 in both modes: make run PORT=10299.
PORT ?=
run:
	@if [ -n "$$GROQ_API_KEY" ]; then $(MAKE) --no-print-directory build && ./groq_exporter $(if $(PORT),--web.listen-address=:$(PORT)) $(ARGS); \
	else $(MAKE) --no-print-directory sandbox SANDBOX_ARGS='$(ARGS)'; fi

# Installs what the tests need (Debian packages, helm), then runs every test:
# the hermetic ones (plain `go test ./...`, Go only) and those built with the
# integration tag, which start VictoriaMetrics, Prometheus, promtool, Chromium
# and helm; then the Docker image test.
test: deps
	$(GO) test -race -count=1 -tags integration ./...
	cd examples && $(GO) test -count=1 -tags integration ./...
	scripts/docker-test.sh

deps:
	scripts/install-deps.sh

# Runs the exporter against a local Groq stand-in: VictoriaMetrics with synthetic
# traffic behind a gateway that speaks Groq's API (cmd/groq-sandbox). Installs
# victoria-metrics first if it is missing (as root; otherwise says how).
# Depends on build so that `make run` keeps the binary with version information.
# Extra exporter flags: make sandbox SANDBOX_ARGS=--log.level=debug (make run
# passes its ARGS on as SANDBOX_ARGS).
sandbox: build
	@if [ ! -x /usr/bin/victoria-metrics ] && ! command -v victoria-metrics >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update && apt-get install -y victoria-metrics; \
		else \
			echo "victoria-metrics is missing; install it with: sudo apt-get install -y victoria-metrics" >&2; \
			exit 1; \
		fi; \
	fi
	$(GO) build -o .build/groq-sandbox ./cmd/groq-sandbox
	./.build/groq-sandbox -exporter ./groq_exporter $(if $(PORT),-exporter.listen-address=127.0.0.1:$(PORT)) -- $(SANDBOX_ARGS)

# Measures what the exporter costs and prints the table of docs/benchmarks.md:
# at 69, 2,300 and 23,000 series, the built binary against a static handler
# serving the same bytes (CPU and latency of a scrape from cache, p99 with a
# slow Groq), its peak memory under concurrent scrapes and with a hostile
# 1 GiB body, a refresh against decoding only, and one exporter of many
# organizations (200 and 40). About a quarter of an hour on 2 cores.
# BENCH_ARGS="-rounds 9 -count 10" for steadier medians.
.PHONY: bench fuzz
bench: build
	$(GO) run ./cmd/bench -exporter ./groq_exporter $(BENCH_ARGS)

# Runs every fuzz target for FUZZTIME (default 1m) each; `go test` alone runs
# only the seed corpus in testdata/fuzz.
fuzz:
	scripts/fuzz.sh
