"""Evaluation outputs of a real (tiny) run, the plots made from its run directory, and the Table 2 builder."""

import json

import numpy as np
import pytest
import torch

from conftest import compose

from srnn_bench.reporting import plots, table2
from srnn_bench.run import run

PNG = b"\x89PNG\r\n\x1a\n"


def _npz(path, per_step=False, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 48)
    x = (rng.random((48, 10, 4)) * 0.5 + y[:, None, None] * 0.3).astype(np.float32)
    if per_step:
        ys = np.repeat(y[:, None], 10, axis=1)
        ys[:, :2] = -100
        np.savez(path, x=x, y=ys)
    else:
        np.savez(path, x=x, y=y)
    return path


@pytest.fixture
def tiny_run(tmp_path, run_cfg):
    p = _npz(tmp_path / "d.npz")
    cfg = run_cfg(["dataset=npz", f"dataset.path={p}", "encoder=identity", "trainer.epochs=2", "model.hidden=[12]",
                   "trainer.batch_size=16", "dataset.test_fraction=0.25"])
    metrics = run(cfg)
    return tmp_path / "run", metrics


def test_evaluate_writes_accuracies_and_confusion(tiny_run):
    run_dir, m = tiny_run
    conf = json.loads((run_dir / "test_confusion.json").read_text())
    counts = np.array(conf["matrix"])
    assert counts.shape == (3, 3) and counts.sum() == 12  # 25% of 48 test sequences
    assert conf["accuracy"] == pytest.approx(m["test_acc"])  # same predictions as the accuracy
    assert (run_dir / "test_confusion.csv").is_file()
    assert len(m["test_anytime_acc"]) == 10
    assert m["test_frame_acc"] == pytest.approx(float(np.mean(m["test_anytime_acc"])))
    assert m["energy_per_step_pj"] == pytest.approx(3.1 * m["mac_per_step"] + 0.1 * m["ac_per_step"])
    # identity encoder on analog data: 4 inputs x 12 MACs + 12 ALIF x 3 + 3 integrators x 1
    assert m["mac_per_step"] == 4 * 12 + 12 * 3 + 3
    assert m["sop_per_sample"] == pytest.approx(m["sop_per_step"] * 10)
    assert (run_dir / "checkpoints" / "init.pt").is_file()


def test_per_step_labels_frame_accuracy(tmp_path, run_cfg):
    p = _npz(tmp_path / "d.npz", per_step=True)
    cfg = run_cfg(["dataset=npz", f"dataset.path={p}", "encoder=identity", "trainer.epochs=1", "model.hidden=[8]",
                   "trainer.loss=per_step", "dataset.test_fraction=0.25"])
    m = run(cfg)
    conf = json.loads((tmp_path / "run" / "test_confusion.json").read_text())
    assert np.array(conf["matrix"]).sum() == 12 * 8  # labelled frames only (2 of 10 unlabelled)
    assert m["test_frame_acc"] == pytest.approx(m["test_acc"]) == pytest.approx(conf["accuracy"])
    curve = m["test_frame_acc_per_step"]
    assert len(curve) == 10 and curve[0] is None and curve[1] is None  # unlabelled steps
    assert np.mean(curve[2:]) == pytest.approx(m["test_acc"])  # same number of labelled frames per step


def test_initial_state_is_recreated_from_config_and_seed(tiny_run):
    run_dir, _ = tiny_run
    saved = torch.load(run_dir / "checkpoints" / "init.pt", weights_only=False)["model"]
    again = plots.recreate_initial_state(run_dir)
    assert saved.keys() == again.keys()
    for k in saved:
        assert torch.equal(saved[k], again[k]), k
    last = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)["model"]
    assert not torch.equal(last["layers.0.cell.tau_m"], saved["layers.0.cell.tau_m"])  # trained


def test_plots_from_run_dir(tiny_run):
    run_dir, _ = tiny_run
    (run_dir / "checkpoints" / "init.pt").unlink()  # exercise the re-creation path
    made = plots.plot_run(run_dir)
    assert set(made) == {"anytime_acc", "firing_rate", "tau_hist", "surrogates", "stream"}
    assert made.pop("stream") is None  # sequence labels: no per-step probability plot
    for name, path in made.items():
        assert path is not None and path.read_bytes()[:8] == PNG, name


def test_stream_plot_of_a_per_step_label_run(run_cfg, tmp_path):
    """Yin Fig. 4d: per-step class probabilities of one test sequence of a trained ECG network."""
    from srnn_bench.data.fixtures import write_yin_qtdb
    from srnn_bench.run import run

    write_yin_qtdb(tmp_path / "data" / "yin2021" / "data", n_train=4, n_test=2)
    run(run_cfg(["experiment=ecg_alif", "trainer.epochs=1", "trainer.batch_size=4", "trainer.num_threads=1"]))
    probs, y, names = plots.stream_probabilities(tmp_path / "run", sequence=1)
    assert probs.shape == (1301, 6) and names == ["P", "PQ", "QR", "RS", "ST", "TP"]
    assert torch.allclose(probs.sum(-1), torch.ones(1301, dtype=probs.dtype))
    from srnn_bench.data import build_data

    d = build_data({"name": "ecg", "source": "yin2021", "download": False}, str(tmp_path / "data"))
    assert torch.equal(y, d.test[1][1])
    made = plots.plot_run(tmp_path / "run")
    assert made["stream"].read_bytes()[:8] == PNG


