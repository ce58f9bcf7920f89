"""The one data path every dataset goes through.

A dataset builder returns :class:`DataSplits`: ``torch.utils.data.Dataset`` objects whose items are
``(x [T, C], y)`` with ``y`` a class index (sequence label) or a [T] vector of per-step labels
(``IGNORE_INDEX`` marks unlabelled steps). :func:`collate_time_first` batches them time-first:
``x`` [T, B, C], ``y`` [B] or [T, B].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from ..utils.rules import check_value

IGNORE_INDEX = -100
"""Label of time steps without a target (masked out of losses and accuracies)."""


class DataError(ValueError):
    """A dataset file is missing, corrupt or of the wrong shape; the message names the file and the fix."""


DATASET_GROUP = "dataset"
"""The config group of the dataset options: ``configs/dataset/<name>.yaml`` holds every default of ``<name>``."""


def yaml_defaults(name: str) -> dict:
    """The defaults of dataset ``name``: ``configs/dataset/<name>.yaml`` (:func:`srnn_bench.resources.group_defaults`)."""
    from ..resources import group_defaults

    return group_defaults(DATASET_GROUP, name)


def with_defaults(cfg) -> dict:
    """``cfg`` (a composed ``dataset`` node, a saved run's, or a dict with at least ``name``) merged over
    :func:`yaml_defaults` of its ``name``, interpolations resolved: what every reader's ``build`` gets from
    :func:`srnn_bench.data.build_data`, so readers index ``cfg["key"]`` and never repeat a default."""
    from ..resources import with_defaults as merged

    return merged(DATASET_GROUP, cfg)


class TensorSequenceDataset(Dataset):
    """In-memory sequences ``x`` [N, T, C] with labels ``y`` [N] or [N, T]."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if x.ndim != 3:
            raise ValueError(f"x must be [N, T, C], got shape {tuple(x.shape)}")
        if y.shape[0] != x.shape[0] or y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != x.shape[1]):
            raise ValueError(f"y must be [N] or [N, T] to match x {tuple(x.shape)}, got {tuple(y.shape)}")
        self.x, self.y = x, y.long()

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]


def collate_time_first(batch, dtype: torch.dtype = torch.float32):
    """[(x [T, C], y)] -> (x [T, B, C] of ``dtype`` (``trainer.dtype``), y [B] or [T, B])."""
    xs, ys = zip(*batch)
    x = torch.stack(xs, dim=1).to(dtype)
    y = torch.stack(ys)
    if y.ndim == 2:
        y = y.t()
    return x, y.contiguous()


@dataclass
class DataSplits:
    """Train / validation / test splits plus what the model needs to know about them."""

    train: Dataset
    test: Dataset
    val: Dataset | None
    n_inputs: int
    n_classes: int
    n_steps: int
    per_step_labels: bool = False
    binary_input: bool = False
    """True when inputs are spikes (0/1): their synapses cost ACs, not MACs."""
    unlabelled_class: int | None = None
    """Per-step labels: the class the loss trains ``IGNORE_INDEX`` steps as (None: masked out of the loss;
    0: the authors' ECG counting, where the argmax of an all-zero one-hot row is class 0)."""


def split_validation(x: torch.Tensor, y: torch.Tensor, fraction: float, seed: int):
    """Hold out ``fraction`` of (x, y) as a validation set, with a fixed permutation."""
    check_value("dataset.val_fraction", fraction)
    n_val = int(round(fraction * x.shape[0]))
    if n_val == 0:
        return (x, y), None
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    val, train = perm[:n_val], perm[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def limit(x: torch.Tensor, y: torch.Tensor, n: int | None):
    """Keep the first ``n`` samples (``dataset.limit_train`` / ``limit_test``); ``None`` keeps all."""
    if n is None:
        return x, y
    if int(n) <= 0:
        raise ValueError(f"dataset limits must be positive, got {n}")
    return x[: int(n)], y[: int(n)]


def make_splits(
    x, y, x_test, y_test, cfg, *, n_classes: int, per_step_labels: bool = False, binary_input: bool = False
) -> DataSplits:
    """Common tail of every in-memory builder: validation hold-out, limits, datasets (``cfg``: :func:`with_defaults`)."""
    (x_tr, y_tr), val = split_validation(x, y, float(cfg["val_fraction"]), int(cfg["split_seed"]))
    x_tr, y_tr = limit(x_tr, y_tr, cfg["limit_train"])
    x_test, y_test = limit(x_test, y_test, cfg["limit_test"])
    val_ds = None
    if val is not None:
        val_ds = TensorSequenceDataset(*limit(*val, cfg["limit_test"]))
    return DataSplits(
        train=TensorSequenceDataset(x_tr, y_tr),
        test=TensorSequenceDataset(x_test, y_test),
        val=val_ds,
        n_inputs=x.shape[2],
        n_classes=n_classes,
        n_steps=x.shape[1],
        per_step_labels=per_step_labels,
        binary_input=binary_input,
    )
