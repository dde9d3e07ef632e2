# Convene — `make help` lists the targets. `make run` and `make test` do all their own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check -q -c constraints.txt

.DEFAULT_GOAL := help
.PHONY: help install web-assets run test test-faults lint format typecheck bench lint-deploy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): constraints.txt requirements-dev.txt libs/common/pyproject.toml services/*/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_FLAGS) --upgrade pip setuptools wheel
	# torch first, exactly pinned: the CPU build on disk, never a CUDA download.
	$(PIP) install $(PIP_FLAGS) torch==2.13.0
	$(PIP) install $(PIP_FLAGS) -r requirements-dev.txt
	@touch $@

install: $(STAMP) ## create .venv and install every package (pip + constraints.txt)

WEB := services/web
# The web pages' assets: npm ci from the committed package-lock.json, then copied into the
# ignored services/web/vendor/ (never committed).
$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

web-assets: install $(WEB)/node_modules/.package-lock.json ## npm ci + copy GOV.UK Frontend and htmx for services/web
	$(PY) -m convene_web.assets

run: install web-assets ## run the whole suite at http://127.0.0.1:8080: PostgreSQL, demo data, services, web
	$(PY) scripts/run_suite.py

test: install web-assets ## run the test suite (browser tests included) against a real PostgreSQL
	$(PY) -m pytest

test-faults: install ## fault-injection tests (database crash, killed matcher, hanging downstream)
	$(PY) -m pytest -m faults tests/faults

lint: install ## ruff format --check and ruff check
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install ## apply ruff format and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install ## mypy --strict over every package
	$(VENV)/bin/mypy libs/common/src services/profiles/src services/matcher/src services/gateway/src services/web/src

bench: install ## benchmarks: prints a table and writes bench/results/
	$(PY) bench/run_all.py

lint-deploy: install ## validate docker-compose.yml, Dockerfiles and deploy/ statically
	bash deploy/lint.sh

clean: ## remove the virtualenv and local state (.run/)
	rm -rf $(VENV) .run
