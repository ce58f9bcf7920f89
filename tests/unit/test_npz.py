"""Bring-your-own-data loader (``dataset=npz``): shapes, dtypes, errors, and a training run on it."""

import numpy as np
import pytest

from srnn_bench.data import DataError, build_data
from srnn_bench.run import run


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def cfg(path, **kw):
    return {"name": "npz", "path": str(path), "test_fraction": 0.25, "val_fraction": 0.0, "split_seed": 0, **kw}


def test_sequence_labels_and_split(tmp_path):
    rng = np.random.default_rng(0)
    p = _write(tmp_path / "d.npz", x=rng.random((40, 7, 3)).astype(np.float32), y=rng.integers(0, 4, 40))
    d = build_data(cfg(p), str(tmp_path))
    assert (len(d.train), len(d.test), d.n_inputs, d.n_steps) == (30, 10, 3, 7)
    assert not d.per_step_labels and not d.binary_input


def test_per_step_labels_spikes_and_explicit_test(tmp_path):
    rng = np.random.default_rng(1)
    x = (rng.random((20, 9, 5)) < 0.2).astype(np.uint8)
    y = rng.integers(0, 3, (20, 9))
    y[:, :2] = -100
    p = _write(tmp_path / "d.npz", x=x, y=y, x_test=x[:4], y_test=y[:4])
    d = build_data(cfg(p), str(tmp_path))
    assert d.per_step_labels and d.binary_input and d.n_classes == 3 and len(d.test) == 4
    xb, yb = d.train[0]
    assert xb.shape == (9, 5) and yb.shape == (9,)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((4, 5)), "y": np.zeros(4, int)}, "'x' must have shape \\[N, T, C\\]"),
        ({"x": np.zeros((4, 5, 2)), "y": np.zeros(3, int)}, "'y' must have shape"),
        ({"x": np.zeros((4, 5, 2)), "y": np.zeros(4)}, "integer class labels"),
        ({"x": np.zeros((4, 5, 2), np.int32), "y": np.zeros(4, int)}, "float or uint8"),
        ({"y": np.zeros(4, int)}, "missing array 'x'"),
        ({"x": np.zeros((4, 5, 2)), "y": np.zeros(4, int), "x_test": np.zeros((2, 5, 2))}, "both 'x_test' and 'y_test'"),
        ({"x": np.zeros((4, 5, 2)), "y": np.zeros(4, int), "x_test": np.zeros((2, 6, 2)), "y_test": np.zeros(2, int)}, "differ in"),
    ],
)
def test_errors_name_file_and_problem(tmp_path, arrays, message):
    p = _write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message) as e:
        build_data(cfg(p), str(tmp_path))
    assert str(p) in str(e.value)


def test_missing_and_corrupt_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        build_data(cfg(tmp_path / "nope.npz"), str(tmp_path))
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        build_data(cfg(bad), str(tmp_path))


def test_train_on_npz(tmp_path, run_cfg):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 64)
    x = (rng.random((64, 12, 4)) + y[:, None, None]).astype(np.float32)
    p = _write(tmp_path / "mine.npz", x=x, y=y)
    c = run_cfg(["dataset=npz", f"dataset.path={p}", "encoder=identity", "trainer.epochs=1", "model.hidden=[16]"])
    metrics = run(c)
    assert metrics["epochs"] == 1 and (tmp_path / "run" / "metrics.json").is_file()
