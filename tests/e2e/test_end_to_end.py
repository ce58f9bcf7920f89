"""The default experiment end to end (one short epoch on a subset) and the run directory it writes."""

import json
import os
import subprocess
import sys

import yaml
from conftest import ROOT

REQUIRED = {
    "test_acc", "val_acc", "train_loss", "firing_rate", "firing_rate_per_layer", "sop_per_sample",
    "ac_per_step", "mac_per_step", "energy_per_step_pj", "n_params", "epochs", "wall_time_s",
}


def test_default_experiment_one_epoch(tmp_path):
    run_dir = tmp_path / "run"
    env = {**os.environ, "SRNN_BENCH_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "srnn_bench", "debug=smoke", "dataset.limit_train=256", "dataset.limit_test=200",
        f"hydra.run.dir={run_dir}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert REQUIRED <= set(metrics), REQUIRED - set(metrics)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0
    assert set(metrics["firing_rate_per_layer"]) == {"layer0", "layer1"}
    assert 0.0 < metrics["firing_rate"] < 1.0
    assert metrics["energy_per_step_pj"] == 3.1 * metrics["mac_per_step"] + 0.1 * metrics["ac_per_step"]
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["dataset"]["name"] == "mnist1d" and cfg["trainer"]["epochs"] == 1
    env_json = json.loads((run_dir / "env.json").read_text())
    assert "commit" in env_json["git"] and env_json["packages"]["torch"]
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 1
    assert (run_dir / "checkpoints" / "last.pt").is_file() and (run_dir / "checkpoints" / "best.pt").is_file()
