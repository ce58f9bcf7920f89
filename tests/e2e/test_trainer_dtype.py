"""``trainer.dtype``: float64 reaches the parameters, the batches and the neuron state; other values are
refused with one line; MNIST evaluation reads only the test files (``build_data(test_only=True)``)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from srnn_bench.data import DataError, build_data
from srnn_bench.run import run

ROOT = Path(__file__).resolve().parents[2]


def test_float64_training_keeps_parameters_inputs_and_state_in_float64(run_cfg, monkeypatch):
    from srnn_bench.models.srnn import SRNN

    seen = []
    forward = SRNN.forward

    def spy(self, x, *a, **k):
        out = forward(self, x, *a, **k)
        seen.append((x.dtype, out.output.dtype))
        return out

    monkeypatch.setattr(SRNN, "forward", spy)
    cfg = run_cfg(["trainer.dtype=float64", "trainer.epochs=1", "dataset.limit_train=32", "dataset.limit_test=16",
                   "trainer.batch_size=16", "trainer.checkpoint_every_min=null"])
    m = run(cfg)
    assert 0.0 <= m["test_acc"] <= 1.0
    assert seen and all(d == (torch.float64, torch.float64) for d in seen)
    ckpt = torch.load(Path(cfg.paths.run_dir) / "checkpoints" / "last.pt", weights_only=False)
    floats = [v for v in ckpt["model"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float64 for v in floats)
    exp_avg = [s["exp_avg"] for s in ckpt["optimizer"]["state"].values()]
    assert exp_avg and all(v.dtype == torch.float64 for v in exp_avg)  # the optimiser saw the float64 parameters


def test_float32_is_the_default_and_float64_changes_the_numbers_only_slightly(run_cfg, tmp_path):
    common = ["trainer.epochs=1", "dataset.limit_train=32", "dataset.limit_test=16", "trainer.batch_size=16",
              "trainer.checkpoint_every_min=null"]
    a = run(run_cfg([*common, f"paths.run_dir={tmp_path / 'a'}"]))
    b = run(run_cfg([*common, "trainer.dtype=float64", f"paths.run_dir={tmp_path / 'b'}"]))
    assert a["train_loss"] != b["train_loss"] and abs(a["train_loss"] - b["train_loss"]) < 1e-3 * abs(a["train_loss"]) + 1e-4


def test_bad_dtype_is_one_line_exit_2(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "SRNN_BENCH_OUTPUTS": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "srnn_bench", "trainer.dtype=float16", "trainer.epochs=1"],
                       check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 2
    out = r.stdout + r.stderr
    assert "error: unknown trainer.dtype 'float16'; valid choices: float32, float64" in out
    assert "Traceback" not in out


def _idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes()))


def test_mnist_test_only_reads_just_the_t10k_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (7, 28, 28))
    _idx(raw / "t10k-images-idx3-ubyte.gz", imgs)
    _idx(raw / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 7))
    cfg = {"name": "smnist", "layout": "sequence", "window": 8, "download": False, "val_fraction": 0.1}
    d = build_data(cfg, str(tmp_path), test_only=True)
    assert len(d.test) == 7 and len(d.train) == 0 and d.val is None and d.n_steps == 784
    x, _ = d.test[2]
    assert x.dtype == torch.float64 and torch.equal(x[0], torch.from_numpy(imgs[2].reshape(-1)[:8]).double() / 255)
    assert len(build_data({**cfg, "limit_test": 3}, str(tmp_path), test_only=True).test) == 3
    # training still needs (and names) the training files
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        build_data(cfg, str(tmp_path))