def test_plots_skip_missing_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    made = plots.plot_run(tmp_path / "empty", tmp_path / "out")
    assert made["anytime_acc"] is None and made["tau_hist"] is None and made["firing_rate"] is None
    assert made["surrogates"].read_bytes()[:8] == PNG


def test_table2_builder(tmp_path):
    runs = tmp_path / "runs"
    good = runs / "shd" / "a"
    good.mkdir(parents=True)
    from omegaconf import OmegaConf

    from srnn_bench.utils.io import atomic_write_text

    atomic_write_text(good / "config.yaml", OmegaConf.to_yaml(compose(["experiment=shd_alif"])))  # matched by config
    (good / "metrics.json").write_text(json.dumps({
        "experiment": "shd_alif", "test_acc": 0.85, "firing_rate": 0.02, "ac_per_step": 10000.0,
        "mac_per_step": 788.0, "energy_per_step_pj": 3.1 * 788 + 1000.0}))
    broken = runs / "x" / "b"
    broken.mkdir(parents=True)
    (broken / "metrics.json").write_text("{not json")
    out = table2.build([runs, tmp_path / "absent"], tmp_path / "table2.md")
    text = out.read_text()
    shd_relu = next(line for line in text.splitlines() if line.startswith("| SHD | ReLU SRNN"))
    assert "142,612" in shd_relu and "✓" in shd_relu
    assert "| shd_alif | – | 85.00 |" in text
    missing = text.split("No run directory")[1]
    assert "ssc_alif" in missing and "shd_alif," not in missing
    assert "energy ratio = E/E_ref" in text
    # measured Table S2 ratios against the paper's SHD Adaptive SRNN row (3515.7 pJ, 87.81%)
    row = next(line for line in text.splitlines() if line.startswith("| shd_alif |"))
    e_ratio = (3.1 * 788 + 1000.0) / 3515.7
    err_ratio = 0.15 / (1 - 0.8781)
    assert f"| {e_ratio:.4g} | {err_ratio:.4g} | {e_ratio * err_ratio:.4g} |" in row
    # against a chosen reference run: itself -> 1, 1, 1
    text = table2.build([runs], tmp_path / "t.md", reference="shd_alif").read_text()
    assert "| shd_alif | – | 85.00 |" in text and "| shd_alif | 1 | 1 | 1 |" in text


def test_parse_printed_precision():
    assert table2.parse_printed("142.6k") == (pytest.approx(142600), pytest.approx(50))
    assert table2.parse_printed(".5k") == (pytest.approx(500), pytest.approx(50))
    assert table2.parse_printed("1.1M") == (pytest.approx(1.1e6), pytest.approx(5e4))
    assert table2.parse_printed(788) == (788, 0.5)


def test_table_s2_block_against_our_own_reference(tmp_path):
    """--block ECG: mean ± sd over seeds, both counting rules, ratios against OUR ecg_alif runs."""
    from omegaconf import OmegaConf

    runs = tmp_path / "runs"
    for i, (exp, acc0, accm, e) in enumerate([("ecg_alif", 0.85, 0.86, 200.0), ("ecg_alif", 0.87, 0.88, 220.0),
                                              ("ecg_lstm", 0.79, 0.80, 21000.0)]):
        d = runs / exp / f"seed{i}"
        d.mkdir(parents=True)
        # a run is matched by its resolved config (never by the free-text name)
        (d / "config.yaml").write_text(OmegaConf.to_yaml(compose([f"experiment={exp}"])))
        (d / "metrics.json").write_text(json.dumps({
            "experiment": exp, "test_acc": acc0, "test_acc_class0": acc0, "test_acc_masked": accm,
            "energy_per_step_pj": e, "epochs": 400 if exp == "ecg_alif" else 40, "wall_time_s": 10.0 * (i + 1)}))
    text = table2.build([runs], tmp_path / "s2.md", block="ECG").read_text()
    alif = next(line for line in text.splitlines() if line.startswith("| Adaptive SRNN"))
    assert "| 85.9 | 87.00 ± 1.41 | 86.00 ± 1.41 | 2 | 400 | 325.7 | 210 | 1 / 1 | 1 / 1 | 1 / 1 | 15 |" in alif
    lstm = next(line for line in text.splitlines() if line.startswith("| LSTM"))
    e_ratio, err_ratio = 21000.0 / 210.0, 0.21 / 0.14
    assert f"| 62.7 / {e_ratio:.3g} | 1.43 / {err_ratio:.3g} | 89.6 / {e_ratio * err_ratio:.3g} |" in lstm
    assert "No run directory for: ecg_lif, ecg_relu, ecg_gru, ecg_rnn, ecg_bilstm." in text
    with pytest.raises(ValueError, match="no Table 2 / S2 rows for task 'ECGX'"):
        table2.build([runs], tmp_path / "x.md", block="ECGX")
