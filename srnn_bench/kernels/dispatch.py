"""``SpikingLayer.forward`` for ``neuron.backend=fused``: pick the op for the layer's cell."""

from __future__ import annotations

import warnings

import torch

from ..models.layers import LayerState
from ..neurons.alif import ALIFCell, ALIFState
from ..neurons.integrator import IntegratorCell, LIState
from . import _build
from .scan import ALIFScan, LIScan, project_input

_warned: set[str] = set()


def _fallback(reason: str) -> None:
    if reason not in _warned:
        _warned.add(reason)
        warnings.warn(f"neuron.backend=fused: {reason}; using the reference loop", stacklevel=3)


def layer_forward(layer, x: torch.Tensor, state=None, record_membrane: bool = False):
    """Same contract as ``SpikingLayer.forward``; ``None`` = not supported here (use the reference)."""
    cell = layer.cell
    if x.device.type != "cpu":
        return _fallback(f"no fused kernel for device '{x.device.type}' (CPU only)")
    if x.dtype not in (torch.float32, torch.float64):
        return _fallback(f"no fused kernel for dtype {x.dtype} (float32/float64 only)")
    if x.shape[0] == 0:
        return None
    is_alif = isinstance(cell, ALIFCell)
    is_li = isinstance(cell, IntegratorCell) and layer.w_rec is None
    if not (is_alif or is_li):
        return _fallback(f"no fused kernel for {type(cell).__name__} (recurrent={layer.recurrent})")
    if is_alif and cell.reference_only:  # e.g. De Geeter's LIF options (reset=zero, learnable threshold)
        return _fallback(cell.reference_only)
    try:
        _build.load()
    except RuntimeError as exc:
        return _fallback(str(exc))
    if state is None:
        state = layer.init_state(x.shape[1], x.device, x.dtype)
    iff = project_input(layer.w_in, x)  # hoisted: all steps in one product
    alpha = torch.exp(-cell.dt / cell.tau_m)  # as in alif_step / li_step
    if is_li:
        u = LIScan.apply(iff, alpha, state.cell.u)
        return u, (u if record_membrane else None), LayerState(LIState(u[-1]), u[-1])
    rho = torch.exp(-cell.dt / cell.tau_adp)
    w_rec = layer.w_rec.weight if layer.w_rec is not None else None
    cs = state.cell
    out, u, u_last, b_last = ALIFScan.apply(
        iff, w_rec, alpha, rho, cs.u, cs.b, cs.s, cell.b_j0, cell.beta, cell.dt, cell.spike_fn,
        True,  # iff is our fresh projection: reused as the buffer of i_t
        record_membrane,
    )  # fmt: skip
    final = LayerState(ALIFState(u_last, b_last, out[-1]), out[-1])
    return out, u, final
