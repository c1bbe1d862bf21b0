# Two entry points for a fresh machine: `make run` and `make test`.
# Each creates (or reuses) .venv and installs the pinned dependencies.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

.PHONY: run test bench bench-ensemble bench-calibrate install schema docs
install: $(STAMP)

run: $(STAMP)
	$(BIN)/refuge run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# 1,000 runs of the flagship with 1 and with 2 workers: runs/s and speed-up (ARGS="--runs 200" for a quick look)
bench-ensemble: $(STAMP)
	$(BIN)/python benchmarks/bench_ensemble.py $(ARGS)

# calibrate the flagship with the default settings on 2 workers: wall time (target < 10 min), posterior check
bench-calibrate: $(STAMP)
	$(BIN)/python benchmarks/bench_calibrate.py $(ARGS)

schema: $(STAMP)
	$(BIN)/refuge schema > refuge/scenario/schema/scenario.schema.json

# the API reference (pdoc, from docstrings and annotations) in docs/api/index.html
docs: $(STAMP)
	$(BIN)/python docs/api.py docs/api
