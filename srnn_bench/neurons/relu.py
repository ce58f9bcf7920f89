"""The non-spiking "ReLU SRNN" neuron of Yin, Corradi & Bohté 2021 (Figure 3e, Table 2).

The paper: "we make the spiking neurons non-spiking by eliminating the spiking mechanism and
communicating the ReLU value of the membrane potential". Without spikes there is no threshold, no
reset and no adaptation (eta is driven by spikes), so one step is the leaky membrane of eq. 5 with its
spike terms removed, followed by a ReLU:

    alpha = exp(-dt / tau_m)
    u     = alpha * u + (1 - alpha) * I        # eq. 5 without the reset term
    y     = ReLU(u)                            # communicated instead of the spike H(u - theta)

``tau_m`` is a learnable per-neuron parameter exactly as in the ALIF neuron.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .time_constants import init_time_constant


class ReLUState(NamedTuple):
    u: torch.Tensor  # membrane potential [B, N]


def relu_step(i_t: torch.Tensor, state: ReLUState, tau_m: torch.Tensor, dt: float = 1.0) -> tuple[torch.Tensor, ReLUState]:
    """One step of the ReLU SRNN neuron; returns ``(ReLU(u_t), new_state)``."""
    alpha = torch.exp(-dt / tau_m)
    u = alpha * state.u + (1.0 - alpha) * i_t
    return torch.relu(u), ReLUState(u)


class ReLUCell(nn.Module):
    """Population of non-spiking leaky neurons with ReLU output (the "ReLU SRNN")."""

    spiking = False
    sparse_output = True  # ReLU outputs are exactly zero whenever u <= 0
    state_macs_per_step = 2
    """MACs per neuron per step: membrane decay and input scaling (Yin Fig. 2a, the LIF count without the
    threshold/reset terms)."""

    def __init__(self, size: int, tau_m: dict, dt: float = 1.0, train_tau_m: bool = True) -> None:
        super().__init__()
        if not float(dt) > 0:
            raise ValueError(f"neuron.dt must be > 0, got {dt}")
        self.size, self.dt = size, float(dt)
        self.tau_m = nn.Parameter(init_time_constant(size, **tau_m), requires_grad=train_tau_m)

    def init_state(self, batch: int, device=None, dtype=None) -> ReLUState:
        dtype = dtype or self.tau_m.dtype
        return ReLUState(torch.zeros(batch, self.size, device=device or self.tau_m.device, dtype=dtype))

    def forward(self, i_t: torch.Tensor, state: ReLUState) -> tuple[torch.Tensor, ReLUState]:
        return relu_step(i_t, state, self.tau_m, self.dt)
