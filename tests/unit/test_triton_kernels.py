"""The Triton kernels of neuron.backend=fused (srnn_bench/kernels/triton_scan.py) against the reference loop.

No GPU here: the kernels run in Triton's CPU interpreter (``TRITON_INTERPRET=1``) on CPU tensors. The
dispatcher sends only CUDA tensors to them, so these tests put the Triton ops in its place
(``dispatch.select_ops``) and run whole models through the real ``run_layer`` wiring.

Tolerances: spikes must be identical. Membranes and the readout match to rounding, not bitwise:
``tl.dot`` (numpy in the interpreter) sums ``s_{t-1} W_rec^T`` in another order than the CPU BLAS of
the reference (1e-6 relative in float32, 1e-12 in float64). Every gradient (weights, biases, tau_m,
tau_adp, initial state) within 1e-5 relative (float32) / 1e-10 (float64) of the reference autograd,
the bounds of tests/unit/test_kernels.py.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

# TRITON_INTERPRET is read when a @triton.jit function is defined, i.e. when triton.language (its own
# helpers such as tl.sum) and triton_scan are imported: set it around those imports. If another module
# of this process imported triton before (compiled mode), this file re-runs itself in a fresh process.
_old_env = os.environ.get("TRITON_INTERPRET")
os.environ["TRITON_INTERPRET"] = "1"
try:
    triton = pytest.importorskip("triton", reason="triton is not installed (pip install -e '.[cuda]')")
    from triton.runtime.interpreter import InterpretedFunction

    _name = "srnn_bench.kernels.triton_scan"
    ts = importlib.reload(sys.modules[_name]) if _name in sys.modules else importlib.import_module(_name)
finally:
    if _old_env is None:
        del os.environ["TRITON_INTERPRET"]
    else:
        os.environ["TRITON_INTERPRET"] = _old_env
INTERPRETED = isinstance(triton.language.standard.zeros_like, InterpretedFunction) and isinstance(
    ts._alif_fwd_kernel, InterpretedFunction
)
in_process = pytest.mark.skipif(not INTERPRETED, reason="triton was imported before in compiled mode: see test_rerun")

from srnn_bench import surrogates as S
from srnn_bench.kernels import dispatch
from srnn_bench.models import build_model
from srnn_bench.models.layers import SpikingLayer
from srnn_bench.neurons import build_cell
from srnn_bench.surrogates import SURROGATES, build_surrogate

TOL_GRAD = {torch.float64: 1e-10, torch.float32: 1e-5}
TOL_MEM = {torch.float64: 1e-12, torch.float32: 1e-6}


if not INTERPRETED:

    def test_rerun_in_fresh_process_with_interpreter():
        """This process imported triton in compiled mode before this file: run the file in a fresh process."""
        env = {**os.environ, "TRITON_INTERPRET": "1"}
        root = Path(__file__).resolve().parents[2]
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__], cwd=root,
                             env=env, capture_output=True, text=True, check=False)  # fmt: skip
        assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
        assert " passed" in res.stdout and "failed" not in res.stdout


@pytest.fixture(autouse=True)
def _interpret(monkeypatch):
    """Triton also reads TRITON_INTERPRET at launch time (lazy imports): keep it set during each test."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")


@pytest.fixture
def triton_ops(monkeypatch):
    """Route CPU tensors to the Triton ops (what CUDA tensors get)."""
    ops = dispatch.Ops(ts.TritonALIFScan, ts.TritonLIScan, dispatch._dense_projection)
    monkeypatch.setattr(dispatch, "select_ops", lambda layer, x: ops)
    return ops


def neuron_cfg(name="alif", backend="reference"):
    return {
        "name": name, "b_j0": 0.01, "beta": 1.8 if name == "alif" else 0.0, "dt": 1.0,
        "tau_m": {"init": "normal", "mean": 20.0, "std": 5.0}, "tau_adp": {"init": "normal", "mean": 150.0, "std": 10.0},
        "train_tau_m": True, "train_tau_adp": name == "alif", "u0": "uniform", "backend": backend,
    }  # fmt: skip


def model_pair(neuron, recurrent, surrogate, dtype, n_in=12, hidden=(16, 20)):
    torch.manual_seed(0)
    sur = surrogate if isinstance(surrogate, S.Surrogate) else build_surrogate({"name": surrogate})
    readout = {"kind": "integrator", "tau_m": {"init": "normal", "mean": 20.0, "std": 5.0}}
    cfg = {"name": "srnn", "hidden": list(hidden), "recurrent": recurrent, "bias": True, "readout": readout}
    ref = build_model(cfg, n_in, 5, neuron_cfg(neuron), sur).to(dtype)
    with torch.no_grad():  # enough spikes that every path is exercised
        for layer in ref.layers:
            layer.w_in.weight.mul_(3.0)
            layer.w_in.bias.uniform_(-0.05, 0.1)
    fused = build_model(cfg, n_in, 5, neuron_cfg(neuron, "fused"), sur).to(dtype)
    fused.load_state_dict(ref.state_dict())
    return ref, fused


