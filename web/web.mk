# The web app (web/): build, typed client, unit and browser tests, screenshots.
# Included by the root Makefile; every path is relative to the repository root.

WEB := web
WEB_SRC := $(shell find $(WEB)/src $(WEB)/static -type f 2>/dev/null) \
	$(WEB)/package-lock.json $(WEB)/svelte.config.js $(WEB)/vite.config.ts $(WEB)/tsconfig.json
WEB_CLIENT := $(WEB)/src/lib/api/schema.d.ts
WEB_E2E_BIN ?= $(DEBUG_BIN)
# The fake Twitch the streams tests and the screenshots run (a debug build is fine with any tapearr).
WEB_FAKES_BIN ?= target/debug/tapearr-fakes
CHROMIUM ?= /usr/bin/chromium

.PHONY: web web-deps web-client web-client-check web-check web-unit web-e2e web-test chromium screenshots

## web: build the app into web/build when its sources changed (embedded by the binary)
web: $(WEB)/build/index.html

$(WEB)/build/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SRC)
	cd $(WEB) && npx vite build --logLevel warn
	@touch $@

## web-deps: node_modules from package-lock.json (npm ci), only when the lock file changed
web-deps: $(WEB)/node_modules/.package-lock.json

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (apt-get install nodejs npm)"; exit 1; }
	@# npm ci refuses this lock on some npm/registry setups (it wants every platform's optional
	@# rollup/esbuild package listed); npm install --no-save installs from the same lock unchanged.
	cd $(WEB) && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save)
	@touch $@

## web-client: regenerate the typed API client from `tapearr openapi` (check the result in)
web-client: web-deps
	$(CARGO) build -p tapearr
	$(WEB)/scripts/gen-client.sh $(DEBUG_BIN) $(WEB_CLIENT)

## web-client-check: fail when the checked-in client differs from what the server generates
web-client-check: web-deps
	$(CARGO) build -p tapearr
	@tmp=$$(mktemp); $(WEB)/scripts/gen-client.sh $(DEBUG_BIN) $$tmp; \
	if ! diff -u $(WEB_CLIENT) $$tmp > $$tmp.diff; then \
	  head -40 $$tmp.diff; rm -f $$tmp $$tmp.diff; \
	  echo "$(WEB_CLIENT) is out of date with the API: run 'make web-client' and commit it"; exit 1; \
	fi; rm -f $$tmp $$tmp.diff; echo "web client matches the OpenAPI document"

## web-check: type-check the app (svelte-check)
web-check: web-deps
	cd $(WEB) && npx svelte-kit sync && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings

## web-unit: vitest
web-unit: web-deps
	cd $(WEB) && npx vitest run

## chromium: /usr/bin/chromium for the browser tests, installed with apt-get when missing
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

## web-e2e: Playwright (playwright-core + Chromium) against the real binary with a temporary data dir
## (the trailer tests download with the yt-dlp of `make tools`, in $(DATA_DIR)/tools)
web-e2e: web chromium
	$(CARGO) build -p tapearr -p tapearr-testkit
	cd $(WEB) && TAPEARR_BIN=$(abspath $(WEB_E2E_BIN)) TAPEARR_FAKES_BIN=$(abspath $(WEB_FAKES_BIN)) TAPEARR_TEST_TOOLS_DATA_DIR=$(DATA_DIR) CHROMIUM=$(CHROMIUM) node e2e/run.mjs

## web-test: everything above that checks the web app
web-test: web-client-check web-check web-unit web-e2e

## screenshots: every page at 390x844 and 1440x900, light and dark, into docs/screenshots/
screenshots: web chromium
	$(CARGO) build -p tapearr -p tapearr-testkit
	cd $(WEB) && TAPEARR_BIN=$(abspath $(WEB_E2E_BIN)) TAPEARR_FAKES_BIN=$(abspath $(WEB_FAKES_BIN)) TAPEARR_TEST_TOOLS_DATA_DIR=$(DATA_DIR) CHROMIUM=$(CHROMIUM) node e2e/screenshots.mjs ../docs/screenshots
