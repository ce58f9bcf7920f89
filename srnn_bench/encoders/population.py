"""Population coding with Gaussian receptive fields (Bohte, Kok & La Poutré 2002)."""

from __future__ import annotations

import torch
from torch import nn


class Population(nn.Module):
    """Population coding with Gaussian receptive fields (Bohte, Kok & La Poutré 2002, Sec. 3).

    Each input channel is seen by ``n`` neurons with centres evenly spaced on [low, high] and equal
    width ``sigma = width * (high - low) / (n - 1)``; neuron i receives the current
    ``exp(-(x - mu_i)^2 / (2 sigma^2))``. A scalar stream becomes an ``n``-dimensional, sparse,
    bounded current — the graded population code those authors use to feed analog values to
    spiking networks. Output [T, B, C * n] (channel-major).
    """

    binary = False

    def __init__(self, n: int = 16, low: float = -3.0, high: float = 3.0, width: float = 1.0) -> None:
        super().__init__()
        if n < 2:
            raise ValueError(f"encoder.n must be >= 2, got {n}")
        if not high > low:
            raise ValueError(f"encoder.high ({high}) must exceed encoder.low ({low})")
        if not width > 0:
            raise ValueError(f"encoder.width must be > 0, got {width}")
        self.n = int(n)
        self.register_buffer("centres", torch.linspace(low, high, self.n), persistent=False)
        self.sigma = float(width) * (high - low) / (self.n - 1)

    def out_features(self, c: int) -> int:
        return c * self.n

    def out_steps(self, t: int) -> int:
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.unsqueeze(-1) - self.centres.to(x.dtype)  # [T, B, C, n]
        return torch.exp(-(d**2) / (2.0 * self.sigma**2)).flatten(-2)
