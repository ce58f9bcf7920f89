"""The authors' published networks on real data, through the command a user types (issue #12 acceptance).

Golden numbers: ``../shared/reference/yin2021_checkpoints/README.md`` (the authors' own code on each
checkpoint, deterministic zero initial state, float64). Skips with the reason when ``../shared/data`` (or
``$SRNN_BENCH_DATA``) does not hold the files: a user's clone has no ``../shared``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SRNN_BENCH_DATA") or ROOT.parent / "shared" / "data")
ECG_FILES = ["yin2021/NMI_vis/ecg/model_0.8589141409979619_36bptt-fr_MG.pth", "yin2021/data/QTDB_test.mat",
             "yin2021/data/QTDB_train.mat"]
MNIST_FILES = ["MNIST/raw/t10k-images-idx3-ubyte.gz", "MNIST/raw/t10k-labels-idx1-ubyte.gz",
               "yin2021/NMI_vis/smnist/model_98.21_Task-smnist||Time-30-06-2020 16:33:05||EC_f--rbf||DC_f--adp-spike"
               "||multiinput-multi_input.pth"]


def _need(files: list[str]) -> None:
    absent = [f for f in files if not (SHARED / f).is_file()]
    if absent:
        pytest.skip(f"real data absent under {SHARED}: {', '.join(absent)} (see ../shared/data/README.md)")


def _verify(name: str, out: Path, *overrides: str) -> dict:
    env = {**os.environ, "SRNN_BENCH_DATA": str(SHARED), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "srnn_bench.zoo", "verify", name, "--out", str(out), "--no-download",
           "trainer.progress=false", *overrides]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sub = "eval_float32" if "trainer.dtype=float32" in overrides else "eval"
    return json.loads((out / sub / "metrics.json").read_text())


def test_ecg_checkpoint_on_the_full_qtdb_test_set(tmp_path):
    """85.85% counting unlabelled steps as class 0 (the authors' way), 85.22% with them masked; hidden firing
    rate 0.344, output 0.0038 (golden README, ECG table: b_j0 = 0.1, steps 10..1300)."""
    _need(ECG_FILES)
    m = _verify("ecg_0.8589", tmp_path / "ecg")
    assert m["verify"]["status"] == "verified"
    assert abs(m["test_acc_class0"] - 0.8585021232647186) < 5e-4
    assert abs(m["test_acc_masked"] - 0.8522411412793374) < 5e-4
    rates = m["firing_rate_per_layer"]
    assert abs(rates["layer0"] - 0.3438800183407441) < 1e-3 and abs(rates["readout"] - 0.003760518822582374) < 1e-3


@pytest.mark.slow  # 10000 images x 784 steps in float64: about 4 minutes on one core
def test_smnist_checkpoint_on_the_full_mnist_test_set(tmp_path):
    """97.87% (first-index tie-break), per-layer firing rates 0.1219 / 0.0742 / 0.0419 / 0.3162 (golden README)."""
    _need(MNIST_FILES)
    m = _verify("smnist_98.21", tmp_path / "smnist")
    assert m["verify"]["status"] == "verified"
    assert abs(m["test_acc"] - 0.9787) < 5e-4
    expected = {"layer0": 0.1219, "layer1": 0.0742, "layer2": 0.0419, "readout": 0.3162}
    for layer, rate in expected.items():
        assert abs(m["firing_rate_per_layer"][layer] - rate) < 1e-3, layer
    assert m["sop_per_sample"] > 0 and m["energy_per_step_pj"] > 0  # reported beside the accuracy
