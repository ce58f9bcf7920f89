"""Options added for the published Yin et al. 2021 networks (issue #12), each checked numerically:
the SSC decision ``masked_mean``, ``skip_steps`` of the other decisions, first-index tie-breaking of spike
counts, the authors' initial "previous spike" (``neuron.s0=u0``) and random readout membrane
(``model.readout.u0``)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from test_models import make

from srnn_bench.models import ModelOutput
from srnn_bench.training.losses import loss_and_correct, sequence_logits

D = torch.float64


def test_masked_mean_divides_by_the_full_length_hand_computed():
    """Yin's SSC code: log_softmax(sum_{i > 0} u_i / 250). Here T = 3, skip 1: (u_1 + u_2) / 3."""
    u = torch.tensor([[[9.0, -9.0]], [[1.0, 2.0]], [[3.0, 1.0]]], dtype=D)  # [T=3, B=1, C=2]
    out = ModelOutput(u, {})
    got = sequence_logits("masked_mean", out, skip_steps=1)
    assert math.isclose(got[0, 0].item(), -math.log1p(math.exp(1.0 - 4.0 / 3.0)), rel_tol=1e-14)  # logits (4/3, 1)
    mean = sequence_logits("mean", out, skip_steps=1)  # divides by the 2 counted steps: logits (2, 1.5)
    assert math.isclose(mean[0, 0].item(), -math.log1p(math.exp(-0.5)), rel_tol=1e-14)
    loss, correct, n = loss_and_correct("masked_mean", out, torch.tensor([1]), skip_steps=1)
    assert math.isclose(loss.item(), -got[0, 1].item(), rel_tol=1e-14) and (correct, n) == (0, 1)
    u = torch.randn(6, 4, 5, dtype=D)
    assert torch.allclose(sequence_logits("masked_mean", ModelOutput(u, {})), sequence_logits("mean", ModelOutput(u, {})))


def test_sum_softmax_skip_11_is_the_authors_i_gt_10():
    u = torch.randn(13, 2, 3, dtype=D)
    got = sequence_logits("sum_softmax", ModelOutput(u, {}), skip_steps=11)
    assert torch.allclose(got, F.softmax(u[11], -1) + F.softmax(u[12], -1), rtol=0, atol=1e-15)


def test_spike_count_skip_and_first_index_ties():
    """torch.max in the authors' code takes the first of tied spike counts; so does our argmax. PS-MNIST's
    count starts at step 1 (skip_steps 1)."""
    s = torch.zeros(3, 2, 3, dtype=D)  # [T, B, C]
    s[0, 0, 0] = 5.0  # excluded by skip 1
    s[1:, 0, 1] = 1.0
    s[1:, 0, 2] = 1.0  # sample 0: classes 1 and 2 tie at 2 spikes
    s[1, 1, 0] = s[2, 1, 2] = 1.0  # sample 1: classes 0 and 2 tie at 1
    out = ModelOutput(torch.zeros_like(s), {"readout": s})
    assert sequence_logits("spike_count", out, 1).tolist() == [[0.0, 2.0, 2.0], [1.0, 0.0, 1.0]]
    assert sequence_logits("spike_count", out, 0).argmax(-1).tolist() == [0, 0]
    _, correct, _ = loss_and_correct("spike_count", out, torch.tensor([1, 2]), skip_steps=1)
    assert correct == 1  # sample 0's label is the first tied class, sample 1's is not


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_s0_u0_first_step_reads_the_initial_membrane_as_previous_spike(backend):
    """Authors' code (SHD 87.41, SSC, S-MNIST): mem = spike = torch.rand(...), so step 0 computes
    b = rho b0 + (1 - rho) s0, B = b_j0 + beta b, u = alpha u0 + (1 - alpha)(W x + U s0 + bias) - B s0."""
    model = make("alif", "neuron.u0=uniform_unit", "neuron.s0=u0", f"neuron.backend={backend}", hidden="[6]").to(D)
    torch.manual_seed(1)
    state = model.init_state(3)
    u0, b0, s0 = state[0].cell
    assert torch.equal(s0, u0) and s0.min() > 0 and torch.equal(state[0].out, s0)
    x = torch.randn(2, 3, 3, dtype=D)
    with torch.no_grad():
        out, new = model(x, state, return_state=True)
        layer, c = model.layers[0], model.layers[0].cell
        alpha, rho = torch.exp(-1.0 / c.tau_m), torch.exp(-1.0 / c.tau_adp)
        b = rho * b0 + (1 - rho) * s0
        theta = c.b_j0 + c.beta * b
        u = alpha * u0 + (1 - alpha) * (layer.w_in(x[0]) + layer.w_rec(s0)) - theta * s0
        assert torch.allclose(out.activity["layer0"][0], (u - theta > 0).to(D), rtol=0, atol=0)
        step_out, step_state = model.step(x[0], state)  # streaming agrees
        assert torch.allclose(step_state[0].cell.u, u, rtol=0, atol=1e-14)
    assert torch.equal(make("alif", "neuron.u0=uniform_unit", hidden="[6]").init_state(3)[0].cell.s, torch.zeros(3, 6))


def test_readout_u0_uniform_unit():
    """SHD scripts: the readout membrane starts at torch.rand; default zero."""
    u = make("alif", "model.readout.u0=uniform_unit").init_state(400)[-1].cell.u
    assert u.min() >= 0 and 0.9 < u.max() < 1
    assert torch.all(make("alif").init_state(4)[-1].cell.u == 0)
    with pytest.raises(ValueError, match="unknown model.readout.u0 'gauss'; valid choices: zero, uniform_unit"):
        make("alif", "model.readout.u0=gauss")
