# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install migrate seed lint format worker bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 est requis ($(PYTHON) introuvable)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: set up everything and serve the app on http://127.0.0.1:8000 (SQLite, eager Celery).
run: seed
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:8000

## make test: the whole test suite (browser tests run when /usr/bin/chromium exists).
test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make worker: a real Celery worker (needs CELERY_BROKER_URL).
worker: install
	$(VENV)/bin/celery -A cqpm worker --loglevel=info --concurrency=2

## make bench: benchmarks against PostgreSQL (see README "Performance").
bench: install
	bash bench/run.sh

clean:
	rm -rf $(VENV) var .pytest_cache test-artifacts
