"""Memory-lean building blocks shared by the file-backed datasets (SHD, SSC, N-MNIST, IDX, SoLi).

- :func:`bin_spikes` — event times to binary time bins with the authors' boundaries.
- :class:`SparseSpikeDataset` — binary rasters kept as flat "on" indices, made dense one item at a time.
- :class:`ArrayDataset` — compact arrays (e.g. uint8 images) turned into float sequences per item.
- :func:`split_indices` — validation hold-out and ``limit_*`` on indices, with ``base``'s exact semantics.
- :func:`source_signature` — size + mtime of the raw files, part of every cache key (a replaced file is
  never served from a stale cache).

Keeping spikes as indices is what makes SHD fit: 8156 x 250 x 700 dense float32 would be 5.7 GB, the
flat int32 indices of its binarised spikes ~200 MB (scripts/measure_shd_memory.py), and a batch is
densified on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from .base import limit, split_validation


def bin_spikes(t_us: np.ndarray, channel: np.ndarray, dt_us: int, n_bins: int, n_channels: int) -> np.ndarray:
    """Sorted unique flat indices ``bin * n_channels + channel`` of a binary raster [n_bins, n_channels].

    Bin ``i`` (0-based) holds the spikes with ``(i - 1) * dt < t <= i * dt`` (Yin et al. 2021 SHD code,
    semantics.md §1), i.e. ``i = ceil(t / dt)``: bin 0 holds only t = 0 and, with 250 bins of 4 ms, the
    last bin ends at 0.996 s — later spikes are dropped. Several spikes in one bin count once (binary).
    Times are integers (microseconds, as tonic delivers them), so the boundaries are exact.
    """
    t = np.asarray(t_us, dtype=np.int64)
    c = np.asarray(channel, dtype=np.int64)
    if dt_us <= 0:
        raise ValueError(f"bin width must be > 0 us, got {dt_us}")
    b = -(-t // int(dt_us))  # ceil(t / dt) for integers
    keep = (b >= 0) & (b < n_bins) & (c >= 0) & (c < n_channels)
    return np.unique(b[keep] * n_channels + c[keep]).astype(np.int32)


class SparseSpikeDataset(Dataset):
    """Binary rasters [T, C] stored as flat indices ``t * C + c`` (``flat[offsets[i]:offsets[i+1]]`` is item i).

    Items are ``(x [T, C] uint8, y)``; :func:`~srnn_bench.data.collate_time_first` makes the batch float.
    """

    def __init__(self, flat: np.ndarray, offsets: np.ndarray, labels: np.ndarray, n_steps: int, n_channels: int) -> None:
        if offsets.ndim != 1 or offsets.shape[0] != labels.shape[0] + 1:
            raise ValueError(f"offsets must be [N + 1] = [{labels.shape[0] + 1}], got {tuple(offsets.shape)}")
        if int(n_steps) * int(n_channels) >= 2**31:
            raise ValueError(f"raster {n_steps} x {n_channels} too large for int32 indices")
        self.flat = torch.from_numpy(np.ascontiguousarray(flat).astype(np.int32, copy=False))  # no copy when int32
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        self.n_steps, self.n_channels = int(n_steps), int(n_channels)

    def __len__(self) -> int:
        return self.labels.shape[0]

    def __getitem__(self, i: int):
        x = torch.zeros(self.n_steps * self.n_channels, dtype=torch.uint8)
        x[self.flat[self.offsets[i] : self.offsets[i + 1]]] = 1
        return x.view(self.n_steps, self.n_channels), self.labels[i]

    @property
    def nbytes(self) -> int:
        return self.flat.numel() * self.flat.element_size() + self.offsets.nbytes + self.labels.numel() * 8


class ArrayDataset(Dataset):
    """Compact per-sample arrays ``x[i]`` turned into a float sequence [T, C] by ``transform`` per item.

    ``y`` is [N] (sequence labels) or [N, T] (per-step labels).
    """

    def __init__(self, x, y, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.x = torch.as_tensor(x)
        self.y = torch.as_tensor(np.asarray(y, dtype=np.int64))
        if self.y.shape[0] != self.x.shape[0]:
            raise ValueError(f"{self.x.shape[0]} samples but {self.y.shape[0]} labels")
        self.transform = transform

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int):
        return self.transform(self.x[i]), self.y[i]


def split_indices(n: int, cfg) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(train, val) indices of a training set of ``n`` items: ``dataset.val_fraction`` held out with the
    fixed permutation of :func:`~srnn_bench.data.base.split_validation`, then ``limit_train`` / ``limit_test``."""
    idx = torch.arange(n)
    (train, _), val = split_validation(idx, idx, float(cfg["val_fraction"]), int(cfg["split_seed"]))
    train = limit(train, train, cfg["limit_train"])[0]
    if val is not None:
        val = limit(val[0], val[0], cfg["limit_test"])[0]
    return train, val


def train_val_test(train_full: Dataset, test: Dataset, cfg, val: Dataset | None = None) -> tuple[Dataset, Dataset | None, Dataset]:
    """The three splits with the dataset limits applied: a dataset's own validation set ``val`` when it
    has one (SSC's valid file, a split file's list), else ``dataset.val_fraction`` held out of train."""
    if val is not None:
        train_idx, _ = split_indices(len(train_full), {**dict(cfg), "val_fraction": 0.0})
        val = limited(val, cfg["limit_test"])
    else:
        train_idx, val_idx = split_indices(len(train_full), cfg)
        val = subset(train_full, val_idx) if val_idx is not None else None
    return subset(train_full, train_idx), val, limited(test, cfg["limit_test"])


def subset(ds: Dataset, indices: torch.Tensor | Sequence[int] | None) -> Dataset:
    return ds if indices is None else Subset(ds, [int(i) for i in indices])


def limited(ds: Dataset, n: int | None) -> Dataset:
    """The first ``n`` items of ``ds`` (``dataset.limit_test``); ``None`` keeps all."""
    if n is None:
        return ds
    if int(n) <= 0:
        raise ValueError(f"dataset limits must be positive, got {n}")
    return Subset(ds, list(range(min(int(n), len(ds)))))


def source_signature(*paths: str | Path) -> dict[str, list[int]]:
    """{file name: [size, mtime_ns]} of the raw inputs — included in cache keys."""
    out = {}
    for p in paths:
        st = Path(p).stat()
        out[Path(p).name] = [int(st.st_size), int(st.st_mtime_ns)]
    return out
