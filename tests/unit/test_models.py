"""Every neuron in the SRNN: streaming = full sequence, shapes, gradients to every trainable parameter
(time constants only when trainable), the ALIF options, bidirectional, readouts and the metrics contract."""

from functools import cache

import pytest
import torch
import yaml
from conftest import compose
from omegaconf import OmegaConf

from srnn_bench.metrics import ActivityMeter
from srnn_bench.models import build_model
from srnn_bench.neurons import CELLS
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training.losses import loss_and_correct

NEURONS = sorted(CELLS)
D = torch.float64


@cache
def _base(neuron):
    return compose([f"neuron={neuron}"])  # Hydra composition is slow: once per neuron


def make(neuron, *overrides, n_in=3, n_classes=4, hidden="[7,5]"):
    """Build the default-config SRNN with ``neuron`` and ``key=value`` overrides (values parsed as YAML)."""
    cfg = _base(neuron).copy()
    for o in (f"model.hidden={hidden}", *overrides):
        key, value = o.split("=", 1)
        OmegaConf.update(cfg, key.lstrip("+"), yaml.safe_load(value), force_add=key.startswith("+"))
    torch.manual_seed(0)
    return build_model(cfg.model, n_in, n_classes, cfg.neuron, build_surrogate(cfg.surrogate))


def test_every_neuron_has_a_config_file():
    from conftest import CONFIG_DIR

    files = {p.stem for p in (CONFIG_DIR / "neuron").glob("*.yaml")}
    assert files == set(CELLS)


@pytest.mark.parametrize("neuron", NEURONS)
@pytest.mark.parametrize("readout", ["integrator", "spiking", "population"])
def test_streaming_equals_full_sequence(neuron, readout):
    model = make(neuron, f"model.readout.kind={readout}").double().eval()
    x = torch.randn(9, 3, 3, dtype=D) * 3
    torch.manual_seed(1)
    state = model.init_state(3, dtype=D)  # explicit initial state (ALIF draws a random u0)
    full = model(x, state)
    outs, s = [], state
    for t in range(x.shape[0]):
        y, s = model.step(x[t], s)
        outs.append(y)
    torch.testing.assert_close(torch.stack(outs), full.output, rtol=0, atol=1e-10)


def test_streaming_equals_full_sequence_in_training_mode_alif():
    model = make("alif").double().train()
    x = torch.randn(9, 3, 3, dtype=D) * 3
    state = model.init_state(3, dtype=D)
    full = model(x, state)
    s, outs = state, []
    for t in range(9):
        y, s = model.step(x[t], s)
        outs.append(y)
    torch.testing.assert_close(torch.stack(outs), full.output, rtol=0, atol=1e-10)
    assert full.activity["layer0"].sum() > 0  # spikes happened, so the check is not vacuous


@pytest.mark.parametrize("neuron", NEURONS)
def test_shapes_time_first(neuron):
    """[T, B, F] in and out; batch of 1 and T of 1 work in training and evaluation mode."""
    model = make(neuron)
    for mode in ("train", "eval"):
        model.train(mode == "train")
        for t, b in ((6, 4), (1, 4), (6, 1), (1, 1)):
            x = torch.randn(t, b, 3)
            if mode == "train" and t * b == 1 and neuron.startswith("plif"):
                with pytest.raises(ValueError, match="BatchNorm"):  # one frame: no batch statistics
                    model(x)
                continue
            out = model(x)
            assert out.output.shape == (t, b, 4)
            assert out.activity["layer0"].shape == (t, b, 7) and out.activity["layer1"].shape == (t, b, 5)


@pytest.mark.parametrize("neuron", NEURONS)
def test_gradients_reach_every_trainable_parameter(neuron):
    # SRC at its highest allowed bias so that it spikes: W_rec only gets gradient through spikes s > 0
    extra = ["neuron.b_h_init=-4.0"] if neuron == "src" else []
    model = make(neuron, "model.readout.kind=integrator", *extra).train()
    x = torch.randn(30, 4, 3) * 3
    out = model(x)
    loss, _, _ = loss_and_correct("last", out, torch.tensor([0, 1, 2, 3]))
    (loss + out.output.pow(2).mean()).backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, f"{neuron}: no gradient reaches {name}"
        else:
            assert p.grad is None, name


@pytest.mark.parametrize("train_m, train_adp", [(True, True), (True, False), (False, True), (False, False)])
def test_time_constant_training_ablation(train_m, train_adp):
    """Yin Fig. 3e: train tau_m, tau_adp, both or neither."""
    model = make("alif", f"neuron.train_tau_m={train_m}", f"neuron.train_tau_adp={train_adp}")
    out = model(torch.randn(10, 4, 3) * 3)
    out.output.pow(2).mean().backward()
    for layer in model.layers:
        for p, trained in ((layer.cell.tau_m, train_m), (layer.cell.tau_adp, train_adp)):
            assert p.requires_grad == trained
            assert (p.grad is not None and p.grad.abs().sum() > 0) if trained else p.grad is None


