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

# Browser tests drive Debian's Chromium with Playwright (pinned in requirements.lock). Playwright's own
# browser download is never used: the apt package is installed once, and skipped when already there.
BROWSER := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(BROWSER):
	@command -v apt-get >/dev/null 2>&1 || { echo "browser tests need Chromium at $(BROWSER) (Debian/Ubuntu: apt-get install chromium)"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

.PHONY: run test bench bench-flee bench-crn bench-flee-suite bench-flee-scale bench-ensemble bench-calibrate bench-backtest bench-optimize bench-report bench-app app hostile install \
	schema docs
install: $(STAMP) $(BROWSER)

run: $(STAMP)
	$(BIN)/refuge run $(ARGS)

test: $(STAMP) $(BROWSER)
	$(BIN)/python -m pytest -q -n 2 $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# Flee and refuge on Flee's mali2012 and burundi2015: ARD and CPU ratio (ARGS="--rerun-flee" runs Flee again)
bench-flee: $(STAMP)
	$(BIN)/python benchmarks/bench_flee.py $(ARGS)

# What common random numbers buy: paired vs unpaired spread on the flagship's and the border camp's variants
bench-crn: $(STAMP)
	$(BIN)/python benchmarks/bench_crn.py $(ARGS)

# Flee's published suite (../shared/flee/suite): each case imported unedited or refused (why), run time, ARD;
# ARGS="--flee" also runs Flee's own runner on each case (cached), ARGS="DIR" takes another folder of Flee cases
bench-flee-suite: $(STAMP)
	$(BIN)/python benchmarks/bench_flee_suite.py $(ARGS)

# Flee's largest network (FabFlee's 100-100-8 grid) and a generated 3,000-place one at awareness 5: ways a listing
# would hold, places kept, import, read and compile time, run time, memory (ARGS="--only grid --days 30")
bench-flee-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_flee_scale.py $(ARGS)

# 1,000 runs of the flagship with 1 and with 2 workers: runs/s and speed-up (ARGS="--runs 200" for a quick look)
bench-ensemble: $(STAMP)
	$(BIN)/python benchmarks/bench_ensemble.py $(ARGS)

# calibrate the flagship with the default settings on 2 workers: wall time (target < 10 min), posterior check
bench-calibrate: $(STAMP)
	$(BIN)/python benchmarks/bench_calibrate.py $(ARGS)

# rolling-origin backtests of the flagship, mali2012 and burundi2015 on 2 workers: wall time per case (target
# <= 10 min each), pooled coverage and skill against the naive forecast (ARGS="--rolling mali2012": one case);
# ARGS="--train-until 2006-12-31": the flagship posterior backtest, train to 2006, score 2007-2008 (< 10 min)
bench-backtest: $(STAMP)
	$(BIN)/python benchmarks/bench_backtest.py $(ARGS)

# the README's policy searches (uk-asylum decision capacity, flagship clearance), each timed (target <= 5 min)
bench-optimize: $(STAMP)
	$(BIN)/python benchmarks/bench_optimize.py $(ARGS)

# the HTML report of a 1,000-run flagship experiment: wall time and peak memory (targets 5 s, 400 MB)
bench-report: $(STAMP)
	$(BIN)/python benchmarks/bench_report.py $(ARGS)

# the what-if page: slider release to redrawn results in Chromium, flagship, 50 runs (target 1 s on 2 cores)
bench-app: $(STAMP) $(BROWSER)
	$(BIN)/python benchmarks/bench_app.py $(ARGS)

# the what-if page for the flagship (or ARGS="path/to/scenario.yaml --port 8060")
app: $(STAMP)
	$(BIN)/refuge app $(ARGS)

# malformed scenarios, damaged stores, bad commands: tracebacks, hangs (> 5 s or 500 MB) and silent acceptances
hostile: $(STAMP)
	$(BIN)/python benchmarks/hostile.py $(ARGS)

schema: $(STAMP)
	$(BIN)/refuge schema > refuge/scenario/schema/scenario.schema.json

# the API reference (pdoc, from docstrings and annotations) in docs/api/index.html
docs: $(STAMP)
	$(BIN)/python docs/api.py docs/api
