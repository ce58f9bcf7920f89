"""Analytic costs (srnn_bench.metrics.cost) of the papers' networks, counted by hand, and the
``python -m srnn_bench.energy`` command."""

import json
import subprocess
import sys

import pytest
import torch
import yaml
from conftest import ROOT, compose

from srnn_bench.energy import main as energy_main
from srnn_bench.metrics import count_ops, rnn_architecture, srnn_architecture

# ---------------------------------------------------------------------------------------------
# the paper's architectures, by hand


def test_shd_relu_srnn_matches_table2_and_s2():
    """Yin Table 2: SHD ReLU SRNN 128+128 = 142.6k MAC/step; Table S2: 442097.2 pJ/step."""
    synapses = 700 * 128 + 128 * 128 + 128 * 128 + 128 * 128 + 128 * 20  # in, rec1, 1->2, rec2, out
    state = (128 + 128) * 5 + 20 * 1  # ReLU-SRNN neurons 5 MACs, integrator readout 1 MAC
    assert synapses + state == 142612
    ops = count_ops(srnn_architecture(700, [128, 128], 20, "relu"), rates=0.0)
    assert ops.mac == 142612 and ops.ac == 0
    assert 3.1 * ops.mac == pytest.approx(442097.2)  # Table S2, to the printed 0.1 pJ


def test_soli_relu_srnn_matches_s2():
    # 1024 analog inputs -> dense 512 -> recurrent 512 -> 11 classes (Yin Methods: first layer feed-forward)
    mac = 1024 * 512 + 512 * 512 + 512 * 512 + 512 * 11 + 1024 * 5 + 11
    assert mac == 1059339
    ops = count_ops(srnn_architecture(1024, [512, 512], 11, "relu", recurrent=[False, True]), 0.0)
    assert ops.mac == mac and 3.1 * mac == pytest.approx(3283950.9)


def test_alif_srnn_macs_match_table2():
    # SHD ALIF 128+128: spike input (AC), MACs = state only: 256 x 3 + 20 x 1 = 788 (Table 2: 788)
    arch = srnn_architecture(700, [128, 128], 20, "alif", input_binary=True)
    ops = count_ops(arch, rates={"input": 0.01, "layer0": 0.02, "layer1": 0.03})
    assert ops.mac == 256 * 3 + 20 == 788
    # AC = 0.01*700*128 + 0.02*128*(128+128) + 0.03*128*(128+20)
    assert ops.ac == pytest.approx(0.01 * 700 * 128 + 0.02 * 128 * 256 + 0.03 * 128 * 148)
    # the printed energy 3515.7 then implies AC = (3515.7 - 3.1*788)/0.1 = 10729 (Table 2: 10.7k)
    assert (3515.7 - 3.1 * 788) / 0.1 == pytest.approx(10729)
    # ECG LIF 4+36+6: 42 neurons x 1 MAC = 42 (Table 2: 42)
    assert count_ops(srnn_architecture(4, [36], 6, "lif", readout="lif", input_binary=True), 0.0).mac == 42


def test_lstm_gru_rnn_follow_ponghiran_eq10():
    m, n, c = 3, 2, 2
    # Ponghiran eq. 10: LSTM 3n + 4(m+n)n, GRU 3n + 3(m+n)n; RNN (m+n)n; + linear readout n*c
    assert count_ops(rnn_architecture("lstm", m, [n], c), 0.0).mac == 3 * n + 4 * (m + n) * n + n * c == 50
    assert count_ops(rnn_architecture("gru", m, [n], c), 0.0).mac == 3 * n + 3 * (m + n) * n + n * c == 40
    assert count_ops(rnn_architecture("rnn", m, [n], c), 0.0).mac == (m + n) * n + n * c == 14
    # bi-LSTM, 2 layers: layer 2 reads both directions (2n inputs); dense 4; readout from dense
    bi = count_ops(rnn_architecture("lstm", m, [n, n], c, bidirectional=True, dense=[4]), 0.0).mac
    per_dir = lambda mm: 3 * n + 4 * (mm + n) * n
    assert bi == 2 * per_dir(m) + 2 * per_dir(2 * n) + 2 * n * 4 + 4 * c


def test_bidirectional_srnn_by_hand():
    # TIMIT-like: 39 analog inputs -> forward and backward 256 ALIF -> 61 integrators
    ops = count_ops(srnn_architecture(39, [256], 61, "alif", bidirectional=True), rates=0.1)
    assert ops.mac == 39 * 512 + 512 * 3 + 61
    assert ops.ac == pytest.approx(0.1 * 512 * (256 + 61))


def test_unknown_choices_fail_with_one_line():
    with pytest.raises(ValueError, match="valid choices"):
        srnn_architecture(3, [2], 2, "alfi")
    with pytest.raises(ValueError, match="valid choices: rnn, gru, lstm"):
        rnn_architecture("lsmt", 3, [2], 2)
    with pytest.raises(ValueError, match="no firing rate for population 'layer0'"):
        count_ops(srnn_architecture(3, [2], 2, "alif", input_binary=True), rates={"input": 0.1})


