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

from ..utils.rules import TAU_INITS, check_time_constant  # noqa: F401 - the rule is defined once, there
TAU_FLOOR = 0.1


def init_time_constant(size: int, mean: float, std: float = 0.0, init: str = "normal",
                       key: str = "time constant") -> torch.Tensor:
    """Return a [size] float32 tensor of time constants (in simulation steps)."""
    check_time_constant(key, mean, std, init)
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
