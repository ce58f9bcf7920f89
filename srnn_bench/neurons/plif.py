"""LIF neurons with gated synaptic current and multi-bit outputs — Ponghiran & Roy 2022 (AAAI).

The layer (``srnn_bench.models.layers.SpikingLayer``) computes the gate pre-activations
``BN(W x_t)`` (per-gate BatchNorm over all T x B frames of the time-first batch, no bias — the
authors' code) plus, for v2, ``U y_{t-1}``; this module holds the neuron update:

    v1 (eqs 16-18):  F = sigmoid(f),  C = ReLU(c);              I = F * I_prev + (1 - F) * C * mask
    v2 (eqs 19-21):  F = sigmoid(f + U_f y_prev),  C = ReLU(c + U_c y_prev);  I as in v1
    traditional:     I = BN(W x) * mask + tau * I_prev   (tau learnable per neuron, init 1; eq. 3 with
                     the code's learnable decay)
    all:             V = V + I;   y = Q(V);   V = V - y       (eq. 4 as coded: no leak, subtractive reset
                                                               by the multi-bit output)

``mask`` is the recurrent-dropout mask (Semeniuta et al. 2016): Bernoulli(1 - p) / (1 - p) per sample
and neuron, drawn once per sequence in ``init_state`` during training, all ones in evaluation.

Q — multi-bit output (Sec. "Training Method", eq. 22), :func:`quantize`:

    b     = EMA of the membrane range (max |V| over the batch), momentum 0.1, bias-corrected
            (Jacob et al. 2018; updated at every training step of the sequence, as in the code)
    gamma = k * b / 2^Nbits                       (threshold, a multiple of b / 2^Nbits)
    y     = floor(V / b * 2^Nbits) * b / 2^Nbits   if V > gamma, else 0   (level capped at 2^Nbits - 1)
    dy/dV = 1 for |V| <= b, else 0                 (straight-through estimator on clamp(V, -b, b))

``quantizer: code`` reproduces the authors' FakeSpikeQuantization instead: 2^(Nbits-1) levels per sign,
scale = 2^(Nbits-1) (1 - 1e-4) / b, truncation, levels with |level| <= k set to 0, negative outputs
allowed. With Nbits = 1 it always outputs 0 (trunc(V * 0.9999 / b) = 0 on [-b, b]): the code's 1-bit
bug noted in semantics.md §3; the paper's 1-bit results need the default ``paper`` formula.
Table 1 uses 6 bits and threshold b/16, i.e. k = 4 with the paper's formula.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..utils.checks import check_choice

QUANTIZERS = ("paper", "code")
VARIANTS = ("v1", "v2", "traditional")


class PLIFState(NamedTuple):
    v: torch.Tensor  # membrane potential [B, N]
    i: torch.Tensor  # synaptic current [B, N]
    mask: torch.Tensor  # recurrent-dropout mask [B, N], fixed for the sequence


def quantize(v: torch.Tensor, b: torch.Tensor | float, n_bits: int, k: int, mode: str = "paper") -> torch.Tensor:
    """Multi-bit output ``Q(V)`` (Ponghiran & Roy eq. 22, or the code's variant); straight-through inside [-b, b]."""
    b = torch.as_tensor(b, dtype=v.dtype, device=v.device).clamp_min(1e-12)
    vc = torch.maximum(torch.minimum(v, b), -b)  # gradient 1 inside [-b, b], 0 outside
    with torch.no_grad():
        if mode == "paper":
            levels = 2.0**n_bits
            level = torch.floor(vc / b * levels).clamp(max=levels - 1)
            q = torch.where(v > k * b / levels, level * b / levels, torch.zeros_like(v))
        elif mode == "code":
            scale = 2.0 ** (n_bits - 1) * (1 - 1e-4) / b
            level = torch.trunc(vc * scale)
            level = torch.where(level.abs() <= k, torch.zeros_like(level), level)
            q = level / scale
        else:
            check_choice("neuron.quantizer", mode, QUANTIZERS)
    return vc + (q - vc).detach()


def plif_current(i_t: torch.Tensor, state: PLIFState, variant: str, tau: torch.Tensor | None = None) -> torch.Tensor:
    """The synaptic current update (eqs 16-18 / 19-21, or the traditional leaky current)."""
    if variant == "traditional":
        return i_t * state.mask + tau * state.i
    f, c = i_t.chunk(2, dim=-1)
    gate = torch.sigmoid(f)  # eqs 16 / 19
    return gate * state.i + (1.0 - gate) * torch.relu(c) * state.mask  # eqs 17-18 / 20-21


def plif_step(
    i_t: torch.Tensor,
    state: PLIFState,
    b: torch.Tensor,
    variant: str,
    n_bits: int,
    k: int,
    quantizer: str = "paper",
    tau: torch.Tensor | None = None,
) -> tuple[torch.Tensor, PLIFState]:
    """One step. ``i_t``: [B, 2N] gate pre-activations (v1, v2) or [B, N] current (traditional)."""
    i = plif_current(i_t, state, variant, tau)
    v = state.v + i
    y = quantize(v, b, n_bits, k, quantizer)  # eq. 22
    return y, PLIFState(v - y, i, state.mask)


class PLIFCell(nn.Module):
    """Ponghiran & Roy's neuron: ``variant`` v1 / v2 / traditional, multi-bit output, EMA range ``b``.

    The EMA of the membrane range lives in buffers (like BatchNorm's running statistics): it is a
    training statistic, not neuron state; :func:`plif_step` receives ``b`` as an argument.
    """

    spiking = False  # multi-bit outputs: every synapse is a MAC each step (Ponghiran eq. 10)
    sparse_output = True  # y = 0 below the threshold gamma
    ff_norm = True  # per-gate BatchNorm on W x (the code's use_bn)

    def __init__(
        self,
        size: int,
        variant: str = "v2",
        n_bits: int = 6,
        threshold_k: int = 4,
        quantizer: str = "paper",
        dropout: float = 0.0,
        ema_momentum: float = 0.1,
        bn_momentum: float = 0.1,
        b_init: float = 1.0,
        tau_init: float = 1.0,
        train_tau: bool = True,
    ) -> None:
        super().__init__()
        check_choice("PLIF variant", variant, VARIANTS)
        check_choice("neuron.quantizer", quantizer, QUANTIZERS)
        if int(n_bits) < 1:
            raise ValueError(f"neuron.n_bits must be >= 1, got {n_bits}")
        if not 0 <= int(threshold_k) < 2 ** int(n_bits):
            raise ValueError(f"neuron.threshold_k must be in [0, 2^n_bits), got {threshold_k}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"neuron.dropout must be in [0, 1), got {dropout}")
        if not 0.0 < ema_momentum <= 1.0:
            raise ValueError(f"neuron.ema_momentum must be in (0, 1], got {ema_momentum}")
        if not b_init > 0:
            raise ValueError(f"neuron.b_init must be > 0, got {b_init}")
        self.size, self.variant, self.quantizer = size, variant, quantizer
        self.n_bits, self.k, self.dropout = int(n_bits), int(threshold_k), float(dropout)
        self.ema_momentum, self.bn_momentum, self.b_init = float(ema_momentum), float(bn_momentum), float(b_init)
        for key, value in self.attributes_for(variant).items():
            setattr(self, key, value)
        self.tau = None
        if variant == "traditional":
            self.tau = nn.Parameter(torch.full((size,), float(tau_init)), requires_grad=train_tau)
        self.register_buffer("ema_max_biased", torch.zeros(()))
        self.register_buffer("ema_min_biased", torch.zeros(()))
        self.register_buffer("ema_steps", torch.zeros(()))

    @staticmethod
    def attributes_for(variant: str) -> dict:
        """The synapses and state MACs of a ``variant``, without building a cell (the layer reads ``gates``
        and ``recurrent_synapses``; :func:`srnn_bench.neurons.cell_cost` all three):

        - ``gates``: v1/v2 2 (forget and candidate pre-activations f, c; eqs 16-17 / 19-20), traditional 1
          (one current, eq. 3): the input (and v2's recurrent) projection is ``gates * N`` wide;
        - ``recurrent_synapses``: v2 only (U_f, U_c of eqs 19-20); v1 and traditional have none (eqs 16-18, 3);
        - ``state_macs_per_step``: traditional 4 (Ponghiran eq. 10: n for the current decay, 3n for the
          membrane / multi-bit output); v1/v2 5 (F*I and (1-F)*C of eqs 18/21, plus the same 3n).
        """
        gated = variant != "traditional"
        return {"gates": 2 if gated else 1, "recurrent_synapses": variant == "v2",
                "state_macs_per_step": 5 if gated else 4}

    # -- the EMA of the membrane range (eq. 22's b) ----------------------------------------------
    def range_b(self) -> torch.Tensor:
        """Bias-corrected EMA of max |V| (``b_init`` before the first training step)."""
        steps = self.ema_steps.clamp_min(1)
        corr = 1.0 - (1.0 - self.ema_momentum) ** steps
        b = torch.maximum((self.ema_max_biased / corr).abs(), (self.ema_min_biased / corr).abs())
        return torch.where(self.ema_steps > 0, b, torch.full_like(b, self.b_init))

    @torch.no_grad()
    def update_range(self, v: torch.Tensor) -> None:
        m = self.ema_momentum
        self.ema_steps += 1
        self.ema_max_biased.mul_(1 - m).add_(m * v.max().to(self.ema_max_biased.dtype))
        self.ema_min_biased.mul_(1 - m).add_(m * v.min().to(self.ema_min_biased.dtype))

    # -- cell contract ---------------------------------------------------------------------------
    def init_state(self, batch: int, device=None, dtype=None) -> PLIFState:
        device = device or self.ema_steps.device
        dtype = dtype or torch.get_default_dtype()
        zero = torch.zeros(batch, self.size, device=device, dtype=dtype)
        mask = torch.ones_like(zero)
        if self.training and self.dropout > 0:
            mask = torch.bernoulli(torch.full_like(zero, 1.0 - self.dropout)) / (1.0 - self.dropout)
        return PLIFState(zero, zero.clone(), mask)

    def forward(self, i_t: torch.Tensor, state: PLIFState) -> tuple[torch.Tensor, PLIFState]:
        if self.training:  # the code updates the EMA with the membrane of every step, before quantising
            with torch.no_grad():
                self.update_range(state.v + plif_current(i_t, state, self.variant, self.tau))
        b = self.range_b().to(i_t.dtype)
        return plif_step(i_t, state, b, self.variant, self.n_bits, self.k, self.quantizer, self.tau)

    def extra_repr(self) -> str:
        return f"size={self.size}, variant={self.variant}, n_bits={self.n_bits}, k={self.k}, quantizer={self.quantizer}"
