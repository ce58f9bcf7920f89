"""The ``fused`` backend of the cells that run on this package's scan ops (ALIF/LIF, leaky integrator):
pick the op for the layer's device, check it once, run it.

CPU: the C++ ops of :mod:`srnn_bench.kernels.scan`. CUDA: the Triton ops of
:mod:`srnn_bench.kernels.triton_scan` (when triton imports and the layer fits one program).
Anything else falls back to the reference loop with one warning per reason.

This module knows no cell class: a cell that declares ``"fused"`` in its ``supported_backends`` and runs on
these ops implements ``fused_scan(layer, x, state, record_membrane, ops)`` (the glue between its parameters
and the op, e.g. :meth:`srnn_bench.neurons.alif.ALIFCell.fused_scan`) and calls :func:`layer_forward`
from its ``fused_sequence``. Which backend a layer uses is decided once, when the layer is built
(:class:`srnn_bench.models.layers.SpikingLayer`).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch

_warned: set[str] = set()


class Ops(NamedTuple):
    """The autograd ops of one device: ALIF scan, leaky-integrator scan, input projection."""

    alif: type
    li: type
    project: object  # (nn.Linear, x [T, B, F]) -> [T, B, N]


def fallback(reason: str, stacklevel: int = 3) -> None:
    """Warn once per ``reason`` that the reference loop runs instead of a fused kernel; returns ``None``
    (= "use the reference loop" for the callers)."""
    if reason not in _warned:
        _warned.add(reason)
        warnings.warn(f"neuron.backend=fused: {reason}; using the reference loop", stacklevel=stacklevel)


def _dense_projection(linear: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return linear(x)


def select_ops(layer, x: torch.Tensor) -> Ops | str:
    """The ops for ``x``'s device, or a one-line reason why there are none."""
    if x.device.type == "cpu":
        from . import _build
        from .scan import ALIFScan, LIScan, project_input

        try:
            _build.load()
        except RuntimeError as exc:
            return str(exc)
        return Ops(ALIFScan, LIScan, project_input)
    if x.device.type == "cuda":
        from . import triton_scan

        numel = x.shape[0] * x.shape[1] * max(16, layer.size)
        reason = triton_scan.unavailable(layer.size, numel, x.dtype, getattr(layer, "w_rec", None) is not None)
        if reason:
            return reason
        ops = Ops(triton_scan.TritonALIFScan, triton_scan.TritonLIScan, _dense_projection)
        return first_use_check(layer, x, ops) or ops
    return f"no fused kernel for device '{x.device.type}' (CPU: C++, CUDA: Triton)"


# (device, dtype, cell type, surrogate type, recurrent) -> None (agreed) or the reason it did not
_checked: dict[tuple, str | None] = {}


def first_use_check(layer, x: torch.Tensor, ops: Ops, steps: int = 8, rows: int = 16) -> str | None:
    """Before a device's kernels first run a kind of layer: a copy of ``layer`` on the first ``steps``
    steps and ``rows`` rows of ``x``, forward and backward, against the reference loop on the same
    device. ``None`` when they agree (spikes identical, membranes and every gradient within 1e-3
    relative, loose on purpose: it catches a broken kernel or compiler, not rounding), else the reason.

    The Triton ops were verified only in Triton's CPU interpreter (tests/unit/test_triton_kernels.py), not
    on a GPU; this check keeps an untested device from training on wrong numbers.
    """
    key = (str(x.device), x.dtype, type(layer.cell), type(getattr(layer.cell, "spike_fn", None)), layer.w_rec is not None)
    if key not in _checked:
        import copy

        try:
            _checked[key] = _compare_with_reference(copy.deepcopy(layer), x[:steps, :rows].detach(), ops)
        except Exception as exc:  # noqa: BLE001  (any failure of the kernels means: do not use them)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            _checked[key] = f"the kernels failed their first-use check on {x.device}: {type(exc).__name__}: {first}"
    return _checked[key]


def _compare_with_reference(layer, x: torch.Tensor, ops: Ops) -> str | None:
    state = layer.init_state(x.shape[1], x.device, x.dtype)
    results, w = [], None
    for fused in (False, True):
        layer.zero_grad(set_to_none=True)
        run = run_layer(layer, x, state, True, ops) if fused else layer.reference_forward(x, state, True)
        out, mem, _ = run
        if w is None:  # a fixed random weighting of every membrane value, the same for both runs
            gen = torch.Generator(device="cpu").manual_seed(0)
            w = torch.randn(mem.shape, generator=gen, dtype=mem.dtype).to(mem.device)
        (out.sum() + (mem * w).sum()).backward()
        grads = {n: p.grad.clone() for n, p in layer.named_parameters() if p.grad is not None}
        results.append((out.detach(), mem.detach(), grads))
    (o_ref, m_ref, g_ref), (o_fus, m_fus, g_fus) = results

    def rel(a, b):
        return ((a - b).abs().max() / a.abs().max().clamp_min(1e-30)).item()

    if (not torch.equal(o_ref, o_fus)) if layer.cell.spiking else rel(o_ref, o_fus) > 1e-3:
        return f"the kernels failed their first-use check on {x.device}: spikes differ from the reference loop"
    bad = [n for n in g_ref if n not in g_fus or rel(g_ref[n], g_fus[n]) > 1e-3]
    if rel(m_ref, m_fus) > 1e-3 or bad:
        what = ", ".join(bad) if bad else "membrane"
        return f"the kernels failed their first-use check on {x.device}: {what} differ from the reference loop"
    return None


def layer_forward(layer, x: torch.Tensor, state=None, record_membrane: bool = False):
    """Same contract as ``SpikingLayer.forward``; ``None`` = not possible here (the layer runs its reference
    loop; the reason was warned once)."""
    if x.dtype not in (torch.float32, torch.float64):
        return fallback(f"no fused kernel for dtype {x.dtype} (float32/float64 only)")
    if x.shape[0] == 0:
        return None
    ops = select_ops(layer, x)
    if isinstance(ops, str):
        return fallback(ops)
    return run_layer(layer, x, state, record_membrane, ops)


def run_layer(layer, x: torch.Tensor, state, record_membrane: bool, ops: Ops):
    """Run ``layer`` over ``x`` [T, B, F] with the given device's ops, through its cell's ``fused_scan``."""
    if state is None:
        state = layer.init_state(x.shape[1], x.device, x.dtype)
    return layer.cell.fused_scan(layer, x, state, record_membrane, ops)