@pytest.mark.parametrize("init", ["normal", "uniform", "constant"])
def test_tau_init_and_per_layer_overrides(init):
    model = make(
        "alif",
        f"neuron.tau_m.init={init}",
        "neuron.tau_m.mean=20.0",
        "neuron.tau_m.std=5.0",
        "+model.layer_overrides=[{tau_m: {init: constant, mean: 7.0, std: 0.0}, b_j0: 0.1, beta: 0.0}]",
        hidden="[300,200]",
    )
    first, second = model.layers[0].cell, model.layers[1].cell
    assert torch.all(first.tau_m == 7.0) and first.b_j0 == 0.1 and first.beta == 0.0
    tau = second.tau_m.detach()
    if init == "constant":
        assert torch.all(tau == 20.0)
    elif init == "uniform":
        assert tau.min() >= 15.0 and tau.max() <= 25.0 and tau.std() > 2.0  # U[20 - 5, 20 + 5]: std 2.89
    else:
        assert 4.0 < tau.std() < 6.0 and tau.min() < 15.0  # N(20, 5) leaves [15, 25]
    assert second.b_j0 == 0.01 and second.beta == 1.8


def test_dense_vs_recurrent_per_layer_and_sizes():
    model = make("alif", "model.recurrent=[true,false]", hidden="[9,4]")
    assert model.layers[0].w_rec is not None and model.layers[1].w_rec is None
    assert model.layers[0].size == 9 and model.layers[1].size == 4
    assert model.layers[1].w_in.weight.shape == (4, 9)


@pytest.mark.parametrize("u0", ["zero", "uniform", "uniform_unit"])
def test_initial_state_schemes(u0):
    model = make("alif", f"neuron.u0={u0}", "neuron.b_j0=0.05")
    st = model.layers[0].init_state(500)
    u, b, s = st.cell
    assert torch.all(b == 0.05) and torch.all(s == 0)
    hi = {"zero": 0.0, "uniform": 0.05, "uniform_unit": 1.0}[u0]
    assert u.min() >= 0 and (u.max() <= hi if hi else torch.all(u == 0))
    if hi:
        assert u.max() > 0.9 * hi


def test_b_j0_and_beta_reach_the_cell():
    model = make("alif", "neuron.b_j0=1.6", "neuron.beta=0.184")
    assert model.layers[0].cell.b_j0 == 1.6 and model.layers[0].cell.beta == 0.184
    with pytest.raises(ValueError, match="neuron 'alif' has no key"):
        make("alif", "+neuron.bj0=1.0")


def test_bidirectional_is_mean_of_forward_and_reversed_stacks():
    model = make("relu", "model.bidirectional=true").double()
    x = torch.randn(8, 2, 3, dtype=D)
    out = model(x)
    hf, hb = x, x.flip(0)
    for lf, lb in zip(model.layers, model.layers_bwd):
        hf, _, _ = lf(hf)
        hb, _, _ = lb(hb)
    ro, _, _ = model.readout(0.5 * (hf + hb.flip(0)))
    torch.testing.assert_close(out.output, ro)
    torch.testing.assert_close(out.activity["layer1_bwd"], hb.flip(0))
    with pytest.raises(ValueError, match="cannot stream"):
        model.step(x[0], model.init_state(2))
    srcs = [s.source for s in model.synapses()]
    assert srcs.count("input") == 2 and "layer1_bwd" in srcs


def test_relu_srnn_is_alif_with_relu_output():
    """Yin's ReLU SRNN (authors' code: spike = F.relu(mem - B)): the ALIF update of eqs 5-7 with the
    analog output ReLU(u - theta) in place of the spike, also in eta and in the reset."""
    model = make("relu").double()
    cell = model.layers[0].cell
    assert cell.spiking is False and cell.state_macs_per_step == 5
    i = torch.randn(6, 2, 7, dtype=D) * 3
    st = cell.init_state(2, dtype=D)
    u, b, y = st.u.clone(), st.b.clone(), st.s.clone()
    alpha, rho = torch.exp(-1 / cell.tau_m), torch.exp(-1 / cell.tau_adp)
    outs = []
    for t in range(6):
        out, st = cell(i[t], st)
        b = rho * b + (1 - rho) * y
        theta = cell.b_j0 + cell.beta * b
        u = alpha * u + (1 - alpha) * i[t] - theta * y
        y = torch.relu(u - theta)
        torch.testing.assert_close(out, y)
        outs.append(out)
    outs = torch.stack(outs)
    assert (outs == 0).any() and (outs > 0).any() and not torch.all((outs == 0) | (outs == 1))


def test_spiking_readout_and_spike_count_loss():
    model = make("alif", "model.readout.kind=spiking")
    out = model(torch.randn(20, 3, 3) * 5)
    assert set(out.activity["readout"].unique().tolist()) <= {0.0, 1.0}
    loss, _, n = loss_and_correct("spike_count", out, torch.tensor([0, 1, 2]))
    assert torch.isfinite(loss) and n == 3
    counts = out.activity["readout"].sum(0)
    assert torch.equal(counts, out.activity["readout"].sum(0))


