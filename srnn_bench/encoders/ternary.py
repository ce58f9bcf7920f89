"""Ternary spike input with a (learnable) threshold: the GSC input of the authors' code.

Log-mel and MFCC extraction are *not* encoders: they need the raw waveform, so they are dataset
preprocessing options (``dataset.features``, cached with the preprocessing config; see
``srnn_bench/data/audio.py``). Encoders act on the extracted features per batch.
"""

from __future__ import annotations

import torch
from torch import nn

from ..surrogates import build_surrogate


class Ternary(nn.Module):
    """Ternary spike input with a (learnable) threshold — the GSC variant of the authors' code.

        s_t = H(x_t - theta) - H(-theta - x_t)  in {-1, 0, +1}

    (Efficient-spiking-networks, GSC script: ``thr_func(input - thr) - thr_func(-thr - input)`` with the
    spike function's Multi-Gaussian surrogate as gradient; ``theta`` initialised to 0.05.) The paper
    itself describes GSC input as current injection (``encoder=identity``, the default). ``theta`` is
    an ``nn.Parameter`` when ``learnable``; it is trained only if the optimizer is given the
    encoder's parameters (the single trainer optimises the model's parameters).
    """

    binary = True

    def __init__(self, threshold: float = 0.05, learnable: bool = True, surrogate: dict | None = None) -> None:
        super().__init__()
        if not threshold > 0:
            raise ValueError(f"encoder.threshold must be > 0, got {threshold}")
        theta = torch.tensor(float(threshold))
        if learnable:
            self.theta = nn.Parameter(theta)
        else:
            self.register_buffer("theta", theta)
        self.spike = build_surrogate(dict(surrogate or {"name": "multi_gaussian", "gamma": 0.5, "sigma": 0.5, "h": 0.15, "s": 6.0}))

    def out_features(self, c: int) -> int:
        return c

    def out_steps(self, t: int) -> int:
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        theta = self.theta.to(x.dtype)
        return self.spike(x - theta) - self.spike(-theta - x)