# ---------------------------------------------------------------------------------------------
# the command


def run_cli(capsys, *args):
    rc = energy_main([*args, "--json"])
    cap = capsys.readouterr()
    return rc, (json.loads(cap.out) if rc == 0 else cap.err)


def test_cli_config_with_overrides_and_rates(capsys):
    rc, out = run_cli(capsys, "model.hidden=[32,16]", "encoder=identity", "--n-in", "5", "--n-classes", "3",
                      "--steps", "10", "--rate", "layer0=0.1", "--rate", "layer1=0.2")
    assert rc == 0
    # identity encoder: 5 analog inputs -> MACs; layer0 spikes: 0.1 x 32 x (32 rec + 16); layer1: 0.2 x 16 x (16 + 3)
    assert out["ac_per_step"] == pytest.approx(0.1 * 32 * 48 + 0.2 * 16 * 19)
    assert out["mac_per_step"] == 5 * 32 + 48 * 3 + 3 * 1
    assert out["energy_per_sample_pj"] == pytest.approx(10 * (3.1 * out["mac_per_step"] + 0.1 * out["ac_per_step"]))


def test_cli_errors(capsys):
    rc, err = run_cli(capsys, "neuron=alfi", "--n-in", "1", "--n-classes", "2", "--rate", "0.1")
    assert rc == 2 and "unknown neuron 'alfi'; valid choices" in err and len(err.strip().splitlines()) == 1
    rc, err = run_cli(capsys, "--n-in", "1", "--n-classes", "2")
    assert rc == 2 and "no firing rate for" in err
    rc, err = run_cli(capsys, "dataset=npz", "--rate", "0.1")  # no sizes in the config, and the data cannot be loaded
    assert rc == 2 and "--n-in and --n-classes" in err and "dataset.path is not set" in err
    rc, err = run_cli(capsys, "--n-in", "1", "--n-classes", "2", "--rate", "1.5")
    assert rc == 2 and "outside [0, 1]" in err


def test_cli_arch_matches_table2(capsys):
    rc, out = run_cli(capsys, "--arch", "relu", "--n-in", "700", "--hidden", "128", "128", "--n-classes", "20")
    assert rc == 0 and out["mac_per_step"] == 142612 and out["energy_per_step_pj"] == pytest.approx(442097.2)


def test_cli_run_dir_uses_measured_rates(tmp_path, capsys):
    """A run directory as the trainer writes it: config.yaml, metrics.json, checkpoints/last.pt."""
    from srnn_bench.models import build_model
    from srnn_bench.surrogates import build_surrogate

    cfg = compose(["model.hidden=[8,4]"])
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    from omegaconf import OmegaConf

    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    model = build_model(cfg.model, 16, 10, cfg.neuron, build_surrogate(cfg.surrogate))  # population code: 1 x 16
    torch.save({"model": model.state_dict()}, run_dir / "checkpoints" / "last.pt")
    rates = {"layer0": 0.25, "layer1": 0.5}
    (run_dir / "metrics.json").write_text(json.dumps({"firing_rate_per_layer": rates, "input_rate": 1.0, "steps": 40}))
    rc, out = run_cli(capsys, "--run-dir", str(run_dir))
    assert rc == 0 and out["steps"] == 40 and out["n_in"] == 16
    assert out["ac_per_step"] == pytest.approx(0.25 * 8 * (8 + 4) + 0.5 * 4 * (4 + 10))
    assert out["mac_per_step"] == 16 * 8 + 12 * 3 + 10


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "srnn_bench.energy", "--arch", "lstm", "--n-in", "4", "--hidden", "36",
                           "--n-classes", "6"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "MAC 6,084.0" in proc.stdout  # 3*36 + 4*(4+36)*36 + 36*6


def test_paper_values_file_is_complete():
    data = yaml.safe_load((ROOT / "results" / "paper_values" / "yin2021_table2.yaml").read_text())
    assert "Table 2" in data["source"]["table2"] and "Table S2" in data["source"]["tableS2"]
    refs = [k for k, r in data["rows"].items() if r.get("reference")]
    assert len(refs) == len({data["rows"][k]["task"] for k in data["rows"]}) == 8


def test_cli_binary_inputs_cost_acs(capsys):
    # level-crossing: 2 channels -> 4 spike channels (up/down); 1 recurrent layer of 4, 3 classes
    rc, out = run_cli(capsys, "encoder=level_crossing", "model.hidden=[4]", "--n-in", "2", "--n-classes", "3",
                      "--rate", "0.1")
    assert rc == 0 and out["input_binary"] and out["n_in"] == 4
    assert out["ac_per_step"] == pytest.approx(0.1 * 4 * 4 + 0.1 * 4 * (4 + 3))
    assert out["mac_per_step"] == 4 * 3 + 3
    rc, out = run_cli(capsys, "encoder=identity", "model.hidden=[4]", "--n-in", "2", "--n-classes", "3",
                      "--rate", "0.1", "--binary-input")
    assert rc == 0 and out["input_binary"] and out["mac_per_step"] == 4 * 3 + 3
