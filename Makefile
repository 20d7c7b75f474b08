# Rasid — `make demo` sets everything up and serves the demo; `make test` sets everything up and runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export RASID_DATA_DIR ?= $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8000
PARTNER_DIR ?= $(CURDIR)/var-partner
PARTNER_PORT ?= 8001

.PHONY: setup demo demo-partner serve test lint typecheck format bench clean i18n

setup: $(VENV)/.stamp-deps src/rasid/web/static/vendor/.stamp

$(VENV)/.stamp-deps: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

src/rasid/web/static/vendor/.stamp: node_modules/.stamp scripts/copy_assets.py
	$(BIN)/python scripts/copy_assets.py
	touch $@

# The demo also serves simulated AIS traffic on 127.0.0.1:10110 and runs the feed runner, so
# the live map moves; both stop with the server.
demo: setup
	$(BIN)/rasid db upgrade
	$(BIN)/rasid demo
	@echo "Serving Rasid on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/rasid maritime demo-feed --port 10110 & feed=$$!; \
	$(BIN)/rasid maritime feeds run --as watch & runner=$$!; \
	trap 'kill $$feed $$runner 2>/dev/null' EXIT INT TERM; \
	$(BIN)/rasid serve --host $(HOST) --port $(PORT)

# The partner embassy's own server on PARTNER_PORT, with a peer definition for the ministry's
# demo server (run `make demo` first, in another terminal): it pulls what the ministry released
# to the partner embassy and pushes back what the embassy releases to the ministry.
demo-partner: setup
	$(BIN)/rasid db upgrade
	$(BIN)/rasid demo
	RASID_DATA_DIR=$(PARTNER_DIR) $(BIN)/rasid db upgrade
	RASID_DATA_DIR=$(PARTNER_DIR) $(BIN)/rasid demo --partner
	RASID_DATA_DIR=$(PARTNER_DIR) $(BIN)/rasid sync peer list --json | grep -q '"ministry"' || \
	  $(BIN)/rasid tokens create --user partner --name "partner server sync" | \
	  RASID_DATA_DIR=$(PARTNER_DIR) $(BIN)/rasid sync peer add ministry \
	    http://$(HOST):$(PORT)/taxii2/rasid/ --collection released-to-partner-embassy \
	    --username partner --org moi-ct --receiving-org partner-embassy \
	    --push-collection to-moi-ct --every 5 --token-stdin
	-RASID_DATA_DIR=$(PARTNER_DIR) $(BIN)/rasid sync pull ministry
	@echo "Serving the partner's server on http://$(HOST):$(PARTNER_PORT)/ (Ctrl+C to stop)"
	RASID_DATA_DIR=$(PARTNER_DIR) $(BIN)/rasid serve --host $(HOST) --port $(PARTNER_PORT)

serve: setup
	$(BIN)/rasid db upgrade
	$(BIN)/rasid serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: setup
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

test: setup lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: setup
	$(BIN)/python bench/api_rps.py

i18n: setup
	PYBABEL=$(BIN)/pybabel sh scripts/i18n_extract.sh

clean:
	rm -rf $(VENV) node_modules src/rasid/web/static/vendor .pytest_cache .mypy_cache .ruff_cache
