"""Per-sample random streams for evaluation (issue #14, item 6).

Outside :func:`per_sample_generators` the draws below are exactly ``torch.rand`` / ``torch.randn`` /
``torch.bernoulli`` on the global RNG (training is unchanged). Inside it, batch row ``b`` is drawn
from its own ``torch.Generator`` seeded from (run seed, split, sample index) -- see
:func:`sample_seed` -- so what a sample sees (ALIF initial membranes ``neuron.u0: uniform``, SRC
noise, rate-coded spikes) depends on neither ``trainer.eval_batch_size``, nor the batch the sample
falls in, nor how often or in which order splits were evaluated, nor the global RNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import torch

class _Streams:
    """One generator per sample and device (made on first use: CPU draws stay on the CPU, CUDA ones on the GPU)."""

    def __init__(self, seeds: Sequence[int]) -> None:
        self.seeds = [int(s) for s in seeds]
        self.by_device: dict[str, list[torch.Generator]] = {}

    def __len__(self) -> int:
        return len(self.seeds)

    def on(self, device) -> list[torch.Generator]:
        dev = torch.device(device if device is not None else "cpu")
        key = str(dev)
        if key not in self.by_device:
            self.by_device[key] = [torch.Generator(device=dev).manual_seed(s) for s in self.seeds]
        return self.by_device[key]


_GENERATORS: ContextVar[_Streams | None] = ContextVar("srnn_bench_sample_generators", default=None)
SPLITS = {"val": 1, "test": 2}


def sample_seed(seed: int, split: str, index: int) -> int:
    """The seed of sample ``index`` of ``split`` in a run with ``trainer.seed = seed``."""
    return (int(seed) * 2**40 + SPLITS.get(split, 3) * 2**36 + int(index)) % 2**63


@contextmanager
def per_sample_generators(seeds: Sequence[int]):
    """Within the block, the batch row ``b`` of every draw below comes from a generator seeded ``seeds[b]``."""
    token = _GENERATORS.set(_Streams(seeds))
    try:
        yield
    finally:
        _GENERATORS.reset(token)


def _per_row(draw, shape: Sequence[int], batch_dim: int, device, dtype) -> torch.Tensor | None:
    streams = _GENERATORS.get()
    if streams is None:
        return None
    shape = list(shape)
    if shape[batch_dim] != len(streams):
        raise RuntimeError(f"per-sample draw of batch {shape[batch_dim]} inside a block of {len(streams)} samples")
    row = shape[:batch_dim] + shape[batch_dim + 1:]
    dtype = dtype or torch.get_default_dtype()
    rows = [draw(row, generator=g, dtype=dtype, device=g.device) for g in streams.on(device)]
    return torch.stack(rows, dim=batch_dim)


def rand(shape: Sequence[int], batch_dim: int = 0, device=None, dtype=None) -> torch.Tensor:
    """``torch.rand(shape)`` (U[0, 1)); per sample inside :func:`per_sample_generators`."""
    out = _per_row(torch.rand, shape, batch_dim, device, dtype)
    return torch.rand(tuple(shape), device=device, dtype=dtype) if out is None else out


def randn_like(x: torch.Tensor, batch_dim: int = 0) -> torch.Tensor:
    """``torch.randn_like(x)``; per sample inside :func:`per_sample_generators`."""
    out = _per_row(torch.randn, x.shape, batch_dim, x.device, x.dtype)
    return torch.randn_like(x) if out is None else out


def bernoulli(p: torch.Tensor, batch_dim: int = 0) -> torch.Tensor:
    """``torch.bernoulli(p)``; per sample (``u < p``, u uniform) inside :func:`per_sample_generators`."""
    u = _per_row(torch.rand, p.shape, batch_dim, p.device, p.dtype)
    return torch.bernoulli(p) if u is None else (u < p).to(p.dtype)
