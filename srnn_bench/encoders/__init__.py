"""Input encoders: how a (batched, time-first) input sequence enters the first layer.

An encoder maps ``x`` [T, B, C] to [T', B, C'] on the training device, per batch. It declares
``binary`` (its outputs are spikes, whose synapses cost ACs rather than MACs) and
``out_features(C)`` / ``out_steps(T)``. The ``encoder=`` config group picks one by ``name``.
"""

from __future__ import annotations

import torch
from torch import nn


class Identity(nn.Module):
    """Current injection: the input value is fed as current into the first layer
    (Yin et al. 2021, Methods: S-MNIST, PS-MNIST, SoLi, TIMIT, GSC)."""

    binary = False

    def __init__(self, binary_input: bool = False) -> None:
        super().__init__()
        self.binary = binary_input

    def out_features(self, c: int) -> int:
        return c

    def out_steps(self, t: int) -> int:
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


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


class LevelCrossing(nn.Module):
    """Level-crossing spike encoding (Yin et al. 2021, Methods, ECG; Lichtsteiner et al. 2008).

        S+_t = 1 if x_t - x_{t-1} >= L+ else 0,      S-_t = 1 if x_{t-1} - x_t >= L- else 0

    with x_{-1} = x_0 (no spike at t = 0). Each channel c becomes two channels (2c: up, 2c+1: down).
    """

    binary = True

    def __init__(self, l_plus: float = 0.3, l_minus: float = 0.3) -> None:
        super().__init__()
        if not (l_plus > 0 and l_minus > 0):
            raise ValueError(f"encoder.l_plus and encoder.l_minus must be > 0, got {l_plus}, {l_minus}")
        self.l_plus, self.l_minus = float(l_plus), float(l_minus)

    def out_features(self, c: int) -> int:
        return 2 * c

    def out_steps(self, t: int) -> int:
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dx = torch.diff(x, dim=0, prepend=x[:1])
        up = (dx >= self.l_plus).to(x.dtype)
        down = (-dx >= self.l_minus).to(x.dtype)
        return torch.stack([up, down], dim=-1).flatten(-2)


from .audio import Ternary  # noqa: E402

ENCODERS = {"identity": Identity, "population": Population, "level_crossing": LevelCrossing}
ENCODERS["ternary"] = Ternary


def build_encoder(cfg, binary_input: bool = False) -> nn.Module:
    cfg = dict(cfg)
    name = cfg.pop("name")
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder '{name}'; valid choices: {', '.join(sorted(ENCODERS))}")
    if name == "identity":
        return Identity(binary_input=binary_input)
    try:
        return ENCODERS[name](**cfg)
    except TypeError as e:
        raise ValueError(f"encoder '{name}': {e}") from None
