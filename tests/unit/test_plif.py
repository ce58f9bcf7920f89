"""Ponghiran & Roy 2022: multi-bit output Q (eq. 22) by hand, the code's variant and its 1-bit bug, the
straight-through gradient, the EMA of the membrane range, the gated current (eqs 16-21), the traditional
current, subtractive reset and the per-sequence dropout mask."""

import math

import pytest
import torch

from srnn_bench.neurons import PLIFCell, PLIFState, plif_step, quantize

D = torch.float64


def q(v, b, n_bits, k, mode="paper"):
    return quantize(torch.tensor(v, dtype=D), torch.tensor(b, dtype=D), n_bits, k, mode).tolist()


def test_eq22_six_bits_threshold_three():
    """6 bits -> 2^6 = 64 levels of width b/64; threshold gamma = 3 b / 64 = 0.046875 b.
    b = 1:  V = 0.04    <= gamma                    -> 0
            V = 0.046875 = gamma (not > gamma)      -> 0
            V = 0.05    > gamma, floor(3.2)  = 3    -> 3/64  = 0.046875
            V = 0.5     floor(32)    = 32           -> 32/64 = 0.5
            V = 0.99    floor(63.36) = 63           -> 63/64 = 0.984375
            V = 1.5     clamped to b: floor(64) = 64, capped at 2^6 - 1 = 63 -> 0.984375
            V = -0.3    <= gamma                    -> 0
    b = 2:  V = 0.1     gamma = 0.09375; floor(0.1 / 2 * 64) = floor(3.2) = 3 -> 3 * 2/64 = 0.09375
    """
    got = q([0.04, 0.046875, 0.05, 0.5, 0.99, 1.5, -0.3], 1.0, 6, 3)
    assert got == [0.0, 0.0, 0.046875, 0.5, 0.984375, 0.984375, 0.0]
    assert q([0.1], 2.0, 6, 3) == [0.09375]


def test_eq22_three_bits_threshold_zero():
    """3 bits -> 8 levels of width b/8; threshold gamma = 0.
    b = 1:  V = 0.1   > 0 but floor(0.8) = 0   -> 0
            V = 0.2   floor(1.6) = 1           -> 1/8 = 0.125
            V = 0.5   floor(4)   = 4           -> 0.5
            V = 0.99  floor(7.92) = 7          -> 7/8 = 0.875
            V = 0.0   not > 0                  -> 0
            V = -0.5  not > 0                  -> 0
    """
    assert q([0.1, 0.2, 0.5, 0.99, 0.0, -0.5], 1.0, 3, 0) == [0.0, 0.125, 0.5, 0.875, 0.0, 0.0]


def test_code_variant_and_its_one_bit_bug():
    """The authors' FakeSpikeQuantization: n = 2^(N-1), scale = n (1 - 1e-4) / b, trunc, |level| <= k -> 0.
    3 bits, k = 0, b = 1: scale = 3.9996; V = 0.3 -> trunc(1.19988) = 1 -> 1/3.9996; V = -0.3 -> -1/3.9996;
    V = 0.2 -> trunc(0.79992) = 0 -> 0. With 1 bit, scale = 0.9999 and trunc(V * 0.9999) = 0 on [-b, b]."""
    s = 4 * (1 - 1e-4)
    got = q([0.3, -0.3, 0.2], 1.0, 3, 0, "code")
    assert got == pytest.approx([1 / s, -1 / s, 0.0], abs=1e-15)
    assert q([0.2, 0.7, 1.0, 5.0, -3.0], 1.0, 1, 0, "code") == [0.0] * 5  # the 1-bit bug
    assert q([0.7, 1.0, 5.0], 1.0, 1, 0, "paper") == [0.5, 0.5, 0.5]  # the paper's formula at 1 bit: b/2
    # 6 bits, k = 3 (the code's 'nb6th3'): levels 1..3 of 32 are silenced
    s6 = 32 * (1 - 1e-4)
    assert q([0.1, 0.13], 1.0, 6, 3, "code") == pytest.approx([0.0, 4 / s6], abs=1e-15)


