"""neuron.backend=fused (srnn_bench/kernels) against the plain-autograd reference loop.

Forward outputs and every gradient (weights, biases, tau_m, tau_adp) must equal the reference
within 1e-5 relative (float32) / 1e-10 (float64), for ALIF and LIF, recurrent and dense layers,
every surrogate, tau trainable and frozen. The C++ extension is built (or loaded from the cache)
by the first test; without a C++ compiler the module is skipped with the reason.
"""

from __future__ import annotations


import warnings

import pytest
from omegaconf import OmegaConf
import torch

from srnn_bench import surrogates as S
from srnn_bench.kernels import _build
from srnn_bench.models import build_model
from srnn_bench.neurons import build_cell
from srnn_bench.surrogates import SURROGATES, build_surrogate

_missing = _build.compiler_missing()
if _missing:
    pytest.skip(f"C++ kernels not testable here: {_missing}", allow_module_level=True)

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def neuron_cfg(name="alif", backend="reference", train_tau=True):
    beta = 1.8 if name == "alif" else 0.0
    return dict(
        name=name, b_j0=0.01, beta=beta, dt=1.0,
        tau_m=dict(init="normal", mean=20.0, std=5.0), tau_adp=dict(init="normal", mean=150.0, std=10.0),
        train_tau_m=train_tau, train_tau_adp=train_tau and name == "alif", u0="uniform", backend=backend,
    )  # fmt: skip


def model_pair(
    neuron="alif",
    recurrent=True,
    surrogate="multi_gaussian",
    dtype=torch.float64,
    train_tau=True,
    readout="integrator",
    n_in=24,
    hidden=(14, 10),
    seed=0,
    bias=True,
):
    """Reference model and the same model built with the fused backend (same weights)."""
    torch.manual_seed(seed)
    sur = surrogate if isinstance(surrogate, S.Surrogate) else build_surrogate({"name": surrogate})
    cfg = dict(name="srnn", hidden=list(hidden), recurrent=recurrent, bias=bias,
               readout=dict(kind=readout, tau_m=dict(init="normal", mean=20.0, std=5.0)))  # fmt: skip
    ref = build_model(cfg, n_in, 5, neuron_cfg(neuron, "reference", train_tau), sur).to(dtype)
    with torch.no_grad():  # larger input weights: enough spikes that every path is exercised
        for layer in ref.layers:
            layer.w_in.weight.mul_(3.0)
            if bias:
                layer.w_in.bias.uniform_(-0.05, 0.1)
    fused = build_model(cfg, n_in, 5, neuron_cfg(neuron, "fused", train_tau), sur).to(dtype)
    fused.load_state_dict(ref.state_dict())
    assert {m.backend for m in [*fused.layers, fused.readout]} == {"fused"}
    return ref, fused


def run(model, x, seed=1):
    """Forward + a loss that touches the readout and every activity; returns (outputs, grads)."""
    torch.manual_seed(seed)  # the uniform initial membrane is drawn in init_state
    out = model(x)
    loss = (out.output**2).sum()
    for a in out.activity.values():
        w = torch.linspace(-1.0, 1.0, a.numel(), dtype=a.dtype).view_as(a)
        loss = loss + (a * w).sum()
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    return out, dict(zip(names, grads))


def assert_rel(a, b, tol, what):
    scale = a.abs().max().clamp_min(1e-30)
    err = ((a - b).abs().max() / scale).item()
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


def compare(ref, fused, x, tol, nonzero=True):
    o_ref, g_ref = run(ref, x)
    o_fus, g_fus = run(fused, x)
    assert o_fus.output.grad_fn is not None and "Scan" in type(o_fus.output.grad_fn).__name__, "fused path not taken"
    assert_rel(o_ref.output, o_fus.output, tol, "readout output")
    for k in o_ref.activity:
        assert torch.equal(o_ref.activity[k], o_fus.activity[k]), f"spikes of {k} differ"
    assert g_ref.keys() == g_fus.keys()
    for k in g_ref:
        if nonzero:
            assert g_ref[k].abs().max() > 0, f"gradient of {k} is zero: the test would not see an error"
        assert_rel(g_ref[k], g_fus[k], tol, f"grad {k}")
    return o_ref, g_ref


