"""ECG on the authors' encoded QTDB (``dataset=ecg dataset.source=yin2021``): the .mat reader on a tiny
format-identical fixture (scipy.io.savemat, same variables/dtypes/shapes), data errors, both per-step
counting rules in the metrics, the ``ecg_alif`` network = the published checkpoint's, and the real files
(skipped when ../shared/data is absent)."""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from conftest import ROOT, compose

from srnn_bench.data import IGNORE_INDEX, DataError, build_data
from srnn_bench.data.cache import sha256_file
from srnn_bench.data.datasets.ecg import YIN_SHA256, read_yin_mat
from srnn_bench.data.fixtures import write_yin_qtdb
from srnn_bench.metrics import per_step_counts

SHARED = Path(os.environ.get("SRNN_BENCH_DATA") or ROOT.parent / "shared" / "data")
REAL = SHARED / "yin2021" / "data"


def _cfg(**kw):
    return {"name": "ecg", "source": "yin2021", "download": False, **kw}


def test_fixture_has_the_authors_format(tmp_path):
    folder = write_yin_qtdb(tmp_path / "yin2021" / "data", n_train=3, n_test=2)
    mat = scipy.io.loadmat(folder / "QTDB_train.mat")
    assert mat["x"].dtype == np.int16 and mat["x"].shape == (3, 1301, 4)
    assert mat["y"].dtype == np.uint8 and mat["y"].shape == (3, 1301, 6)
    assert mat["t"].dtype == np.uint16 and mat["t"].shape == (3, 1301)
    assert mat["max_i"].shape == (3, 1)
    assert set(np.unique(mat["x"])) <= {-1, 0, 1} and (mat["x"] == -1).sum() == 3
    assert (mat["y"].sum(-1) == 0).any() and mat["y"].sum(-1).max() == 1


def test_mat_reader_labels_and_unlabelled_steps(tmp_path):
    path = tmp_path / "QTDB_train.mat"
    x = np.zeros((2, 5, 4), np.int16)
    x[0, 1, 2] = 1
    x[1, 0, 0] = -1
    y = np.zeros((2, 5, 6), np.uint8)
    y[0, [0, 1, 2], [3, 3, 0]] = 1  # steps 3, 4 unlabelled
    y[1, :, 5] = 1
    scipy.io.savemat(path, {"x": x, "y": y, "t": np.zeros((2, 5), np.uint16), "max_i": np.full((2, 1), 5, np.uint16)})
    xs, labels = read_yin_mat(path)
    assert xs.dtype == np.float32 and xs[0, 1, 2] == 1.0 and xs[1, 0, 0] == -1.0
    assert labels.tolist() == [[3, 3, 0, IGNORE_INDEX, IGNORE_INDEX], [5] * 5]


def test_build_yin2021_splits_and_unlabelled_choice(tmp_path):
    write_yin_qtdb(tmp_path / "yin2021" / "data", n_train=6, n_test=3)
    d = build_data(_cfg(), str(tmp_path))
    assert (len(d.train), len(d.test), d.n_steps, d.n_inputs, d.n_classes) == (6, 3, 1301, 4, 6)
    assert d.per_step_labels and d.binary_input and d.unlabelled_class is None
    _, y = d.train[0]
    assert y.shape == (1301,) and (y == IGNORE_INDEX).any()
    assert build_data(_cfg(unlabelled="class0"), str(tmp_path)).unlabelled_class == 0


