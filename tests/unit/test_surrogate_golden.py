"""Surrogate golden values of semantics.md §1 (gamma included) and the Heaviside forward."""

import pytest
import torch

from srnn_bench.surrogates import SURROGATES, Gaussian, MultiGaussian, build_surrogate


@pytest.mark.parametrize(
    "x, expected", [(0.0, 0.439112), (0.5, 0.258858), (-0.5, 0.258858), (1.0, 0.043452), (-1.0, 0.043452), (2.0, -0.015696)]
)
def test_multi_gaussian_golden(x, expected):
    assert MultiGaussian().derivative(torch.tensor(x, dtype=torch.float64)).item() == pytest.approx(expected, abs=1e-6)


def test_multi_gaussian_zero_crossing():
    mg = MultiGaussian()
    lo, hi = torch.tensor(1.2721, dtype=torch.float64), torch.tensor(1.2722, dtype=torch.float64)
    assert mg.derivative(lo) > 0 > mg.derivative(hi)
    x = torch.linspace(1.25, 1.30, 50001, dtype=torch.float64)
    crossing = x[torch.nonzero(mg.derivative(x) < 0)[0]].item()
    assert crossing == pytest.approx(1.27216, abs=1e-5)


@pytest.mark.parametrize("x, expected", [(0.0, 0.398942), (0.5, 0.241971), (-0.5, 0.241971)])
def test_gaussian_golden(x, expected):
    assert Gaussian().derivative(torch.tensor(x, dtype=torch.float64)).item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_forward_is_heaviside_and_backward_is_formula(name):
    sg = SURROGATES[name]()
    x = torch.linspace(-3, 3, 601, dtype=torch.float64, requires_grad=True)
    y = sg(x)
    assert torch.equal(y, (x > 0).double())
    assert y.dtype == torch.float64
    y.sum().backward()
    torch.testing.assert_close(x.grad, sg.derivative(x.detach()), rtol=0, atol=0)


def test_build_surrogate_rejects_bad_values():
    with pytest.raises(ValueError, match="surrogate.sigma must be > 0"):
        build_surrogate({"name": "multi_gaussian", "sigma": 0.0})
    with pytest.raises(ValueError, match="surrogate.h must be >= 0"):
        build_surrogate({"name": "multi_gaussian", "h": -0.1})
    with pytest.raises(ValueError, match="valid choices"):
        build_surrogate({"name": "nope"})
    with pytest.raises(ValueError, match="no key"):
        build_surrogate({"name": "gaussian", "h": 1.0})
