"""QTDB ECG: level-crossing code on known inputs, wave labels from q1c annotations on generated
format-identical wfdb records (read through the real loader), a one-epoch run, clear data errors."""


import numpy as np
import pytest
import torch

from srnn_bench.data import IGNORE_INDEX, DataError, build_data
from srnn_bench.data.datasets.ecg import CLASSES, fiducials, label_steps
from srnn_bench.data.fixtures import ECG_BEAT as BEAT
from srnn_bench.data.fixtures import ECG_BEAT_ANN as BEAT_ANN
from srnn_bench.data.fixtures import make_qtdb
from srnn_bench.encoders import LevelCrossing


def test_level_crossing_ramp_and_step():
    """Yin et al. 2021, Methods, ECG: S+ = [x_t - x_{t-1} >= L+], S- = [x_{t-1} - x_t >= L-], L = 0.3."""
    enc = LevelCrossing(0.3, 0.3)
    t = torch.arange(10.0)
    slow, fast = 0.1 * t, 0.5 * t  # ramps: slope below / above the level
    x = torch.stack([slow, fast, -fast], dim=-1)[:, None, :]  # [T, B=1, C=3]
    s = enc(x)[:, 0]  # [T, 6]: (up, down) per channel
    assert s[:, 0:2].sum() == 0  # slope 0.1 < 0.3: silent
    assert s[1:, 2].tolist() == [1.0] * 9 and s[0, 2] == 0 and s[:, 3].sum() == 0  # up spike every step after t=0
    assert s[1:, 5].tolist() == [1.0] * 9 and s[:, 4].sum() == 0  # falling ramp: down channel
    step = torch.zeros(10, 1, 1)
    step[4:] = 1.0
    step[7:] = 0.75  # a fall of 0.25 < L-: no down spike
    out = enc(step)[:, 0]
    assert out[:, 0].nonzero().flatten().tolist() == [4] and out[:, 1].sum() == 0
    exact = torch.tensor([0.0, 0.3, 0.0])[:, None, None]  # the threshold is inclusive (>=)
    assert enc(exact)[:, 0].tolist() == [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def test_labels_from_fiducials_hand_counted():
    samples = np.array([s for b in (0, BEAT) for s in [b + o for o, _ in BEAT_ANN]])
    symbols = [sym for _ in range(2) for _, sym in BEAT_ANN]
    ev = fiducials(samples, symbols)
    assert ev[:6] == [(0, 0), (20, 1), (40, 2), (50, 3), (60, 4), (140, 5)]
    y = label_steps(ev, 400, max_gap=500)
    # beat 1: P [0,20) PQ [20,40) QR [40,50) RS [50,60) ST [60,140) TP [140,200); beat 2 likewise
    expected = np.full(400, IGNORE_INDEX)
    for b in (0, BEAT):
        for lo, hi, c in [(0, 20, 0), (20, 40, 1), (40, 50, 2), (50, 60, 3), (60, 140, 4), (140, 200, 5)]:
            expected[b + lo : b + hi] = c
    expected[BEAT + 140 :] = IGNORE_INDEX  # after the last T offset no next P onset: unlabelled
    assert np.array_equal(y, expected)
    # a missing QRS offset breaks the cycle: RS and ST of that beat are unlabelled
    keep = [i for i, (o, s) in enumerate(BEAT_ANN) if o != 60]
    ev2 = fiducials(samples[keep], [symbols[i] for i in keep])
    y2 = label_steps(ev2, 200, max_gap=500)
    assert (y2[50:140] == IGNORE_INDEX).all() and (y2[40:50] == 2).all()
    # a QRS labelled with another beat symbol (ventricular 'V') is segmented the same way
    assert fiducials(samples, [("V" if s == "N" else s) for s in symbols]) == ev
    # spans longer than max_gap are unlabelled
    assert (label_steps(ev, 400, max_gap=50)[60:140] == IGNORE_INDEX).all()


def test_loader_and_one_epoch(tmp_path, run_cfg):
    from srnn_bench.run import run

    data = tmp_path / "data"
    make_qtdb(data / "qtdb")
    cfg = run_cfg(["dataset=ecg", "dataset.download=false", "encoder=level_crossing", "model.hidden=[8]",
                   "trainer.epochs=1", "trainer.batch_size=4", "trainer.loss=per_step"], data_dir=data)
    d = build_data(cfg.dataset, str(data))
    assert (d.n_inputs, d.n_classes, d.n_steps, d.per_step_labels) == (2, 6, 1301, True)
    # annotated region [100, 2700) of 3000 samples: one full 1301 window per record; 1 of 3 records is test
    assert (len(d.train), len(d.test)) == (2, 1)
    x, y = d.train[0]
    assert x.shape == (1301, 2) and y.shape == (1301,)
    assert torch.allclose(x.mean(0), torch.zeros(2), atol=0.2)  # z-scored per record
    # the window starts at the first annotation (a P onset): labels follow the beat template
    assert y[:20].tolist() == [0] * 20 and y[20:40].tolist() == [1] * 20 and y[60:140].tolist() == [4] * 80
    assert set(y.unique().tolist()) == set(range(len(CLASSES)))
    spikes = LevelCrossing(0.3, 0.3)(x[:, None, :])
    assert spikes.shape == (1301, 1, 4) and 0 < spikes.sum() < 1301  # the QRS slopes cross the level
    # one short epoch through run(): 400-step windows (same code path, a third of the BPTT length)
    short = run_cfg(["dataset=ecg", "dataset.download=false", "dataset.seq_len=400", "dataset.limit_train=4",
                     "dataset.limit_test=4", "encoder=level_crossing", "model.hidden=[8]", "trainer.epochs=1",
                     "trainer.batch_size=4", "trainer.loss=per_step"], data_dir=data)
    metrics = run(short)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0


def test_missing_database_message(tmp_path, run_cfg):
    cfg = run_cfg(["dataset=ecg", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError) as e:
        build_data(cfg.dataset, str(tmp_path))
    msg = str(e.value)
    assert str(tmp_path / "qtdb") in msg and ".q1c" in msg and "physionet.org" in msg and "\n" not in msg


@pytest.mark.parametrize("which,damage", [("dat", "truncate"), ("hea", "garbage"), ("q1c", "garbage"), ("q1c", "truncate")])
def test_damaged_record_names_the_file(tmp_path, run_cfg, which, damage):
    root = make_qtdb(tmp_path / "qtdb")
    bad = root / f"sel102.{which}"
    blob = bad.read_bytes()
    bad.write_bytes(blob[: len(blob) // 2] if damage == "truncate" else b"garbage\n")
    cfg = run_cfg(["dataset=ecg", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError) as e:
        build_data(cfg.dataset, str(tmp_path))
    assert str(root / "sel102") in str(e.value) and "download it again" in str(e.value)
