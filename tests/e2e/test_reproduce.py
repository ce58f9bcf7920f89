"""`make reproduce-table1 SMOKE=1`: every Table 1 cell end to end on generated fixtures, then the table."""

import os
import subprocess
import sys

import yaml
from conftest import ROOT

CELLS = list(yaml.safe_load((ROOT / "results/paper_values/yin2021_table1.yaml").read_text())["cells"])


def test_make_target_calls_the_runner():
    dry = subprocess.run(["make", "-n", "reproduce-table1", "SMOKE=1"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0 and "srnn_bench.reporting.paper_tables table1 --smoke" in dry.stdout


def test_table1_smoke_every_cell(tmp_path):
    out = tmp_path / "table1.md"
    cmd = [sys.executable, "-m", "srnn_bench.reporting.paper_tables", "table1", "--smoke", "--runs-root", str(tmp_path / "runs"), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("> **SMOKE TABLE — NOT RESULTS.**")
    assert "Missing or failed" not in text, text
    for cell in CELLS:
        assert (tmp_path / "runs" / cell / "seed0" / "metrics.json").is_file(), cell
        row = next(line for line in text.splitlines() if line.startswith(f"| {cell} |"))
        assert "(n=1)" in row and "`seed0`" in row
    # the paper column comes from the stored values, not from the runs
    assert "| shd_alif | SHD | 128+128 | 90.4 |" in text


def test_table_builder_reports_failed_and_missing_runs(tmp_path):
    from srnn_bench.reporting.paper_tables import build_table

    runs = tmp_path / "runs"
    (runs / "shd_alif" / "seed0").mkdir(parents=True)
    (runs / "shd_alif" / "seed0" / "error.txt").write_text("ValueError: trainer.lr must be > 0, got -1\n\ntrace")
    (runs / "ssc_alif" / "seed0").mkdir(parents=True)
    (runs / "ssc_alif" / "seed0" / "config.yaml").write_text("trainer: {}\n")  # started, never finished
    text = build_table("table1", runs, tmp_path / "t.md", smoke=False, absent={"gsc_alif": "gsc missing under data/..."})
    assert "- shd_alif: seed0: failed — ValueError: trainer.lr must be > 0, got -1" in text
    assert "- ssc_alif: seed0: incomplete — no metrics.json or error.txt" in text
    assert "- gsc_alif: data absent — gsc missing under data/..." in text
    assert "- ecg_alif: no runs yet" in text
    assert not text.startswith("> **SMOKE")
