"""Surrogate contract (SpikingJelly-style): the backward is the derivative of the documented primitive
(central finite difference, float64), each docstring states formula and source, and every dtype is kept."""

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


@pytest.mark.parametrize("name", NAMES)
def test_docstring_gives_formula_and_source(name):
    doc = SURROGATES[name].__doc__
    assert "f(x)" in doc or "Primitive" in doc
    assert "Primitive" in doc or "primitive" in doc.lower()
    assert any(ref in doc for ref in ("Yin", "Zenke", "Bengio", "Fang", "Shrestha", "Neftci", "Bellec"))


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
