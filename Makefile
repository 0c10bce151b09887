# groq_exporter: `make run` starts it (against the local sandbox without
# $GROQ_API_KEY), `make test` runs every test. See README.md.

GO       ?= go
VERSION  ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG     := github.com/prometheus/common/version
LDFLAGS  := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) \
            -X $(VPKG).BuildUser=$(shell id -un)@$(shell hostname) -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: build run test deps

# A static binary with version information.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o groq_exporter .

# Runs the exporter against Groq when $$GROQ_API_KEY is set, else against the
# local sandbox (VictoriaMetrics with synthetic Groq traffic).
run: build
	@if [ -n "$$GROQ_API_KEY" ]; then ./groq_exporter $(ARGS); else $(MAKE) --no-print-directory sandbox; fi

# Installs what the tests need (Debian packages, helm), then runs every test.
test: deps
	$(GO) test -race -count=1 ./...
	cd examples && $(GO) test -count=1 ./...
	scripts/docker-test.sh

deps:
	scripts/install-deps.sh