def inputs(dtype, n_in=24, T=40, B=3, density=0.2, seed=3):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, n_in, generator=g) < density).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("neuron", ["alif", "lif"])
@pytest.mark.parametrize("recurrent", [True, False], ids=["rec", "dense"])
@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
def test_fused_equals_reference(dtype, neuron, recurrent, surrogate):
    ref, fused = model_pair(neuron, recurrent, surrogate, dtype)
    o_ref, g_ref = compare(ref, fused, inputs(dtype), TOL[dtype])
    assert 0.02 < o_ref.activity["layer0"].mean() < 0.8  # spiking regime, not silent or saturated
    assert ("layers.0.cell.tau_adp" in g_ref) == (neuron == "alif")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_frozen_time_constants_and_dense_input(dtype):
    """tau frozen (no tau grads asked for); dense analog input takes the nn.Linear projection."""
    ref, fused = model_pair("alif", [True, False], "multi_gaussian", dtype, train_tau=False)
    x = torch.randn(30, 2, 24, dtype=dtype, generator=torch.Generator().manual_seed(0)) * 0.5
    _, g = compare(ref, fused, x, TOL[dtype])
    assert not any("tau" in k for k in g if k.startswith("layers"))


def test_sparse_input_projection_path_and_threshold():
    """Binary sparse input -> CSR op in the graph; above SPARSE_MAX_DENSITY -> ordinary Linear."""
    from srnn_bench.kernels import scan

    lin = torch.nn.Linear(50, 7).double()
    sparse = inputs(torch.float64, n_in=50, T=20, B=4, density=0.05)
    y = scan.project_input(lin, sparse)
    assert "CSRLinear" in graph_names(y)
    torch.testing.assert_close(y, lin(sparse), rtol=1e-12, atol=1e-12)
    g = torch.randn_like(y)
    gw, gb = torch.autograd.grad((y * g).sum(), [lin.weight, lin.bias])
    gw_ref, gb_ref = torch.autograd.grad((lin(sparse) * g).sum(), [lin.weight, lin.bias])
    torch.testing.assert_close(gw, gw_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gb, gb_ref, rtol=1e-12, atol=1e-12)
    dense = inputs(torch.float64, n_in=50, T=20, B=4, density=0.6)
    assert "CSRLinear" not in graph_names(scan.project_input(lin, dense))
    assert _build.load().to_csr(dense.reshape(-1, 50), int(0.15 * dense.numel()))[0] is None


def graph_names(t, depth=3):
    """Names of the autograd nodes within ``depth`` of ``t``."""
    names, frontier = set(), [t.grad_fn]
    for _ in range(depth):
        nxt = []
        for fn in frontier:
            if fn is not None:
                names.add(type(fn).__name__)
                nxt += [f for f, _ in fn.next_functions]
        frontier = nxt
    return " ".join(sorted(names))


def test_spiking_readout_records_membrane_gradients():
    """The spiking readout returns its membrane: gradients enter through the recorded u_t."""
    ref, fused = model_pair("alif", True, "multi_gaussian", torch.float64, readout="spiking")
    compare(ref, fused, inputs(torch.float64), TOL[torch.float64])


def test_carried_state_truncated_bptt_chunks():
    """Two chunks with the state carried (not detached): gradients flow into the initial state."""
    torch.manual_seed(0)
    sur = build_surrogate({"name": "multi_gaussian"})
    from srnn_bench.models.layers import SpikingLayer

    ref = SpikingLayer(9, build_cell(neuron_cfg(), 8, sur), recurrent=True).double()
    with torch.no_grad():
        ref.w_in.weight.mul_(3.0)
    fused = SpikingLayer(9, build_cell(neuron_cfg(), 8, sur), recurrent=True, backend="fused").double()
    fused.load_state_dict(ref.state_dict())
    x = inputs(torch.float64, n_in=9, T=30, B=2, density=0.3)
    results = []
    for layer in (ref, fused):
        torch.manual_seed(4)
        out1, mem1, st = layer(x[:15], record_membrane=True)
        _, mem2, st = layer(x[15:], st, record_membrane=True)
        loss = (mem2**2).sum() + out1.sum() * 0.1 + (st.cell.b * 3).sum() + (st.cell.u**2).sum()
        results.append((torch.cat([mem1, mem2]), torch.autograd.grad(loss, list(layer.parameters()))))
    assert torch.equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        assert_rel(a, b, 1e-10, "chunked grads")


