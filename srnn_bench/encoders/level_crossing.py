"""Level-crossing spike encoding (Yin et al. 2021, Methods, ECG)."""

from __future__ import annotations

import torch
from torch import nn


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
