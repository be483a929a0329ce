# Linli — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi.py
HOST ?= 127.0.0.1
PORT ?= 5000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Test processes (pytest-xdist): one per core; WORKERS=0 runs the suite in one process.
WORKERS ?= auto

.PHONY: run test e2e test-pg lint setup setup-dev translations messages db demo bench bench-http clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -qq -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -qq -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime translations
setup-dev: $(VENV)/.dev translations

## Compile the catalogues (.po -> .mo).
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d translations >/dev/null

## Re-extract strings and update both catalogues after changing user-facing text.
messages: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy --no-location --sort-output \
	  -w 100 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -w 100 --no-fuzzy-matching --ignore-obsolete

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo --if-empty

## Set everything up (venv, translations, migrations, demo data) and serve the portal.
run: demo
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/flask demo links
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## The whole suite on SQLite (browser tests too where Chromium is installed).
test: setup-dev
	$(BIN)/pytest -q -n $(WORKERS) $(PYTEST_ARGS)

## Only the browser tests (Playwright driving Debian's chromium, phone-sized).
e2e: setup-dev
	$(BIN)/pytest -q -n $(WORKERS) tests/e2e $(PYTEST_ARGS)

## The suite against PostgreSQL (browser tests excluded: they run on SQLite).
test-pg: setup-dev
	TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -n $(WORKERS) --ignore=tests/e2e $(PYTEST_ARGS)

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## Figures for page weight and server time, and for votes at scale (DATABASE_URL=… for PostgreSQL).
bench: setup-dev
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/decisions.py
	$(BIN)/python bench/dues.py

## Pages under load (gunicorn, wrk) beside a bare Flask hello; needs `apt-get install wrk`.
bench-http: setup-dev
	$(BIN)/python bench/http.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
