# Tapearr: `make run` sets up and serves; `make test` sets up and runs every test.
# Works on a fresh Debian machine as root (installs missing system packages with apt-get).

SHELL := /bin/bash
CARGO ?= cargo
DATA_DIR ?= $(CURDIR)/data
RELEASE_BIN := target/release/tapearr
DEBUG_BIN := target/debug/tapearr
APT_PACKAGES := ffmpeg python3 python3-venv python3-pip pkg-config

export TAPEARR_STREAMLINK ?= $(DATA_DIR)/tools/venv/bin/streamlink

.PHONY: run build test deps tools lint fmt fmt-check bench bench-startup clean-data fuzz-api fuzz fuzz-smoke

## run: install what is missing, build the web app (when changed) and the release binary, and serve on 127.0.0.1:7070
run: deps web build
	$(RELEASE_BIN) --data-dir $(DATA_DIR) tools install
	$(RELEASE_BIN) --data-dir $(DATA_DIR) serve

build:
	$(CARGO) build --release -p tapearr

## deps: system packages (ffmpeg, python3-venv) and cargo-nextest, installed only when missing
deps:
	@missing=""; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv python3-pip"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v cargo-nextest >/dev/null || $(CARGO) install --locked cargo-nextest

## tools: the tools virtualenv (yt-dlp, streamlink, apprise) in $(DATA_DIR)/tools/venv
tools: deps
	$(CARGO) build -p tapearr
	$(DEBUG_BIN) --data-dir $(DATA_DIR) tools install

## test: format and lint checks, the web app's checks (client drift, types, vitest, Chromium e2e),
## every Rust test (PostgreSQL too when TAPEARR_TEST_PG_URL is set), the fuzz targets' stable
## smoke run and a short API fuzz run (no 5xx)
test: deps tools fmt-check lint web-test
	TAPEARR_TEST_TOOLS_DATA_DIR=$(DATA_DIR) $(CARGO) nextest run --workspace --no-fail-fast
	$(MAKE) fuzz-smoke
	FUZZ_API_SECONDS=$(FUZZ_API_TEST_SECONDS) $(MAKE) fuzz-api

## fuzz-api: schemathesis (PyPI, into $(DATA_DIR)/fuzz-tools) over /api/v1/openapi.json against a
## fresh debug server; fails on any 5xx. FUZZ_API_SECONDS bounds it (default 100), FUZZ_API_SEED picks the run
FUZZ_API_TEST_SECONDS ?= 75
fuzz-api: deps
	$(CARGO) build -p tapearr
	FUZZ_API_TOOLS=$(DATA_DIR)/fuzz-tools bench/fuzz-api.sh $(DEBUG_BIN)

## fuzz-smoke: the fuzz targets' bodies over their seeds and many mutations, on stable (no cargo-fuzz)
fuzz-smoke:
	cd fuzz && CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) test --no-default-features --test smoke

## fuzz: cargo-fuzz (nightly) on every target for FUZZ_SECONDS each (default 30); installs cargo-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := playlist naming path_mapping eventsub
fuzz: fuzz-smoke
	@rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$t; \
	  cargo +nightly fuzz run $$t corpus/$$t $$( [ $$t = playlist ] && echo seeds ) -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## bench: every benchmark (B6 start-up and API load, B1 recordings, B2 detection, B3 finalize, B4+B5 trailer sync and scan, B8 VOD download); each writes its section of docs/benchmarks.md
bench: bench-startup bench-api bench-record bench-detect bench-finalize bench-sync bench-vod

## bench-startup: idle RSS of `serve` and its time to /readyz (B6)
bench-startup: build
	bench/startup.sh $(RELEASE_BIN)

clean-data:
	rm -rf $(DATA_DIR)

-include bench/*.mk
-include web/web.mk

.PHONY: release package-test

## release: an archive per target in dist/ (binary with the web app, README, LICENSE, guides,
## systemd unit, example config); RELEASE_TARGETS=aarch64-unknown-linux-gnu needs that target
## installed with its C linker
RELEASE_TARGETS ?= $(shell rustc -vV | sed -n 's/^host: //p')
RELEASE_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
release: web
	packaging/release.sh $(RELEASE_VERSION) $(RELEASE_TARGETS)

## package-test: the container image's set-up and start scripts in a Debian root filesystem
## (debootstrap, unshare, chroot; as root, cached in TAPEARR_ROOTFS_CACHE); skips, saying why,
## where that cannot run. See docs/install.md
package-test: build
	packaging/test-rootfs.sh $(RELEASE_BIN)