def test_straight_through_inside_b():
    v = torch.tensor([-2.0, -0.5, 0.01, 0.3, 0.9, 1.7], dtype=D, requires_grad=True)
    quantize(v, torch.tensor(1.0, dtype=D), 6, 4).sum().backward()
    assert v.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]  # identity on [-b, b], 0 outside


def test_ema_of_membrane_range_bias_corrected():
    cell = PLIFCell(2, variant="v1")
    assert cell.range_b().item() == 1.0  # b_init before any training step
    cell.update_range(torch.tensor([[2.0, -0.5]]))
    # biased = 0.1 * 2 = 0.2, corrected = 0.2 / (1 - 0.9) = 2
    assert cell.range_b().item() == pytest.approx(2.0)
    cell.update_range(torch.tensor([[4.0, -5.0]]))
    # max: biased 0.2*0.9 + 0.4 = 0.58 -> 0.58 / 0.19; min: (-0.05*0.9 - 0.5) / 0.19 = -0.545 / 0.19
    assert cell.range_b().item() == pytest.approx(max(0.58, 0.545) / (1 - 0.81))


def test_gated_current_v1_and_reset():
    """eqs 16-18 with mask 1: F = sigmoid(f), C = ReLU(c), I = F I + (1 - F) C; V += I; y = Q(V); V -= y."""
    f, c = 0.3, 0.8
    state = PLIFState(torch.tensor([[0.2]], dtype=D), torch.tensor([[0.5]], dtype=D), torch.ones(1, 1, dtype=D))
    y, new = plif_step(torch.tensor([[f, c]], dtype=D), state, torch.tensor(1.0, dtype=D), "v1", 3, 0)
    F = 1 / (1 + math.exp(-f))
    i = F * 0.5 + (1 - F) * c
    v = 0.2 + i  # F = 0.574443: 0.2 + 0.627667 = 0.827667 -> floor(6.62) = 6 -> 6/8 = 0.75
    assert new.i.item() == pytest.approx(i, abs=1e-12)
    assert y.item() == 0.75
    assert new.v.item() == pytest.approx(v - 0.75, abs=1e-12)  # subtractive reset keeps the residual


def test_traditional_current_learnable_tau():
    cell = PLIFCell(1, variant="traditional", tau_init=1.0).double().eval()
    assert cell.gates == 1 and cell.tau.requires_grad
    st = cell.init_state(1, dtype=D)
    st = PLIFState(st.v, torch.tensor([[0.25]], dtype=D), st.mask)
    y, new = cell(torch.tensor([[0.1]], dtype=D), st)
    assert new.i.item() == pytest.approx(0.1 + 1.0 * 0.25)  # I = BN(Wx) * mask + tau * I_prev


def test_dropout_mask_fixed_per_sequence():
    torch.manual_seed(0)
    cell = PLIFCell(200, variant="v2", dropout=0.2).train()
    st = cell.init_state(3)
    assert set(st.mask.unique().tolist()) <= {0.0, 1.0 / 0.8}
    assert 0.1 < (st.mask == 0).float().mean().item() < 0.3
    _, st2 = cell(torch.randn(3, 400), st)
    assert st2.mask is st.mask  # carried unchanged through the sequence
    assert torch.equal(cell.eval().init_state(3).mask, torch.ones(3, 200))  # no dropout in evaluation


def test_training_updates_ema_every_step_eval_does_not():
    cell = PLIFCell(4, variant="v1").train()
    st = cell.init_state(2)
    for _ in range(3):
        _, st = cell(torch.randn(2, 8), st)
    assert cell.ema_steps.item() == 3
    cell.eval()
    cell(torch.randn(2, 8), st)
    assert cell.ema_steps.item() == 3


def test_bad_config_fails_with_one_line():
    with pytest.raises(ValueError, match="threshold_k"):
        PLIFCell(2, n_bits=3, threshold_k=8)
    with pytest.raises(ValueError, match="valid choices: paper, code"):
        PLIFCell(2, quantizer="nope")
