"""Latency (time-to-first-spike) coding as in snnTorch ``spikegen.latency`` (De Geeter et al., Sec. 4.1)."""

from __future__ import annotations

import torch
from torch import nn


class Latency(nn.Module):
    """Latency (time-to-first-spike) coding as in snnTorch ``spikegen.latency`` (De Geeter et al., Sec. 4.1):

        log (default):  t_spk = tau * ln(x / (x - thr)),  x clamped to >= thr + eps   (RC circuit reaching V_th)
        linear:         t_spk = min(tau * (1 - x), tau * (1 - thr))                   (linearised RC circuit)

    one spike per channel at step round(t_spk). The default is the logarithmic code of semantics.md §2
    (golden values, tau 10, thr 0.01, no normalisation: x=1 -> 0, 0.1 -> 1, 0.02 -> 7). The SRC paper's
    text says "(linearized) RC circuit" and prints t_spk = min(-tau (I - 1), V_th), which matches snnTorch's
    ``linear=True`` code clamp_max(-tau (x - 1), -tau (thr - 1)): ``linear: true`` gives that variant.
    With ``normalize`` the times span the sequence: log — scaled by (num_steps - 1) / t_max, t_max =
    tau * ln((thr + eps) / eps) the time of an input at the floor (snnTorch divides by the batch maximum,
    which equals t_max whenever the batch holds a value <= thr — every MNIST batch: black pixels are 0);
    linear — tau becomes num_steps - 1 (snnTorch). ``remove_last`` removes the spikes at the saturation
    step, the time of an input at or below the threshold (the paper: "the spikes located at the last
    timestep (i.e. the spikes whose t equals V_th) are removed"); in the normalised log code that is the
    last step. Spikes later than the last step are dropped. Input must be static (T = 1); output
    [num_steps, B, C].
    """

    binary = True

    def __init__(
        self,
        num_steps: int = 200,
        tau: float = 10.0,
        threshold: float = 0.01,
        normalize: bool = True,
        remove_last: bool = True,
        epsilon: float = 1e-7,
        linear: bool = False,
    ) -> None:
        super().__init__()
        if int(num_steps) < 2:
            raise ValueError(f"encoder.num_steps must be >= 2, got {num_steps}")
        if not tau > 0:
            raise ValueError(f"encoder.tau must be > 0, got {tau}")
        if not 0 < threshold < 1:
            raise ValueError(f"encoder.threshold must be in (0, 1), got {threshold}")
        if not epsilon > 0:
            raise ValueError(f"encoder.epsilon must be > 0, got {epsilon}")
        self.num_steps, self.tau, self.threshold = int(num_steps), float(tau), float(threshold)
        self.normalize, self.remove_last, self.epsilon = bool(normalize), bool(remove_last), float(epsilon)
        self.linear = bool(linear)

    def out_features(self, c: int) -> int:
        return c

    def out_steps(self, t: int) -> int:
        if t != 1:
            raise ValueError(f"encoder=latency codes a static input (T = 1) into num_steps steps; this dataset has T = {t}")
        return self.num_steps

    def spike_times(self, x: torch.Tensor) -> torch.Tensor:
        """Real-valued spike times (before rounding), same shape as ``x``."""
        if self.linear:  # snnTorch latency_code(linear=True)
            tau = float(self.num_steps - 1) if self.normalize else self.tau
            return torch.clamp(tau * (1.0 - x), min=0.0, max=tau * (1.0 - self.threshold))
        floor = torch.full((), self.threshold + self.epsilon, dtype=x.dtype, device=x.device)
        x = torch.maximum(x, floor)
        t = self.tau * torch.log(x / (x - self.threshold))
        if self.normalize:  # t_max in the input's precision, so an input at the floor lands on the last step
            t_max = self.tau * torch.log(floor / (floor - self.threshold))
            t = t * (self.num_steps - 1) / t_max
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.out_steps(x.shape[0])
        step = torch.round(self.spike_times(x[0])).long()  # [B, C]
        keep = step < self.num_steps
        if self.remove_last:  # drop the spikes at the saturation step (inputs at or below the threshold)
            saturated = torch.round(self.spike_times(torch.zeros((), dtype=x.dtype, device=x.device))).long()
            keep &= step < saturated
        steps = torch.arange(self.num_steps, device=x.device).view(-1, *([1] * step.ndim))
        return ((steps == step.unsqueeze(0)) & keep.unsqueeze(0)).to(x.dtype)
