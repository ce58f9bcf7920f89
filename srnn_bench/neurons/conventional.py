"""Conventional (non-spiking) recurrent cells: the LSTM / GRU / RNN baselines of Yin et al. Table 2 /
Table S2 and Ponghiran & Roy Table 1, trained by the same trainer in the same network.

The layer computes the gate pre-activations ``W x_t + b`` (``gates`` x N wide) and ``U h_{t-1}``; these
cells hold only the element-wise update (PyTorch's ``nn.LSTMCell`` / ``nn.GRUCell`` / ``nn.RNNCell``
formulas):

    LSTM (Hochreiter & Schmidhuber 1997, with forget gate, Gers et al. 2000), gates [i, f, g, o]:
        c = sigmoid(f) * c + sigmoid(i) * tanh(g);   h = sigmoid(o) * tanh(c)
    GRU (Cho et al. 2014, the cuDNN/PyTorch form with the reset gate after the recurrent product),
        gates [r, z, n]:  r = sigmoid(W_r x + U_r h);  z = sigmoid(W_z x + U_z h)
                          n = tanh(W_n x + r * (U_n h));  h = (1 - z) * n + z * h
    RNN (Elman 1990):   h = tanh(W x + U h)

The GRU needs ``U_n h`` apart from ``W_n x``, so it declares ``recurrent_input = "concat"``: the layer
hands it ``[W x + b, U h]`` (6N wide) instead of the sum.

Options of Ponghiran & Roy's LSTM/GRU baselines (paper, "Experimental Setup": recurrent dropout of
Semeniuta et al. 2016 and batch normalisation of the weighted inputs; authors' code
wponghiran/imp-snns-for-sl neural_networks.py, classes LSTM and GRU, from pytorch-kaldi), both off by default:

- ``dropout = p``: the candidate is multiplied by a mask drawn once per sequence (Bernoulli(1 - p) per
  sample and neuron, in ``init_state``; NOT rescaled in training), and by ``1 - p`` in evaluation, as the
  code does: LSTM ``c = f * c + i * g * mask``; GRU ``h = z * h + (1 - z) * n * mask``;
- ``batch_norm = True``: per-gate BatchNorm of ``W x`` over all T x B frames, no bias in ``W`` (the layer's
  ``ff_norm``; the code's ``*_use_batchnorm``, momentum 0.1).

Fast path (``neuron.backend=fused``, the default): a whole layer runs as one call of torch's own sequence
kernel (``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``, via ``torch.func.functional_call`` on the layer's own
weights: ``weight_ih = W_in``, ``weight_hh = W_rec``, ``bias_ih = b``, ``bias_hh = 0``) — the same formulas
with the same gate order, so the same numbers (tests/unit/test_conventional_fast.py: float64 outputs and
gradients against the cell loop). It applies when the options allow (no ``dropout``, no ``batch_norm``,
a recurrent layer, no per-step membrane recorded); otherwise, and with ``backend=reference``, the layer
steps the cell in a Python loop.

The code's GRU applies the reset gate before the recurrent product (``tanh(W_n x + U_n (r * h))``); this
cell keeps PyTorch's form (``r * (U_n h)``).

MACs per neuron per step (Ponghiran & Roy eq. 10: LSTM 3n + 4(m+n)n, GRU 3n + 3(m+n)n): the 3n
element-wise products are ``state_macs_per_step = 3``; the 4(m+n)n / 3(m+n)n matrix products are the
layer's synapses, counted by the metrics with gate multiplicity (``Synapses.fan_out = 4N`` / ``3N``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..state import LayerState
from ..utils.checks import check_choice


class LSTMState(NamedTuple):
    c: torch.Tensor  # cell state [B, N] (field 0: the "membrane" of the contract)
    h: torch.Tensor  # output [B, N]
    mask: torch.Tensor | None = None  # recurrent-dropout mask [B, N], fixed for the sequence (None: no dropout)


class HiddenState(NamedTuple):
    h: torch.Tensor  # [B, N]


class GRUState(NamedTuple):
    h: torch.Tensor  # [B, N]
    mask: torch.Tensor | None = None  # recurrent-dropout mask [B, N], fixed for the sequence (None: no dropout)


def lstm_step(i_t: torch.Tensor, state: LSTMState) -> tuple[torch.Tensor, LSTMState]:
    i, f, g, o = i_t.chunk(4, dim=-1)
    cand = torch.sigmoid(i) * torch.tanh(g)
    if state.mask is not None:  # Ponghiran's code: c = i * tanh(g) * drop_mask + f * c
        cand = cand * state.mask
    c = torch.sigmoid(f) * state.c + cand
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, LSTMState(c, h, state.mask)


def gru_step(i_t: torch.Tensor, state: GRUState) -> tuple[torch.Tensor, GRUState]:
    """``i_t`` = [W x + b (3N), U h (3N)]."""
    ff, rec = i_t.chunk(2, dim=-1)
    fr, fz, fn = ff.chunk(3, dim=-1)
    rr, rz, rn = rec.chunk(3, dim=-1)
    r = torch.sigmoid(fr + rr)
    z = torch.sigmoid(fz + rz)
    n = torch.tanh(fn + r * rn)
    if state.mask is not None:  # Ponghiran's code: hcand = tanh(a) * drop_mask
        n = n * state.mask
    h = (1.0 - z) * n + z * state.h
    return h, GRUState(h, state.mask)


def rnn_step(i_t: torch.Tensor, state: HiddenState) -> tuple[torch.Tensor, HiddenState]:
    h = torch.tanh(i_t)
    return h, HiddenState(h)


_TORCH_RNN = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
_templates: dict[tuple, nn.Module] = {}


def _template(kind: str, n_in: int, size: int, bias: bool) -> nn.Module:
    """A parameter-shaped ``nn.LSTM/GRU/RNN`` whose weights ``functional_call`` replaces (built once per shape)."""
    key = (kind, n_in, size, bias)
    if key not in _templates:
        _templates[key] = _TORCH_RNN[kind](n_in, size, bias=bias)
    return _templates[key]


def torch_sequence_forward(layer, x: torch.Tensor, state):
    """A whole sequence of ``layer`` (a :class:`srnn_bench.models.layers.SpikingLayer` of an LSTM/GRU/RNN
    cell) through torch's sequence kernel: ``(outputs [T, B, N], None, final LayerState)``, or ``None``
    when the options need the cell loop (module docstring)."""
    cell = layer.cell
    if getattr(cell, "dropout", 0.0) or layer.norm is not None or layer.w_rec is None:
        return None
    if state is None:
        state = layer.init_state(x.shape[1], x.device, x.dtype)
    w_ih, b_ih = layer.w_in.weight, layer.w_in.bias
    params = {"weight_ih_l0": w_ih, "weight_hh_l0": layer.w_rec.weight}
    if b_ih is not None:
        params.update(bias_ih_l0=b_ih, bias_hh_l0=torch.zeros_like(b_ih))
    module = _template(cell.kind, layer.n_in, cell.size, b_ih is not None)
    if cell.kind == "lstm":
        out, (h, c) = torch.func.functional_call(module, params, (x, (state.out[None], state.cell.c[None])))
        return out, None, LayerState(LSTMState(c[0], h[0], None), h[0])
    out, h = torch.func.functional_call(module, params, (x, state.out[None]))
    new = GRUState(h[0], None) if cell.kind == "gru" else HiddenState(h[0])
    return out, None, LayerState(new, h[0])


class _Conventional(nn.Module):
    spiking = False  # analog outputs: every synapse is a MAC each step (Yin Fig. 2a / S2b)
    recurrent_synapses = True  # recurrent by definition; model.recurrent does not apply
    gates = 1  # weight matrices per unit: the input and recurrent projections are gates * N wide
    state_macs_per_step = 0
    kind = ""
    supported_backends = ("reference", "fused")
    """``fused``: :func:`torch_sequence_forward` (torch's nn.LSTM/GRU/RNN kernel) where the options allow;
    ``reference``: the cell loop."""

    def fused_sequence(self, layer, x, state, record_membrane: bool):
        """The layer's whole sequence through torch's kernel, or ``None`` (the cell loop runs): the options
        it lacks, or ``record_membrane`` (the kernel keeps no per-step cell state)."""
        return None if record_membrane else torch_sequence_forward(layer, x, state)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def _zeros(self, batch, device, dtype):
        return torch.zeros(batch, self.size, device=device, dtype=dtype or torch.get_default_dtype())


class _Gated(_Conventional):
    """LSTM/GRU with Ponghiran & Roy's options (module docstring): ``dropout``, ``batch_norm``."""

    def __init__(self, size: int, dropout: float = 0.0, batch_norm: bool = False, bn_momentum: float = 0.1) -> None:
        super().__init__(size)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"neuron.dropout must be in [0, 1), got {dropout!r}")
        if not isinstance(batch_norm, bool):
            raise ValueError(f"neuron.batch_norm must be true or false, got {batch_norm!r}")
        if isinstance(bn_momentum, bool) or not isinstance(bn_momentum, (int, float)) or not 0.0 < bn_momentum <= 1.0:
            raise ValueError(f"neuron.bn_momentum must be in (0, 1], got {bn_momentum!r}")
        self.dropout, self.ff_norm, self.bn_momentum = float(dropout), batch_norm, float(bn_momentum)

    def _mask(self, batch, device, dtype):
        """Per-sequence dropout mask: Bernoulli(1 - p) in training, the constant 1 - p in evaluation."""
        if self.dropout == 0.0:
            return None
        keep = torch.full((batch, self.size), 1.0 - self.dropout, device=device, dtype=dtype or torch.get_default_dtype())
        return torch.bernoulli(keep) if self.training else keep

    def extra_repr(self) -> str:
        return f"size={self.size}, dropout={self.dropout}, batch_norm={self.ff_norm}"


