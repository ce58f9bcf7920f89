"""Memory of a training step on the CPU, where torch has no allocator statistics.

Two measurements (scripts/bench.py reports both):

* :func:`saved_bytes` — bytes the autograd graph keeps for the backward: every tensor packed by
  ``torch.autograd.graph.saved_tensors_hooks`` during the forward, counted once per storage
  (views and tensors shared between nodes are not double-counted). Deterministic.
* :func:`peak_bytes` — peak of live bytes allocated by torch during forward + backward, from the
  allocation/free events of ``torch.profiler`` (``profile_memory=True``), relative to the start.
  Includes temporaries and gradients; excludes memory held before the step (inputs, weights).
"""

from __future__ import annotations

import gc

import torch


def _storage_key(t: torch.Tensor):
    try:
        st = t.untyped_storage()
        return st.data_ptr(), st.nbytes()
    except (RuntimeError, NotImplementedError):
        return id(t), t.numel() * t.element_size()


def saved_bytes(model, x: torch.Tensor, loss_fn=None) -> int:
    """Bytes of the unique storages the forward of ``model(x)`` saves for its backward."""
    seen: dict = {}

    def pack(t):
        key = _storage_key(t)
        seen[key] = key[1]
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
        loss = loss_fn(out) if loss_fn is not None else out.output.square().sum()
    del out, loss
    return int(sum(seen.values()))


def peak_bytes(step) -> int:
    """Peak live bytes torch allocated while ``step()`` ran (profiler memory events)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=False) as prof:
        step()
    events = [
        (e.start_ns(), e.nbytes())
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
    ]
    events.sort()
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    # the profiler's results sit in reference cycles: free them now. Without this, each call on the
    # SHD-sized step (250 steps, batch 64) kept ~2-4 GB of process memory until a later collection,
    # and a few calls in one process (scripts/bench.py with peers or --long) exhausted a 24 GB machine.
    del prof, events
    gc.collect()
    return int(peak)
