# Lingua: `make up` runs the mesh on this machine, `make test` runs every test.
# Both create or refresh .venv first (pinned requirements; torch==2.13.0 before anything that needs it).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
WEB := gateway/web
WEB_DEPS := $(WEB)/node_modules/.package-lock.json

.PHONY: up test test-fast proto lint bench mt-fixture venv clean web web-deps java-sdk

# requirements-build.txt too (transformers: the `lingua hub import-hf` tests convert checkpoints), resolved
# together with the rest so that it stays on the pinned torch.
$(STAMP): requirements.txt requirements-dev.txt requirements-build.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -r requirements-build.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# Apertium pairs, espeak-ng and sox (Debian): scripts/ensure_languages.sh installs what is missing when it can
# (root or passwordless sudo, apt-get); otherwise it says what is missing and the mesh starts without it.
up: $(STAMP) web
	scripts/ensure_languages.sh
	$(VENV)/bin/lingua up

# The browser tests need Debian chromium and playwright-core (npm); ensure_browser.sh installs what is missing.
# The Java SDK's test and stale-code check need the JDK, protoc, the grpc-java plugin and jars (ensure_java.sh).
# The web client's npm packages too, but not a rebuild of gateway/web/dist: a test checks that the committed
# bundle is what its sources build to, and the test run must see the committed one.
test: $(STAMP)
	scripts/ensure_languages.sh
	scripts/ensure_browser.sh
	scripts/ensure_java.sh
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(WEB_DEPS); fi
	$(PY) -m pytest -ra

# Everything but the multi-process and long-running tests.
test-fast: $(STAMP)
	$(PY) -m pytest -ra -m "not slow"

# Python stubs (generated/python), the TypeScript SDK (generated/ts; protoc-gen-es from gateway/web) and the Java
# SDK's messages and stubs (sdk/java/src/generated; Debian protoc + grpc-java plugin, installed by ensure_java.sh).
proto: $(STAMP) $(WEB_DEPS)
	scripts/ensure_java.sh
	$(VENV)/bin/buf lint
	$(VENV)/bin/buf generate

# The Java SDK (sdk/java → sdk/java/build/*.jar) with javac and jar against the Debian jars; no Gradle, no downloads.
java-sdk:
	scripts/ensure_java.sh
	sdk/java/build.sh

# The web client (gateway/web/src → gateway/web/dist, served by the gateway at /): type-check, unit tests,
# esbuild. dist/ is committed, so without node/npm this keeps it as it is; with them it needs the network only
# for the first `npm ci` (pinned by gateway/web/package-lock.json).
web:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory --silent $(WEB_DEPS) && \
		cd $(WEB) && npm run --silent typecheck && npm test --silent && node build.mjs; \
	else echo "make web: no node/npm here, keeping the committed $(WEB)/dist"; fi

web-deps: $(WEB_DEPS)

$(WEB_DEPS): $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error

lint: $(STAMP)
	$(VENV)/bin/buf lint
	$(VENV)/bin/ruff check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) bench/pipeline.py
	$(PY) bench/dispatch.py
	$(PY) bench/modules.py
	$(PY) bench/hub.py
	$(PY) bench/gateway.py
	$(PY) bench/quality.py

# Rebuild the committed phrasebook MT model (needs transformers; ~2-3 minutes on 2 cores).
mt-fixture: $(STAMP)
	$(PY) -m pip install --quiet -r requirements-build.txt
	$(PY) scripts/build_mt_fixture.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
