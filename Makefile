# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   creates .venv, installs flopcast, estimates GPT-3's training cost
#   make test   creates .venv, installs flopcast with its test and measure extras, runs the suite
# torch==2.13.0 is installed first and pinned: on this kind of machine that is a local CPU build, and it
# satisfies the measure extra's range, so pip fetches no multi-GB CUDA build.
PYTHON ?= python3
# bash with pipefail: a failing pip fails the target even though its output is filtered
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint check bench clean

# pip prints one line a package (no progress bars): a fresh install shows what it is doing
PIP := $(BIN)/pip install --progress-bar off --disable-pip-version-check

$(BIN)/python:
	@echo "flopcast: creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "flopcast: installing flopcast and its core libraries (numpy, scipy, pandas, typer, rich, platformdirs) into $(VENV)"
	$(PIP) -e . | { grep -E '^(Collecting|Successfully)' || true; }
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "flopcast: installing PyTorch 2.13.0 (CPU), then the test and measurement extras (pytest, Playwright, FastAPI...)"
	$(PIP) torch==2.13.0 | { grep -E '^(Collecting|Successfully)' || true; }
	$(PIP) -e '.[test,measure]' | { grep -E '^(Collecting|Successfully)' || true; }
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	@echo "flopcast: installing the benchmark extra (squigglepy...)"
	$(PIP) -e '.[test,measure,bench]' | { grep -E '^(Collecting|Successfully)' || true; }
	touch $@

demo: $(VENV)/.installed
	@echo "flopcast: estimating GPT-3's training run on the embedded database"
	$(BIN)/flopcast estimate gpt-3

# every core, each test file on one worker (its module fixtures are built once)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n auto --dist loadfile

# the static checks CI runs: lint rules, formatting, types, and the layer contract (CONTRIBUTING.md)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/ruff format --check src tests benchmarks scripts examples
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

check: lint test

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info
