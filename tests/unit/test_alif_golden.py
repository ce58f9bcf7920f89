"""ALIF dynamics (Yin et al. 2021, eqs 5-8) against the golden trace of semantics.md §1, and against a
plain-Python transcription of semantics.md's update order over a long, spiking, mixed-parameter trace."""

import math
import random

import pytest
import torch

from srnn_bench.neurons import ALIFCell, ALIFState, LIState, alif_step, li_step
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


def test_cell_reproduces_the_trace():
    """The module (its parameters, initial state, forward) gives the same golden trace as the pure step."""
    const = lambda v: {"init": "constant", "mean": v}
    cell = ALIFCell(1, MultiGaussian(), tau_m=const(20.0), tau_adp=const(200.0), b_j0=0.01, beta=1.8, u0="zero")
    state = cell.init_state(1)
    assert (state.u.item(), state.b.item(), state.s.item()) == (0.0, pytest.approx(0.01), 0.0)  # b0 = b_j0
    for b, _, u, s in GOLDEN:
        spike, state = cell(torch.ones(1, 1), state)
        assert state.b.item() == pytest.approx(b, abs=5e-7) and state.u.item() == pytest.approx(u, abs=5e-7)
        assert spike.item() == s


def test_decay_factors_of_the_step():
    """semantics.md: alpha(20) = 0.951229, rho(200) = 0.995012 -- as the step applies them (no input, no spike)."""
    one, zero = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    tau_m, tau_adp = torch.tensor([20.0], dtype=torch.float64), torch.tensor([200.0], dtype=torch.float64)
    _, st = alif_step(zero, ALIFState(u=one, b=one, s=zero), tau_m, tau_adp, 0.0, 0.0, MultiGaussian())
    assert st.u.item() == pytest.approx(0.951229, abs=1e-6) and st.b.item() == pytest.approx(0.995012, abs=1e-6)
    u, _ = li_step(zero, LIState(one), tau_m)
    assert u.item() == pytest.approx(0.951229, abs=1e-6)
    _, st = alif_step(zero, ALIFState(u=one, b=one, s=zero), tau_m, tau_adp, 0.0, 0.0, MultiGaussian(), dt=2.0)
    assert st.u.item() == pytest.approx(0.951229**2, abs=1e-6)  # dt = 2: alpha = exp(-dt / tau_m)


def semantics_trace(currents, tau_m, tau_adp, b_j0, beta, dt, u0):
    """semantics.md §1 written out in plain Python floats, one neuron at a time (independent of torch)."""
    out = []
    for n in range(len(tau_m)):
        alpha, rho = math.exp(-dt / tau_m[n]), math.exp(-dt / tau_adp[n])
        u, b, s, rows = u0[n], b_j0[n], 0.0, []
        for i in currents:
            b = rho * b + (1 - rho) * s  # uses the previous spike
            big_b = b_j0[n] + beta[n] * b  # threshold before the membrane update
            u = alpha * u + (1 - alpha) * i[n] - big_b * s * dt  # soft reset: new B x old spike
            s = 1.0 if u - big_b > 0 else 0.0  # strict
            rows.append((u, b, s))
        out.append(rows)
    return out


def test_long_trace_matches_the_written_update_order():
    """300 steps, 6 neurons with different tau_m, tau_adp, b_j0, beta (0 = LIF), dt 1 and 0.5, random
    positive and negative currents: every u, b and spike equals the transcription of semantics.md."""
    rng = random.Random(3)
    tau_m, tau_adp = [20.0, 5.0, 3.0, 50.0, 2.0, 10.0], [200.0, 150.0, 30.0, 600.0, 20.0, 100.0]
    b_j0, beta = [0.01, 0.1, 1.6, 1.0, 0.3, 0.8], [1.8, 1.84, 0.184, 0.0, 1.8, 0.0]
    u0 = [0.0, 0.05, 0.5, 0.003, 0.2, 0.0]
    for dt in (1.0, 0.5):
        currents = [[rng.uniform(-1.0, 4.0) for _ in tau_m] for _ in range(300)]
        want = semantics_trace(currents, tau_m, tau_adp, b_j0, beta, dt, u0)
        f64 = {"dtype": torch.float64}
        state = ALIFState(torch.tensor([u0], **f64), torch.tensor([b_j0], **f64), torch.zeros(1, len(tau_m), **f64))
        params = [torch.tensor(v, **f64) for v in (tau_m, tau_adp, b_j0, beta)]
        got = []
        for i in currents:
            spike, state = alif_step(torch.tensor([i], **f64), state, *params, MultiGaussian(), dt=dt)
            got.append(torch.stack([state.u[0], state.b[0], spike[0]], -1).tolist())
        for n in range(len(tau_m)):
            trace = [row[n] for row in got]
            spikes = [r[2] for r in want[n]]
            assert [r[2] for r in trace] == spikes, f"neuron {n}, dt {dt}: spike trains differ"
            assert max(abs(a - b) for r, w in zip(trace, want[n]) for a, b in zip(r[:2], w[:2])) < 1e-12
        n_spikes = [sum(r[n][2] for r in got) for n in range(len(tau_m))]
        assert all(0 < k < 300 for k in n_spikes), n_spikes  # every neuron both spikes and stays silent


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
