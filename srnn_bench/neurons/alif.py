"""Adaptive leaky integrate-and-fire (ALIF) neuron — Yin, Corradi & Bohté 2021, eqs 5-8.

The step follows the update order of the authors' code (see shared/reference/semantics.md):

    alpha = exp(-dt / tau_m),  rho = exp(-dt / tau_adp)
    eta   = rho * eta + (1 - rho) * s_prev                  # eq. 6, PREVIOUS spike
    theta = b_0 + beta * eta                                 # eq. 7, before the membrane update
    u     = alpha * u + (1 - alpha) * R_m * I - theta * s_prev * dt   # eq. 5, soft reset
    s     = H(u - theta)                                     # eq. 8, surrogate in the backward

``R_m = 1`` (absorbed in the weights). ``beta = 0`` gives the LIF neuron of the same
paper (eqs 2-4 with a fixed threshold ``b_0`` and reset by subtraction, as in the code).
``eta`` is called ``b`` in the code and in :class:`ALIFState`.

Options for the LIF baseline of De Geeter et al. 2023 (Sec. 2.2, the unnumbered LIF equation, and
App. A "For LIF"; run with snnTorch ``Leaky(reset_mechanism="zero", learn_beta, learn_threshold)``):

    V[t] = alpha_V V[t-1] + x[t];  if V[t] > V_thresh: s[t] = 1 and V[t] = V_rest (= 0)

- ``reset="zero"``: ``u = alpha * (1 - s_prev) * u + drive`` instead of ``- theta * s_prev``; the
  reset factor is detached, as snnTorch's ``mem_reset`` does, and (as there) applied when the next
  step starts, so the state's ``u`` is the membrane before the reset;
- ``scale_input=False``: ``drive = I`` (De Geeter) instead of ``(1 - alpha) * I`` (Yin eq. 5);
- ``threshold_trainable=True`` (in :class:`ALIFCell`): ``b_0`` (= V_thresh when ``beta = 0``) is one
  learnable scalar per layer, as snnTorch's ``learn_threshold`` makes of a scalar ``threshold``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..kernels import dispatch
from ..state import LayerState
from ..surrogates import Surrogate
from ..utils import sample_rng
from ..utils.checks import check_choice
from .time_constants import init_time_constant

U0_SCHEMES = ("zero", "uniform", "uniform_unit")
"""Initial membrane (semantics.md §1): ``zero``; ``uniform`` = U[0, b_j0) (ECG, PS-MNIST scripts);
``uniform_unit`` = U[0, 1) (SHD script). ``b`` always starts at ``b_j0``."""
S0_SCHEMES = ("zero", "u0")
"""Initial "previous spike" ``s``: ``zero`` (the clean choice, default) or ``u0``: the same values as the
initial membrane, as the authors' code does it (``mem = spike = torch.rand(...)``: SHD 87.41, SSC, S-MNIST;
``... * b_j0``: ECG, PS-MNIST hidden layers; yin2021_checkpoints/*.json ``authors_initial_state``). With
``u0: zero`` both are zero."""
RESETS = ("subtract", "zero")


class ALIFState(NamedTuple):
    """State of a layer of ALIF neurons, each of shape [B, N]."""

    u: torch.Tensor  # membrane potential
    b: torch.Tensor  # adaptation variable eta (eq. 6)
    s: torch.Tensor  # last spikes


def alif_step(
    i_t: torch.Tensor,
    state: ALIFState,
    tau_m: torch.Tensor,
    tau_adp: torch.Tensor,
    b_j0: float,
    beta: float,
    spike_fn: Surrogate,
    dt: float = 1.0,
    reset: str = "subtract",
    scale_input: bool = True,
) -> tuple[torch.Tensor, ALIFState]:
    """One ALIF step (Yin et al. 2021, eqs 5-8). Pure: returns ``(s_t, new_state)``.

    Args:
        i_t: input current ``I_t`` [B, N] (feed-forward plus recurrent synaptic input).
        state: previous :class:`ALIFState`.
        tau_m, tau_adp: per-neuron time constants [N] (in units of ``dt``).
        b_j0: minimal threshold ``b_0`` (a float, or a learnable 0-d tensor); beta: adaptation strength (0 -> LIF).
        spike_fn: the surrogate spike function.
        reset: ``subtract`` (Yin eq. 5) or ``zero`` (De Geeter Sec. 2.2, snnTorch: detached reset to 0).
        scale_input: ``(1 - alpha) I`` (Yin eq. 5) or, when False, ``I`` (De Geeter Sec. 2.2).
    """
    alpha = torch.exp(-dt / tau_m)
    rho = torch.exp(-dt / tau_adp)
    b = rho * state.b + (1.0 - rho) * state.s  # eq. 6
    theta = b_j0 + beta * b  # eq. 7
    drive = (1.0 - alpha) * i_t if scale_input else i_t
    if reset == "subtract":
        u = alpha * state.u + drive - theta * state.s * dt  # eq. 5
    else:  # De Geeter Sec. 2.2: V = alpha_V V + x, V -> V_rest = 0 after a spike (reset mask detached, snnTorch)
        u = alpha * (1.0 - state.s.detach()) * state.u + drive
    s = spike_fn(u - theta)  # eq. 8 (De Geeter: s = 1 iff V > V_thresh)
    return s, ALIFState(u, b, s)


class ALIFCell(nn.Module):
    """A population of ALIF neurons with learnable per-neuron time constants.

    Holds only the neuron dynamics: synapses and the time loop live in
    :class:`srnn_bench.models.layers.SpikingLayer`.
    """

    def __init__(
        self,
        size: int,
        spike_fn: Surrogate,
        tau_m: dict,
        tau_adp: dict,
        b_j0: float = 0.01,
        beta: float = 1.8,
        dt: float = 1.0,
        train_tau_m: bool = True,
        train_tau_adp: bool = True,
        u0: str = "uniform",
        s0: str = "zero",
        reset: str = "subtract",
        scale_input: bool = True,
        threshold_trainable: bool = False,
    ) -> None:
        super().__init__()
        check_choice("neuron.u0", u0, U0_SCHEMES)
        check_choice("neuron.s0", s0, S0_SCHEMES)
        check_choice("neuron.reset", reset, RESETS)
        for key, v in (("scale_input", scale_input), ("threshold_trainable", threshold_trainable)):
            if not isinstance(v, bool):
                raise ValueError(f"neuron.{key} must be true or false, got {v!r}")
        self.size, self.spike_fn = size, spike_fn
        self.b_j0, self.beta, self.dt, self.u0, self.s0 = float(b_j0), float(beta), float(dt), u0, s0
        self.tau_m = nn.Parameter(init_time_constant(size, **tau_m, key="neuron.tau_m"), requires_grad=train_tau_m)
        tau_adp = init_time_constant(size, **tau_adp, key="neuron.tau_adp")
        self.tau_adp = nn.Parameter(tau_adp, requires_grad=train_tau_adp)
        self.reset, self.scale_input = reset, scale_input
        # De Geeter App. A: V_thresh learnable (one scalar per layer, snnTorch learn_threshold)
        self.threshold = nn.Parameter(torch.tensor(self.b_j0)) if threshold_trainable else None

    @property
    def reference_only(self) -> str | None:
        """Why the fused kernel (srnn_bench.kernels) cannot run this cell, or None: it implements the
        defaults only (reset subtract, scaled input, fixed threshold)."""
        off = [f"reset={self.reset}"] if self.reset != "subtract" else []
        off += ["scale_input=false"] if not self.scale_input else []
        off += ["threshold_trainable=true"] if self.threshold is not None else []
        return f"no fused kernel for {', '.join(off)}" if off else None

    @property
    def supported_backends(self) -> tuple[str, ...]:
        """``neuron.backend`` values this cell has: ``fused`` = one scan op per layer and sequence
        (:mod:`srnn_bench.kernels`), except for De Geeter's LIF options (:attr:`reference_only`)."""
        return ("reference",) if self.reference_only else ("reference", "fused")

    def fused_sequence(self, layer, x: torch.Tensor, state, record_membrane: bool):
        """The layer's whole sequence on the device's scan op, or ``None`` (the reference loop runs)."""
        return dispatch.layer_forward(layer, x, state, record_membrane)

    def fused_scan(self, layer, x: torch.Tensor, state: LayerState, record_membrane: bool, ops):
        """eqs. 5-8 (as :func:`alif_step`) for all steps in one op of ``ops`` (:class:`srnn_bench.kernels.dispatch.Ops`):
        the feed-forward projection hoisted out of the loop, ``alpha``/``rho`` as in :func:`alif_step`."""
        iff = ops.project(layer.w_in, x)
        alpha, rho = torch.exp(-self.dt / self.tau_m), torch.exp(-self.dt / self.tau_adp)
        w_rec = layer.w_rec.weight if layer.w_rec is not None else None
        cs = state.cell
        out, u, u_last, b_last = ops.alif.apply(
            iff, w_rec, alpha, rho, cs.u, cs.b, cs.s, self.b_j0, self.beta, self.dt, self.spike_fn,
            True,  # iff is our fresh projection: reused as the buffer of i_t
            record_membrane,
        )  # fmt: skip
        return out, u, LayerState(ALIFState(u_last, b_last, out[-1]), out[-1])

    spiking = True
    """Binary spikes (eq. 8): each spike costs one AC per outgoing synapse (Yin Fig. 2a)."""

    @staticmethod
    def attributes_for(adaptive: bool) -> dict:
        """The cost attributes of an ALIF (``adaptive``, beta != 0) or LIF (beta = 0) population, without
        building one (:func:`srnn_bench.neurons.cell_cost`). ``state_macs_per_step``, the multiplications of
        one neuron's update (Yin Fig. 2a): ALIF 3 (rho*eta eq. 6, beta*eta eq. 7, alpha*u eq. 5), LIF 1
        (alpha*u); spike products are conditional adds, (1 - alpha) R_m is folded into the weights.
        Reproduces Yin Table 2 (README "Metrics")."""
        return {"state_macs_per_step": 3 if adaptive else 1}

    @property
    def state_macs_per_step(self) -> int:
        return self.attributes_for(self.beta != 0.0)["state_macs_per_step"]

    def init_state(self, batch: int, device=None, dtype=None) -> ALIFState:
        """Initial state (semantics.md §1): ``b = b_j0``, ``u`` per :data:`U0_SCHEMES`, ``s`` per :data:`S0_SCHEMES`."""
        shape = (batch, self.size)
        dtype = dtype or self.tau_m.dtype
        device = device or self.tau_m.device
        if self.u0 == "uniform":  # per sample in evaluation (srnn_bench/utils/sample_rng.py)
            u = sample_rng.rand(shape, device=device, dtype=dtype) * self.b_j0
        elif self.u0 == "uniform_unit":
            u = sample_rng.rand(shape, device=device, dtype=dtype)
        else:
            u = torch.zeros(shape, device=device, dtype=dtype)
        b = torch.full(shape, self.b_j0, device=device, dtype=dtype)
        s = u.clone() if self.s0 == "u0" else torch.zeros(shape, device=device, dtype=dtype)
        return ALIFState(u, b, s)

    def forward(self, i_t: torch.Tensor, state: ALIFState) -> tuple[torch.Tensor, ALIFState]:
        b_j0 = self.threshold if self.threshold is not None else self.b_j0
        return alif_step(i_t, state, self.tau_m, self.tau_adp, b_j0, self.beta, self.spike_fn, self.dt,
                         self.reset, self.scale_input)

    def extra_repr(self) -> str:
        return (f"size={self.size}, b_j0={self.b_j0}, beta={self.beta}, u0={self.u0}, s0={self.s0}, reset={self.reset}, "
                f"scale_input={self.scale_input}, threshold_trainable={self.threshold is not None}")
