# Pécule: one command to run the portal locally, one to run the tests.
#   make run    set up and run the portal (SQLite, tasks in process, demo data)
#   make test   install what the machine lacks, set up and run the whole test suite
#               (PostgreSQL and Redis on 127.0.0.1)
#   make bench  run the benchmarks, each beside its reference (PostgreSQL, Redis)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pecule
PORT ?= 8000

.PHONY: prerequis install run test test-dates lint bench clean lock docker

# Development and test dependencies (a superset of production's), locked with hashes.
$(VENV)/.installed: requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
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

# Regenerate the locks from pyproject.toml: production (the image), development (the venv,
# pinned to production's versions) and the demo stand-ins' image.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --quiet --no-header --generate-hashes \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28
lock: install
	$(UV_COMPILE) -o requirements/prod.txt
	$(UV_COMPILE) --extra dev -c requirements/prod.txt -o requirements/dev.txt
	$(UV_COMPILE) --extra bouchons -c requirements/prod.txt -o requirements/bouchons.txt

# The production stack built and exercised as CI does (docs/exploitation.md).
docker:
	bash scripts/ci-docker.sh

# Each benchmark prints its reference beside it (pgbench, a reference view on the same
# gunicorn, a plain WeasyPrint table) and the ratio; bench/README.md has the figures.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pecule_bench
bench: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/bench_regie.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/bench_documents.py
	DATABASE_URL=$(BENCH_DATABASE_URL)_notifications $(PY) bench/bench_notifications.py
	DATABASE_URL=$(BENCH_DATABASE_URL)_notifications $(PY) bench/bench_notifications.py \
		--requetes 0 --notifications 1200 --debit 20
	DATABASE_URL=$(BENCH_DATABASE_URL)_notifications $(PY) bench/bench_notifications.py \
		--requetes 0 --latence-ms 150
	DATABASE_URL=$(BENCH_DATABASE_URL)_historique $(PY) bench/bench_historique.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