def run(model, x):
    torch.manual_seed(1)  # the uniform initial membrane is drawn in init_state
    out = model(x)
    loss = (out.output**2).sum()
    for a in out.activity.values():
        loss = loss + (a * torch.linspace(-1.0, 1.0, a.numel(), dtype=a.dtype).view_as(a)).sum()
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])
    return out, dict(zip(names, grads))


def rel(a, b):
    return ((a - b).abs().max() / a.abs().max().clamp_min(1e-30)).item()


def inputs(dtype, T=6, B=16, n_in=12, density=0.3, seed=3):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, n_in, generator=g) < density).to(dtype)


def compare(ref, fused, x, dtype):
    o_ref, g_ref = run(ref, x)
    o_tri, g_tri = run(fused, x)
    assert "Triton" in type(o_tri.output.grad_fn).__name__, "Triton path not taken"
    for k in o_ref.activity:
        assert torch.equal(o_ref.activity[k], o_tri.activity[k]), f"spikes of {k} differ"
    assert rel(o_ref.output, o_tri.output) <= TOL_MEM[dtype], "readout membrane"
    assert g_ref.keys() == g_tri.keys()
    for k in g_ref:
        assert g_ref[k].abs().max() > 0, f"gradient of {k} is zero: the test would not see an error"
        assert rel(g_ref[k], g_tri[k]) <= TOL_GRAD[dtype], f"grad {k}: {rel(g_ref[k], g_tri[k]):.3g}"
    return o_ref, g_ref


# float32: every neuron x connectivity x surrogate; float64 (interpreter time): every neuron x connectivity
# with the paper's multi-Gaussian, and every surrogate on the recurrent ALIF layer.
CASES = [
    pytest.param(dt, neuron, rec, sur, id=f"{sur}-{'rec' if rec else 'dense'}-{neuron}-{dt_id}")
    for dt, dt_id in ((torch.float32, "f32"), (torch.float64, "f64"))
    for neuron in ("alif", "lif")
    for rec in (True, False)
    for sur in sorted(SURROGATES)
    if dt == torch.float32 or sur == "multi_gaussian" or (neuron == "alif" and rec)
]


@in_process
@pytest.mark.parametrize(("dtype", "neuron", "recurrent", "surrogate"), CASES)
def test_triton_model_equals_reference(triton_ops, dtype, neuron, recurrent, surrogate):
    """Two ALIF/LIF layers (16 and 20 neurons: padded to 16 and 32) + integrator readout, T=6, B=16."""
    ref, fused = model_pair(neuron, recurrent, surrogate, dtype)
    o_ref, g_ref = compare(ref, fused, inputs(dtype), dtype)
    assert 0.02 < o_ref.activity["layer0"].mean() < 0.8  # spiking regime
    assert ("layers.0.cell.tau_adp" in g_ref) == (neuron == "alif")
    assert ("layers.0.w_rec.weight" in g_ref) == recurrent


@in_process
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_triton_python_derivative_for_other_surrogates(triton_ops, dtype):
    """A surrogate subclass the kernel does not know: x_t is stored and its own derivative() used."""

    class Bumpy(S.Gaussian):
        def derivative(self, x):
            return super().derivative(x) * (1.0 + 0.5 * torch.cos(3.0 * x))

    assert ts.surrogate_consts(Bumpy())[0] == 0
    compare(*model_pair("alif", True, Bumpy(), dtype), inputs(dtype), dtype)


