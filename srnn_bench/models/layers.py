"""A layer = synapses (feed-forward ``W_in``, optional recurrent ``W_rec``) + a neuron cell + the time loop.

The cell holds the neuron dynamics as a pure step function (``srnn_bench.neurons``); this module only
computes the synaptic current ``I_t = W_in x_t + W_rec y_{t-1} (+ bias)`` (Yin et al. 2021, Methods)
and iterates over time. Tensors are time-first: [T, B, F].

Initialisation follows Yin et al. (Methods, "Network initialization"): feed-forward weights
Xavier-uniform, recurrent weights orthogonal, biases zero.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn


class LayerState(NamedTuple):
    cell: Any  # the cell's own state NamedTuple
    out: torch.Tensor  # last output y_{t-1} [B, N] (spikes, or the analog output of non-spiking cells)


class SpikingLayer(nn.Module):
    """Feed-forward or recurrent layer of any cell with ``init_state`` / ``forward(i_t, state)``."""

    def __init__(self, n_in: int, cell: nn.Module, recurrent: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.n_in, self.size, self.recurrent = n_in, cell.size, recurrent
        self.cell = cell
        self.w_in = nn.Linear(n_in, cell.size, bias=bias)
        nn.init.xavier_uniform_(self.w_in.weight)
        if bias:
            nn.init.zeros_(self.w_in.bias)
        self.w_rec = None
        if recurrent:
            self.w_rec = nn.Linear(cell.size, cell.size, bias=False)
            nn.init.orthogonal_(self.w_rec.weight)

    def init_state(self, batch: int, device=None, dtype=None) -> LayerState:
        cell_state = self.cell.init_state(batch, device, dtype)
        return LayerState(cell_state, torch.zeros_like(cell_state[0]))

    def step(self, x_t: torch.Tensor, state: LayerState) -> tuple[torch.Tensor, LayerState]:
        """One time step: ``x_t`` [B, n_in] -> output [B, N]."""
        return self._step_projected(self.w_in(x_t), state)

    def _step_projected(self, i_ff: torch.Tensor, state: LayerState) -> tuple[torch.Tensor, LayerState]:
        i_t = i_ff if self.w_rec is None else i_ff + self.w_rec(state.out)
        out, cell_state = self.cell(i_t, state.cell)
        return out, LayerState(cell_state, out)

    def forward(
        self, x: torch.Tensor, state: LayerState | None = None, record_membrane: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, LayerState]:
        """Run a whole sequence ``x`` [T, B, n_in].

        Returns ``(outputs [T, B, N], membranes [T, B, N] or None, final_state)``. The feed-forward
        projection of all steps is one matrix product (same numbers as stepping; fewer kernels).
        """
        if getattr(self.cell, "backend", "reference") == "fused":  # srnn_bench.kernels: one op per layer
            from ..kernels import layer_forward

            fused = layer_forward(self, x, state, record_membrane)
            if fused is not None:
                return fused
        if state is None:
            state = self.init_state(x.shape[1], x.device, x.dtype)
        i_ff = self.w_in(x)
        outs, mems = [], []
        for t in range(x.shape[0]):
            out, state = self._step_projected(i_ff[t], state)
            outs.append(out)
            if record_membrane:
                mems.append(state.cell[0])
        return torch.stack(outs), (torch.stack(mems) if record_membrane else None), state