def test_yin2021_data_errors_are_one_line(tmp_path):
    with pytest.raises(DataError) as e:
        build_data(_cfg(), str(tmp_path))
    msg = str(e.value)
    assert "\n" not in msg and "QTDB_train.mat" in msg and str(tmp_path / "yin2021" / "data") in msg
    assert "raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/data/QTDB_train.mat" in msg
    folder = write_yin_qtdb(tmp_path / "yin2021" / "data", n_train=2, n_test=2)
    (folder / "QTDB_test.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(DataError, match=r"QTDB_test.mat: not a readable MATLAB file"):
        build_data(_cfg(), str(tmp_path))
    scipy.io.savemat(folder / "QTDB_test.mat", {"x": np.zeros((2, 7, 4), np.int16), "y": np.zeros((2, 7, 5), np.uint8)})
    with pytest.raises(DataError, match=r"expected x \[N, T, C\] and y \[N, T, 6\]"):
        build_data(_cfg(), str(tmp_path))
    with pytest.raises(ValueError, match="dataset.unlabelled 'drop'; valid choices: mask, class0"):
        build_data(_cfg(unlabelled="drop"), str(tmp_path))
    with pytest.raises(ValueError, match="dataset.source 'mit'; valid choices: physionet, yin2021"):
        build_data(_cfg(source="mit"), str(tmp_path))


def test_per_step_counts_both_rules():
    y = torch.tensor([[0, 1, IGNORE_INDEX], [2, IGNORE_INDEX, IGNORE_INDEX]])
    pred = torch.tensor([[0, 2, 0], [2, 0, 3]])
    # labelled: 4 steps, 2 correct; class-0 counting: + the unlabelled step predicted 0 (1 of 2... of 2)
    assert per_step_counts(pred, y) == (2, 3, 4, 6)


@pytest.mark.parametrize("unlabelled", ["mask", "class0"])
def test_ecg_run_reports_both_accuracies(run_cfg, tmp_path, unlabelled):
    from srnn_bench.run import run

    write_yin_qtdb(tmp_path / "data" / "yin2021" / "data", n_train=4, n_test=3)
    cfg = run_cfg(["experiment=ecg_alif", "trainer.epochs=1", "trainer.batch_size=4", f"dataset.unlabelled={unlabelled}",
                   "trainer.num_threads=1"])
    m = run(cfg)
    assert 0 <= m["test_acc_masked"] <= 1 and 0 <= m["test_acc_class0"] <= 1
    assert m["test_acc"] == (m["test_acc_masked"] if unlabelled == "mask" else m["test_acc_class0"])


def test_ecg_alif_is_the_published_network(tmp_path):
    """shared/reference/yin2021_checkpoints/ecg_0.8589.json: 4-36-6, b_j0 0.1, hidden beta 0, 6 spiking
    adaptive outputs (beta 1.8); loss from step 10; time constants at x3 (hidden) / x2 (output) lr."""
    from srnn_bench.models import build_model
    from srnn_bench.surrogates import build_surrogate
    from srnn_bench.training.optim import build_optimizer

    cfg = compose(["experiment=ecg_alif"])
    assert cfg.dataset.source == "yin2021" and cfg.encoder.name == "identity" and cfg.trainer.skip_steps == 10
    assert cfg.dataset.unlabelled == "class0"  # the authors train and count unlabelled steps as class 0
    model = build_model(cfg.model, 4, 6, cfg.neuron, build_surrogate(cfg.surrogate))
    hidden, out = model.layers[0].cell, model.readout.cell
    assert [len(model.layers), hidden.size, out.size] == [1, 36, 6] and model.layers[0].w_rec is not None
    assert (hidden.b_j0, hidden.beta, out.b_j0, out.beta) == (0.1, 0.0, 0.1, 1.8)
    assert model.readout_kind == "spiking" and out.spiking
    assert abs(hidden.tau_adp.mean().item() - 7.0) < 0.1 and abs(out.tau_adp.mean().item() - 100.0) < 1.0
    lrs = {g["name"]: g["lr"] for g in build_optimizer(model, cfg.optimizer, float(cfg.trainer.lr)).param_groups}
    assert lrs == pytest.approx({"weights": 1e-2, "time_constants": 3e-2, "readout_time_constants": 2e-2})


@pytest.mark.skipif(not (REAL / "QTDB_test.mat").is_file(), reason=f"the authors' ECG .mat files are not at {REAL}")
def test_real_authors_files():
    """The published files: sha256, 618 / 141 sequences of 1301 steps, and the 19056 unlabelled test steps
    from step 10 on that ecg_0.8589.json counts (182031 steps, 162975 labelled)."""
    for name, sha in YIN_SHA256.items():
        assert sha256_file(REAL / name) == sha, name
    d = build_data({"name": "ecg", "source": "yin2021", "download": False, "root": str(REAL)}, "unused")
    assert (len(d.train), len(d.test), d.n_steps, d.n_inputs) == (618, 141, 1301, 4)
    y = torch.stack([d.test[i][1] for i in range(len(d.test))])[:, 10:]
    assert y.numel() == 182031 and int((y != IGNORE_INDEX).sum()) == 162975
    y_all = torch.cat([torch.stack([ds[i][1] for i in range(len(ds))]).flatten() for ds in (d.train, d.test)])
    assert abs(float((y_all == IGNORE_INDEX).float().mean()) - 0.082) < 0.005  # README: 8.2 % unlabelled
