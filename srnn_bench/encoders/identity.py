"""Current injection (Yin et al. 2021, Methods): the input value is the first layer's input current."""

from __future__ import annotations

import torch
from torch import nn


class Identity(nn.Module):
    """Current injection: the input value is fed as current into the first layer
    (Yin et al. 2021, Methods: S-MNIST, PS-MNIST, SoLi, TIMIT, GSC).

    ``hold_steps = k`` (default 1) presents every input step for k consecutive simulation steps,
    ``x'[t] = x[t // k]``, [T, B, C] -> [k T, B, C]: the authors' TIMIT code shows each 10 ms frame for 5
    steps (``input[:, l // 5]``; Table S1's sequence length 500 = 100 frames x 5; golden JSON
    ``timit_0.66292``). Pair it with ``model.readout.block_steps = k`` for one output per frame.
    """

    binary = False

    def __init__(self, binary_input: bool = False, hold_steps: int = 1) -> None:
        super().__init__()
        if isinstance(hold_steps, bool) or not isinstance(hold_steps, int) or hold_steps < 1:
            raise ValueError(f"encoder.hold_steps must be an integer >= 1, got {hold_steps!r}")
        self.binary = binary_input
        self.hold_steps = int(hold_steps)

    def out_features(self, c: int) -> int:
        return c

    def out_steps(self, t: int) -> int:
        return t * self.hold_steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.hold_steps == 1 else x.repeat_interleave(self.hold_steps, dim=0)
