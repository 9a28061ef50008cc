# The handful of commands people type. Each is self-sufficient on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make/installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install demo-data repro test test-fast lint bench gpu-check clean real-demo

help:
	@echo "make repro   - create .venv, make the demo data if data/ is absent, run dvc repro"
	@echo "make test    - create .venv and run the whole test suite (slow end-to-end runs included)"
	@echo "make bench   - performance benchmarks -> benchmarks/results/latest.{json,md}"
	@echo "make gpu-check - every GPU-only check (< 8 min on one GPU) -> benchmarks/results/gpu.{json,md}; no GPU: says so, exit 0"
	@echo "make lint    - ruff check"
	@echo "make real-demo - real structures -> graphs + DockQ labels -> the pipeline (examples/real_structures)"

# torch first: 2.13.0 resolves to the CPU build here, without CUDA downloads.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]"
	command -v mkdssp >/dev/null || { apt-get update -qq && apt-get install -y -qq dssp; }
	test -x .make/dockq/bin/DockQ || { $(PYTHON) -m venv .make/dockq && .make/dockq/bin/python -m pip install -q DockQ==2.1.3; }
	@mkdir -p $(dir $@) && touch $@

install: $(STAMP)

# data/ comes from the DVC cache when it has it; otherwise the deterministic demo
# generator rebuilds it byte for byte (checked against data.dvc) and caches it,
# so queued experiments (`dvc queue`) find it too.
data/labels/train.csv: | $(STAMP)
	@if $(BIN)/dvc checkout -q data.dvc 2>/dev/null && test -f $@; then echo "data/ checked out from the DVC cache"; \
	else $(BIN)/graphqa data demo --out data && $(BIN)/dvc commit -q -f data.dvc && \
	  { git diff --quiet -- data.dvc || { git checkout -q -- data.dvc; \
	    echo "data.dvc tracks other data than the demo: fetch it with 'dvc pull'" >&2; exit 1; }; }; fi

demo-data: data/labels/train.csv

repro: $(STAMP) demo-data
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

# pytest exits 5 when it collects nothing: that is a failure here, never a pass.
test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=25 -n auto --maxprocesses=4 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n auto --maxprocesses=4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src stages tests benchmarks tools

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Needs a CUDA build of torch in .venv on a GPU machine (benchmarks/gpu_check.py says what is missing).
gpu-check: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m benchmarks.gpu_check

# Real structures -> decoys -> graphs + DockQ labels -> the DVC pipeline (ci_fast), in examples/real_structures/work/.
real-demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/real_structures/run.sh

clean:
	rm -rf .make $(VENV)
