# srnn_bench — `make test` and `make run` install what they need on a fresh clone.
# the interpreter of a new .venv: PYTHON=... or the first candidate that meets requires-python (pyproject.toml)
PYTHON_CANDIDATES ?= python3 python3.13 python3.12 python3.11 python3.10 python
MIN_PYTHON := $(shell sed -n 's/^requires-python *= *">= *\([0-9.]*\)".*/\1/p' pyproject.toml)
# PY=/path/to/python on the command line: use that already-provisioned interpreter (srnn_bench importable,
# test deps installed) and skip the venv and its install step entirely (no pip, no editable install).
VENV   ?= .venv
TORCH_VERSION ?= 2.13.0
STAMP  := $(VENV)/.installed
ifeq ($(origin PY),command line)
NEEDS  :=
else
PY     := $(VENV)/bin/python
NEEDS  := $(STAMP)
endif
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2

.PHONY: install run test test-unit test-e2e test-slow bench clean help reproduce-table1 reproduce-table2 reproduce-src-table2 reproduce-ponghiran-table1

help:
	@echo "make install | run | test (= test-unit + test-e2e) | test-unit | test-e2e | test-slow | bench | clean"
	@echo "make reproduce-table1 [SMOKE=1] [SEEDS='0 1 2'] | reproduce-table2 [RUNS=outputs] | reproduce-src-table2 | reproduce-ponghiran-table1"
	@echo "any target: PY=/path/to/python uses that interpreter and skips the install step"

$(STAMP): pyproject.toml
	@test -x $(PY) || { \
	  py=$$(for p in $(or $(PYTHON),$(PYTHON_CANDIDATES)); do \
	    $$p -c 'import sys; sys.exit(sys.version_info[:2] < tuple(map(int, "$(MIN_PYTHON)".split("."))))' \
	      2>/dev/null && { echo $$p; break; }; done); \
	  test -n "$$py" || { echo "make: no Python >= $(MIN_PYTHON) found (tried $(or $(PYTHON),$(PYTHON_CANDIDATES))); install one or give PYTHON=/path/to/python" >&2; exit 2; }; \
	  echo "creating $(VENV) with $$py ($$($$py -V 2>&1))"; $$py -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)"
	$(PY) -m pip install -q -e ".[test]"
	@touch $(STAMP)

install: $(NEEDS)

run: $(NEEDS)
	$(PY) -m srnn_bench $(ARGS)

test: $(NEEDS)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# tests/unit: modules on their own (in-process, seconds); tests/e2e: the entry points a user types (the CLI,
# run(), make, the wheel, the zoo), on generated fixtures and the real files of ../shared/data.
test-unit: $(NEEDS)
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

test-e2e: $(NEEDS)
	$(PY) -m pytest -q tests/e2e $(PYTEST_ARGS)

test-slow: $(NEEDS)
	$(PY) -m pytest -q -m slow $(PYTEST_ARGS)

# Paper tables: run every cell whose dataset is present under paths.data_dir, then build results/<table>.md.
# SMOKE=1: one epoch of every cell on generated fixtures -> results/smoke/<table>.md (labelled; not results).
# The table name first and --seeds last: --seeds takes one or more values and would swallow what follows it
# (REPRO_ARGS: extra options or Hydra overrides for every cell, e.g. REPRO_ARGS="trainer.epochs=1").
SEEDS ?= 0
repro = $(PY) -m srnn_bench.reporting.paper_tables $(1)$(if $(SMOKE), --smoke)$(if $(REPRO_ARGS), $(REPRO_ARGS)) --seeds $(SEEDS)

reproduce-table1: $(NEEDS)
	$(call repro,table1)

reproduce-src-table2: $(NEEDS)
	$(call repro,src_table2)

reproduce-ponghiran-table1: $(NEEDS)
	$(call repro,ponghiran_table1)

# results/table2.md: Yin et al. Table 2 / S2 beside our cost model and every run under RUNS (default outputs/)
RUNS ?= outputs
reproduce-table2: $(NEEDS)
	$(PY) -m srnn_bench.reporting.table2 --runs $(RUNS)

# Training-step benchmark (not a test): fused kernels vs the naive loop, an authors'-style loop and the peer
# libraries installed (pip install -e ".[peers]"), 2 pinned threads; writes results/bench.md. BENCH_ARGS="--mnist1d" adds the default experiment's epoch time.
bench: $(NEEDS)
	OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 $(PY) scripts/bench.py --threads 2 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
