# Tìm Ảnh: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1
# Passive OpenMP waits: on shared cores, spinning torch threads slow every other process down.
export OMP_WAIT_POLICY := PASSIVE
PYTEST_ARGS ?=

.PHONY: help venv test lint format demo up lock clean bench

help:
	@echo "make demo   - start Tìm Ảnh locally"
	@echo "make test   - install everything pinned and run lint and the whole test suite"
	@echo "make lint   - ruff, mypy and the import contracts"
	@echo "make up     - run every service with a development S3 server"
	@echo "make bench  - run the benchmarks; tables and plots in bench/results/"
	@echo "make train-demo / eval-demo - train and evaluate the demo checkpoint"

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: venv lint frontend-test frontend-build
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

demo: venv frontend-build
	$(PY) -m deploy.demo

up: venv
	$(PY) -m deploy.stack --s3

bench: venv
	$(PY) -m bench

lock: venv
	$(PY) -m pip freeze --exclude-editable | grep -v '^timanh' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data test-artifacts frontend/node_modules frontend/dist

include Makefile.model Makefile.frontend
