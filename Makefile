# srnn_bench — `make test` and `make run` install what they need on a fresh clone.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP  := $(VENV)/.installed
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2

.PHONY: install run test test-slow bench clean help

help:
	@echo "make install | run | test | test-slow | bench | clean"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
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

# Training-step benchmark (not a test): fused kernels vs the naive loop, 2 pinned threads;
# writes results/bench.md. BENCH_ARGS="--mnist1d" adds the default experiment's epoch time.
bench: $(STAMP)
	OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 $(PY) scripts/bench.py --threads 2 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