@pytest.mark.parametrize("name", sorted(SURROGATES))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_compiled_surrogate_derivative_equals_python(name, dtype):
    from srnn_bench.kernels.scan import surrogate_kind

    sur = build_surrogate({"name": name})
    kind, params = surrogate_kind(sur)
    assert kind > 0
    x = torch.linspace(-4.0, 4.0, 4001, dtype=dtype)
    got = _build.load().surrogate_derivative(x, kind, params)
    want = sur.derivative(x)
    if name == "straight_through":  # a step: compare away from the two edges
        keep = (x.abs() - sur.width / 2).abs() > 1e-3
        got, want = got[keep], want[keep]
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    torch.testing.assert_close(got, want, rtol=tol, atol=tol * float(want.abs().max()))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_other_surrogate_uses_its_python_derivative(dtype):
    """A surrogate the C++ code does not know (a subclass) goes through its own derivative()."""

    class Bumpy(S.Gaussian):
        def derivative(self, x):
            return super().derivative(x) * (1.0 + 0.5 * torch.cos(3.0 * x))

    from srnn_bench.kernels.scan import surrogate_kind

    sur = Bumpy()
    assert surrogate_kind(sur) == (0, [])
    ref, fused = model_pair("alif", True, sur, dtype)
    compare(ref, fused, inputs(dtype), TOL[dtype])


def test_fused_keeps_at_most_half_the_saved_bytes():
    """Memory: bytes the backward keeps (unique storages seen by saved_tensors_hooks)."""
    from srnn_bench.kernels.memory import saved_bytes

    ref, fused = model_pair("alif", True, "multi_gaussian", torch.float32, n_in=60, hidden=(32, 32))
    x = inputs(torch.float32, n_in=60, T=80, B=8, density=0.05)
    b_ref, b_fus = saved_bytes(ref, x), saved_bytes(fused, x)
    assert b_fus <= 0.5 * b_ref, (b_fus, b_ref)


def test_backend_choice_is_validated_and_default_is_fused():
    from srnn_bench.models.layers import SpikingLayer
    from tests.conftest import compose

    with pytest.raises(ValueError, match="neuron.backend 'cuda'; valid choices: reference, fused"):
        build_model(dict(name="srnn", hidden=[3], recurrent=True, readout=dict(kind="linear")), 2, 2,
                    neuron_cfg(backend="cuda"), S.MultiGaussian())
    with pytest.raises(ValueError, match="neuron.backend 'cuda'; valid choices: reference, fused"):
        SpikingLayer(2, build_cell(neuron_cfg(), 4, S.MultiGaussian()), backend="cuda")
    cfg = compose([])
    assert cfg.neuron.backend == "fused"
    assert compose(["neuron=lif"]).neuron.backend == "fused"


def test_unsupported_dtype_falls_back_to_reference_with_a_warning():
    from srnn_bench.kernels import dispatch

    dispatch._warned.clear()
    _, fused = model_pair("alif", True, "multi_gaussian", torch.float64)
    fused = fused.to(torch.bfloat16)
    with pytest.warns(UserWarning, match="no fused kernel for dtype torch.bfloat16"):
        out = fused(inputs(torch.bfloat16, T=5))
    assert out.output.dtype == torch.bfloat16 and "Stack" in type(out.output.grad_fn).__name__


@pytest.mark.parametrize("T", [1, 2, 17])
def test_short_and_odd_sequence_lengths(T):
    """Checkpoint blocks of ceil(sqrt(T)) steps: lengths 1, 2 and a non-square length."""
    ref, fused = model_pair("alif", True, "gaussian", torch.float64, readout="spiking")
    # at T = 1 the recurrent weights see only the zero initial spikes: their gradient is exactly 0
    compare(ref, fused, inputs(torch.float64, T=T, density=0.5), TOL[torch.float64], nonzero=T > 1)


def test_without_bias_sparse_input():
    ref, fused = model_pair("alif", True, "multi_gaussian", torch.float32, bias=False)
    x = inputs(torch.float32, density=0.1)
    compare(ref, fused, x, TOL[torch.float32])
    assert "CSRLinear" in graph_names(fused.layers[0](x)[0])


