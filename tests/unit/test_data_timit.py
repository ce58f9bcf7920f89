"""TIMIT: the real loader on a generated corpus (NIST SPHERE and RIFF .WAV + .PHN), 39 MFCC
features, framewise 61/39-class labels, core test set, min-max with train statistics, one epoch,
and the one message when the licensed corpus is absent."""

import numpy as np
import pytest

from srnn_bench.data import IGNORE_INDEX, DataError, build_data
from srnn_bench.data.audio import frame_count, mfcc39
from srnn_bench.data.datasets.timit import PHONES_39, PHONES_61
from srnn_bench.data.fixtures import SR, make_timit
from srnn_bench.data.fixtures import TIMIT_PHN as PHN


def expected_labels(index):
    centres = np.arange(58) * 160 + 200
    y = np.full(58, IGNORE_INDEX)
    for a, b, p in PHN:
        if index[p] is not None:
            y[(centres >= a) & (centres < b)] = index[p]
    return y


def test_mfcc39_frames_and_shape():
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    f = mfcc39(x)
    assert f.shape == (frame_count(SR), 39) == (98, 39)  # 1 + (16000 - 400) // 160
    assert np.isfinite(f).all()
    # the 13th static feature is the log frame energy: log sum of squares of frame 0's 400 samples
    assert f[0, 12] == pytest.approx(np.log((x[:400].astype(np.float64) ** 2).sum()), rel=1e-5)
    assert mfcc39(x[:399]).shape == (0, 39)


def test_loader_labels_splits_and_one_epoch(tmp_path, run_cfg):
    from srnn_bench.run import run

    data = tmp_path / "data"
    make_timit(data / "TIMIT")
    cfg = run_cfg(["dataset=timit", "dataset.val_fraction=0.25", "encoder=identity", "model.hidden=[8]",
                   "trainer.epochs=1", "trainer.batch_size=2", "trainer.loss=per_step"], data_dir=data)
    d = build_data(cfg.dataset, str(data))
    assert (d.n_inputs, d.n_classes, d.n_steps, d.per_step_labels) == (39, 61, 500, True)
    assert (len(d.train), len(d.val), len(d.test)) == (3, 1, 2)  # SA excluded; core test speakers only
    x, y = d.train[0]
    assert x.shape == (500, 39)
    idx61 = {p: i for i, p in enumerate(PHONES_61)}
    assert np.array_equal(y[:58].numpy(), expected_labels(idx61))
    assert (y[58:] == IGNORE_INDEX).all() and (x[58:] == 0).all()  # padding
    frames = np.concatenate([d.train[i][0][:58].numpy() for i in range(len(d.train))])
    assert np.allclose(frames.min(0), 0.0, atol=1e-6) and np.allclose(frames.max(0), 1.0, atol=1e-6)  # train min-max
    metrics = run(cfg)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0


def test_folding_chunking_full_test_set(tmp_path, run_cfg):
    make_timit(tmp_path / "TIMIT")
    cfg = run_cfg(["dataset=timit", "dataset.phone_set=39", "dataset.test_set=full", "dataset.max_frames=40"], data_dir=tmp_path)
    d = build_data(cfg.dataset, str(tmp_path))
    assert d.n_classes == 39 and len(d.test) == 2 * 3  # 3 test utterances, 58 frames -> 2 pieces of 40
    y = np.concatenate([d.test[0][1].numpy(), d.test[1][1].numpy()[:18]])
    idx39 = {p: (PHONES_39.index({"ao": "aa", "h#": "sil"}.get(p, p)) if p != "q" else None) for p in ("h#", "ao", "q", "s")}
    assert np.array_equal(y, expected_labels(idx39))  # ao -> aa, h# -> sil, q deleted (unlabelled)
    assert (d.test[1][1][18:] == IGNORE_INDEX).all()


def test_absent_corpus_message(tmp_path, run_cfg):
    cfg = run_cfg(["dataset=timit"], data_dir=tmp_path)
    with pytest.raises(DataError) as e:
        build_data(cfg.dataset, str(tmp_path))
    msg = str(e.value)
    assert "TIMIT/TRAIN/DR1" in msg and ".PHN" in msg and "LDC93S1" in msg and str(tmp_path / "TIMIT") in msg
    assert "\n" not in msg


def test_truncated_sphere_wav_names_the_file(tmp_path, run_cfg):
    root = make_timit(tmp_path / "TIMIT")
    bad = root / "TEST/DR1/MDAB0/SX139.WAV"
    blob = bad.read_bytes()
    bad.write_bytes(blob[: len(blob) - 3000])
    cfg = run_cfg(["dataset=timit"], data_dir=tmp_path)
    with pytest.raises(DataError, match="truncated audio file") as e:
        build_data(cfg.dataset, str(tmp_path))
    assert str(bad) in str(e.value) and "LDC93S1" in str(e.value)