GATES = {"lstm": 4, "gru": 3, "rnn": 1, "plif_v1": 2, "plif_v2": 2, "plif_traditional": 1, "alif": 1, "src": 1}


@pytest.mark.parametrize("neuron", NEURONS)
def test_metrics_contract(neuron):
    model = make(neuron).eval()
    for name, cell in model.populations().items():
        assert isinstance(cell.spiking, bool) and int(cell.state_macs_per_step) >= 0, name
    assert model.populations()["layer0"].spiking == (neuron in ("alif", "lif"))
    fan = {(s.source, s.fan_out) for s in model.synapses()}
    g = GATES.get(neuron, 1)
    assert ("input", g * 7) in fan and ("layer0", g * 5) in fan and ("layer1", 4) in fan
    x = torch.randn(6, 2, 3)
    meter = ActivityMeter()
    meter.update(x, model(x))
    summary = meter.summary(model, input_binary=False)
    assert summary["mac_per_step"] > 0 and 0.0 <= summary["firing_rate"] <= 1.0


def test_recurrence_fixed_by_definition():
    assert make("plif_v1").layers[0].w_rec is None
    assert make("plif_traditional").layers[0].w_rec is None
    assert make("plif_v2", "model.recurrent=false").layers[0].w_rec is not None
    assert make("lstm", "model.recurrent=false").layers[0].w_rec is not None
    assert make("src", "model.recurrent=false").layers[0].w_rec is None


READOUT_KEYS = {  # what the zoo converters and saved checkpoints name (ALIF hidden type)
    "integrator": ["readout.cell.tau_m", "readout.w_in.weight", "readout.w_in.bias"],
    "spiking": ["readout.cell.tau_m", "readout.cell.tau_adp", "readout.w_in.weight", "readout.w_in.bias"],
    "linear": ["readout.w_in.weight", "readout.w_in.bias"],
    "population": ["final.cell.tau_m", "final.cell.tau_adp", "final.w_in.weight", "final.w_in.bias",
                   "readout.w_in.weight"],
}


@pytest.mark.parametrize("kind", sorted(READOUT_KEYS))
def test_one_readout_class_per_kind_keeps_the_state_dict_keys(kind):
    from srnn_bench.models.readouts import READOUT_CLASSES, READOUTS

    assert sorted(READOUTS) == sorted(READOUT_KEYS)
    model = make("alif", f"model.readout.kind={kind}")
    assert type(model.readout) is READOUT_CLASSES[kind] and model.readout_kind == kind
    assert [k for k in model.state_dict() if not k.startswith("layers.")] == READOUT_KEYS[kind]
    assert (model.final is not None) == (kind == "population")
    x = torch.rand(6, 2, 3)
    out = model(x)
    assert out.output.shape == (6, 2, 4)
    assert ("readout" in out.activity) == (kind == "spiking")  # the spike-count loss reads the readout spikes
    if kind == "population":  # the frozen +w_pos / w_neg weights of De Geeter Sec. 4.2, group 10 per class
        w = model.readout.w_in.weight
        assert not w.requires_grad and w[1, 10:20].eq(1.0).all() and w[1, :10].eq(-0.1).all()
        assert out.activity["layer2"].shape == (6, 2, 40)


def test_unknown_readout_fails_with_choices():
    with pytest.raises(ValueError, match="valid choices: integrator, spiking, linear, population"):
        make("alif", "model.readout.kind=nope")


def test_lstm_gru_rnn_match_torch_cells():
    """The element-wise updates equal PyTorch's LSTMCell / GRUCell / RNNCell with the same weights."""
    torch.manual_seed(0)
    x = torch.randn(5, 2, 3, dtype=D)
    for neuron, ref_cls in (("lstm", torch.nn.LSTMCell), ("gru", torch.nn.GRUCell), ("rnn", torch.nn.RNNCell)):
        layer = make(neuron, hidden="[6]").double().layers[0]
        ref = ref_cls(3, 6).double()
        with torch.no_grad():
            ref.weight_ih.copy_(layer.w_in.weight)
            ref.bias_ih.copy_(layer.w_in.bias)
            ref.weight_hh.copy_(layer.w_rec.weight)
            ref.bias_hh.zero_()
        out, _, _ = layer(x)
        h = torch.zeros(2, 6, dtype=D)
        c = torch.zeros(2, 6, dtype=D)
        for t in range(5):
            if neuron == "lstm":
                h, c = ref(x[t], (h, c))
            else:
                h = ref(x[t], h)
            torch.testing.assert_close(out[t], h)


def test_time_constant_draws_are_truncated_above_the_floor():
    from srnn_bench.neurons.time_constants import TAU_FLOOR, init_time_constant

    torch.manual_seed(0)
    tau = init_time_constant(200_000, mean=150.0, std=50.0)  # Table S1 GSC/SSC tau_adp: ~270 draws <= 0
    assert tau.min() > TAU_FLOOR
    assert abs(tau.mean().item() - 150.0) < 1.0 and abs(tau.std().item() - 50.0) < 1.0
    assert init_time_constant(5, mean=2.0, std=3.0, init="uniform").min() > TAU_FLOOR
