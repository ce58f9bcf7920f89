"""ALIF dynamics (Yin et al. 2021, eqs 5-8) against the golden trace of semantics.md §1."""

import math

import pytest
import torch

from srnn_bench.neurons import ALIFState, LIState, alif_step, li_step
from srnn_bench.surrogates import MultiGaussian

GOLDEN = [  # t: (b, B = theta, u, s); tau_m 20, tau_adp 200, b_j0 0.01, beta 1.8, I = 1
    (0.0099501, 0.0279102, 0.0487706, 1.0),
    (0.0148880, 0.0367984, 0.0583641, 1.0),
    (0.0198013, 0.0456423, 0.0586460, 1.0),
    (0.0246900, 0.0544421, 0.0501142, 0.0),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_alif_four_step_trace(dtype):
    one = torch.ones(1, 1, dtype=dtype)
    state = ALIFState(u=0 * one, b=0.01 * one, s=0 * one)
    tau_m, tau_adp = torch.tensor([20.0], dtype=dtype), torch.tensor([200.0], dtype=dtype)
    tol = 1e-7 if dtype == torch.float64 else 5e-7  # golden values carry 7 decimals; float32 rounds earlier
    for b, theta, u, s in GOLDEN:
        spike, state = alif_step(one, state, tau_m, tau_adp, b_j0=0.01, beta=1.8, spike_fn=MultiGaussian())
        assert state.b.item() == pytest.approx(b, abs=tol)
        assert 0.01 + 1.8 * state.b.item() == pytest.approx(theta, abs=tol)
        assert state.u.item() == pytest.approx(u, abs=tol)
        assert spike.item() == s and spike.dtype == dtype


def test_decay_constants():
    assert math.exp(-1 / 20) == pytest.approx(0.951229, abs=1e-6)
    assert math.exp(-1 / 200) == pytest.approx(0.995012, abs=1e-6)


def test_lif_is_alif_with_beta_zero_threshold_stays_b0():
    one = torch.ones(1, 1)
    state = ALIFState(0 * one, 0.01 * one, 0 * one)
    for _ in range(5):
        s, new = alif_step(one, state, torch.tensor([20.0]), torch.tensor([200.0]), 0.01, 0.0, MultiGaussian())
        # soft reset by the fixed threshold b_0 (beta = 0): u = alpha u + (1 - alpha) I - b_0 s_prev
        alpha = math.exp(-1 / 20)
        assert new.u.item() == pytest.approx(alpha * state.u.item() + (1 - alpha) - 0.01 * state.s.item(), abs=1e-7)
        state = new


def test_integrator_step():
    u, st = li_step(torch.ones(1, 1), LIState(torch.zeros(1, 1)), torch.tensor([20.0]))
    u, st = li_step(torch.ones(1, 1), st, torch.tensor([20.0]))
    a = math.exp(-1 / 20)
    assert u.item() == pytest.approx(a * (1 - a) + (1 - a), abs=1e-7)
