"""Truncated BPTT in the one trainer (``trainer.tbptt_steps``, srnn_bench/training/tbptt.py).

* ``tbptt_steps >= T`` is full BPTT (same weights, bit for bit); the chunk machinery run on a single
  chunk gives the full-BPTT gradient too (checks the linearised losses on their own);
* with k < T the gradients equal a hand-built reference: the *reference*-backend model stepped one
  step at a time (``model.step``, the streaming API, not the code under test) with an explicit
  ``.detach()`` of the state every k steps, the full-sequence loss on the joined outputs, one
  backward. Every loss mode, both backends, float64, uneven chunks, ``skip_steps`` across a chunk end;
  ``tbptt_update=chunk`` against the same reference stepping SGD after every chunk;
* bad values fail with one line naming the key. (A 2-epoch CLI-config run with TBPTT, resumed mid-epoch
  and after kill -9: tests/e2e/test_resume.py.)
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import compose

from srnn_bench.config_validation import validate_config
from srnn_bench.data import IGNORE_INDEX
from srnn_bench.kernels import _build
from srnn_bench.models import ModelOutput, build_model
from srnn_bench.state import detach_state
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training import tbptt
from srnn_bench.training.losses import loss_and_correct
from srnn_bench.training.trainer import Trainer, TrainerConfig

T, B, N_IN, C = 23, 3, 6, 4
BACKENDS = ["reference"] + ([] if _build.compiler_missing() else ["fused"])


def make_model(backend="reference", readout="integrator", seed=0, hidden=(9, 7)):
    torch.manual_seed(seed)
    neuron = dict(
        name="alif", b_j0=0.01, beta=1.8, dt=1.0, tau_m=dict(init="normal", mean=20.0, std=5.0),
        tau_adp=dict(init="normal", mean=150.0, std=10.0), train_tau_m=True, train_tau_adp=True, u0="uniform",
        backend=backend,
    )  # fmt: skip
    cfg = dict(name="srnn", hidden=list(hidden), recurrent=True, bias=True,
               readout=dict(kind=readout, tau_m=dict(init="normal", mean=20.0, std=5.0)))  # fmt: skip
    model = build_model(cfg, N_IN, C, neuron, build_surrogate({"name": "multi_gaussian"})).double()
    with torch.no_grad():  # enough spikes that every path carries gradient
        for layer in model.layers:
            layer.w_in.weight.mul_(3.0)
        if readout == "spiking":
            model.readout.w_in.weight.mul_(4.0)
    return model


def batch(per_step=False, seed=3):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(T, B, N_IN, generator=g) < 0.3).double()
    if per_step:
        y = torch.randint(0, C, (T, B), generator=g)
        y[torch.rand(T, B, generator=g) < 0.2] = IGNORE_INDEX
    else:
        y = torch.randint(0, C, (B,), generator=g)
    return x, y


def trainer(model, tmp_path, lr=0.0, **cfg):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    cfg = TrainerConfig(progress=False, **{"dtype": "float64", "loss": "last", **cfg})  # float64 model and batches
    return Trainer(model, torch.nn.Identity(), None, opt, None, cfg, tmp_path, torch.device("cpu"), None)


def grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def reference_outputs(model, x, k):
    """Hand-built truncated BPTT: stream step by step, detach the state every k steps."""
    state = model.init_state(x.shape[1])
    outs, spikes = [], []
    for t in range(x.shape[0]):
        if k and t and t % k == 0:
            state = [detach_state(s) for s in state]  # explicit truncation (a list of LayerState)
        h, state = model.step(x[t], state)
        outs.append(h)
        spikes.append(state[-1].out)
    act = {"readout": torch.stack(spikes)} if model.readout_kind == "spiking" else {}
    return ModelOutput(torch.stack(outs), act)


def reference_grads(model, x, y, mode, k, skip=0):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(11)
    out = reference_outputs(model, x, k)
    loss = loss_and_correct(mode, out, y, skip)[0]
    loss.backward()
    return loss.item(), grads(model)


def assert_close(a: dict, b: dict, tol=1e-10):
    assert a.keys() == b.keys()
    for n in a:
        scale = a[n].abs().max().clamp_min(1e-30)
        err = ((a[n] - b[n]).abs().max() / scale).item()
        assert err <= tol, f"grad {n}: relative error {err:.3g}"


CASES = [  # (loss, readout, skip_steps)
    ("last", "integrator", 0),
    ("mean", "integrator", 0),
    ("mean", "integrator", 7),
    ("masked_mean", "integrator", 7),
    ("sum_softmax", "integrator", 0),
    ("per_step", "integrator", 0),
    ("per_step", "integrator", 7),
    ("spike_count", "spiking", 0),
    ("mean", "spiking", 0),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_k_at_least_T_is_full_bptt(tmp_path, backend):
    x, y = batch()
    weights = []
    for k in (0, T, T + 5):
        m = make_model(backend)
        tr = trainer(m, tmp_path, lr=0.1, tbptt_steps=k)
        torch.manual_seed(11)
        ok, loss, c, n = tr.train_batch(x, y)
        assert ok and n == B
        weights.append((loss, c, {k_: v.clone() for k_, v in m.state_dict().items()}))
    for loss, c, w in weights[1:]:
        assert (loss, c) == weights[0][:2]
        assert all(torch.equal(w[k_], weights[0][2][k_]) for k_ in w)


@pytest.mark.parametrize("mode,readout,skip", CASES)
def test_single_chunk_machinery_equals_full_bptt(tmp_path, mode, readout, skip):
    """The chunk loop on one chunk [0, T): chunk losses / linearised losses give the full gradient."""
    per_step = mode == "per_step"
    x, y = batch(per_step)
    ref = make_model("reference", readout)
    full_loss, full = reference_grads(ref, x, y, mode, 0, skip)
    m = make_model("reference", readout)
    tr = trainer(m, tmp_path, loss=mode, skip_steps=skip, tbptt_steps=T)
    torch.manual_seed(11)
    ok, loss, _, _ = tr._train_batch_chunked(x, y, [(0, T)], "")
    assert ok and math.isclose(loss, full_loss, rel_tol=1e-12)
    assert_close(full, grads(m), 1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode,readout,skip", CASES)
def test_truncated_gradients_equal_hand_built_reference(tmp_path, backend, mode, readout, skip):
    k = 5  # chunks 0-5, 5-10, 10-15, 15-20, 20-23
    per_step = mode == "per_step"
    x, y = batch(per_step)
    ref = make_model("reference", readout)
    ref_loss, want = reference_grads(ref, x, y, mode, k, skip)
    _, untruncated = reference_grads(ref, x, y, mode, 0, skip)
    m = make_model(backend, readout)
    tr = trainer(m, tmp_path, loss=mode, skip_steps=skip, tbptt_steps=k)
    torch.manual_seed(11)
    ok, loss, c, n = tr.train_batch(x, y)
    assert ok
    # loss and accuracy of the whole sequence (the truncation changes gradients, not outputs)
    assert math.isclose(loss, ref_loss, rel_tol=1e-12), (loss, ref_loss)
    assert n == (int((y[skip:] != IGNORE_INDEX).sum()) if per_step else B)
    got = grads(m)
    assert_close(want, got)
    assert any(want[p].abs().max() > 0 for p in want)
    # the truncation matters here: the untruncated gradient is different (so the test can fail)
    diff = max(
        ((want[p] - untruncated[p]).abs().max() / untruncated[p].abs().max().clamp_min(1e-30)).item() for p in want
    )
    assert diff > 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunk_updates_equal_reference_stepping_after_every_chunk(tmp_path, backend):
    """tbptt_update=chunk: TBPTT(k, k), one SGD step per chunk, on the per-step loss."""
    k, lr = 8, 0.05  # chunks 0-8, 8-16, 16-23
    x, y = batch(per_step=True)
    ref = make_model("reference")
    opt = torch.optim.SGD(ref.parameters(), lr=lr)
    torch.manual_seed(11)
    state = ref.init_state(B)
    for a in range(0, T, k):
        b = min(a + k, T)
        opt.zero_grad()
        state = [detach_state(s) for s in state]
        outs = []
        for t in range(a, b):
            h, state = ref.step(x[t], state)
            outs.append(h)
        loss_and_correct("per_step", ModelOutput(torch.stack(outs), {}), y[a:b])[0].backward()
        opt.step()
    m = make_model(backend)
    tr = trainer(m, tmp_path, lr=lr, loss="per_step", tbptt_steps=k, tbptt_update="chunk")
    torch.manual_seed(11)
    assert tr.train_batch(x, y)[0]
    want, got = dict(ref.named_parameters()), dict(m.named_parameters())
    moved = max((want[n] - p).abs().max().item() for n, p in make_model("reference").named_parameters())
    assert moved > 1e-4  # the steps did change the weights
    assert_close({n: want[n].detach() for n in want}, {n: got[n].detach() for n in got}, 1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_with_carried_state_equals_whole_sequence(backend):
    m = make_model(backend, "spiking")
    x, _ = batch()
    torch.manual_seed(1)
    whole = m(x)
    torch.manual_seed(1)
    parts, state = [], None
    for a, b in tbptt.chunk_bounds(T, 6):
        o, state = m(x[a:b], state, return_state=True)
        parts.append(o)
    assert len(state) == len(m.init_state(B))
    assert torch.equal(torch.cat([p.output for p in parts]), whole.output)
    for k in whole.activity:
        assert torch.equal(torch.cat([p.activity[k] for p in parts]), whole.activity[k])


def test_chunk_bounds():
    assert tbptt.chunk_bounds(10, 0) == [(0, 10)]
    assert tbptt.chunk_bounds(10, 10) == [(0, 10)]
    assert tbptt.chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert tbptt.chunk_bounds(784, 100)[-1] == (700, 784)


BAD = [
    (["trainer.tbptt_steps=-1"], "trainer.tbptt_steps must be an integer >= 0"),
    (["trainer.tbptt_steps=2.5"], "trainer.tbptt_steps must be an integer >= 0"),
    (["trainer.tbptt_steps=abc"], "trainer.tbptt_steps must be an integer >= 0"),
    (["trainer.tbptt_steps=true"], "trainer.tbptt_steps must be an integer >= 0"),
    (
        ["trainer.tbptt_steps=10", "trainer.tbptt_update=window"],
        "unknown trainer.tbptt_update 'window'; valid choices: sequence, chunk",
    ),
    (
        ["trainer.tbptt_steps=10", "trainer.tbptt_update=chunk"],
        "trainer.tbptt_update=chunk needs trainer.loss=per_step",
    ),
    (
        ["trainer.tbptt_steps=10", "model.bidirectional=true"],
        "trainer.tbptt_steps=10 cannot chunk a bidirectional model",
    ),
]


@pytest.mark.parametrize("overrides,message", BAD)
def test_bad_values_fail_with_one_line(overrides, message):
    with pytest.raises(ValueError) as e:
        validate_config(compose(overrides))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_valid_settings_pass_and_model_checks(tmp_path):
    validate_config(compose(["trainer.tbptt_steps=10"]))
    validate_config(compose(["trainer.tbptt_steps=null"]))
    validate_config(compose(["trainer.tbptt_steps=10", "trainer.tbptt_update=chunk", "trainer.loss=per_step"]))
    # the trainer refuses what cannot be chunked without changing the model: BatchNorm over T x B frames
    from omegaconf import OmegaConf

    cfg = compose(["neuron=plif_v2"])
    neuron = OmegaConf.to_container(cfg.neuron, resolve=True)
    model = build_model(
        OmegaConf.to_container(cfg.model, resolve=True), N_IN, C, neuron, build_surrogate({"name": "multi_gaussian"})
    )
    with pytest.raises(ValueError, match=r"trainer.tbptt_steps=10 cannot chunk layers.0.norm: its BatchNorm") as e:
        trainer(model, tmp_path, tbptt_steps=10)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="trainer.tbptt_steps must be an integer >= 0"):
        trainer(make_model(), tmp_path, tbptt_steps=-3)
