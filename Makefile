# The project's entry points. `make up` runs the platform, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# The suite imports ~400 modules in pytest and again in every service process it starts;
# compiled once into __pycache__ (git-ignored) instead of on every run (collection alone
# takes 4 s instead of 12 s here).
unexport PYTHONDONTWRITEBYTECODE

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/uv/bin/uv)
PY := .venv/bin/python
PG ?= 0

.PHONY: help install assets browser lint test test-unit test-db test-integration up down mail \
	outbox bench bench-quick eval-triage schemas kafka-jars clean audit-verify

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

.tools/uv/bin/uv:
	@echo "installing uv $(UV_VERSION) from PyPI into .tools/uv"
	@python3 -m pip install --quiet --disable-pip-version-check --target .tools/uv "uv==$(UV_VERSION)"

.venv/.synced: uv.lock pyproject.toml $(wildcard */*/pyproject.toml) | $(if $(filter .tools/uv/bin/uv,$(UV)),.tools/uv/bin/uv)
	$(UV) sync --frozen --all-packages --all-groups
	@touch $@

install: .venv/.synced ## Create .venv with every package (uv, locked)

assets: install ## The console's browser libraries (htmx) from npm's lock file into its package
	$(PY) -m console.assets

browser: ## Debian's chromium and CJK fonts for the console's browser tests (apt, when missing and root)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium and fonts-noto-cjk with apt (first run only)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }; \
	else echo "chromium not found: apt-get install chromium fonts-noto-cjk (browser tests skip without it)"; fi

kafka-jars: install ## Fetch the Kafka jars with Maven into .cache/ (first run only)
	$(PY) -m complaint_devinfra.kafka_fetch

lint: install ## ruff, mypy (strict for every domain package) and the import contracts
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy shared/schemas/src shared/runtime/src shared/devinfra/src shared/customer-web/src services/*/src
	.venv/bin/lint-imports

test: lint kafka-jars assets browser ## Every test: lint, then the unit, db and integration tiers
	$(PY) -m pytest

test-unit: install ## Tier 1: pure and in-process, no external process at all
	$(PY) -m pytest -m "not integration and not db"

test-db: install ## Tier 2: repositories and use cases on a real PostgreSQL (started for the run)
	$(PY) -m pytest -m db

test-integration: install kafka-jars assets browser ## Tier 3: Kafka, PostgreSQL, the services as processes, a browser
	$(PY) -m pytest -m integration

up: install kafka-jars assets ## Run the platform locally (SQLite; PG=1 for PostgreSQL)
	$(PY) scripts/local_platform.py up $(if $(filter 1,$(PG)),--postgres)

mail: ## List the e-mails the platform sent (the development mail server of `make up`)
	@$(PY) scripts/local_platform.py mail

outbox: ## List everything notify sent in `make up`: e-mails, SMS, robot cards, webhooks (newest last)
	@$(PY) scripts/local_platform.py outbox

audit-verify: ## Verify every service's hash-chained audit log (of the platform `make up` runs)
	$(PY) scripts/local_platform.py audit-verify

down: ## Stop everything `make up` started
	@if [ -x $(PY) ]; then $(PY) scripts/local_platform.py down; else echo "nothing to stop"; fi

bench: install kafka-jars ## Benchmarks: intake throughput vs a bare endpoint, POST-to-assigned/ack latency, drain cost, overload, sla-watch with 1M open clocks
	$(PY) bench/run.py

bench-quick: install kafka-jars ## Smoke bench (< 3 min): the intake part only, short phases, quiet-machine wait <= 30 s
	$(PY) bench/run.py --quick --only intake --quiet-wait $${BENCH_QUIET_WAIT:-30}

eval-triage: install ## Triage accuracy, rules vs model: held-out labelled split and test fixtures
	$(PY) -m routing.triage.cli eval --fixtures tests/fixtures/complaints.jsonl

schemas: install ## Regenerate the JSON Schemas and the AsyncAPI document from the models
	$(PY) -m complaint_contracts.generate

clean: down ## Remove the virtualenv, caches and run state
	rm -rf .venv .run .pytest_cache .mypy_cache .ruff_cache
