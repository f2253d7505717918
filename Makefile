# yecai — set-up and everyday commands. A fresh machine needs only python3, pip and make:
# the first target run creates .venv from uv.lock (uv itself comes from PyPI into .tools/).
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Byte-compile at install: where PYTHONDONTWRITEBYTECODE is set (as on these machines) every
# process would otherwise compile dagster, dbt and GX from source at each start (~2-5 s each).
export UV_COMPILE_BYTECODE := 1

.PHONY: help setup browser analyst-duckdb run test test-long test-fast test-reliability bench ui lint format contracts clean

help:
	@echo "make run        generate sample data, ingest, build, gate and publish (yecai demo)"
	@echo "make test       the test suite but the long and reliability runs (installs what it needs first)"
	@echo "make test-fast  unit tests only"
	@echo "make test-long  the tests that run whole windows several times (~10 min)"
	@echo "make test-reliability  kill-and-re-run, security scan, backup/restore (~22 min)"
	@echo "make bench      benchmarks at stated scales -> BENCHMARKS.md (not part of make test)"
	@echo "make ui         Dagster UI on http://127.0.0.1:3000 for ./.yecai"
	@echo "make lint       ruff (Python) and sqlfluff (dbt models, gate SQL): zero violations"
	@echo "make contracts  regenerate dbt sources from data_contracts/"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(BIN)/.synced

# The report's browser test drives Debian's chromium (a test tool's own browser download
# would fail here), with Noto CJK so screenshots show the Chinese names. Installed once,
# with apt, when either is missing.
browser:
	@{ command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/opentype/noto ]; } || { \
		echo "installing Debian's chromium and fonts-noto-cjk for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# DuckDB 1.x as analysts' tools embed it (Python package and CLI), apart from yecai's own
# DuckDB 2: the published file must open there (tests/e2e/test_analyst_tools.py).
ANALYST_DUCKDB := .analyst-duckdb
$(ANALYST_DUCKDB)/.synced: $(UV) tools/analyst-duckdb/pyproject.toml tools/analyst-duckdb/uv.lock
	UV_PROJECT_ENVIRONMENT=$(abspath $(ANALYST_DUCKDB)) $(UV) sync --frozen --project tools/analyst-duckdb --python $(PYTHON)
	@touch $@

analyst-duckdb: $(ANALYST_DUCKDB)/.synced

run: setup
	$(BIN)/yecai demo

test: setup browser analyst-duckdb
	$(BIN)/pytest -m "not reliability and not long" --durations=15

# The few tests that run whole windows several times over (~10 min), apart to keep
# `make test` short; CI runs them too (.ci/run).
test-long: setup browser analyst-duckdb
	$(BIN)/pytest -m "long and not reliability" --durations=10

# The slow reliability runs (kill and re-run, security scan, backup, period close against
# truth): ~30 min, so apart.
test-reliability: setup
	$(BIN)/pytest -m reliability --durations=10

test-fast: setup
	$(BIN)/pytest tests/unit

bench: setup
	$(BIN)/python -m bench.run $(if $(CASES),--cases $(CASES),)

ui: setup
	$(BIN)/yecai ui $(if $(YECAI_PII_KEY),,--demo)

# SQL: the dbt project (dbt templater: it compiles the project against a scratch home) and
# the gates' templates (jinja templater), each linted from its own folder.
LINT_HOME := $(abspath .lint-home)
lint: setup
	$(BIN)/ruff check pipelines tests bench tools
	$(BIN)/ruff format --check pipelines tests bench tools
	mkdir -p $(LINT_HOME)/warehouse
	cd dbt_project && YECAI_HOME=$(LINT_HOME) DBT_LOG_PATH=$(LINT_HOME)/logs $(abspath $(BIN))/sqlfluff lint models tests
	cd pipelines/gates/sql && $(abspath $(BIN))/sqlfluff lint .

format: setup
	$(BIN)/ruff format pipelines tests bench tools
	$(BIN)/ruff check --fix pipelines tests bench tools

contracts: setup
	$(BIN)/python -m pipelines.transform.dbt_sources

clean:
	rm -rf $(VENV) $(TOOLS) $(ANALYST_DUCKDB) .yecai .lint-home dbt_project/target
