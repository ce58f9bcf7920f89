"""Non-spiking leaky integrator readout ("LIF non-spiking output", Yin et al. 2021 Methods).

    alpha_o = exp(-dt / tau_m)
    u_o     = alpha_o * u_o + (1 - alpha_o) * I_t      # eq. 3 / 5 without spike and reset

The membrane ``u_o`` is the network output; the softmax over it gives the
prediction (Yin et al., Methods: y_t = softmax(u_out,t)).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..kernels import dispatch
from ..state import LayerState
from ..utils.checks import check_choice
from .time_constants import init_time_constant

READOUT_U0 = ("zero", "uniform_unit")
"""Initial readout membrane (``model.readout.u0``): ``zero`` (default) or U[0, 1) as the authors' SHD
scripts draw it (``torch.rand``: SHD 90.7 and 87.41, yin2021_checkpoints/shd_*.json)."""


class LIState(NamedTuple):
    u: torch.Tensor  # [B, N]


def li_step(i_t: torch.Tensor, state: LIState, tau_m: torch.Tensor, dt: float = 1.0) -> tuple[torch.Tensor, LIState]:
    """One leaky-integrator step; returns ``(u_t, new_state)``."""
    alpha = torch.exp(-dt / tau_m)
    u = alpha * state.u + (1.0 - alpha) * i_t
    return u, LIState(u)


class IntegratorCell(nn.Module):
    """Leaky integrator population with learnable per-neuron ``tau_m``."""

    spiking = False
    state_macs_per_step = 1
    """MACs per neuron per step: the membrane decay alpha*u of ``u = alpha*u + (1 - alpha)*I`` (Yin Methods);
    (1 - alpha) is folded into the weights (reproduces Yin Table 2, README "Metrics")."""

    def __init__(self, size: int, tau_m: dict, dt: float = 1.0, train_tau_m: bool = True, u0: str = "zero") -> None:
        super().__init__()
        check_choice("model.readout.u0", u0, READOUT_U0)
        self.size, self.dt, self.u0 = size, float(dt), u0
        tau = init_time_constant(size, **tau_m, key="model.readout.tau_m")
        self.tau_m = nn.Parameter(tau, requires_grad=train_tau_m)

    def init_state(self, batch: int, device=None, dtype=None) -> LIState:
        dtype, device = dtype or self.tau_m.dtype, device or self.tau_m.device
        if self.u0 == "uniform_unit":
            return LIState(torch.rand(batch, self.size, device=device, dtype=dtype))
        return LIState(torch.zeros(batch, self.size, device=device, dtype=dtype))

    def forward(self, i_t: torch.Tensor, state: LIState) -> tuple[torch.Tensor, LIState]:
        return li_step(i_t, state, self.tau_m, self.dt)

    supported_backends = ("reference", "fused")
    """``fused``: one scan op per feed-forward layer and sequence (:mod:`srnn_bench.kernels`)."""

    def fused_sequence(self, layer, x: torch.Tensor, state, record_membrane: bool):
        """The layer's whole sequence on the device's scan op, or ``None`` (the reference loop runs)."""
        if layer.w_rec is not None:
            return dispatch.fallback("no fused kernel for a recurrent leaky-integrator layer")
        return dispatch.layer_forward(layer, x, state, record_membrane)

    def fused_scan(self, layer, x: torch.Tensor, state: LayerState, record_membrane: bool, ops):
        """The update of :func:`li_step` for all steps in one op of ``ops`` (:class:`srnn_bench.kernels.dispatch.Ops`)."""
        u = ops.li.apply(ops.project(layer.w_in, x), torch.exp(-self.dt / self.tau_m), state.cell.u)
        return u, (u if record_membrane else None), LayerState(LIState(u[-1]), u[-1])
