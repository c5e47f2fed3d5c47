# GridGov: `make run` sets everything up and serves the app; `make test` sets up and runs every test.
# Both are idempotent: a second run only checks that everything is in place.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRIDGOV := $(BIN)/gridgov
VENDOR_STAMP := static/vendor/.stamp

.PHONY: help setup setup-test system system-test venv assets db run test stop bench clean-db

help:
	@echo "make run    install everything, start PostGIS in var/pg, migrate, load the demo, serve the app on :8501"
	@echo "make test   the same set-up, then the whole test suite (unit, PostGIS, browser)"
	@echo "make stop   stop the local PostGIS cluster"
	@echo "make bench  run the benchmarks in bench/ (see docs/performance.md)"

system:
	@scripts/setup-system.sh

system-test:
	@scripts/setup-system.sh --test

# The venv is rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

venv: $(BIN)/.installed

# Leaflet and plugins from the npm registry, copied to static/vendor (served by the app itself).
$(VENDOR_STAMP): package.json package-lock.json scripts/vendor_assets.py
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/vendor_assets.py
	@touch $@

assets: venv $(VENDOR_STAMP)

setup: system venv assets

setup-test: system-test venv assets

# Start the local cluster (unless DATABASE_URL is set), migrate, load the demo when empty.
db: venv
	@if [ -z "$$DATABASE_URL" ]; then $(GRIDGOV) db up; fi
	$(GRIDGOV) init
	$(GRIDGOV) demo --if-empty

run: setup db
	@echo "Log in as any demo account above (README: one per role). Change a password:"
	@echo "  $(GRIDGOV) user passwd NAME --password-stdin   (type the new one, at least 10 characters, and press Enter)"
	$(GRIDGOV) app

test: setup-test db
	$(BIN)/python -m pytest -p no:cacheprovider

stop:
	@if [ -x $(GRIDGOV) ]; then $(GRIDGOV) db down; else echo "nothing to stop"; fi

bench: setup db
	$(BIN)/python bench/assign.py
	$(BIN)/python bench/import_rows.py --rows 1000000 --kinds households
	$(BIN)/python bench/map_payload.py

clean-db: stop
	rm -rf var/pg
