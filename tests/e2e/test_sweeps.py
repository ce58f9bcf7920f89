"""A 2 x 2 Multi-Gaussian h x s multirun completes and yields the heatmaps: in one process (Hydra's basic
launcher) by default; with the sweep's own joblib launcher and with submitit_local (the launcher tests: a
process per job, slow).
"""

import csv
import os
import subprocess
import sys

import pytest
from conftest import ROOT, compose

SWEEPS = ["mg_grid", "fig3d_surrogates", "fig3e_time_constants", "fig3h_neuron_size", "fig3i_layers"]


def test_every_sweep_config_composes():
    for name in SWEEPS:
        cfg = compose([f"hparams_search={name}"])
        assert cfg.trainer.num_threads == 1


@pytest.mark.parametrize("launcher", [["hydra/launcher=basic"], pytest.param([], marks=pytest.mark.slow)],
                         ids=["basic", "joblib"])
def test_mg_grid_2x2_and_heatmaps(tmp_path, launcher):
    sweep_dir = tmp_path / "sweep"
    env = {**os.environ, "SRNN_BENCH_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "srnn_bench", "-m", "hparams_search=mg_grid", *launcher,
        "surrogate.h=0.0,0.15", "surrogate.s=2.0,6.0",
        "debug=smoke", "model.hidden=[8]", f"hydra.sweep.dir={sweep_dir}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = sorted(p.name for p in sweep_dir.iterdir() if (p / "metrics.json").is_file())
    assert jobs == ["0", "1", "2", "3"]
    out = subprocess.run(
        [sys.executable, "-m", "srnn_bench.reporting.sweeps", str(sweep_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "4/4 jobs ok" in out.stdout
    rows = list(csv.DictReader(open(sweep_dir / "sweep.csv")))
    assert {(r["surrogate.h"], r["surrogate.s"]) for r in rows} == {("0.0", "2.0"), ("0.0", "6.0"), ("0.15", "2.0"), ("0.15", "6.0")}
    for name in ("sweep_test_acc.png", "sweep_firing_rate.png"):
        assert (sweep_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_submitit_local_launcher(tmp_path):
    """The Slurm path's launcher family, run locally: `hydra/launcher=submitit_local` (README)."""
    sweep_dir = tmp_path / "sweep"
    env = {**os.environ, "SRNN_BENCH_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "srnn_bench", "-m", "hydra/launcher=submitit_local", "surrogate.h=0.0,0.15",
        "debug=smoke", "model.hidden=[8]", f"hydra.sweep.dir={sweep_dir}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (sweep_dir / "0" / "metrics.json").is_file() and (sweep_dir / "1" / "metrics.json").is_file()
    assert "2 ok, 0 failed" in proc.stdout + proc.stderr
