"""State containers shared by the time loops: the reference loop (:mod:`srnn_bench.models.layers`),
the fused kernels (:mod:`srnn_bench.kernels`) and truncated BPTT (:mod:`srnn_bench.training.tbptt`).

Defined below all three so that none imports another for them (``scripts/check_imports.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch


class LayerState(NamedTuple):
    cell: Any  # the cell's own state NamedTuple
    out: torch.Tensor  # last output y_{t-1} [B, N] (spikes, or the analog output of non-spiking cells)


def detach_state(state):
    """A copy of ``state`` (tensors, or NamedTuples / lists / tuples of them, nested) cut from the autograd
    graph: the carried state between truncated-BPTT chunks (``trainer.tbptt_steps``)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # NamedTuple
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (list, tuple)):
        return type(state)(detach_state(s) for s in state)
    return state
