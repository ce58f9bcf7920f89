"""Bring your own data: ``dataset=npz dataset.path=FILE.npz``.

The file holds
  ``x``       [N, T, C] float, uint8 or bool; spikes when every value is 0 or 1 (``dataset.binary: null``,
              the default; ``true`` / ``false`` says so explicitly), else analog input whatever the dtype,
  ``y``       [N] int (one label per sequence) or [N, T] int (per-step labels; -100 = no label),
  ``x_test``, ``y_test`` (optional) the same for a test split; without them ``dataset.test_fraction``
  of the samples is held out as the test set.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from ..base import IGNORE_INDEX, DataError, DataSplits, make_splits, split_validation


def check_finite(path: Path, name: str, x: np.ndarray) -> None:
    """NaN / inf in an input array: one line naming the array and the first bad index."""
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise DataError(f"{path}: '{name}' holds {x[idx]} at index {list(idx)} (and {int((~np.isfinite(x)).sum()) - 1} "
                        "more non-finite values); inputs must be finite")


def _check(path: Path, x: np.ndarray, y: np.ndarray, xn: str, yn: str) -> None:
    if x.ndim != 3:
        raise DataError(f"{path}: '{xn}' must have shape [N, T, C], got {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or x.dtype in (np.uint8, np.bool_)):
        raise DataError(f"{path}: '{xn}' must be float or uint8/bool spikes, got dtype {x.dtype}")
    if 0 in x.shape:
        n, t, c = x.shape
        what = "no samples (N = 0)" if n == 0 else "no time steps (T = 0)" if t == 0 else "no channels (C = 0)"
        raise DataError(f"{path}: '{xn}' has {what}: shape [N, T, C] = {list(x.shape)}")
    check_finite(path, xn, x)
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
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: a single array (.npy), not an .npz archive; save x and y with "
                            "np.savez(FILE.npz, x=x, y=y)")
        with loaded as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        if isinstance(e, DataError):
            raise
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


def is_binary(path, arrays: dict[str, np.ndarray], binary) -> bool:
    """Whether the inputs are spikes: ``dataset.binary`` when given (checked against the values), else
    whether every value of ``x`` (and ``x_test``) is 0 or 1 -- never the dtype alone."""
    xs = [arrays[k] for k in ("x", "x_test") if k in arrays]
    spikes = all(bool(np.isin(x, (0, 1)).all()) for x in xs)
    if binary is None:
        return spikes
    if binary and not spikes:
        raise DataError(f"{path}: dataset.binary=true, but 'x' holds values other than 0 and 1")
    return bool(binary)


def build(cfg, data_dir: str) -> DataSplits:
    if not cfg["path"]:
        raise DataError("dataset.path is not set: use dataset=npz dataset.path=FILE.npz")
    a = load_npz(cfg["path"])
    binary = is_binary(cfg["path"], a, cfg["binary"])
    x, y = torch.from_numpy(a["x"].astype(np.float32)), torch.from_numpy(a["y"].astype(np.int64))
    if "x_test" in a:
        x_test, y_test = torch.from_numpy(a["x_test"].astype(np.float32)), torch.from_numpy(a["y_test"].astype(np.int64))
    else:
        fraction = float(cfg["test_fraction"])
        (x, y), test = split_validation(x, y, fraction, int(cfg["split_seed"]) + 1)
        if test is None:
            raise DataError(f"{cfg['path']}: no 'x_test'/'y_test', and dataset.test_fraction={fraction} of its "
                            f"{x.shape[0]} samples holds out none; add x_test/y_test, more samples or a larger "
                            "fraction")
        if x.shape[0] == 0:
            raise DataError(f"{cfg['path']}: dataset.test_fraction={fraction} leaves no training sample")
        x_test, y_test = test
    labels = torch.cat([y.flatten(), y_test.flatten()])
    if labels.min() < 0 and (labels[labels != IGNORE_INDEX] < 0).any():
        bad = labels[(labels < 0) & (labels != IGNORE_INDEX)][0].item()
        raise DataError(f"{cfg['path']}: label {bad}: labels must be >= 0 (or {IGNORE_INDEX} for unlabelled steps)")
    labels = labels[labels != IGNORE_INDEX]
    if labels.numel() == 0:
        raise DataError(f"{cfg['path']}: every label is {IGNORE_INDEX} (unlabelled): nothing to train on")
    n_classes = int(cfg["n_classes"] or labels.max().item() + 1)
    if labels.max() >= n_classes:
        raise DataError(f"{cfg['path']}: label {labels.max().item()} >= dataset.n_classes={n_classes}")
    return make_splits(x, y, x_test, y_test, cfg, n_classes=n_classes, per_step_labels=y.ndim == 2, binary_input=binary)
