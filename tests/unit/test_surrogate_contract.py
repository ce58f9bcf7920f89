"""Surrogate contract (SpikingJelly-style): the backward is the derivative of the documented primitive
(central finite difference, float64), it equals the cited formula written out here independently (with the
sources' default hyper-parameters, and with others), and every dtype is kept."""

import math

import pytest
import torch

from srnn_bench.surrogates import SURROGATES

NAMES = sorted(SURROGATES)
# a grid that avoids the kinks of linear (|x| = 1) and straight_through (|x| = 1) by > 1e-3
GRID = torch.linspace(-3.0, 3.0, 601, dtype=torch.float64) + 0.00137


@pytest.mark.parametrize("name", NAMES)
def test_backward_is_derivative_of_primitive(name):
    sg = SURROGATES[name]()
    x = GRID.clone().requires_grad_(True)
    sg(x).sum().backward()
    eps = 1e-6
    fd = (sg.primitive(GRID + eps) - sg.primitive(GRID - eps)) / (2 * eps)
    torch.testing.assert_close(x.grad, fd, rtol=1e-6, atol=1e-8)
    assert x.grad.abs().max() > 0  # a real check, not a zero gradient


def _normal(x, mu, sigma):
    return math.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)


# dS/dx of each surrogate as its source writes it (plain floats, not srnn_bench code), with the source's
# default hyper-parameters; semantics.md §1 for Yin et al.'s four (gamma = 0.5 in the authors' code)
FORMULAS = {
    "multi_gaussian": (  # Yin et al. 2021 eq. 1
        lambda x, gamma=0.5, sigma=0.5, h=0.15, s=6.0: gamma * ((1 + h) * _normal(x, 0, sigma)
                                                               - h * _normal(x, sigma, s * sigma)
                                                               - h * _normal(x, -sigma, s * sigma)),
        {"gamma": 0.8, "sigma": 0.3, "h": 0.4, "s": 3.0},
    ),
    "gaussian": (lambda x, gamma=0.5, sigma=0.5: gamma * _normal(x, 0, sigma), {"gamma": 1.0, "sigma": 0.2}),
    "linear": (lambda x, gamma=0.5, alpha=1.0: gamma * max(0.0, 1 - alpha * abs(x)), {"gamma": 1.0, "alpha": 0.5}),
    "slayer": (lambda x, gamma=0.5, alpha=5.0: gamma * math.exp(-alpha * abs(x)), {"gamma": 1.0, "alpha": 2.0}),
    "atan": (  # Fang et al. 2021: g(x) = arctan(pi/2 alpha x) / pi + 1/2
        lambda x, gamma=1.0, alpha=2.0: gamma * (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2),
        {"gamma": 0.5, "alpha": 4.0},
    ),
    "fast_sigmoid": (  # Zenke & Ganguli 2018 (SuperSpike)
        lambda x, gamma=1.0, slope=25.0: gamma / (1 + slope * abs(x)) ** 2, {"gamma": 2.0, "slope": 10.0},
    ),
    "straight_through": (  # Bengio et al. 2013: the boxcar of width w
        lambda x, gamma=1.0, width=2.0: gamma * (1.0 if abs(x) <= width / 2 else 0.0), {"gamma": 0.5, "width": 1.0},
    ),
}


def test_every_surrogate_has_a_written_formula():
    assert sorted(FORMULAS) == NAMES


@pytest.mark.parametrize("params", ["defaults", "other"])
@pytest.mark.parametrize("name", NAMES)
def test_backward_is_the_cited_formula(name, params):
    formula, other = FORMULAS[name]
    kwargs = {} if params == "defaults" else other
    sg = SURROGATES[name](**kwargs)
    # 0.00137 off the grid: no sample on a kink (|x| = 1, 1/alpha, width/2)
    x = (torch.linspace(-3.0, 3.0, 601, dtype=torch.float64) + 0.00137).requires_grad_(True)
    y = sg(x)
    assert torch.equal(y.detach(), (x.detach() > 0).double())  # Heaviside forward, H(0) = 0
    y.sum().backward()
    want = torch.tensor([formula(v, **kwargs) for v in x.detach().tolist()], dtype=torch.float64)
    torch.testing.assert_close(x.grad, want, rtol=1e-12, atol=1e-14)
    assert want.abs().max() > 0.1


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
def test_dtype_preserved_forward_and_backward(name, dtype):
    sg = SURROGATES[name]()
    x64 = torch.linspace(-2.0, 2.0, 81, dtype=torch.float64) + 0.0123
    x = x64.to(dtype).requires_grad_(True)
    y = sg(x)
    assert y.dtype == dtype
    assert torch.equal(y, (x.detach() > 0).to(dtype))
    (y * 1.0).sum().backward()
    assert x.grad.dtype == dtype
    expected = sg.derivative(x.detach().double())
    tol = 2e-2 if dtype == torch.bfloat16 else 1e-6  # bf16 keeps ~3 significant digits
    torch.testing.assert_close(x.grad.double(), expected, rtol=tol, atol=tol)
