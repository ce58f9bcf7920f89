"""Reproduction of the two secondary papers' tables: De Geeter et al. Table 2 (``src_table2``) and Ponghiran &
Roy 2022 Table 1 (``ponghiran_table1``): their experiment files build the models the papers describe, the
table builder reads the stored paper values and run directories, and one cell per table runs end to end."""

import json
import math
import subprocess

import pytest
import torch
import yaml
from conftest import CONFIG_DIR, ROOT, compose

from srnn_bench.config_validation import validate_config
from srnn_bench.models import build_model
from srnn_bench.neurons import build_cell, quantize
from srnn_bench.reporting.paper_tables import SMOKE_OVERRIDES, TABLES, build_table, main, smoke_cell
from srnn_bench.surrogates import build_surrogate

SRC_TASKS = ["mnist_rate", "mnist_latency", "fmnist_rate", "fmnist_latency", "nmnist"]
SRC_EXPERIMENTS = [f"{n}_{t}" for n in ("src", "lif") for t in SRC_TASKS]
DEEP = {"deep_src10": 10, "deep_src15": 15, "deep_lif10": 10, "deep_lif15": 15}
PONGHIRAN = [f"{d}_{a}" for d in ("timit", "librispeech") for a in ("lstm", "gru", "plif_traditional", "plif_v1", "plif_v2")]
N_IN = {"mnist": 784, "fmnist": 784, "nmnist": 2 * 34 * 34, "timit": 39, "librispeech": 39}
NEW = [*SRC_EXPERIMENTS, *DEEP, "src_mnist_rate_noise", *PONGHIRAN]


def _model(cfg, n_classes=10):
    return build_model(cfg.model, N_IN[cfg.dataset.name], n_classes, cfg.neuron, build_surrogate(cfg.surrogate))


def _paper(name):
    return yaml.safe_load((ROOT / "results" / "paper_values" / TABLES[name].paper_values).read_text())


def test_every_new_experiment_exists_validates_and_builds():
    """Each file composes, passes the run-time validation (which once rejected the population / linear
    readouts) and builds its network with the paper's layer sizes."""
    assert sorted(NEW) == sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml") if p.stem in NEW)
    for name in NEW:
        cfg = compose([f"experiment={name}"])
        assert cfg.experiment_name == name and cfg.trainer.seed == 0
        validate_config(cfg)
        model = _model(cfg, 61 if cfg.dataset.name == "timit" else 10)
        pops = model.populations()
        if name in PONGHIRAN:
            assert list(cfg.model.hidden) == [550, 550] and not cfg.model.bidirectional
            assert cfg.model.readout.kind == "linear" and cfg.trainer.loss == "per_step"
            assert cfg.scheduler.name == "plateau" and cfg.scheduler.factor == 0.5
            assert (cfg.trainer.lr, cfg.trainer.batch_size, cfg.trainer.epochs) == (1e-3, 64, 24)
        else:
            n_hidden = DEEP.get(name, 5 if name.endswith("noise") else 3) - 1
            assert list(cfg.model.hidden) == [512] * n_hidden
            assert cfg.model.readout.kind == "population" and cfg.trainer.loss == "last"
            assert cfg.scheduler.name == "cosine" and cfg.trainer.lr == 5e-3 and cfg.trainer.grad_clip == 1.0
            assert cfg.trainer.batch_size == 64 and cfg.trainer.epochs == (200 if "fmnist" in name else 100)
            # hidden layers + the final layer of 10 x classes neurons, frozen +1 / -0.1 into 10 integrators
            assert model.final.cell.size == 100 and not model.readout.w_in.weight.requires_grad
            w = model.readout.w_in.weight
            assert w[3, 30:40].eq(1.0).all() and w[3, :30].eq(-0.1).all() and w[3, 40:].eq(-0.1).all()
            assert cfg.encoder.name == {"nmnist": "identity"}.get(cfg.dataset.name, "latency" if "latency" in name else "rate")
            if cfg.encoder.name != "identity":
                assert cfg.encoder.num_steps == 200
        assert len(pops) >= len(cfg.model.hidden)


@pytest.mark.parametrize("name", ["src_mnist_rate", "src_mnist_latency", "src_nmnist", "src_mnist_rate_noise"])
def test_src_constants_appendix_a(name):
    cfg = compose([f"experiment={name}"])
    n = cfg.neuron
    assert n.name == "src" and not cfg.model.recurrent and not cfg.model.bias
    assert n.alpha == (0.99 if "latency" in name else 0.9)  # App. A: 0.99 with latency coding
    assert (n.rho, n.r, n.r_s, n.z, n.z_hyp, n.z_dep, n.b_h_init, n.b_h_max) == (3, 2, -7, 0, 0.9, 0, -6, -4)
    assert n.sigma_noise == (0.2 if name.endswith("noise") else 0.0)


