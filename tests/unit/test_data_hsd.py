"""SHD / SSC through tonic on format-identical HDF5 fixtures: bin edges, cache, errors, one training epoch."""

import numpy as np
import pytest

from srnn_bench.data import DataError, build_data
from srnn_bench.data.fixtures import random_hsd, write_hsd
from srnn_bench.data.sparse import bin_spikes
from srnn_bench.run import run


def test_bin_edges_follow_the_authors_code():
    # bin i holds (i-1) dt < t <= i dt (0-based i; bin 0 holds t = 0); 250 x 4 ms keeps t <= 996 ms
    t_us = np.array([0, 1, 3999, 4000, 4001, 7999, 8000, 995_999, 996_000, 996_001, 1_000_000, 4000])
    ch = np.array([5, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 7])
    flat = bin_spikes(t_us, ch, 4000, 250, 700)
    got = sorted((int(f) // 700, int(f) % 700) for f in flat)
    assert got == [(0, 5), (1, 5), (1, 6), (1, 7), (2, 8), (2, 9), (2, 10), (249, 11), (249, 12)]
    # the duplicate (4000 us, channel 7) counts once; 996.001 ms and 1 s are dropped


def _exact_fixture(path):
    """Times chosen at bin edges; float64 so tonic's microsecond conversion is exact."""
    times = [np.array([0.0, 0.004, 0.004002, 0.004002, 0.996, 0.996002, 1.05]), np.array([0.5])]
    units = [np.array([3, 4, 5, 5, 6, 7, 8]), np.array([0])]
    return write_hsd(path, times, units, [1, 0], times_dtype=np.float64)


def test_shd_loader_bins_fixture_through_tonic(tmp_path):
    _exact_fixture(tmp_path / "SHD" / "shd_train.h5")
    random_hsd(tmp_path / "SHD" / "shd_test.h5", 3)
    cfg = {"name": "shd", "dt_ms": 4.0, "duration_ms": 1000.0, "val_fraction": 0.0, "download": False}
    d = build_data(cfg, str(tmp_path))
    assert (d.n_steps, d.n_inputs, d.n_classes, d.binary_input) == (250, 700, 20, True)
    x, y = d.train[0]
    assert x.shape == (250, 700) and x.dtype.is_floating_point is False and int(y) == 1
    on = sorted(map(tuple, x.nonzero().tolist()))
    assert on == [(0, 3), (1, 4), (2, 5), (249, 6)]  # 0.996002 s and 1.05 s dropped; duplicate counted once
    assert (tmp_path / "SHD" / "shd_train.h5.zip").exists()  # tonic's marker, so it does not re-download
    # the authors' channel order: unit u -> 700 - u, unit 0 dropped
    d2 = build_data({**cfg, "authors_channels": True}, str(tmp_path))
    assert sorted(map(tuple, d2.train[0][0].nonzero().tolist())) == [(0, 697), (1, 696), (2, 695), (249, 694)]
    assert d2.train[1][0].sum() == 0  # its only spike was on unit 0


def test_cache_reused_and_keyed_by_config(tmp_path):
    random_hsd(tmp_path / "SHD" / "shd_train.h5", 6, seed=1)
    random_hsd(tmp_path / "SHD" / "shd_test.h5", 3, seed=2)
    cfg = {"name": "shd", "dt_ms": 4.0, "duration_ms": 1000.0, "val_fraction": 0.0, "download": False}
    a = build_data(cfg, str(tmp_path))
    entries = sorted((tmp_path / "cache" / "shd").glob("*.npz"))
    assert len(entries) == 2  # train and test
    b = build_data(cfg, str(tmp_path))
    assert len(list((tmp_path / "cache" / "shd").glob("*.npz"))) == 2
    assert all(np.array_equal(a.train[i][0], b.train[i][0]) for i in range(6))
    c = build_data({**cfg, "dt_ms": 5.0}, str(tmp_path))  # a changed setting never reuses a stale entry
    assert c.n_steps == 200 and len(list((tmp_path / "cache" / "shd").glob("*.npz"))) == 4
    # a truncated (half-written) cache entry is detected by its checksum and rebuilt, never trusted
    entries[0].write_bytes(entries[0].read_bytes()[:100])
    r = build_data(cfg, str(tmp_path))
    assert all(np.array_equal(a.train[i][0], r.train[i][0]) for i in range(6))
    assert all(np.array_equal(a.test[i][0], r.test[i][0]) for i in range(3))
    # replacing a source file changes the key too
    random_hsd(tmp_path / "SHD" / "shd_test.h5", 4, seed=3)
    assert len(build_data(cfg, str(tmp_path)).test) == 4


def test_missing_files_one_clear_message(tmp_path):
    with pytest.raises(DataError) as e:
        build_data({"name": "shd", "download": False}, str(tmp_path))
    msg = str(e.value)
    assert "SHD not found" in msg and str(tmp_path / "SHD" / "shd_train.h5") in msg
    assert "shd_test.h5" in msg and "zenkelab.org" in msg and "paths.data_dir" in msg and "\n" not in msg


def test_truncated_and_foreign_hdf5_name_the_file(tmp_path):
    path = random_hsd(tmp_path / "SHD" / "shd_train.h5", 50, spikes_per_sample=200)
    random_hsd(tmp_path / "SHD" / "shd_test.h5", 2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="truncated or corrupt") as e:
        build_data({"name": "shd", "download": False}, str(tmp_path))
    assert str(path) in str(e.value)
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset("labels", data=np.zeros(2))
    with pytest.raises(DataError, match="missing spikes/times") as e:
        build_data({"name": "shd", "download": False}, str(tmp_path))
    assert str(path) in str(e.value)


def test_ssc_uses_its_validation_file(tmp_path):
    for split, n in (("train", 5), ("valid", 3), ("test", 2)):
        random_hsd(tmp_path / "SSC" / f"ssc_{split}.h5", n, n_classes=35, seed=n)
    d = build_data({"name": "ssc", "val_fraction": 0.5, "download": False}, str(tmp_path))
    assert (len(d.train), len(d.val), len(d.test), d.n_classes) == (5, 3, 2, 35)


@pytest.mark.parametrize("name, n_classes", [("shd", 20), ("ssc", 35)])
def test_one_epoch(tmp_path, run_cfg, name, n_classes):
    splits = ("train", "test") if name == "shd" else ("train", "valid", "test")
    for i, split in enumerate(splits):
        random_hsd(tmp_path / "data" / name.upper() / f"{name}_{split}.h5", 12, n_classes=n_classes, seed=i)
    cfg = run_cfg([f"dataset={name}", "encoder=identity", "trainer.epochs=1", "trainer.batch_size=6",
                   "model.hidden=[8]", "dataset.limit_train=12", "dataset.limit_test=6", "dataset.download=false"])
    m = run(cfg)
    assert m["epochs"] == 1 and m["dataset"] == name and 0.0 <= m["test_acc"] <= 1.0
    assert np.isfinite(m["train_loss"])
