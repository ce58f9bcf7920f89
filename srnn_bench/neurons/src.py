"""Spiking Recurrent Cell (SRC) — De Geeter, Ernst & Drion 2023, eqs 5a-5f, constants of Table 1 / App. A.

One step of a layer of SRC neurons (``I_t = W_s s_in[t]`` is the synaptic input computed by the layer):

    i    = alpha * i + I_t                                   # eq. 5a  leaky input integrator
    x    = rho * tanh(i / rho)                               # eq. 5b  rescaled tanh, x in (-rho, rho)
    z_s  = z_hyp + (z_dep - z_hyp) * H(h_prev - 0.5)         # eq. 5c
    h^   = tanh(x + r * h_prev + r_s * hs_prev + b_h)        # eq. 5d (candidate, eq. 3a)
    h    = z * h_prev + (1 - z) * h^                         # eq. 3b; Table 1: z = 0, so h = h^
    hs   = z_s * hs_prev + (1 - z_s) * h_prev                # eq. 5e
    s    = ReLU(h)                                           # eq. 5f; backward: ds/dh = 1 for all h (Sec. 4.4)

Constants (Table 1, Appendix A): alpha 0.9 (0.99 for latency coding), rho 3, z 0, z_hyp 0.9, z_dep 0,
r 2, r_s -7, b_h initialised at -6, learnable, and used clamped at b_h <= -4. Only W_s and b_h learn.

Choices and their sources:

- ``z_s`` uses ``h[t-1]``: eq. 5c prints ``H(h[t] - 0.5)`` but is evaluated before eq. 5d and feeds eq.
  5e, which mixes ``h[t-1]``; semantics.md §2 fixes it to ``h_prev``.
- Detached recurrence (Sec. 4.4, "preventing the gradients from flowing through the recurrent connections
  of h and h_s"): ``h_prev`` and ``hs_prev`` enter the step detached, so only ``i`` carries gradient
  through time. ``detach_recurrence=false`` keeps them.
- ReLU bypass (Sec. 4.4, the equation after eq. 5f): forward ``ReLU(h)``, backward identity.
  ``relu_bypass=false`` gives the plain ReLU gradient (the ablation of Figure 2).
- Bias clamp (Sec. 3.1, "fixed this higher bound to -4"): the value used is ``min(b_h, b_h_max)``
  (``torch.clamp``: no gradient while the raw parameter sits above the bound).
- Noisy variant (Sec. 4.5.3): ``r ~ N(r, sigma_noise)`` and ``r_s ~ N(r_s, sigma_noise)``, drawn anew per
  neuron, sample and step (``sigma_noise`` 0 = the deterministic cell).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..utils import sample_rng


class SRCState(NamedTuple):
    """State of a layer of SRC neurons, each [B, N]. Field 0 (``h``) plays the membrane's role."""

    h: torch.Tensor  # fast hidden state
    hs: torch.Tensor  # slow hidden state
    i: torch.Tensor  # input integrator


class _ReLUBypass(torch.autograd.Function):
    """``ReLU`` forward, identity backward (De Geeter et al. Sec. 4.4: ds_out/dh = 1 for all h)."""

    @staticmethod
    def forward(ctx, h):
        return torch.relu(h)

    @staticmethod
    def backward(ctx, grad):
        return grad


def relu_bypass(h: torch.Tensor) -> torch.Tensor:
    return _ReLUBypass.apply(h)


def src_step(
    i_t: torch.Tensor,
    state: SRCState,
    b_h: torch.Tensor,
    alpha: float = 0.9,
    rho: float = 3.0,
    r: float | torch.Tensor = 2.0,
    r_s: float | torch.Tensor = -7.0,
    z: float = 0.0,
    z_hyp: float = 0.9,
    z_dep: float = 0.0,
    bypass: bool = True,
    detach: bool = True,
) -> tuple[torch.Tensor, SRCState]:
    """One SRC step (eqs 5a-5f). ``b_h`` is the already-clamped bias [N]; ``r``, ``r_s`` scalars or [B, N]."""
    h_prev, hs_prev = (state.h.detach(), state.hs.detach()) if detach else (state.h, state.hs)
    i = alpha * state.i + i_t  # eq. 5a
    x = rho * torch.tanh(i / rho)  # eq. 5b
    z_s = z_hyp + (z_dep - z_hyp) * (h_prev > 0.5).to(h_prev.dtype)  # eq. 5c
    h_hat = torch.tanh(x + r * h_prev + r_s * hs_prev + b_h)  # eq. 5d
    h = h_hat if z == 0.0 else z * h_prev + (1.0 - z) * h_hat  # eq. 3b
    hs = z_s * hs_prev + (1.0 - z_s) * h_prev  # eq. 5e
    s = relu_bypass(h) if bypass else torch.relu(h)  # eq. 5f
    return s, SRCState(h, hs, i)


