"""LSTM / GRU / RNN layers through torch's sequence kernels (``neuron.backend=fused``) against the cell loop
(``backend=reference``): float64 outputs, final states and every gradient; when the options need the loop;
the standard bidirectional (concat) network and the dense head of Yin's Bi-LSTM 290."""


import pytest
import torch

from srnn_bench.models import SRNN
from srnn_bench.models.layers import SpikingLayer
from srnn_bench.neurons import GRUCell, LSTMCell, RNNCell
from srnn_bench.neurons.conventional import torch_sequence_forward
from srnn_bench.surrogates import build_surrogate

CELLS = {"lstm": LSTMCell, "gru": GRUCell, "rnn": RNNCell}


def _layers(kind, n_in=5, size=7, bias=True):
    torch.manual_seed(0)
    ref = SpikingLayer(n_in, CELLS[kind](size), recurrent=True, bias=bias, backend="reference").double()
    if bias:
        torch.nn.init.normal_(ref.w_in.bias, std=0.3)  # non-zero biases: the b_ih / b_hh mapping is checked
    fast = SpikingLayer(n_in, CELLS[kind](size), recurrent=True, bias=bias, backend="fused").double()
    fast.load_state_dict(ref.state_dict())
    assert (ref.backend, fast.backend) == ("reference", "fused")
    return ref, fast


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_fast_path_equals_cell_loop(kind, bias):
    ref, fast = _layers(kind, bias=bias)
    x = torch.randn(23, 3, 5, dtype=torch.float64)
    init = ref.init_state(3, dtype=torch.float64)
    cell = type(init.cell)(*(t + 0.1 * torch.randn_like(t) if t is not None else None for t in init.cell))
    init = type(init)(cell, cell[1] if kind == "lstm" else cell[0])  # a non-zero carried state (TBPTT chunks)
    assert torch_sequence_forward(fast, x, init) is not None  # the fast path does run
    outs = []
    for layer in (ref, fast):
        xx = x.clone().requires_grad_(True)
        y, _, state = layer(xx, init)
        w = torch.randn_like(y, generator=torch.Generator().manual_seed(1))
        ((y * w).sum() + state.out.sum() + state.cell[0].sum()).backward()
        grads = {n: p.grad.clone() for n, p in layer.named_parameters()}
        outs.append((y.detach(), [t.detach() for t in state.cell if t is not None], xx.grad, grads))
    (y0, s0, gx0, g0), (y1, s1, gx1, g1) = outs
    torch.testing.assert_close(y1, y0, rtol=1e-10, atol=1e-12)
    for a, b in zip(s1, s0):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gx1, gx0, rtol=1e-10, atol=1e-12)
    assert g0.keys() == g1.keys()
    for name in g0:
        torch.testing.assert_close(g1[name], g0[name], rtol=1e-9, atol=1e-12, msg=name)


def test_options_that_need_the_cell_loop():
    x = torch.randn(4, 2, 3)
    assert torch_sequence_forward(SpikingLayer(3, LSTMCell(4, dropout=0.2)), x, None) is None
    assert torch_sequence_forward(SpikingLayer(3, GRUCell(4, batch_norm=True)), x, None) is None
    assert SpikingLayer(3, LSTMCell(4)).backend == "reference"  # the default: the cell loop
    fast = SpikingLayer(3, LSTMCell(4), backend="fused")
    assert fast.cell.fused_sequence(fast, x, None, record_membrane=True) is None  # per-step states: the loop
    assert fast.cell.fused_sequence(fast, x, None, record_membrane=False) is not None


def _net(**kw):
    torch.manual_seed(0)
    neuron = {"name": "lstm", "backend": "fused"}
    return SRNN(4, 6, hidden=[5, 3], recurrent=True, neuron=neuron, surrogate=build_surrogate({"name": "multi_gaussian"}),
                readout={"kind": "linear"}, bidirectional=True, **kw).double()


def test_bidirectional_concat_and_dense_head():
    """Standard Bi-RNN: layer 1 (both halves) reads [fwd, bwd] of layer 0; the head's dense ReLU layers read
    the top concatenation; the output at t depends on the future (it is not a streaming network)."""
    net = _net(bidirectional_merge="concat", head=[8, 2], head_activation="relu")
    assert net.layers[1].n_in == 10 and net.layers_bwd[1].n_in == 10 and net.head[0].n_in == 6
    assert net.head[1].n_in == 8 and net.readout.n_in == 2
    x = torch.randn(9, 2, 4, dtype=torch.float64)
    out = net(x)
    assert out.output.shape == (9, 2, 6) and set(out.activity) == {"layer0", "layer0_bwd", "layer1", "layer1_bwd", "head0", "head1"}
    assert (out.activity["head0"] >= 0).all() and (out.activity["head0"] == 0).any()
    # by hand, from the layers themselves
    h0 = torch.cat([net.layers[0](x)[0], net.layers_bwd[0](x.flip(0))[0].flip(0)], -1)
    h1 = torch.cat([net.layers[1](h0)[0], net.layers_bwd[1](h0.flip(0))[0].flip(0)], -1)
    h = torch.relu(net.head[1].w_in(torch.relu(net.head[0].w_in(h1))))
    torch.testing.assert_close(out.output, net.readout.w_in(h))
    x2 = x.clone()
    x2[-1] += 1.0
    assert not torch.allclose(net(x2).output[0], out.output[0])  # step 0 sees the last step
    # every projection is counted once per source: layer0 (fwd and bwd) feeds both halves of layer 1
    syn = {(s.source, s.fan_out) for s in net.synapses()}
    assert {("layer0", 12), ("layer0_bwd", 12), ("layer1", 8), ("layer1_bwd", 8), ("head0", 2), ("head1", 6)} <= syn
    fan = {src: sorted(s.fan_out for s in net.synapses() if s.source == src) for src in ("layer0", "layer1")}
    assert fan == {"layer0": [12, 12, 20], "layer1": [8, 12]}  # both halves of layer 1 + recurrent 4*5; head + recurrent


def test_bidirectional_mean_is_unchanged_and_bad_merge():
    net = _net()
    assert net.layers[1].n_in == 5 and net.readout.n_in == 3 and len(net.head) == 0
    with pytest.raises(ValueError, match="model.bidirectional_merge 'sum'; valid choices: mean, concat"):
        _net(bidirectional_merge="sum")
    with pytest.raises(ValueError, match="model.head must list positive layer sizes"):
        _net(head=[0])
    with pytest.raises(ValueError, match="model.head_activation 'gelu'; valid choices: identity, relu, tanh"):
        _net(head=[4], head_activation="gelu")