@pytest.mark.parametrize("name, alpha_v", [("lif_mnist_rate", 0.9), ("lif_fmnist_latency", 0.99), ("deep_lif15", 0.9)])
def test_lif_baseline_is_snntorch_leaky(name, alpha_v):
    """De Geeter's LIF baseline (Sec. 2.2: V = a V + x, V > V_th -> s = 1, V -> V_rest 0; App. A: V_th 1
    learnable, ATan alpha 2, V starts at 0), written as snnTorch's Leaky(reset_mechanism="zero") computes it
    (reset = H(V_prev - V_th) detached, V = a (1 - reset) V_prev + x, s = H(V - V_th)), against neuron=lif as
    configured: the same spikes, and the same surrogate gradients w.r.t. the input and the threshold."""
    cfg = compose([f"experiment={name}"])
    cell = build_cell(cfg.neuron, 7, build_surrogate(cfg.surrogate))
    g = torch.Generator().manual_seed(1)
    current = (torch.rand(200, 3, 7, generator=g) * 4.0 * (1 - alpha_v)).requires_grad_(True)

    state, ours = cell.init_state(3), []
    for t in range(200):
        s, state = cell(current[t], state)
        ours.append(s)
    ours = torch.stack(ours)
    grad_ours = torch.autograd.grad(ours.sum(), [current, cell.threshold])

    class LeakyATan(torch.autograd.Function):  # snnTorch's ATan(alpha=2) spike
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 1.0 / (1.0 + (math.pi / 2 * 2.0 * x) ** 2)

    thr = torch.tensor(1.0, requires_grad=True)
    v, ref = torch.zeros(3, 7), []
    for t in range(200):
        reset = LeakyATan.apply(v - thr).detach()
        v = alpha_v * (1 - reset) * v + current[t]
        ref.append(LeakyATan.apply(v - thr))
    ref = torch.stack(ref)
    grad_ref = torch.autograd.grad(ref.sum(), [current, thr])
    assert ref.sum() >= 20 and ref.mean() < 0.5  # the comparison sees both spikes and silences
    assert torch.equal(ours, ref)
    for a, b in zip(grad_ours, grad_ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_ponghiran_snn_threshold_b_over_16():
    """Table 1: 6-bit outputs, threshold b/16 (eq. 22 with gamma = k b / 2^Nbits, k = 4)."""
    for name in PONGHIRAN:
        cfg = compose([f"experiment={name}"])
        if cfg.neuron.name.startswith("plif"):
            assert (cfg.neuron.n_bits, cfg.neuron.threshold_k, cfg.neuron.dropout) == (6, 4, 0.1)
            k, n = cfg.neuron.threshold_k, cfg.neuron.n_bits
            v = torch.tensor([1 / 16 - 1e-4, 1 / 16 + 1e-4, 0.5])
            assert quantize(v, 1.0, n, k).tolist() == [0.0, 1 / 16, 0.5]


def test_output_precision_sweep_figure_5a():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = hydra_compose("config", ["experiment=timit_plif_v2", "hparams_search=ponghiran_bits"], return_hydra_config=True)
    assert cfg.neuron.name == "plif_v2" and cfg.neuron.threshold_k == 1 and cfg.trainer.num_threads == 1
    bits = [int(b) for b in str(cfg.hydra.sweeper.params["neuron.n_bits"]).split(",")]
    assert bits == [1, 2, 3, 4, 5, 6]
    for n in bits:  # threshold b / 2^Nbits: b/2 at 1 bit, b/8 at 3 bits (Sec. "Effect of the Output Precision")
        step = 1 / 2**n
        assert quantize(torch.tensor([step - 1e-4, step + 1e-4]), 1.0, n, 1).tolist() == [0.0, step]


def test_paper_values_one_entry_per_cell():
    src, pong = _paper("src_table2"), _paper("ponghiran_table1")
    assert src["source"].startswith("De Geeter") and pong["source"].startswith("Ponghiran")
    assert [c.name for c in TABLES["src_table2"].cells] == list(src["cells"]) and len(src["cells"]) == 40
    assert [c.name for c in TABLES["ponghiran_table1"].cells] == list(pong["cells"]) and len(pong["cells"]) == 10
    # hand-checked against the papers' tables
    assert src["cells"]["src_mnist_rate_l3"]["accuracy"] == 98.44
    assert src["cells"]["lif_fmnist_latency_l3"]["accuracy"] == 78.09
    assert src["cells"]["src_nmnist_l1"]["accuracy"] == 97.42 and src["cells"]["lif_fmnist_rate_l2"]["accuracy"] == 79.32
    v2 = pong["cells"]["timit_plif_v2"]
    assert (v2["accuracy"], v2["zeros"], v2["ops"], v2["threshold"]) == (81.28, 84.29, 0.08, "b/16")
    assert pong["cells"]["librispeech_gru"]["accuracy"] == 89.77 and pong["cells"]["librispeech_lstm"]["zeros"] == "<0.01"


@pytest.mark.parametrize("layers, hidden", [(2, 1), (3, 2), (5, 4)])
def test_layer_count_cells(layers, hidden):
    """Table 2's "Layers" counts the final population layer: L layers = L - 1 hidden layers of 512."""
    cell = next(c for c in TABLES["src_table2"].cells if c.name == f"lif_nmnist_l{layers}")
    cfg = compose([f"experiment={cell.experiment}", *cell.overrides])
    validate_config(cfg)
    assert list(cfg.model.hidden) == [512] * hidden
    assert len(_model(cfg).layers) == hidden


def test_one_layer_cells_have_no_hidden_layer():
    """The paper's 1-layer network has no hidden layer: input -> final population of 10 x classes SRC
    neurons -> frozen-weight integrators (model.hidden=[])."""
    cell = next(c for c in TABLES["src_table2"].cells if c.name == "src_mnist_rate_l1")
    cfg = compose([f"experiment={cell.experiment}", *cell.overrides])
    validate_config(cfg)
    model = _model(cfg)
    assert len(model.layers) == 0 and model.final.w_in.in_features == 784 and model.final.size == 100
    out = model(torch.rand(5, 2, 784))
    assert out.output.shape == (5, 2, 10) and set(out.activity) == {"layer0"}
    assert [(s.source, s.fan_out) for s in model.synapses()] == [("input", 100), ("layer0", 10)]


def _fake_run(cell_dir, metrics=None, error=None):
    cell_dir.mkdir(parents=True)
    if metrics is not None:
        (cell_dir / "metrics.json").write_text(json.dumps(metrics))
    if error is not None:
        (cell_dir / "error.txt").write_text(error + "\n\nTraceback ...")


def _row(text, cell):
    return next(line for line in text.splitlines() if line.startswith(f"| {cell} |"))


def test_build_src_table2_from_run_dirs(tmp_path):
    runs = tmp_path / "runs"
    _fake_run(runs / "src_mnist_rate_l3" / "seed0", {"test_acc": 0.981, "firing_rate": 0.125, "sop_per_sample": 2.0e6})
    _fake_run(runs / "src_mnist_rate_l3" / "seed1", {"test_acc": 0.983, "firing_rate": 0.175, "sop_per_sample": 4.0e6})
    _fake_run(runs / "lif_nmnist_l5" / "seed0", error="RuntimeError: CUDA out of memory")
    text = build_table("src_table2", runs, tmp_path / "t.md", smoke=False, absent={"src_fmnist_rate_l2": "fmnist missing"})
    assert (tmp_path / "t.md").read_text() == text
    assert "De Geeter, Ernst & Drion, Spiking Recurrent Cell, Table 2" in text
    assert _row(text, "src_mnist_rate_l3") == (
        "| src_mnist_rate_l3 | MNIST, rate | SRC, 3 layers | 98.44 | 98.20 ± 0.14 (n=2) | 0.1500 | 3e+06 | `seed0`, `seed1` |"
    )
    assert _row(text, "lif_nmnist_l5").startswith("| lif_nmnist_l5 | N-MNIST | LIF, 5 layers | 98.05 | — |")
    assert "- lif_nmnist_l5: seed0: failed — RuntimeError: CUDA out of memory" in text
    assert "- src_fmnist_rate_l2: data absent — fmnist missing" in text
    assert "- lif_fmnist_latency_l1: no runs yet" in text
    assert sum(line.startswith("| ") for line in text.splitlines()) == 41  # header + 40 cells


def test_build_ponghiran_table1_with_extra_columns(tmp_path):
    runs = tmp_path / "runs"
    _fake_run(runs / "timit_plif_v2" / "seed0", {"test_acc": 0.7, "firing_rate": 0.25, "sop_per_sample": 1.5e8})
    _fake_run(runs / "librispeech_lstm" / "seed0", error="DataError: LibriSpeech alignments missing")
    text = build_table("ponghiran_table1", runs, tmp_path / "t.md", smoke=True)
    assert text.startswith("> **SMOKE TABLE — NOT RESULTS.**")
    header = next(line for line in text.splitlines() if line.startswith("| cell |"))
    assert "| paper zero outputs (%) | ours zero outputs (%) | paper ops / inf. (norm. to LSTM) |" in header
    # zero outputs = 100 (1 - firing rate): 75.00 for a rate of 0.25
    assert _row(text, "timit_plif_v2") == (
        "| timit_plif_v2 | TIMIT | SNNs with ipv dyn v2 2x550 | 81.28 | 70.00 (n=1) | 84.29 | 75.00 | 0.08 | 0.2500 | 1.5e+08 | `seed0` |"
    )
    assert _row(text, "librispeech_lstm") == "| librispeech_lstm | LibriSpeech 100h | LSTMs 2x550 | 89.95 | — | <0.01 | — | — | — | — | — |"
    assert "- librispeech_lstm: seed0: failed — DataError: LibriSpeech alignments missing" in text
    assert "- timit_gru: no runs yet" in text


def test_make_targets_call_the_runner(tmp_path):
    for target, table in (("reproduce-src-table2", "src_table2"), ("reproduce-ponghiran-table1", "ponghiran_table1")):
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0 and "srnn_bench.reporting.paper_tables" in dry.stdout and table in dry.stdout
    assert main(["src_table2", "--build-only", "--runs-root", str(tmp_path / "none"), "--out", str(tmp_path / "t.md")]) == 0
    assert "- src_nmnist_l5: data absent — nmnist missing" in (tmp_path / "t.md").read_text()  # --build-only says so too


@pytest.mark.parametrize(
    "table, cell_name, extra",
    [
        # the cell's own 2-layer network (hidden [512]) on 200 rate-coded steps, as the paper
        ("src_table2", "src_mnist_rate_l2", []),
        # smaller layers keep the LSTM-sized PLIF network quick; everything else as the experiment file
        ("ponghiran_table1", "timit_plif_v2", ["model.hidden=[32,32]"]),
    ],
)
def test_smoke_one_cell_end_to_end(tmp_path, table, cell_name, extra):
    from srnn_bench.data.fixtures import make_fixture

    cell = next(c for c in TABLES[table].cells if c.name == cell_name)
    make_fixture(cell.dataset, tmp_path / "data")
    run_dir = tmp_path / "runs" / cell.name / "seed0"
    assert smoke_cell(cell, 0, run_dir, str(tmp_path / "data"), [*SMOKE_OVERRIDES, *extra]), (run_dir / "error.txt").read_text()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test_acc"] <= 1.0 and 0.0 <= metrics["firing_rate"] <= 1.0
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["experiment_name"] == cell.experiment
    assert saved["model"]["hidden"] == ([512] if table == "src_table2" else [32, 32])  # the cell's / the extra override
    text = build_table(table, tmp_path / "runs", tmp_path / "t.md", smoke=True)
    assert "(n=1)" in _row(text, cell.name) and "`seed0`" in _row(text, cell.name)


@pytest.mark.slow
@pytest.mark.parametrize("table", ["src_table2", "ponghiran_table1"])
def test_smoke_every_cell(tmp_path, table):
    """`make reproduce-src-table2 SMOKE=1` / `reproduce-ponghiran-table1 SMOKE=1`: every cell on fixtures.
    """
    out = tmp_path / "t.md"
    assert main([table, "--smoke", "--runs-root", str(tmp_path / "runs"), "--out", str(out)]) == 0
    text = out.read_text()
    for cell in TABLES[table].cells:
        assert (tmp_path / "runs" / cell.name / "seed0" / "metrics.json").is_file(), cell.name
        assert "(n=1)" in _row(text, cell.name)


OLD_SMOKE = ["trainer.epochs=1", "dataset.limit_train=8", "dataset.limit_test=8", "trainer.batch_size=4",
             "trainer.eval_batch_size=8", "trainer.progress=false", "trainer.device=cpu", "trainer.num_threads=1"]
"""The hand-written smoke overrides ``SMOKE_OVERRIDES`` replaced by ``debug=smoke`` (issue #15)."""


@pytest.mark.parametrize("table", sorted(TABLES))
def test_smoke_overrides_use_the_debug_group_and_compose_as_before(table):
    from omegaconf import OmegaConf

    assert "debug=smoke" in SMOKE_OVERRIDES
    assert not any(o.split("=")[0] in ("trainer.epochs", "trainer.progress", "trainer.device", "trainer.num_threads")
                   for o in SMOKE_OVERRIDES)  # what configs/debug/smoke.yaml already sets
    for cell in TABLES[table].cells:
        base = [f"experiment={cell.experiment}", *cell.overrides]
        new, old = compose([*base, *SMOKE_OVERRIDES]), compose([*base, *OLD_SMOKE])
        assert OmegaConf.to_container(new, resolve=False) == OmegaConf.to_container(old, resolve=False), cell.name
