# srnn_bench — `make test` and `make run` install what they need on a fresh clone.
# the interpreter of a new .venv: PYTHON=... or the first candidate that meets requires-python (pyproject.toml)
PYTHON_CANDIDATES ?= python3 python3.13 python3.12 python3.11 python3.10 python
MIN_PYTHON := $(shell sed -n 's/^requires-python *= *">= *\([0-9.]*\)".*/\1/p' pyproject.toml)
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP  := $(VENV)/.installed
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2

.PHONY: install run test test-slow bench clean help reproduce-table1 reproduce-table2 reproduce-src-table2 reproduce-ponghiran-table1

help:
	@echo "make install | run | test | test-slow | bench | clean"
	@echo "make reproduce-table1 [SMOKE=1] [SEEDS='0 1 2'] | reproduce-table2 [RUNS=outputs] | reproduce-src-table2 | reproduce-ponghiran-table1"

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

install: $(STAMP)

run: $(STAMP)
	$(PY) -m srnn_bench $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(PYTEST_ARGS)

# Paper tables: run every cell whose dataset is present under paths.data_dir, then build results/<table>.md.
# SMOKE=1: one epoch of every cell on generated fixtures -> results/smoke/<table>.md (labelled; not results).
SEEDS ?= 0
REPRO = $(PY) -m srnn_bench.reporting.paper_tables $(if $(SMOKE),--smoke) --seeds $(SEEDS) $(REPRO_ARGS)

reproduce-table1: $(STAMP)
	$(REPRO) table1

reproduce-src-table2: $(STAMP)
	$(REPRO) src_table2

reproduce-ponghiran-table1: $(STAMP)
	$(REPRO) ponghiran_table1

# results/table2.md: Yin et al. Table 2 / S2 beside our cost model and every run under RUNS (default outputs/)
RUNS ?= outputs
reproduce-table2: $(STAMP)
	$(PY) -m srnn_bench.reporting.table2 --runs $(RUNS)

# Training-step benchmark (not a test): fused kernels vs the naive loop, an authors'-style loop and the peer
# libraries installed (pip install -e ".[peers]"), 2 pinned threads; writes results/bench.md. BENCH_ARGS="--mnist1d" adds the default experiment's epoch time.
bench: $(STAMP)
	OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 $(PY) scripts/bench.py --threads 2 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
