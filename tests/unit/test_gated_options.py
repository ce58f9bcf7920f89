"""Ponghiran & Roy's LSTM/GRU baseline options (srnn_bench/neurons/conventional.py; authors' code
neural_networks.py LSTM/GRU): recurrent dropout with a per-sequence mask, per-gate BatchNorm of W x.
With both off the cells equal PyTorch's (tests/unit/test_models.py::test_lstm_gru_rnn_match_torch_cells)."""

from __future__ import annotations

import pytest
import torch
from conftest import compose

from srnn_bench.models import build_model
from srnn_bench.models.layers import SpikingLayer
from srnn_bench.neurons import build_cell

D = torch.float64


def _layer(name, **kw):
    torch.manual_seed(0)
    layer = SpikingLayer(3, build_cell({"name": name, **kw}, 6, None), recurrent=True).double()
    return layer


def _by_hand(name, layer, x, mask):
    """The code's equations with a fixed mask: LSTM c = f c + i g mask; GRU h = z h + (1 - z) n mask."""
    w, u = layer.w_in, layer.w_rec.weight
    h = torch.zeros(x.shape[1], 6, dtype=D)
    c = torch.zeros_like(h)
    outs = []
    for t in range(x.shape[0]):
        if name == "lstm":
            i, f, g, o = (w(x[t]) + h @ u.T).chunk(4, -1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g) * mask
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            fr, fz, fn = w(x[t]).chunk(3, -1)
            rr, rz, rn = (h @ u.T).chunk(3, -1)
            r, z = torch.sigmoid(fr + rr), torch.sigmoid(fz + rz)
            h = z * h + (1 - z) * torch.tanh(fn + r * rn) * mask
        outs.append(h)
    return torch.stack(outs)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_recurrent_dropout_mask_is_fixed_per_sequence(name):
    layer = _layer(name, dropout=0.5)
    x = torch.randn(7, 4, 3, dtype=D)
    out, _, final = layer(x)  # training mode
    mask = final.cell.mask
    assert set(mask.unique().tolist()) == {0.0, 1.0}  # not rescaled (the code's Bernoulli(1 - p) mask)
    dropped = mask == 0
    assert dropped.any() and (~dropped).any()
    # from a zero state a dropped neuron never leaves 0: the same neurons are dropped at every step
    assert (out[:, dropped] == 0).all() and (out[:, ~dropped] != 0).all()
    torch.testing.assert_close(out, _by_hand(name, layer, x, mask), rtol=1e-12, atol=1e-12)
    # another sequence (batch) draws another mask
    assert not torch.equal(layer(x)[2].cell.mask, mask)
    # evaluation: the candidate is scaled by 1 - p instead (the code's test-time drop_mask = [1 - p])
    layer.eval()
    out_eval, _, final_eval = layer(x)
    assert (final_eval.cell.mask == 0.5).all()
    torch.testing.assert_close(out_eval, _by_hand(name, layer, x, 0.5), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, gates", [("lstm", 4), ("gru", 3)])
def test_batch_norm_per_gate_train_vs_eval(name, gates):
    layer = _layer(name, batch_norm=True)
    assert layer.w_in.bias is None and layer.norm.num_features == gates * 6 and layer.norm.momentum == 0.1
    x = torch.randn(5, 4, 3, dtype=D) * 2 + 1
    wx = x @ layer.w_in.weight.T  # [T, B, gates * N]
    proj = layer.project(x)  # training: statistics of this batch over all T x B = 20 frames, per gate feature
    flat = proj.reshape(-1, gates * 6)
    torch.testing.assert_close(flat.mean(0), torch.zeros(gates * 6, dtype=D), atol=1e-12, rtol=0)
    var = wx.reshape(-1, gates * 6).var(0, unbiased=False)
    torch.testing.assert_close(flat.var(0, unbiased=False), var / (var + layer.norm.eps), rtol=1e-10, atol=0)
    # running statistics after that one training batch: momentum 0.1 from (0, 1)
    mean, unbiased = wx.reshape(-1, gates * 6).mean(0), wx.reshape(-1, gates * 6).var(0, unbiased=True)
    torch.testing.assert_close(layer.norm.running_mean, 0.1 * mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.norm.running_var, 0.9 + 0.1 * unbiased, rtol=1e-12, atol=1e-12)
    layer.eval()  # evaluation: the running statistics, not the batch's
    x2 = torch.randn(3, 2, 3, dtype=D)
    want = (x2 @ layer.w_in.weight.T - layer.norm.running_mean) / torch.sqrt(layer.norm.running_var + layer.norm.eps)
    torch.testing.assert_close(layer.project(x2), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["timit_lstm", "timit_gru", "librispeech_lstm", "librispeech_gru"])
def test_ponghiran_baselines_use_dropout_and_batch_norm(name):
    cfg = compose([f"experiment={name}"])
    assert (cfg.neuron.dropout, cfg.neuron.batch_norm) == (0.1, True)
    model = build_model(cfg.model, 39, 61, cfg.neuron, None)
    for layer in model.layers:
        assert layer.norm is not None and layer.w_in.bias is None and layer.cell.dropout == 0.1


def test_defaults_off_and_bad_values_fail_in_one_line():
    cell = build_cell({"name": "lstm"}, 4, None)
    assert cell.dropout == 0.0 and not cell.ff_norm and cell.init_state(2).mask is None
    with pytest.raises(ValueError, match=r"^neuron.dropout must be in \[0, 1\), got 1.0$"):
        build_cell({"name": "gru", "dropout": 1.0}, 4, None)
    with pytest.raises(ValueError, match=r"^neuron.batch_norm must be true or false, got 'yes'$"):
        build_cell({"name": "lstm", "batch_norm": "yes"}, 4, None)
    with pytest.raises(ValueError, match="neuron 'rnn' has no key"):
        build_cell({"name": "rnn", "dropout": 0.1}, 4, None)
