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

MACs per neuron per step (Ponghiran & Roy eq. 10: LSTM 3n + 4(m+n)n, GRU 3n + 3(m+n)n): the 3n
element-wise products are ``state_macs_per_step = 3``; the 4(m+n)n / 3(m+n)n matrix products are the
layer's synapses, counted by the metrics with gate multiplicity (``Synapses.fan_out = 4N`` / ``3N``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class LSTMState(NamedTuple):
    c: torch.Tensor  # cell state [B, N] (field 0: the "membrane" of the contract)
    h: torch.Tensor  # output [B, N]


class HiddenState(NamedTuple):
    h: torch.Tensor  # [B, N]


def lstm_step(i_t: torch.Tensor, state: LSTMState) -> tuple[torch.Tensor, LSTMState]:
    i, f, g, o = i_t.chunk(4, dim=-1)
    c = torch.sigmoid(f) * state.c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, LSTMState(c, h)


def gru_step(i_t: torch.Tensor, state: HiddenState) -> tuple[torch.Tensor, HiddenState]:
    """``i_t`` = [W x + b (3N), U h (3N)]."""
    ff, rec = i_t.chunk(2, dim=-1)
    fr, fz, fn = ff.chunk(3, dim=-1)
    rr, rz, rn = rec.chunk(3, dim=-1)
    r = torch.sigmoid(fr + rr)
    z = torch.sigmoid(fz + rz)
    n = torch.tanh(fn + r * rn)
    h = (1.0 - z) * n + z * state.h
    return h, HiddenState(h)


def rnn_step(i_t: torch.Tensor, state: HiddenState) -> tuple[torch.Tensor, HiddenState]:
    h = torch.tanh(i_t)
    return h, HiddenState(h)


class _Conventional(nn.Module):
    spiking = False
    recurrent_synapses = True  # recurrent by definition; model.recurrent does not apply
    gates = 1
    state_macs_per_step = 0

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def _zeros(self, batch, device, dtype):
        return torch.zeros(batch, self.size, device=device, dtype=dtype or torch.get_default_dtype())


class LSTMCell(_Conventional):
    gates = 4
    state_macs_per_step = 3  # f*c, i*g, o*tanh(c) (Ponghiran eq. 10: 3n)

    def init_state(self, batch: int, device=None, dtype=None) -> LSTMState:
        return LSTMState(self._zeros(batch, device, dtype), self._zeros(batch, device, dtype))

    def forward(self, i_t, state):
        return lstm_step(i_t, state)


class GRUCell(_Conventional):
    gates = 3
    recurrent_input = "concat"
    state_macs_per_step = 3  # r*(U_n h), (1-z)*n, z*h (Ponghiran eq. 10: 3n)

    def init_state(self, batch: int, device=None, dtype=None) -> HiddenState:
        return HiddenState(self._zeros(batch, device, dtype))

    def forward(self, i_t, state):
        return gru_step(i_t, state)


class RNNCell(_Conventional):
    state_macs_per_step = 0  # only the tanh

    def init_state(self, batch: int, device=None, dtype=None) -> HiddenState:
        return HiddenState(self._zeros(batch, device, dtype))

    def forward(self, i_t, state):
        return rnn_step(i_t, state)


class IdentityCell(nn.Module):
    """A stateless pass-through: ``model.readout.kind=linear`` (the fully connected per-step readout of
    Ponghiran & Roy's networks and of the LSTM/GRU baselines)."""

    spiking = False
    state_macs_per_step = 0

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def init_state(self, batch: int, device=None, dtype=None) -> HiddenState:
        return HiddenState(torch.zeros(batch, self.size, device=device, dtype=dtype or torch.get_default_dtype()))

    def forward(self, i_t, state):
        return i_t, HiddenState(i_t)
