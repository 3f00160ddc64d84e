# Two commands for a new user: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export DEBUG ?= 1

.PHONY: run tokens test lint format install install-dev migrate worker bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

## make run: install, migrate, load demo data, print logins and a token, serve on 127.0.0.1:$(PORT)
## with the background worker beside the web server.
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: migrate
	@PORT=$(PORT) $(PY) manage.py seed_demo
	@echo "  API token (demo, admin):  $$($(PY) manage.py create_api_token demo --name make-run)"
	@$(PY) manage.py demo_tokens 2>/dev/null || true
	@echo "  API docs:  http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Try:       curl -H 'Authorization: Bearer <token>' http://127.0.0.1:$(PORT)/api/v1/order"
	@$(PY) manage.py db_worker --queue-name '*' & WORKER=$$!; \
	  trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)

## make tokens: fresh API tokens for the demo admin and each demo installer, any time after
## `make run` (loads the demo data first if it is missing; idempotent).
tokens: migrate
	@$(PY) manage.py seed_demo --quiet
	@echo "  API token (demo, admin):  $$($(PY) manage.py create_api_token demo --name make-tokens)"
	@$(PY) manage.py demo_tokens --name make-tokens

worker: install
	$(PY) manage.py db_worker --queue-name '*'

## make test: the whole suite (SQLite by default; DATABASE_URL=postgres://... for PostgreSQL).
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

## make lint: what CI checks besides the tests (ruff, ruff format, mypy, djLint).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/djlint --lint templates

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: seeds a PostgreSQL database, serves it with gunicorn, drives it with wrk and writes
## bench/results/<orders>.md (bench/README.md). make bench BENCH_ARGS="--orders 1000000"
bench: install-dev
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache
