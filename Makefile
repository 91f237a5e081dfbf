# reactbin — the documented entry points (see README.md).
#
#   make run               the server on http://127.0.0.1:8000 (embedded PostgreSQL, local storage)
#   make test              unit + integration + e2e against a throwaway PostgreSQL and SeaweedFS S3
#   make test-unit         unit tests only (no services)
#   make test-integration  the integration suite in Docker (docker-compose.test.yml)
#   make lint / make fmt   ruff (check, format), mypy and the import contracts (lint-imports)
#   make fuzz              Schemathesis against /openapi.json, many examples (FUZZ_EXAMPLES, FUZZ_SEED)
#   make bench             the quick benchmark
#   make test-cluster      servers + workers behind nginx (failover, restarts, faults) and PgBouncer
#   make soak              30 minutes of steady mixed load through the cluster (SOAK_ARGS)
#   make clean             caches and build output (make distclean also removes the venv)
#
# Variables: PYTHON (the interpreter the venv is made from, default python3), VENV
# (default .venv), TESTS (what `make test` runs), PYTEST_ARGS (appended to pytest's
# arguments, e.g. `make test PYTEST_ARGS="-x -k upload"`), BENCH_ARGS.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
VENV_ABS := $(abspath $(VENV))
VPY := $(VENV_ABS)/bin/python
STAMP := $(VENV_ABS)/.reactbin-installed
TESTS ?= tests/unit tests/integration tests/e2e
PYTEST_ARGS ?=
BENCH_ARGS ?=
SOAK_ARGS ?= --minutes 30 --throughput
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= 15
LINT_PATHS := api scripts $(wildcard bench)
COMPOSE ?= docker compose

.PHONY: help venv system-deps run test test-unit test-integration fuzz lint fmt bench clean distclean \
	test-cluster soak

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

# The venv is (re)installed only when the project's dependency files change (stamp file).
venv: $(STAMP)

$(STAMP): api/pyproject.toml api/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "reactbin needs Python 3.11+ ($(PYTHON) is $$($(PYTHON) -V 2>&1)); set PYTHON=..." >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || PYTHON=$(PYTHON) bash scripts/ensure-system-deps.sh python-venv
	@test -x $(VPY) || { echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV_ABS); }
	@echo "installing reactbin with its test extras into $(VENV) (pinned by api/constraints.txt)"
	@$(VPY) -m pip install --disable-pip-version-check --progress-bar off -q \
		-c api/constraints.txt -e 'api[test]'
	@touch $@

# PostgreSQL server + contrib and Chromium, through apt, only when missing.
system-deps:
	@bash scripts/ensure-system-deps.sh postgresql chromium

run: venv
	$(VENV_ABS)/bin/reactbin serve

# scripts/testenv.py starts a throwaway PostgreSQL and SeaweedFS S3 server on free
# loopback ports, runs pytest with the environment pointing at them, and stops them
# afterwards (also on failure or Ctrl-C). `exec` so that a SIGTERM to make reaches it.
test: venv system-deps
	cd api && exec $(VPY) ../scripts/testenv.py -- $(VPY) -m pytest $(TESTS) -v $(PYTEST_ARGS)

# The contract test of `make test` (tests/e2e/test_contract.py), with many more examples.
fuzz: venv system-deps
	cd api && REACTBIN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) REACTBIN_FUZZ_SEED=$(FUZZ_SEED) exec $(VPY) \
		../scripts/testenv.py -- $(VPY) -m pytest tests/e2e/test_contract.py -v $(PYTEST_ARGS)

# The cluster rig (scripts/cluster.py): the services of `make test`, two `reactbin serve`,
# two `reactbin worker` and nginx (apt, only when missing), all on loopback ports.
test-cluster: venv system-deps
	@bash scripts/ensure-system-deps.sh nginx pgbouncer
	cd api && exec $(VPY) ../scripts/testenv.py -- $(VPY) -m pytest tests/cluster -v $(PYTEST_ARGS)

soak: venv system-deps
	@bash scripts/ensure-system-deps.sh nginx
	exec $(VPY) bench/soak.py $(SOAK_ARGS)

test-unit: venv
	cd api && $(VPY) -m pytest tests/unit/ -v $(PYTEST_ARGS)

test-integration:
	@command -v docker >/dev/null || { echo "no docker here: use 'make test' (no Docker needed)" >&2; exit 1; }
	status=0; $(COMPOSE) -f docker-compose.test.yml run --rm --build api-test || status=$$?; \
		$(COMPOSE) -f docker-compose.test.yml down -v --remove-orphans; exit $$status

lint: venv
	$(VENV_ABS)/bin/ruff check $(LINT_PATHS)
	$(VENV_ABS)/bin/ruff format --check $(LINT_PATHS)
	cd api && $(VENV_ABS)/bin/mypy
	cd api && $(VENV_ABS)/bin/mypy ../scripts/testenv.py ../scripts/cluster.py ../scripts/mixedload.py
	cd api && $(VENV_ABS)/bin/lint-imports

fmt: venv
	$(VENV_ABS)/bin/ruff format $(LINT_PATHS)
	$(VENV_ABS)/bin/ruff check --fix $(LINT_PATHS)

bench: venv
	$(VPY) bench/run.py --quick $(BENCH_ARGS)

clean:
	find api scripts $(wildcard bench) -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache api/.pytest_cache api/.mypy_cache \
		api/.ruff_cache api/.import_linter_cache scripts/.ruff_cache api/build api/dist build dist test-results \
		api/test-results .tmp

distclean: clean
	rm -rf $(VENV_ABS) api/*.egg-info
