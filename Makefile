# Alongside: `make demo` to try it, `make test` to check it. Both work on a fresh Debian machine as root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-reset test lint bench install install-dev

demo: install
	$(BIN)/alongside demo

demo-reset: install
	$(BIN)/alongside demo --reset

test: install-dev
	scripts/install-test-deps
	scripts/run-tests

# Every benchmark at a reduced scale (about 7 minutes on 2 cores); rewrites the table in docs/performance.md.
bench: install-dev
	scripts/install-postgresql
	$(BIN)/python bench/run_all.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { scripts/install-debian-packages python3-venv && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed
