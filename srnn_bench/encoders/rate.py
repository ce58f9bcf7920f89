"""Rate (Bernoulli) coding as in snnTorch ``spikegen.rate`` (De Geeter et al., Sec. 4.1)."""

from __future__ import annotations

import torch
from torch import nn

from ..utils import sample_rng


class Rate(nn.Module):
    """Rate (Bernoulli/"Poisson") coding as in snnTorch ``spikegen.rate`` (De Geeter et al., Sec. 4.1):

        s_t ~ Bernoulli(clamp(gain * x, 0, 1))      independently for every step t and channel

    gain 0.25 in the SRC paper (a white pixel spikes with probability 0.25 per step). A static input
    (T = 1, e.g. an image as [1, B, 784]) is expanded to ``num_steps`` steps; a sequence (T > 1) is coded
    step by step (``num_steps`` null, or equal to T). Uses torch's global RNG (seeded by the trainer).
    """

    binary = True

    def __init__(self, num_steps: int | None = 200, gain: float = 0.25) -> None:
        super().__init__()
        if num_steps is not None and int(num_steps) < 1:
            raise ValueError(f"encoder.num_steps must be >= 1 (or null), got {num_steps}")
        if not gain > 0:
            raise ValueError(f"encoder.gain must be > 0, got {gain}")
        self.num_steps = None if num_steps is None else int(num_steps)
        self.gain = float(gain)

    def out_features(self, c: int) -> int:
        return c

    def out_steps(self, t: int) -> int:
        return _expanded_steps("rate", t, self.num_steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t_out = self.out_steps(x.shape[0])
        p = torch.clamp(self.gain * x, 0.0, 1.0).expand(t_out, *x.shape[1:])
        return sample_rng.bernoulli(p, batch_dim=1)  # x [T, B, C]: per sample in evaluation


def _expanded_steps(name: str, t: int, num_steps: int | None) -> int:
    if num_steps is None or t == num_steps:
        return t
    if t == 1:
        return num_steps
    raise ValueError(
        f"encoder={name} with encoder.num_steps={num_steps} expands a static input (T = 1); this dataset has "
        f"T = {t}: set encoder.num_steps=null to code it step by step"
    )
