# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5006
CHECKPOINT ?=

.PHONY: run test lint zoo bench

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[data]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[data,test]'
	touch $@

## Install (first time only) and serve the explorer on the bundled default model.
run: $(VENV)/.installed
	$(VENV)/bin/vae-explorer serve $(CHECKPOINT) --port $(PORT)

## Install the test extras and run every test (lint, unit, server, browser, notebook).
test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -ra

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Retrain the bundled model zoo (explorer/zoo/*.pth) with train.py.
zoo: $(VENV)/.installed-test
	$(PY) -m explorer.zoo.build

## Run the benchmarks (figures, not tests).
bench: $(VENV)/.installed-test
	$(PY) benchmarks/train_speed.py
