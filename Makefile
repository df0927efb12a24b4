# Two commands matter: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin))

.PHONY: install run test test-sqlite system-deps translations compile-translations static lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

install: $(STAMP) compile-translations static

compile-translations: $(STAMP)
	$(BIN)/python -m portal.core.catalogs compile

static: $(STAMP)
	$(BIN)/python -m portal.web.static_build

run: install
	$(BIN)/portal db upgrade
	$(BIN)/portal tenants load
	$(BIN)/portal demo
	REPORTAL_ENV=development BACKGROUND_SENDER=1 $(BIN)/portal serve --host 127.0.0.1 --port 8000

# Chromium drives the browser tests (with Noto fonts, so Chinese, Korean, Arabic and the
# overdue clock emoji render in screenshots); PostgreSQL runs the suite a second time (with
# PostGIS, a streaming replica and Redis started by the tests themselves).
SYSTEM_PACKAGES := chromium postgresql postgresql-15-postgis-3 redis-server fonts-noto-cjk fonts-noto-core \
	fonts-noto-color-emoji
system-deps:
	@if dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 && [ -n "$(PG_BIN)" ] && [ -x "$(PG_BIN)/initdb" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
	   (apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null)); \
	else echo "Please install Debian packages first: sudo apt-get install -y $(SYSTEM_PACKAGES)"; exit 1; fi

test: install system-deps node_modules/axe-core/axe.min.js
	$(BIN)/ruff check portal widgets tests bench
	$(BIN)/python -m tests.run_suites

test-sqlite: install
	$(BIN)/python -m pytest

translations: $(STAMP)
	$(BIN)/python -m portal.core.catalogs update
	$(BIN)/python -m portal.core.catalogs compile

bench: install
	$(BIN)/python bench/widget_weight.py

clean:
	rm -rf $(VENV) static/build var node_modules
