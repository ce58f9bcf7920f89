"""Time-constant initialisers (Yin et al. 2021, Methods "Network initialization"; Figure S1).

``normal``   : tau ~ N(mean, std) per neuron — the paper's default, Table S1 gives (mean; std) per layer;
``uniform``  : tau ~ U[mean - std, mean + std] ("MGuniform" of Figure S1);
``constant`` : tau = mean ("MGconstant").

Random draws below ``TAU_FLOOR`` steps are redrawn (a truncated distribution): Table S1's wide settings
(e.g. GSC/SSC tau_adp ~ N(150, 50)) put about one neuron in a thousand below zero, where
exp(-dt / tau) > 1 makes the state grow without bound and the first step's gradient is NaN.
"""

from __future__ import annotations

import torch

TAU_INITS = ("normal", "uniform", "constant")
TAU_FLOOR = 0.1


def init_time_constant(size: int, mean: float, std: float = 0.0, init: str = "normal") -> torch.Tensor:
    """Return a [size] float32 tensor of time constants (in simulation steps)."""
    if init not in TAU_INITS:
        raise ValueError(f"unknown time-constant init '{init}'; valid choices: {', '.join(TAU_INITS)}")
    if not mean > 0:
        raise ValueError(f"time-constant mean must be > 0, got {mean}")
    if not std >= 0:
        raise ValueError(f"time-constant std must be >= 0, got {std}")
    if init == "constant":
        return torch.full((size,), float(mean))
    if mean <= TAU_FLOOR:
        raise ValueError(f"time-constant mean must be > {TAU_FLOOR} steps, got {mean}")

    def draw(n: int) -> torch.Tensor:
        if init == "normal":
            return torch.randn(n) * std + mean
        return (torch.rand(n) * 2.0 - 1.0) * std + mean

    tau = draw(size)
    while (low := tau <= TAU_FLOOR).any():
        tau[low] = draw(int(low.sum()))
    return tau
