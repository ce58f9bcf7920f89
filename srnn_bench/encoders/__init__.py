"""Input encoders: how a (batched, time-first) input sequence enters the first layer.

An encoder maps ``x`` [T, B, C] to [T', B, C'] on the training device, per batch. It declares
``binary`` (its outputs are spikes, whose synapses cost ACs rather than MACs) and
``out_features(C)`` / ``out_steps(T)``. The ``encoder=`` config group picks one by ``name``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..utils import sample_rng
from .audio import Ternary


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


def _expanded_steps(name: str, t: int, num_steps: int | None) -> int:
    if num_steps is None or t == num_steps:
        return t
    if t == 1:
        return num_steps
    raise ValueError(
        f"encoder={name} with encoder.num_steps={num_steps} expands a static input (T = 1); this dataset has "
        f"T = {t}: set encoder.num_steps=null to code it step by step"
    )



ENCODERS = {"identity": Identity, "population": Population, "level_crossing": LevelCrossing, "rate": Rate, "latency": Latency, "ternary": Ternary}


def build_encoder(cfg, binary_input: bool = False) -> nn.Module:
    cfg = dict(cfg)
    name = cfg.pop("name")
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder '{name}'; valid choices: {', '.join(sorted(ENCODERS))}")
    if name == "identity":
        return Identity(binary_input=binary_input, hold_steps=cfg.get("hold_steps", 1))
    try:
        return ENCODERS[name](**cfg)
    except TypeError as e:
        raise ValueError(f"encoder '{name}': {e}") from None
