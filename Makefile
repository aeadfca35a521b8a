# Beffroi: `make run` serves the demo, `make test` runs every test.
# Both do all of their own set-up on a fresh Debian machine with Python 3.11.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export BEFFROI_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint typecheck pytest pytest-sqlite pytest-postgres e2e system-deps messages clean

run: $(VENV)/.installed node_modules/.installed
	BEFFROI_DEBUG=1 $(BIN)/beffroi demo --host $(HOST) --port $(PORT)

test: system-deps $(VENV)/.installed-test node_modules/.installed lint typecheck pytest

# --- set-up -----------------------------------------------------------------
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Chromium (browser tests), PostgreSQL (second database run), fonts and
# Pango (PDF reports). Installed with apt when missing and we are root.
SYSTEM_PACKAGES := chromium chromium-driver postgresql libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

# --- checks -----------------------------------------------------------------
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: pytest-sqlite pytest-postgres

# Every test, on the embedded SQLite database.
pytest-sqlite: $(VENV)/.installed-test node_modules/.installed
	$(BIN)/pytest; rc=$$?; [ $$rc = 5 ] && echo "pytest: no tests collected" && rc=0; exit $$rc

# Every test that touches the database, again on a throwaway PostgreSQL cluster.
pytest-postgres: $(VENV)/.installed-test node_modules/.installed
	scripts/with-postgres.sh $(BIN)/pytest -m usesdb -p no:cacheprovider; \
	  rc=$$?; [ $$rc = 5 ] && echo "pytest: no database tests collected" && rc=0; exit $$rc

e2e: $(VENV)/.installed-test node_modules/.installed
	$(BIN)/pytest tests/e2e

# Regenerate the English catalogue after changing French UI strings (needs gettext).
messages: $(VENV)/.installed-test
	cd src/beffroi && DJANGO_SETTINGS_MODULE=beffroi.settings ../../$(BIN)/django-admin makemessages -l en -l fr
	$(BIN)/pip install --quiet polib && $(BIN)/python scripts/fill_translations.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
