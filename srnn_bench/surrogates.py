"""Surrogate gradients for the spike non-linearity.

Every surrogate has the same forward, an exact Heaviside step ``S = H(x)`` with
``H(0) = 0`` (strict ``x > 0``, as in Yin et al.'s code), and a smooth
pseudo-derivative ``dS/dx ~= gamma * f(x)`` in the backward pass, where
``x = u - theta`` is the distance of the membrane potential to the threshold.

Each surrogate is a small frozen dataclass holding its hyper-parameters, with

* ``derivative(x)``  — the documented formula, usable on any tensor; the tests
  compare the backward pass against it in float64;
* ``primitive(x)``   — a closed-form antiderivative ``gamma * F(x)`` with ``F' = f`` (every surrogate
  here has one); the tests check the backward against its central finite difference in float64
  (the surrogate contract test of SpikingJelly);
* ``__call__(x)``    — the spike function with that backward (an
  ``autograd.Function``); it keeps the input dtype (bf16, float32, float64).

The registry name is the ``surrogate=`` config choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import torch

from .utils.checks import check_choice

SQRT_2PI = math.sqrt(2.0 * math.pi)


def gaussian_pdf(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """Normalised Gaussian density N(x; mu, sigma)."""
    return torch.exp(-((x - mu) ** 2) / (2.0 * sigma**2)) / (SQRT_2PI * sigma)


def gaussian_cdf(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """Gaussian distribution function Phi(x; mu, sigma), the primitive of :func:`gaussian_pdf`."""
    return 0.5 * (1.0 + torch.erf((x - mu) / (sigma * math.sqrt(2.0))))


class _SpikeFn(torch.autograd.Function):
    """Heaviside forward, ``surrogate.derivative`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: Surrogate) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * ctx.surrogate.derivative(x), None


@dataclass(frozen=True)
class Surrogate:
    """Base class: Heaviside forward, ``gamma * f(x)`` backward."""

    gamma: float = 1.0

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        """``gamma * F(x)`` with ``dF/dx = f(x)`` (up to a constant)."""
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _SpikeFn.apply(x, self)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first impossible hyper-parameter."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._positive and not value > 0:
                raise ValueError(f"surrogate.{f.name} must be > 0, got {value}")
            if f.name in self._non_negative and not value >= 0:
                raise ValueError(f"surrogate.{f.name} must be >= 0, got {value}")

    _positive: ClassVar[tuple] = ("gamma",)
    _non_negative: ClassVar[tuple] = ()


@dataclass(frozen=True)
class MultiGaussian(Surrogate):
    """Multi-Gaussian surrogate, Yin et al. 2021, eq. 1.

    f(x) = (1+h) N(x; 0, sigma) - h N(x; sigma, s*sigma) - h N(x; -sigma, s*sigma)

    Defaults sigma = 0.5, h = 0.15, s = 6 and gamma = 0.5 are the paper's and the
    authors' code's values. Golden (semantics.md): gamma*f(0) = 0.439112.
    Primitive: (1+h) Phi(x; 0, sigma) - h Phi(x; sigma, s sigma) - h Phi(x; -sigma, s sigma).
    """

    gamma: float = 0.5
    sigma: float = 0.5
    h: float = 0.15
    s: float = 6.0
    _positive: ClassVar[tuple] = ("gamma", "sigma", "s")
    _non_negative: ClassVar[tuple] = ("h",)

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        wide = self.s * self.sigma
        f = (
            (1.0 + self.h) * gaussian_pdf(x, 0.0, self.sigma)
            - self.h * gaussian_pdf(x, self.sigma, wide)
            - self.h * gaussian_pdf(x, -self.sigma, wide)
        )
        return self.gamma * f

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        wide = self.s * self.sigma
        F = (
            (1.0 + self.h) * gaussian_cdf(x, 0.0, self.sigma)
            - self.h * gaussian_cdf(x, self.sigma, wide)
            - self.h * gaussian_cdf(x, -self.sigma, wide)
        )
        return self.gamma * F


@dataclass(frozen=True)
class Gaussian(Surrogate):
    """Gaussian surrogate, Yin et al. 2021 Methods (after Neftci et al. 2019): f(x) = N(x; 0, sigma_G),
    sigma_G = 0.5, scaled by gamma = 0.5 as in the authors' code. Primitive: Phi(x; 0, sigma_G).
    Golden (semantics.md): gamma*f(0) = 0.398942, gamma*f(+-0.5) = 0.241971."""

    gamma: float = 0.5
    sigma: float = 0.5
    _positive: ClassVar[tuple] = ("gamma", "sigma")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * gaussian_pdf(x, 0.0, self.sigma)

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * gaussian_cdf(x, 0.0, self.sigma)


@dataclass(frozen=True)
class Linear(Surrogate):
    """Linear (triangle) surrogate, Yin et al. 2021 Methods (Bellec et al. 2018 form):
    f(x) = ReLU(1 - alpha |x|), alpha = 1, gamma = 0.5 (authors' code).
    Primitive: sign(x) (a - alpha a^2 / 2) with a = min(|x|, 1/alpha)."""

    gamma: float = 0.5
    alpha: float = 1.0
    _positive: ClassVar[tuple] = ("gamma", "alpha")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.relu(1.0 - self.alpha * x.abs())

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.clamp(x.abs(), max=1.0 / self.alpha)  # F(x) = sign(x) (|x| - alpha x^2 / 2), flat beyond 1/alpha
        return self.gamma * torch.sign(x) * (a - 0.5 * self.alpha * a * a)


@dataclass(frozen=True)
class SLayer(Surrogate):
    """SLAYER exponential surrogate (Shrestha & Orchard 2018), as in Yin et al. 2021 Methods:
    f(x) = exp(-alpha |x|), alpha = 5, gamma = 0.5 (authors' code).
    Primitive: sign(x) (1 - exp(-alpha |x|)) / alpha."""

    gamma: float = 0.5
    alpha: float = 5.0
    _positive: ClassVar[tuple] = ("gamma", "alpha")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.exp(-self.alpha * x.abs())

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.sign(x) * (1.0 - torch.exp(-self.alpha * x.abs())) / self.alpha


@dataclass(frozen=True)
class ATan(Surrogate):
    """Arc-tangent surrogate (Fang et al. 2021; snnTorch ``atan``), used by De Geeter's LIF baseline.

    Primitive (1/pi) atan(pi/2 alpha x) + 1/2, so f(x) = (alpha/2) / (1 + (pi/2 alpha x)^2).
    """

    gamma: float = 1.0
    alpha: float = 2.0
    _positive: ClassVar[tuple] = ("gamma", "alpha")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * (self.alpha / 2.0) / (1.0 + (math.pi / 2.0 * self.alpha * x) ** 2)

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * (torch.atan(math.pi / 2.0 * self.alpha * x) / math.pi + 0.5)


@dataclass(frozen=True)
class FastSigmoid(Surrogate):
    """Fast-sigmoid surrogate, Zenke & Ganguli 2018 (SuperSpike; snnTorch ``fast_sigmoid``):
    f(x) = 1 / (1 + slope |x|)^2, slope 25. Primitive: x / (1 + slope |x|)."""

    gamma: float = 1.0
    slope: float = 25.0
    _positive: ClassVar[tuple] = ("gamma", "slope")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma / (1.0 + self.slope * x.abs()) ** 2

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * x / (1.0 + self.slope * x.abs())


@dataclass(frozen=True)
class StraightThrough(Surrogate):
    """Straight-through estimator (Bengio et al. 2013; the rectangular/"boxcar" surrogate):
    f(x) = 1 for |x| <= width/2, else 0. Primitive: clamp(x, -width/2, width/2)."""

    gamma: float = 1.0
    width: float = 2.0
    _positive: ClassVar[tuple] = ("gamma", "width")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * (x.abs() <= self.width / 2.0).to(x.dtype)

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.clamp(x, -self.width / 2.0, self.width / 2.0)


SURROGATES: dict[str, type[Surrogate]] = {
    "multi_gaussian": MultiGaussian,
    "gaussian": Gaussian,
    "linear": Linear,
    "slayer": SLayer,
    "atan": ATan,
    "fast_sigmoid": FastSigmoid,
    "straight_through": StraightThrough,
}


def build_surrogate(cfg) -> Surrogate:
    """Build a surrogate from a config mapping with ``name`` and its hyper-parameters."""
    cfg = dict(cfg)
    name = cfg.pop("name")
    check_choice("surrogate", name, sorted(SURROGATES))
    cls = SURROGATES[name]
    valid = {f.name for f in fields(cls)}
    unknown = set(cfg) - valid
    if unknown:
        raise ValueError(f"surrogate '{name}' has no key(s) {sorted(unknown)}; valid keys: {sorted(valid)}")
    surrogate = cls(**{k: float(v) for k, v in cfg.items()})
    surrogate.validate()
    return surrogate
