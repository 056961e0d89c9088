# Lingua: `make up` runs the mesh on this machine, `make test` runs every test.
# Both create or refresh .venv first (pinned requirements; torch==2.13.0 before anything that needs it).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: up test test-fast proto lint bench mt-fixture venv clean

# requirements-build.txt too (transformers: the `lingua hub import-hf` tests convert checkpoints), resolved
# together with the rest so that it stays on the pinned torch.
$(STAMP): requirements.txt requirements-dev.txt requirements-build.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -r requirements-build.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

up: $(STAMP)
	$(VENV)/bin/lingua up

# The browser tests need Debian chromium and playwright-core (npm); ensure_browser.sh installs what is missing.
test: $(STAMP)
	scripts/ensure_browser.sh
	$(PY) -m pytest -ra

# Everything but the multi-process and long-running tests.
test-fast: $(STAMP)
	$(PY) -m pytest -ra -m "not slow"

proto: $(STAMP)
	$(VENV)/bin/buf lint
	$(VENV)/bin/buf generate

lint: $(STAMP)
	$(VENV)/bin/buf lint
	$(VENV)/bin/ruff check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) bench/pipeline.py
	$(PY) bench/dispatch.py
	$(PY) bench/modules.py
	$(PY) bench/hub.py

# Rebuild the committed phrasebook MT model (needs transformers; ~2-3 minutes on 2 cores).
mt-fixture: $(STAMP)
	$(PY) -m pip install --quiet -r requirements-build.txt
	$(PY) scripts/build_mt_fixture.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
