"""Spiking Recurrent Cell (De Geeter et al. 2023, eqs 5a-5f): a hand-computed 3-step trace, the bias
clamp, the ReLU bypass, the detached recurrence, the noisy variant and the fixed-weight readout."""

import math

import pytest
import torch

from srnn_bench.models import SRNN
from srnn_bench.neurons import SRCCell, SRCState
from srnn_bench.surrogates import MultiGaussian


def _state(h, hs, i, dtype=torch.float64):
    t = lambda v: torch.full((1, 1), v, dtype=dtype)
    return SRCState(t(h), t(hs), t(i))


def test_three_step_trace_by_hand():
    """Start just below a spike: h = hs = -0.4, i = 6, b_h = -4, no input. Table 1 constants."""
    cell = SRCCell(1, b_h_init=-4.0).double()
    state = _state(-0.4, -0.4, 6.0)
    # step 1: i = 0.9*6 = 5.4; x = 3 tanh(5.4/3); h_prev = -0.4 < 0.5 -> z_s = 0.9
    i1 = 5.4
    h1 = math.tanh(3 * math.tanh(i1 / 3) + 2 * -0.4 + -7 * -0.4 - 4)  # tanh(1.8) = 0.946806 -> tanh(0.840418) = 0.686030: a spike
    hs1 = 0.9 * -0.4 + 0.1 * -0.4
    # step 2: h_prev = h1 > 0.5 -> z_s = 0 -> hs follows h_prev at once
    i2 = 0.9 * i1
    h2 = math.tanh(3 * math.tanh(i2 / 3) + 2 * h1 + -7 * hs1 - 4)
    hs2 = h1
    # step 3: the slow feedback r_s * hs = -7 * 0.686 ends the spike
    i3 = 0.9 * i2
    h3 = math.tanh(3 * math.tanh(i3 / 3) + 2 * h2 + -7 * hs2 - 4)
    hs3 = 0.0 * hs2 + 1.0 * h2
    expected = [(h1, hs1, i1), (h2, hs2, i2), (h3, hs3, i3)]
    outs = []
    for h, hs, i in expected:
        s, state = cell(torch.zeros(1, 1, dtype=torch.float64), state)
        assert state.h.item() == pytest.approx(h, abs=1e-12)
        assert state.hs.item() == pytest.approx(hs, abs=1e-12)
        assert state.i.item() == pytest.approx(i, abs=1e-12)
        assert s.item() == pytest.approx(max(h, 0.0), abs=1e-12)  # eq. 5f
        outs.append(s.item())
    assert outs[0] > 0.6 and outs[1] > 0.9 and outs[2] == 0.0  # rise, peak, end of the spike
    assert h1 == pytest.approx(0.686030, abs=1e-6)


def test_bias_clamped_at_minus_four():
    cell = SRCCell(1, b_h_init=-3.0).double()  # raw parameter above the bound
    assert cell.bias().item() == -4.0
    ref = SRCCell(1, b_h_init=-4.0).double()
    x = torch.tensor([[1.5]], dtype=torch.float64)
    s1, st1 = cell(x, cell.init_state(1, dtype=torch.float64))
    s2, st2 = ref(x, ref.init_state(1, dtype=torch.float64))
    assert st1.h.item() == st2.h.item()
    st1.h.sum().backward()
    assert cell.b_h.grad.item() == 0.0  # clamp: no gradient while above the bound
    low = SRCCell(1, b_h_init=-6.0).double()
    assert low.bias().item() == -6.0
    _, st = low(x, low.init_state(1, dtype=torch.float64))
    st.h.sum().backward()
    assert low.b_h.grad.item() != 0.0


def test_relu_bypass_gradient_is_one_where_h_negative():
    cell = SRCCell(3).double()
    x = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    state = _state(0.0, 0.0, 0.0)
    state = SRCState(*(t.expand(1, 3).clone() for t in state))
    s, new = cell(x, state)
    assert (new.h < 0).all() and (s == 0).all()
    new.h.retain_grad()
    s.sum().backward()
    assert torch.equal(new.h.grad, torch.ones_like(new.h))  # ds/dh = 1 although h < 0
    plain = SRCCell(3, relu_bypass=False).double()
    x2 = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    s2, new2 = plain(x2, state)
    new2.h.retain_grad()
    s2.sum().backward()
    assert torch.equal(new2.h.grad, torch.zeros_like(new2.h))  # the plain ReLU blocks it


def test_recurrence_detached_only_i_carries_gradient():
    cell = SRCCell(1, b_h_init=-4.0).double()
    h0 = torch.full((1, 1), -0.4, dtype=torch.float64, requires_grad=True)
    hs0 = torch.full((1, 1), -0.4, dtype=torch.float64, requires_grad=True)
    i0 = torch.full((1, 1), 6.0, dtype=torch.float64, requires_grad=True)
    s, _ = cell(torch.zeros(1, 1, dtype=torch.float64), SRCState(h0, hs0, i0))
    s.sum().backward()
    assert h0.grad is None and hs0.grad is None and i0.grad.item() != 0.0
    cell2 = SRCCell(1, b_h_init=-4.0, detach_recurrence=False).double()
    h0.grad = None
    s, _ = cell2(torch.zeros(1, 1, dtype=torch.float64), SRCState(h0, hs0, i0))
    s.sum().backward()
    assert h0.grad.item() != 0.0


def test_noisy_variant_varies_r_and_rs():
    torch.manual_seed(0)
    noisy = SRCCell(50, sigma_noise=0.2).double()
    state = noisy.init_state(2, dtype=torch.float64)
    state = SRCState(state.h - 0.5, state.hs - 0.5, state.i)
    x = torch.ones(2, 50, dtype=torch.float64)
    _, a = noisy(x, state)
    _, b = noisy(x, state)
    assert not torch.equal(a.h, b.h)  # same input, different outputs (Fig. 6)
    clean = SRCCell(50).double()
    _, c1 = clean(x, state)
    _, c2 = clean(x, state)
    assert torch.equal(c1.h, c2.h)
    assert (a.h - c1.h).abs().max() < 0.5  # noise of sigma 0.2 on r, r_s with |h|, |hs| <= 0.5


def test_population_readout_fixed_weights():
    model = SRNN(3, 4, [6], False, {"name": "src"}, MultiGaussian(), {"kind": "population", "group": 10,
                                                                         "w_pos": 1.0, "w_neg": -0.1, "alpha": 0.99})
    w = model.readout.w_in.weight
    assert w.shape == (4, 40) and not w.requires_grad and model.readout.w_in.bias is None
    assert torch.all(w[1, 10:20] == 1.0) and torch.all(w[1, :10] == -0.1) and torch.all(w[1, 20:] == -0.1)
    assert model.final.size == 40
    assert model.readout.cell.alpha == 0.99
    params = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "readout.w_in.weight" not in params and "final.w_in.weight" in params
    # integrator u_t = 0.99 u_{t-1} + W s_t, by hand on the recorded final-layer activity
    x = torch.randn(5, 2, 3) * 5
    out = model(x)
    s = out.activity["layer1"]
    u = torch.zeros(2, 4)
    for t in range(5):
        u = 0.99 * u + s[t] @ w.T
        torch.testing.assert_close(out.output[t], u)
