"""Bring your own data: ``dataset=npz dataset.path=FILE.npz``.

The file holds
  ``x``       [N, T, C] float (analog input) or uint8/bool (spikes),
  ``y``       [N] int (one label per sequence) or [N, T] int (per-step labels; -100 = no label),
  ``x_test``, ``y_test`` (optional) the same for a test split; without them ``dataset.test_fraction``
  of the samples is held out as the test set.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from .base import IGNORE_INDEX, DataError, DataSplits, make_splits, split_validation


def _check(path: Path, x: np.ndarray, y: np.ndarray, xn: str, yn: str) -> None:
    if x.ndim != 3:
        raise DataError(f"{path}: '{xn}' must have shape [N, T, C], got {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or x.dtype in (np.uint8, np.bool_)):
        raise DataError(f"{path}: '{xn}' must be float or uint8/bool spikes, got dtype {x.dtype}")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{path}: '{yn}' must hold integer class labels, got dtype {y.dtype}")
    if y.ndim == 1 and y.shape[0] == x.shape[0]:
        return
    if y.ndim == 2 and y.shape == x.shape[:2]:
        return
    raise DataError(f"{path}: '{yn}' must have shape [N] = [{x.shape[0]}] or [N, T] = {list(x.shape[:2])}, got {list(y.shape)}")


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: file not found (set dataset.path=FILE.npz with arrays x [N,T,C] and y [N] or [N,T])")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    for key in ("x", "y"):
        if key not in arrays:
            raise DataError(f"{path}: missing array '{key}' (found: {', '.join(sorted(arrays)) or 'none'})")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataError(f"{path}: give both 'x_test' and 'y_test', or neither")
    _check(path, arrays["x"], arrays["y"], "x", "y")
    if "x_test" in arrays:
        _check(path, arrays["x_test"], arrays["y_test"], "x_test", "y_test")
        if arrays["x_test"].shape[1:] != arrays["x"].shape[1:]:
            raise DataError(f"{path}: 'x_test' {arrays['x_test'].shape[1:]} and 'x' {arrays['x'].shape[1:]} differ in [T, C]")
    return arrays


def build(cfg, data_dir: str) -> DataSplits:
    if not cfg.get("path"):
        raise DataError("dataset.path is not set: use dataset=npz dataset.path=FILE.npz")
    a = load_npz(cfg["path"])
    binary = a["x"].dtype in (np.uint8, np.bool_)
    x, y = torch.from_numpy(a["x"].astype(np.float32)), torch.from_numpy(a["y"].astype(np.int64))
    if "x_test" in a:
        x_test, y_test = torch.from_numpy(a["x_test"].astype(np.float32)), torch.from_numpy(a["y_test"].astype(np.int64))
    else:
        (x, y), test = split_validation(x, y, float(cfg.get("test_fraction", 0.2)), int(cfg.get("split_seed", 0)) + 1)
        if test is None:
            raise DataError(f"{cfg['path']}: no 'x_test'/'y_test' and dataset.test_fraction is 0")
        x_test, y_test = test
    labels = torch.cat([y.flatten(), y_test.flatten()])
    labels = labels[labels != IGNORE_INDEX]
    if labels.numel() == 0 or labels.min() < 0:
        raise DataError(f"{cfg['path']}: labels must be >= 0 (or {IGNORE_INDEX} for unlabelled steps)")
    n_classes = int(cfg.get("n_classes") or labels.max().item() + 1)
    if labels.max() >= n_classes:
        raise DataError(f"{cfg['path']}: label {labels.max().item()} >= dataset.n_classes={n_classes}")
    return make_splits(x, y, x_test, y_test, cfg, n_classes=n_classes, per_step_labels=y.ndim == 2, binary_input=binary)