class LSTMCell(_Gated):
    kind = "lstm"
    gates = 4  # [i, f, g, o]: Ponghiran eq. 10's 4(m+n)n are synapses of fan-out 4N
    state_macs_per_step = 3  # f*c, i*g, o*tanh(c) (Ponghiran eq. 10: 3n)

    def init_state(self, batch: int, device=None, dtype=None) -> LSTMState:
        zeros = self._zeros(batch, device, dtype)
        return LSTMState(zeros, zeros.clone(), self._mask(batch, device, dtype))

    def forward(self, i_t, state):
        return lstm_step(i_t, state)


class GRUCell(_Gated):
    kind = "gru"
    gates = 3  # [r, z, n]: Ponghiran eq. 10's 3(m+n)n are synapses of fan-out 3N
    recurrent_input = "concat"
    state_macs_per_step = 3  # r*(U_n h), (1-z)*n, z*h (Ponghiran eq. 10: 3n)

    def init_state(self, batch: int, device=None, dtype=None) -> GRUState:
        return GRUState(self._zeros(batch, device, dtype), self._mask(batch, device, dtype))

    def forward(self, i_t, state):
        return gru_step(i_t, state)


class RNNCell(_Conventional):
    kind = "rnn"
    state_macs_per_step = 0  # h = tanh(W x + U h + b): only the tanh, all (m+n)n MACs are synaptic

    def init_state(self, batch: int, device=None, dtype=None) -> HiddenState:
        return HiddenState(self._zeros(batch, device, dtype))

    def forward(self, i_t, state):
        return rnn_step(i_t, state)