@in_process
@pytest.mark.parametrize(
    ("dtype", "T"),
    [(torch.float32, 11), (torch.float64, 11), (torch.float64, 1), (torch.float64, 2)],
    ids=["f32-T11", "f64-T11", "f64-T1", "f64-T2"],
)
def test_triton_initial_state_membrane_and_padding(dtype, T):
    """One recurrent layer, B=20 (two programs, padded rows), N=20 (padded to 32), T=11 (checkpoint blocks
    of 4: 4+4+3), T=1 and 2 (one block). Gradients into a given initial state (u0, b0, arbitrary s0), through the recorded
    membranes and the final state (u_T, b_T)."""
    torch.manual_seed(0)
    layer = SpikingLayer(9, build_cell(neuron_cfg(), 20, build_surrogate({"name": "multi_gaussian"})), True).to(dtype)
    with torch.no_grad():
        layer.w_in.weight.mul_(3.0)
    x = inputs(dtype, T=T, B=20, n_in=9, density=0.3)
    g = torch.Generator().manual_seed(5)
    u0 = torch.rand(20, 20, generator=g, dtype=dtype)
    b0 = 0.01 + 0.1 * torch.rand(20, 20, generator=g, dtype=dtype)
    s0 = torch.rand(20, 20, generator=g, dtype=dtype)  # any values: the kernel's first step takes them as given
    ops = dispatch.Ops(ts.TritonALIFScan, ts.TritonLIScan, dispatch._dense_projection)
    results = []
    for mode in ("reference", "triton"):
        state0 = [t.clone().requires_grad_(True) for t in (u0, b0, s0)]
        st = layer.init_state(20, dtype=dtype)
        st = st._replace(cell=st.cell._replace(u=state0[0], b=state0[1], s=state0[2]), out=state0[2])
        if mode == "reference":
            out, mem, fin = layer(x, st, record_membrane=True)
        else:
            out, mem, fin = dispatch.run_layer(layer, x, st, True, ops)
        loss = (out * torch.linspace(-1, 1, out.numel(), dtype=dtype).view_as(out)).sum() + (mem**2).sum()
        loss = loss + (fin.cell.b * 3).sum() + (fin.cell.u**2).sum()
        wrt = [*state0, *layer.parameters()]
        results.append((out, mem, fin, torch.autograd.grad(loss, wrt)))
    (o_r, m_r, f_r, g_r), (o_t, m_t, f_t, g_t) = results
    assert 0.02 < o_r.mean() < 0.8 or T < 3
    assert torch.equal(o_r, o_t)
    assert rel(m_r, m_t) <= TOL_MEM[dtype] and rel(f_r.cell.b, f_t.cell.b) <= TOL_MEM[dtype]
    names = ["u0", "b0", "s0", *(n for n, _ in layer.named_parameters())]
    for name, a, b in zip(names, g_r, g_t):
        assert a.abs().max() > 0, name
        assert rel(a, b) <= TOL_GRAD[dtype], f"grad {name}: {rel(a, b):.3g}"


@in_process
def test_triton_fewer_saved_bytes_than_reference(triton_ops):
    """The Triton ops keep at most half of what the reference loop keeps for the backward."""
    from srnn_bench.kernels.memory import saved_bytes

    ref, fused = model_pair("alif", True, "multi_gaussian", torch.float32, n_in=30, hidden=(32, 32))
    x = inputs(torch.float32, T=16, B=16, n_in=30, density=0.1)
    b_ref, b_tri = saved_bytes(ref, x), saved_bytes(fused, x)
    assert b_tri <= 0.5 * b_ref, (b_tri, b_ref)


def test_dispatch_routes_cuda_to_triton(monkeypatch):
    """select_ops: CUDA -> Triton ops (dense projection); too wide, no triton, other device -> one-line reason.
    (CPU -> the C++ ops is checked by tests/unit/test_kernels.py.) The first-use check is tested below."""
    checked = []
    monkeypatch.setattr(dispatch, "first_use_check", lambda layer, x, ops: checked.append(ops) or None)
    layer = SimpleNamespace(size=64, w_rec=object())
    cuda_x = SimpleNamespace(device=torch.device("cuda"), shape=(5, 2, 3), dtype=torch.float32)
    ops = dispatch.select_ops(layer, cuda_x)
    assert ops.alif.__name__ == "TritonALIFScan" and ops.li.__name__ == "TritonLIScan"
    assert dispatch.select_ops(SimpleNamespace(size=128, w_rec=object()), cuda_x).alif is ops.alif
    wide = dispatch.select_ops(SimpleNamespace(size=129, w_rec=object()), cuda_x)
    assert wide == "no Triton kernel for recurrent torch.float32 layers wider than 128 neurons (got 129)"
    f64 = SimpleNamespace(device=torch.device("cuda"), shape=(5, 2, 3), dtype=torch.float64)
    assert "wider than 64 neurons (got 65)" in dispatch.select_ops(SimpleNamespace(size=65, w_rec=object()), f64)
    assert dispatch.select_ops(SimpleNamespace(size=256, w_rec=None), f64).alif is ops.alif  # dense: no W tile
    meta = dispatch.select_ops(layer, torch.empty(2, 2, 2, device="meta"))
    assert isinstance(meta, str) and "device 'meta'" in meta
    monkeypatch.setattr(ts, "triton", None)  # as without the `cuda` extra
    assert "triton is not installed" in dispatch.select_ops(layer, cuda_x)
    assert checked and all(o.alif is ops.alif for o in checked)


