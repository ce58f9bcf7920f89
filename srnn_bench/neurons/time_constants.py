"""Time-constant initialisers (Yin et al. 2021, Methods "Network initialization"; Figure S1).

``normal``   : tau ~ N(mean, std) per neuron — the paper's default, Table S1 gives (mean; std) per layer;
``uniform``  : tau ~ U[mean - std, mean + std] ("MGuniform" of Figure S1);
``constant`` : tau = mean ("MGconstant").
"""

from __future__ import annotations

import torch

TAU_INITS = ("normal", "uniform", "constant")


def init_time_constant(size: int, mean: float, std: float = 0.0, init: str = "normal") -> torch.Tensor:
    """Return a [size] float32 tensor of time constants (in simulation steps)."""
    if init not in TAU_INITS:
        raise ValueError(f"unknown time-constant init '{init}'; valid choices: {', '.join(TAU_INITS)}")
    if not mean > 0:
        raise ValueError(f"time-constant mean must be > 0, got {mean}")
    if not std >= 0:
        raise ValueError(f"time-constant std must be >= 0, got {std}")
    if init == "normal":
        return torch.randn(size) * std + mean
    if init == "uniform":
        return (torch.rand(size) * 2.0 - 1.0) * std + mean
    return torch.full((size,), float(mean))