@pytest.mark.parametrize("surrogate", ["multi_gaussian", "atan"])
def test_batch_split_between_threads_equals_reference_and_one_thread(surrogate):
    """The kernels split the batch rows between intra-op threads: with 2 threads (odd batch, so the
    ranges differ in size) the numbers equal the reference and the single-threaded run; the
    sparse-input weight gradient (per-thread buffers summed) may differ only by rounding."""
    ref, fused = model_pair("alif", True, surrogate, torch.float64, hidden=(14, 10))
    x = inputs(torch.float64, T=30, B=5, density=0.1)  # sparse: the CSR projection takes part
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        o2, g2 = compare(ref, fused, x, TOL[torch.float64])
        f2 = run(fused, x)
        torch.set_num_threads(1)
        f1 = run(fused, x)
    finally:
        torch.set_num_threads(before)
    assert "CSRLinear" in graph_names(fused.layers[0](x)[0])
    for k in f1[0].activity:
        assert torch.equal(f1[0].activity[k], f2[0].activity[k])
    torch.testing.assert_close(f1[0].output, f2[0].output, rtol=1e-12, atol=0)
    for k in f1[1]:
        assert_rel(f1[1][k], f2[1][k], 1e-12, f"grad {k}, 1 vs 2 threads")


@pytest.mark.parametrize("name", ["src", "plif_v1", "relu"])
def test_fused_for_a_neuron_without_a_kernel_says_so_once(name, recwarn):
    """Issue 15: the cells declare their backends; ``neuron.backend=fused`` for one without a fused kernel
    is not silently ignored: one warning, when the model is built, and every layer runs the reference loop."""
    from srnn_bench.kernels import dispatch
    from tests.conftest import compose

    dispatch._warned.clear()
    cfg = compose([f"neuron={name}", "neuron.backend=fused", "model.hidden=[4,3]", "model.readout.kind=spiking"])
    neuron = OmegaConf.to_container(cfg.neuron, resolve=True)
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    for _ in range(2):
        model = build_model(model_cfg, 5, 2, neuron, build_surrogate({"name": "multi_gaussian"}))
    said = [str(w.message) for w in recwarn if "neuron.backend=fused" in str(w.message)]
    assert len(said) == 1 and "has no fused kernel (supported backends: reference)" in said[0], said
    assert {layer.backend for layer in model._stages} == {"reference"}
    assert compose([f"neuron={name}"]).neuron.backend == "reference"


@pytest.mark.parametrize("name", sorted(__import__("srnn_bench.neurons", fromlist=["CELLS"]).CELLS))
def test_every_declared_fused_backend_gives_the_reference_numbers(name):
    """For every neuron choice: a cell that declares ``fused`` runs it and matches the reference loop (float64,
    same weights); one that does not runs the reference loop under ``backend=fused``."""
    from tests.conftest import compose

    cfg = compose([f"neuron={name}", "model.hidden=[6,5]", "model.readout.kind=integrator"])
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    sur = build_surrogate({"name": "multi_gaussian"})
    models = {}
    for backend in ("reference", "fused"):
        neuron = {**OmegaConf.to_container(cfg.neuron, resolve=True), "backend": backend}
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models[backend] = build_model(model_cfg, 7, 3, neuron, sur).double()
    models["fused"].load_state_dict(models["reference"].state_dict())
    declared = "fused" in getattr(models["fused"].layers[0].cell, "supported_backends", ("reference",))
    assert models["fused"].layers[0].backend == ("fused" if declared else "reference")
    assert declared == (name in {"alif", "lif", "lstm", "gru", "rnn"})
    x = (torch.rand(12, 4, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64) < 0.4).double()
    from srnn_bench.kernels import dispatch

    dispatch._warned.clear()
    outs = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for backend in ("reference", "fused"):
            torch.manual_seed(1)  # initial membranes drawn in init_state
            outs.append(models[backend].eval()(x).output)
    assert not [w for w in said if "neuron.backend=fused" in str(w.message)]  # no fallback at run time
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-10, atol=1e-12)


def test_no_experiment_file_asks_for_a_backend_its_neurons_lack():
    """The experiments' own settings never trigger the 'no fused kernel' warning (De Geeter's LIF options
    say backend: reference); the warning is for a user's request only."""
    from srnn_bench.config_validation import validate_config
    from srnn_bench.kernels import dispatch
    from srnn_bench.resources import choices
    from tests.conftest import compose

    said = {}
    for name in choices("experiment"):
        dispatch._warned.clear()
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            validate_config(compose([f"experiment={name}"]))  # builds the model (no data)
        said[name] = [str(w.message) for w in got if "neuron.backend=fused" in str(w.message)]
    assert not {k: v for k, v in said.items() if v}
    assert len(said) > 40
