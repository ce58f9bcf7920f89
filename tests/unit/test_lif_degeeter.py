"""De Geeter et al.'s LIF baseline (Sec. 2.2 LIF equation, App. A "For LIF"): reset to zero, unscaled
input, learnable threshold — options of neuron=lif (srnn_bench/neurons/alif.py)."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import compose

from srnn_bench.models import build_model
from srnn_bench.neurons import ALIFState, alif_step, build_cell
from srnn_bench.surrogates import ATan, build_surrogate

LN2_TAU = 1.0 / math.log(2.0)  # tau_m giving alpha = exp(-1/tau_m) = 0.5


def degeeter_cfg(**kw):
    cfg = {"name": "lif", "b_j0": 1.0, "beta": 0.0, "dt": 1.0, "tau_m": {"init": "constant", "mean": LN2_TAU, "std": 0.0},
           "tau_adp": {"init": "constant", "mean": 150.0, "std": 0.0}, "train_tau_m": True, "train_tau_adp": False,
           "u0": "zero", "reset": "zero", "scale_input": False, "threshold_trainable": True, "backend": "reference"}
    return {**cfg, **kw}


def _cell64(**kw):
    cell = build_cell(degeeter_cfg(**kw), kw.pop("n", 1), ATan()).double()
    with torch.no_grad():
        cell.tau_m.fill_(LN2_TAU)  # alpha = 0.5 to float64 precision (the init drew it in float32)
    return cell


def test_reset_to_zero_golden_trace():
    """V = 0.5 V + x, V > 1 -> spike and V -> 0 (applied as the next step starts), by hand:
    x = 0.6, 0.8, 0.3, 1.2 -> V = 0.6, 1.1 (spike), 0.5*0*1.1 + 0.3 = 0.3, 0.15 + 1.2 = 1.35 (spike).
    (Subtractive reset would give 0.55 + 0.3 - 1 = -0.15 at step 3; Yin's scaled input 0.3 at step 1.)"""
    cell = _cell64()
    state, us, ss = cell.init_state(1), [], []
    for x in (0.6, 0.8, 0.3, 1.2):
        s, state = cell(torch.tensor([[x]], dtype=torch.float64), state)
        us.append(state.u.item())
        ss.append(s.item())
    assert us == pytest.approx([0.6, 1.1, 0.3, 1.35], abs=1e-12)
    assert ss == [0.0, 1.0, 0.0, 1.0]
    sub = _cell64(reset="subtract")
    state = sub.init_state(1)
    for x in (0.6, 0.8, 0.3):
        _, state = sub(torch.tensor([[x]], dtype=torch.float64), state)
    assert state.u.item() == pytest.approx(-0.15, abs=1e-12)


def _run(cell, x, weights):
    state, loss = cell.init_state(x.shape[1], dtype=x.dtype), 0.0
    for t in range(x.shape[0]):
        s, state = cell(x[t], state)
        loss = loss + (weights[t] * s).sum()
    return loss


def test_threshold_gradient_closed_form_and_finite_difference():
    g = torch.Generator().manual_seed(0)
    T, B, N = 12, 3, 5
    x = torch.rand(T, B, N, generator=g, dtype=torch.float64) * 1.2
    w = torch.randn(T, B, N, generator=g, dtype=torch.float64)
    cell = build_cell(degeeter_cfg(), N, ATan()).double()
    assert cell.threshold.requires_grad and cell.threshold.shape == ()  # one scalar per layer (snnTorch)
    (grad,) = torch.autograd.grad(_run(cell, x, w), cell.threshold)
    # with the reset mask detached, V does not depend on the threshold: dL/dthr = -sum_t w_t f'(V_t - thr)
    state, expect, n_spikes = cell.init_state(B, dtype=torch.float64), 0.0, 0
    for t in range(T):
        s, state = cell(x[t], state)
        expect = expect - (w[t] * ATan().derivative(state.u.detach() - 1.0)).sum()
        n_spikes += int(s.sum())
    assert 0 < n_spikes < T * B * N  # spikes and silences both seen
    assert grad.item() == pytest.approx(expect.item(), rel=1e-12)

    # finite difference through the pure step with a smooth spike function, the reset masks held at the
    # unperturbed run's values (what the detach means)
    def smooth(v):
        return torch.sigmoid(4.0 * v)

    tau = torch.full((N,), LN2_TAU, dtype=torch.float64)

    def loss_at(thr, masks=None):
        st = ALIFState(*(torch.zeros(B, N, dtype=torch.float64),) * 3)
        total, seen = 0.0, []
        for t in range(T):
            if masks is not None:
                st = st._replace(s=masks[t])
            seen.append(st.s.detach())
            s, st = alif_step(x[t], st, tau, tau, thr, 0.0, smooth, reset="zero", scale_input=False)
            total = total + (w[t] * s).sum()
        return total, seen

    thr = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    loss, masks = loss_at(thr)
    (auto,) = torch.autograd.grad(loss, thr)
    h = 1e-6
    fd = (loss_at(0.8 + h, masks)[0] - loss_at(0.8 - h, masks)[0]) / (2 * h)
    assert auto.item() == pytest.approx(fd.item(), rel=1e-7) and abs(auto.item()) > 1e-3


def test_fused_backend_falls_back_for_these_options():
    from srnn_bench.kernels import dispatch

    dispatch._warned.clear()
    torch.manual_seed(0)
    readout = {"kind": "integrator", "tau_m": {"init": "constant", "mean": 20.0, "std": 0.0}}
    model_cfg = {"name": "srnn", "hidden": [6], "recurrent": False, "bias": True, "readout": readout}
    ref = build_model(model_cfg, 4, 3, degeeter_cfg(), ATan()).double()
    # said once, when the layer is built (the readout, an integrator, does have a fused kernel)
    with pytest.warns(UserWarning, match="no fused kernel for reset=zero, scale_input=false, threshold_trainable=true"):
        fused = build_model(model_cfg, 4, 3, {**degeeter_cfg(), "backend": "fused"}, ATan()).double()
    fused.load_state_dict(ref.state_dict())
    assert (fused.layers[0].backend, fused.readout.backend) == ("reference", "fused")
    x = torch.rand(9, 2, 4, dtype=torch.float64) * 3
    torch.testing.assert_close(fused(x).output, ref(x).output, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["lif_mnist_rate", "lif_fmnist_latency", "lif_nmnist", "deep_lif10"])
def test_degeeter_configs_use_the_options(name):
    cfg = compose([f"experiment={name}"])
    n = cfg.neuron
    assert (n.reset, n.scale_input, n.threshold_trainable, n.b_j0, n.beta, n.u0) == ("zero", False, True, 1.0, 0.0, "zero")
    assert cfg.surrogate.name == "atan" and cfg.surrogate.alpha == 2.0
    cell = build_cell(n, 3, build_surrogate(cfg.surrogate))
    assert math.exp(-1.0 / cell.tau_m[0].item()) == pytest.approx(0.99 if "latency" in name else 0.9)


def test_bad_options_fail_in_one_line():
    with pytest.raises(ValueError, match=r"^unknown neuron.reset 'hard'; valid choices: subtract, zero$"):
        build_cell(degeeter_cfg(reset="hard"), 3, ATan())
    with pytest.raises(ValueError, match=r"^neuron.threshold_trainable must be true or false, got 'yes'$"):
        build_cell(degeeter_cfg(threshold_trainable="yes"), 3, ATan())
