"""The `make reproduce-*` targets as a user calls them, from a clean clone of this repository's HEAD.

``PY=<this interpreter>`` makes the Makefile use an already-provisioned Python and skip its install step:
no venv is created in the clone and nothing is pip-installed (an editable install from the clone would
repoint the environment's ``srnn_bench`` at a temporary directory)."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None, reason="needs make and git")


def _clone(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True)
    return clone


def _make(clone, *args, timeout=1500):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SRNN_BENCH_DATA")}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(["make", *args, f"PY={sys.executable}"], cwd=clone, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_py_skips_the_install_step():
    """With PY given, no target depends on the venv stamp; without it, they still do (a fresh clone installs)."""
    given = subprocess.run(["make", "-n", "test", "reproduce-table1", "PY=/opt/py/bin/python"], cwd=ROOT,
                           capture_output=True, text=True)
    assert given.returncode == 0 and "pip install" not in given.stdout and "venv" not in given.stdout
    assert "/opt/py/bin/python -m srnn_bench.reporting.paper_tables table1 --seeds 0" in given.stdout
    fresh = subprocess.run(["make", "-n", "-B", "test", "VENV=/nonexistent/venv"], cwd=ROOT, capture_output=True, text=True)
    assert fresh.returncode == 0 and "pip install" in fresh.stdout and "/nonexistent/venv/bin/python -m pytest" in fresh.stdout


def test_seeds_do_not_swallow_the_table_name():
    dry = subprocess.run(["make", "-n", "reproduce-table1", "SMOKE=1", "SEEDS=0 1 2", "PY=python"], cwd=ROOT,
                         capture_output=True, text=True)
    assert "python -m srnn_bench.reporting.paper_tables table1 --smoke --seeds 0 1 2" in dry.stdout
    dry = subprocess.run(["make", "-n", "reproduce-table1", "REPRO_ARGS=trainer.epochs=1", "SEEDS=3 4", "PY=python"],
                         cwd=ROOT, capture_output=True, text=True)
    assert "paper_tables table1 trainer.epochs=1 --seeds 3 4" in dry.stdout  # overrides before --seeds, too
    from srnn_bench.reporting.paper_tables import parse_args

    args, extra = parse_args(["table1", "trainer.epochs=1", "--seeds", "3", "4"])
    assert (args.table, args.seeds, extra) == ("table1", [3, 4], ["trainer.epochs=1"])


def test_reproduce_table1_smoke_from_a_clean_clone(tmp_path):
    clone = _clone(tmp_path)
    proc = _make(clone, "reproduce-table1", "SMOKE=1")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert not (clone / ".venv").exists()  # nothing installed
    text = (clone / "results" / "smoke" / "table1.md").read_text()
    assert text.startswith("> **SMOKE TABLE — NOT RESULTS.**") and "Missing or failed" not in text, text
    row = next(line for line in text.splitlines() if line.startswith("| ecg_alif |"))
    assert "(n=1)" in row and "`seed0`" in row
    assert (clone / "results" / "runs" / "smoke" / "table1" / "_fixtures" / "yin2021" / "data" / "QTDB_train.mat").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("target, table", [("reproduce-src-table2", "src_table2"),
                                           ("reproduce-ponghiran-table1", "ponghiran_table1")])
def test_other_reproduce_targets_smoke_from_a_clean_clone(tmp_path, target, table):
    clone = _clone(tmp_path)
    proc = _make(clone, target, "SMOKE=1", timeout=3000)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    text = (clone / "results" / "smoke" / f"{table}.md").read_text()
    assert text.startswith("> **SMOKE TABLE — NOT RESULTS.**") and "Missing or failed" not in text, text
