# Launchdeck: `make run` serves the app with demo data; `make test` runs every check and test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/launchdeck/core/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000
export LAUNCHDECK_DATA_DIR ?= $(CURDIR)/var
LAUNCHDECK_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export LAUNCHDECK_TEST_DATABASE_URL
# The suite runs in parallel processes (pytest-xdist), one per core up to four; PYTEST_WORKERS= runs it in one.
# Whole files go to one process each, so a module that loads a demo preset once for its tests loads it once per leg.
PYTEST_WORKERS ?= --numprocesses=auto --maxprocesses=4 --dist=loadfile

.PHONY: run test lint test-sqlite test-postgres assets install install-test chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: $(BIN)/python pyproject.toml requirements/lock.txt
	$(BIN)/pip install --quiet -c requirements/lock.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -c requirements/lock.txt -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR)/.copied: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons $(VENDOR)/htmx $(VENDOR)/echarts $(VENDOR)/vis-timeline
	cp node_modules/bootstrap/dist/css/bootstrap.min.css{,.map} node_modules/bootstrap/dist/js/bootstrap.bundle.min.js{,.map} $(VENDOR)/bootstrap/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts $(VENDOR)/bootstrap-icons/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/vis-timeline/standalone/umd/vis-timeline-graph2d.min.js{,.map} node_modules/vis-timeline/styles/vis-timeline-graph2d.min.css{,.map} $(VENDOR)/vis-timeline/
	touch $@

install: $(VENV)/.installed-run assets
install-test: $(VENV)/.installed-test assets chromium
assets: $(VENDOR)/.copied

$(LAUNCHDECK_DATA_DIR)/secret_key:
	mkdir -p $(LAUNCHDECK_DATA_DIR)
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

run: install $(LAUNCHDECK_DATA_DIR)/secret_key
	@export LAUNCHDECK_SECRET_KEY_FILE=$(LAUNCHDECK_DATA_DIR)/secret_key; \
	$(BIN)/launchdeck collectstatic --noinput -v0 && \
	$(BIN)/launchdeck migrate --noinput -v0 && \
	$(BIN)/launchdeck demo --preset demo --if-empty && \
	echo "" && \
	echo "  Launchdeck: http://$(HOST):$(PORT)/" && \
	echo "  Demo logins (password launchdeck-demo): admin, portfolio_manager, release_manager," && \
	echo "    environment_manager, quality_manager, service_manager, project_manager, viewer" && \
	echo "" && \
	exec $(BIN)/launchdeck serve --host $(HOST) --port $(PORT)

chromium:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	LAUNCHDECK_DEBUG=1 LAUNCHDECK_DATABASE_URL=sqlite:///:memory: $(BIN)/launchdeck makemigrations --check --dry-run

test-sqlite: install-test
	LAUNCHDECK_DATABASE_URL=sqlite:///:memory: $(BIN)/pytest -q $(PYTEST_WORKERS)

test-postgres: install-test
	@if $(BIN)/python -m launchdeck.core.dbcheck "$(LAUNCHDECK_TEST_DATABASE_URL)"; then \
	  echo "== PostgreSQL leg: $(LAUNCHDECK_TEST_DATABASE_URL)"; \
	  LAUNCHDECK_DATABASE_URL="$(LAUNCHDECK_TEST_DATABASE_URL)" $(BIN)/pytest -q $(PYTEST_WORKERS); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "!! PostgreSQL is not reachable at $(LAUNCHDECK_TEST_DATABASE_URL) and CI=true: failing." >&2; exit 1; \
	else \
	  echo ""; echo "!! PostgreSQL LEG SKIPPED: no PostgreSQL reachable at $(LAUNCHDECK_TEST_DATABASE_URL) (set LAUNCHDECK_TEST_DATABASE_URL)."; echo ""; \
	fi

test: install-test lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) node_modules $(VENDOR) build *.egg-info
