# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   creates .venv, installs flopcast, estimates GPT-3's training cost
#   make test   creates .venv, installs flopcast with its test and measure extras, runs the suite
# torch==2.13.0 is installed first and pinned: on this kind of machine that is a local CPU build, and it
# satisfies the measure extra's range, so pip fetches no multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,measure]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,measure,bench]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/flopcast estimate gpt-3

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# the static checks CI runs: lint rules, formatting, types, and the layer contract (CONTRIBUTING.md)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

check: lint test

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info