ACTIVATIONS = {"identity": lambda v: v, "relu": torch.relu, "tanh": torch.tanh}


class IdentityCell(nn.Module):
    """A stateless pass-through: ``model.readout.kind=linear`` (the fully connected per-step readout of
    Ponghiran & Roy's networks and of the LSTM/GRU baselines). With ``activation`` relu/tanh it is a
    dense layer ``y_t = f(W x_t + b)`` (``model.head``: the dense layers of Yin's Bi-LSTM 290, Table S2).

    ``stateless``: the output at t depends on the current at t only, so the layer applies
    :meth:`sequence` to all steps at once instead of looping."""

    spiking = False  # analog (or ReLU) outputs: their synapses are MACs
    stateless = True
    state_macs_per_step = 0  # y = f(W x + b): the MACs are the synapses', f is free

    def __init__(self, size: int, activation: str = "identity") -> None:
        super().__init__()
        check_choice("activation", activation, ACTIVATIONS)
        self.size, self.activation = size, activation
        self.sparse_output = activation == "relu"  # ReLU outputs are exactly zero much of the time

    def init_state(self, batch: int, device=None, dtype=None) -> HiddenState:
        return HiddenState(torch.zeros(batch, self.size, device=device, dtype=dtype or torch.get_default_dtype()))

    def sequence(self, i: torch.Tensor) -> tuple[torch.Tensor, HiddenState]:
        """All steps ``i`` [T, B, N] at once: (outputs, state after the last step)."""
        y = ACTIVATIONS[self.activation](i)
        return y, HiddenState(y[-1])

    def forward(self, i_t, state):
        y = ACTIVATIONS[self.activation](i_t)
        return y, HiddenState(y)