class SRCCell(nn.Module):
    """A population of Spiking Recurrent Cells with a learnable, clamped bias ``b_h``."""

    spiking = False  # spikes are graded (ReLU(h) in [0, 1)), not binary
    sparse_output = True  # s = 0 whenever h <= 0 (between spikes)
    state_macs_per_step = 7
    """MACs per neuron per step, counted from eqs 5a-5f (the paper gives no count): alpha*i (5a),
    i/rho and rho*tanh (5b), r*h and r_s*h_s (5d), z_s*h_s and (1-z_s)*h (5e); the two tanh are extra."""

    def __init__(
        self,
        size: int,
        alpha: float = 0.9,
        rho: float = 3.0,
        r: float = 2.0,
        r_s: float = -7.0,
        z: float = 0.0,
        z_hyp: float = 0.9,
        z_dep: float = 0.0,
        b_h_init: float = -6.0,
        b_h_max: float = -4.0,
        train_b_h: bool = True,
        sigma_noise: float = 0.0,
        relu_bypass: bool = True,
        detach_recurrence: bool = True,
    ) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"neuron.alpha must be in [0, 1], got {alpha}")
        if not rho > 0:
            raise ValueError(f"neuron.rho must be > 0, got {rho}")
        if not sigma_noise >= 0:
            raise ValueError(f"neuron.sigma_noise must be >= 0, got {sigma_noise}")
        for key, v in (("z", z), ("z_hyp", z_hyp), ("z_dep", z_dep)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"neuron.{key} must be in [0, 1], got {v}")
        self.size = size
        self.alpha, self.rho, self.r, self.r_s = float(alpha), float(rho), float(r), float(r_s)
        self.z, self.z_hyp, self.z_dep = float(z), float(z_hyp), float(z_dep)
        self.b_h_max, self.sigma_noise = float(b_h_max), float(sigma_noise)
        self.bypass, self.detach = bool(relu_bypass), bool(detach_recurrence)
        self.b_h = nn.Parameter(torch.full((size,), float(b_h_init)), requires_grad=train_b_h)

    def bias(self) -> torch.Tensor:
        """The bias actually used: ``min(b_h, b_h_max)`` (Sec. 3.1)."""
        return torch.clamp(self.b_h, max=self.b_h_max)

    def init_state(self, batch: int, device=None, dtype=None) -> SRCState:
        dtype = dtype or self.b_h.dtype
        zero = torch.zeros(batch, self.size, device=device or self.b_h.device, dtype=dtype)
        return SRCState(zero, zero.clone(), zero.clone())

    def forward(self, i_t: torch.Tensor, state: SRCState) -> tuple[torch.Tensor, SRCState]:
        r, r_s = self.r, self.r_s
        if self.sigma_noise > 0:  # Sec. 4.5.3
            r = r + self.sigma_noise * sample_rng.randn_like(i_t)  # per sample in evaluation
            r_s = r_s + self.sigma_noise * sample_rng.randn_like(i_t)
        return src_step(
            i_t, state, self.bias(), self.alpha, self.rho, r, r_s, self.z, self.z_hyp, self.z_dep, self.bypass, self.detach
        )

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, b_h_max={self.b_h_max}, sigma_noise={self.sigma_noise}"


class LeakySumState(NamedTuple):
    u: torch.Tensor  # [B, C]


class LeakySumCell(nn.Module):
    """Readout integrator of De Geeter et al. Sec. 4.2: ``u = alpha * u + I_t`` with alpha 0.99.

    Written like eq. 5a (no ``1 - alpha`` input factor); ``I_t`` comes through frozen weights
    (+1 from the class's own group of neurons, -0.1 from all others).
    """

    spiking = False
    state_macs_per_step = 1
    """MACs per neuron per step: the decay alpha * u."""

    def __init__(self, size: int, alpha: float = 0.99) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"model.readout.alpha must be in [0, 1], got {alpha}")
        self.size, self.alpha = size, float(alpha)

    def init_state(self, batch: int, device=None, dtype=None) -> LeakySumState:
        return LeakySumState(torch.zeros(batch, self.size, device=device, dtype=dtype or torch.get_default_dtype()))

    def forward(self, i_t: torch.Tensor, state: LeakySumState) -> tuple[torch.Tensor, LeakySumState]:
        u = self.alpha * state.u + i_t
        return u, LeakySumState(u)
