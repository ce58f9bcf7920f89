"""MNIST-1D (Greydanus & Kobak 2020/2024): a small, real, offline sequence benchmark.

Generated with ``mnist1d.data.make_dataset(get_dataset_args())`` — the standard 4000 / 1000 split of
40-step, 1-channel sequences, 10 classes. Published references: logistic 32%, MLP 68%, CNN 94%,
GRU 91% test accuracy. Generation takes a few seconds; the arrays are cached under
``<data_dir>/cache/mnist1d/`` keyed by the generator arguments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..base import DataSplits, make_splits
from ..cache import cached_arrays


def _generate(seed: int) -> dict[str, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    d = make_dataset(args)
    return {k: np.asarray(d[k]) for k in ("x", "y", "x_test", "y_test")}


def load_arrays(data_dir: str | Path, seed: int = 42) -> dict[str, np.ndarray]:
    """The MNIST-1D arrays, from the verified cache or freshly generated."""
    return cached_arrays(data_dir, "mnist1d", "mnist1d-0.0.2", {"generator_seed": seed}, lambda: _generate(seed))


def build(cfg, data_dir: str) -> DataSplits:
    a = load_arrays(data_dir, int(cfg["generator_seed"]))
    as_seq = lambda v: torch.from_numpy(v).float().unsqueeze(-1)  # [N, 40] -> [N, 40, 1]
    return make_splits(
        as_seq(a["x"]), torch.from_numpy(a["y"]), as_seq(a["x_test"]), torch.from_numpy(a["y_test"]), cfg, n_classes=10
    )