class _BrokenALIF(torch.autograd.Function):
    """The Triton ALIF op with a wrong backward (gradient of the input current halved)."""

    @staticmethod
    def forward(ctx, *args):
        return ts.TritonALIFScan.forward(ctx, *args)

    @staticmethod
    def backward(ctx, *grads):
        g = ts.TritonALIFScan.backward(ctx, *grads)
        return (g[0] * 0.5, *g[1:])


@in_process
@pytest.mark.parametrize("recurrent", [True, False], ids=["rec", "dense"])
def test_first_use_check_accepts_the_kernels_and_rejects_a_broken_one(monkeypatch, recurrent):
    """dispatch.first_use_check runs a layer copy on the device before the kernels are used: the
    (interpreted) Triton ops pass it; a broken backward is caught and named, and the verdict is cached."""
    monkeypatch.setattr(dispatch, "_checked", {})
    torch.manual_seed(0)
    layer = SpikingLayer(12, build_cell(neuron_cfg(), 20, build_surrogate({"name": "multi_gaussian"})), recurrent,
                         backend="fused")
    with torch.no_grad():
        layer.w_in.weight.mul_(3.0)
    x = inputs(torch.float32, T=12, B=20)
    good = dispatch.Ops(ts.TritonALIFScan, ts.TritonLIScan, dispatch._dense_projection)
    assert dispatch.first_use_check(layer, x, good) is None
    assert layer.backend == "fused" and layer.w_in.weight.grad is None  # ran on a copy
    monkeypatch.setattr(dispatch, "_checked", {})
    broken = dispatch.Ops(_BrokenALIF, ts.TritonLIScan, dispatch._dense_projection)
    reason = dispatch.first_use_check(layer, x, broken)
    assert reason.startswith("the kernels failed their first-use check on cpu:") and "w_in.weight" in reason
    assert dispatch.first_use_check(layer, x, good) == reason  # cached per device, dtype and layer kind


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_surrogate_consts_cover_every_builtin(name):
    """Every built-in surrogate has a closed form in the kernel (kind 1..7), none falls to Python."""
    kind, consts = ts.surrogate_consts(build_surrogate({"name": name}))
    assert 1 <= kind <= 7 and len(consts) == 6 and consts[0] > 0


AOT_SCRIPT = r"""
import json, sys
import torch, triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from srnn_bench.kernels import triton_scan as ts

out = {}
for dtype, tname in ((torch.float32, "fp32"), (torch.float64, "fp64")):
    for rec in (True, False):
        n = ts.MAX_N_REC[dtype] if rec else ts.MAX_N_DENSE
        bn = ts._block_n(n)
        variants = [(ts._alif_fwd_kernel, dict(REC=rec, KEEP_U=True, STORE_X=True))]
        variants += [(ts._alif_bwd_kernel, dict(REC=rec, HAS_GO=True, HAS_GM=True, KIND=k)) for k in range(8)]
        if not rec:
            variants += [(ts._li_fwd_kernel, {}), (ts._li_bwd_kernel, {})]
        for fn, consts in variants:
            consts = {**consts, "BLOCK_B": ts.BLOCK_B, "BLOCK_N": bn}
            sig = {a: "constexpr" if a in consts else ("*" + tname if a.endswith("_ptr") else "i32") for a in fn.arg_names}
            k = triton.compile(ASTSource(fn, sig, consts), target=GPUTarget("cuda", 90, 32),
                               options={"num_warps": ts._warps(bn), "enable_fp_fusion": False})
            out[f"{fn.__name__}-{tname}-{'rec' if rec else 'dense'}-N{n}-{consts.get('KIND', '')}"] = k.metadata.shared
json.dump(out, sys.stdout)
"""


@pytest.mark.slow
def test_compiles_for_sm90_within_shared_memory():
    """Compiled mode without a GPU: every kernel variant at the width limits compiles to a cubin for sm_90
    (Triton front end, tl.dot tile sizes, float64 dot, ptxas) and fits an H100's 227 KiB of shared memory.
    Launching it needs a GPU: not checked here."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run([sys.executable, "-c", AOT_SCRIPT], cwd=root, env=env, capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    import json

    shared = json.loads(res.stdout)
    assert len(shared) == 2 * (9 + 11)
    assert max(shared.values()) <= 227 * 1024, shared
