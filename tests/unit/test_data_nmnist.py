"""N-MNIST through tonic's reader and ToFrame on real-format .bin fixtures."""

import numpy as np
import pytest

from srnn_bench.data import DataError, build_data
from srnn_bench.data.fixtures import random_nmnist, write_nmnist_bin
from srnn_bench.run import run


def _layout(tmp_path):
    random_nmnist(tmp_path / "NMNIST", n_per_class=1, n_events=50)
    # a hand-made recording: (x, y, p, t_us)
    ev = np.array([(1, 2, 1, 0), (1, 2, 1, 50), (33, 33, 0, 150), (0, 0, 0, 399), (5, 5, 1, 400)])
    write_nmnist_bin(tmp_path / "NMNIST" / "Train" / "3" / "zzz_known.bin", *ev.T)
    return str(tmp_path)


def test_frames_from_known_events(tmp_path):
    data_dir = _layout(tmp_path)
    cfg = {"name": "nmnist", "n_steps": 4, "val_fraction": 0.0, "download": False}
    d = build_data(cfg, data_dir)
    assert (d.n_steps, d.n_inputs, d.n_classes, d.binary_input) == (4, 2312, 10, True)
    assert len(d.train) == 11 and len(d.test) == 10
    ds = d.train.dataset if hasattr(d.train, "dataset") else d.train
    i = [k for k, f in enumerate(ds.files) if f.endswith("zzz_known.bin")][0]
    x, y = ds[i]
    assert int(y) == 3 and x.shape == (4, 2312)
    # tonic ToFrame(n_time_bins=4): windows of (400 - 0) // 4 = 100 us from the first event, [start, end);
    # feature index = p * 34 * 34 + y * 34 + x
    on = sorted(map(tuple, x.nonzero().tolist()))
    assert on == [(0, 1 * 1156 + 2 * 34 + 1), (1, 0 * 1156 + 33 * 34 + 33), (3, 0)]
    counts = build_data({**cfg, "frames": "count"}, data_dir)
    xc = counts.train.dataset[i][0] if hasattr(counts.train, "dataset") else counts.train[i][0]
    assert xc[0, 1225] == 2 and int(xc.sum()) == 4 and not counts.binary_input


def test_truncated_event_file_and_missing_folder(tmp_path):
    with pytest.raises(DataError) as e:
        build_data({"name": "nmnist", "download": False}, str(tmp_path))
    assert "N-MNIST not found" in str(e.value) and str(tmp_path / "NMNIST" / "Train") in str(e.value)
    data_dir = _layout(tmp_path)
    bad = tmp_path / "NMNIST" / "Test" / "7" / "00000.bin"
    bad.write_bytes(bad.read_bytes()[:-2])
    with pytest.raises(DataError, match="not a whole number of 5-byte") as e:
        build_data({"name": "nmnist", "download": False}, data_dir)
    assert str(bad) in str(e.value)


def test_one_epoch(tmp_path, run_cfg):
    random_nmnist(tmp_path / "data" / "NMNIST", n_per_class=1, n_events=80)
    cfg = run_cfg(["dataset=nmnist", "encoder=identity", "dataset.n_steps=20", "trainer.epochs=1",
                   "trainer.batch_size=5", "model.hidden=[8]", "dataset.limit_train=10", "dataset.limit_test=5",
                   "dataset.val_fraction=0", "dataset.download=false"])
    m = run(cfg)
    assert m["epochs"] == 1 and m["dataset"] == "nmnist" and np.isfinite(m["train_loss"])
