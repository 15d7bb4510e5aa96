# Pécule: one command to run the portal locally, one to run the tests.
#   make run    set up and run the portal (SQLite, tasks in process, demo data)
#   make test   install what the machine lacks, set up and run the whole test suite
#               (PostgreSQL and Redis on 127.0.0.1)
#   make bench  run the benchmarks (PostgreSQL)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pecule
PORT ?= 8000

.PHONY: prerequis install run test test-dates lint bench clean

$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

oidc/node_modules/.package-lock.json: oidc/package-lock.json
	cd oidc && npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed oidc/node_modules/.package-lock.json

run: install
	PORT=$(PORT) scripts/run-local.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

prerequis:
	bash scripts/prerequis.sh

test: prerequis install lint
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

# The date-sensitive directories again under libfaketime at three instants in Paris
# (31 December 23:30, 1 January 00:30, 03:30 on the spring-forward night); CI runs it.
test-dates: prerequis install
	DATABASE_URL=$(TEST_DATABASE_URL) scripts/tests-dates.sh $(PYTEST_ARGS)

bench: install
	$(PY) bench/bench_regie.py
	$(PY) bench/bench_documents.py
	$(PY) bench/bench_notifications.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
