# groq_exporter: `make run` starts it (against the local sandbox without
# $GROQ_API_KEY), `make test` runs every test. See README.md.

GO       ?= go
VERSION  ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG     := github.com/prometheus/common/version
LDFLAGS  := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) \
            -X $(VPKG).BuildUser=$(shell id -un)@$(shell hostname) -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: build run test deps sandbox docker

# A static binary with version information.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o groq_exporter .

# The container image, from a locally built static binary and the host's CA
# bundle (see Dockerfile). BASE=scratch builds without pulling a base image.
docker:
	mkdir -p .build
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o .build/groq_exporter .
	cp /etc/ssl/certs/ca-certificates.crt .build/
	docker build $(if $(BASE),--build-arg BASE=$(BASE)) --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		-t groq_exporter:$(VERSION) .

# Runs the exporter against Groq when $$GROQ_API_KEY is set, else against the
# local sandbox (VictoriaMetrics with synthetic Groq traffic).
run:
	@if [ -n "$$GROQ_API_KEY" ]; then $(MAKE) --no-print-directory build && ./groq_exporter $(ARGS); \
	else $(MAKE) --no-print-directory sandbox SANDBOX_ARGS='$(ARGS)'; fi

# Installs what the tests need (Debian packages, helm), then runs every test.
test: deps
	$(GO) test -race -count=1 -tags integration ./...
	cd examples && $(GO) test -count=1 ./...
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
	./.build/groq-sandbox -exporter ./groq_exporter -- $(SANDBOX_ARGS)

# Measures what the exporter costs and prints the table of docs/benchmarks.md:
# calls to Groq, a scrape from cache and a refresh against their floors, and
# the resident memory of the built binary with 10,000 series and with a 1 GiB
# body. BENCH_ARGS=-count=10 for steadier medians.
.PHONY: bench fuzz
bench: build
	$(GO) run ./cmd/bench -exporter ./groq_exporter $(BENCH_ARGS)

# Runs every fuzz target for FUZZTIME (default 1m) each; `go test` alone runs
# only the seed corpus in testdata/fuzz.
fuzz:
	scripts/fuzz.sh
