"""Datasets. ``build_data(dataset_cfg, data_dir)`` dispatches on ``dataset.name``.

The readers, one per ``dataset=`` config, are in :mod:`srnn_bench.data.datasets` (its docstring gives the
naming rule); the modules here are the helpers they share (base, cache, sparse, audio) and the tools
around them (presence, fixtures).
"""

from __future__ import annotations

import importlib
import inspect

from ..utils.checks import check_choice
from .base import IGNORE_INDEX, DataError, DataSplits, collate_time_first, with_defaults
from .datasets import DATASETS


def build_data(cfg, data_dir: str, test_only: bool = False) -> DataSplits:
    """The splits of ``dataset.name``. ``test_only`` (``srnn_bench.evaluate``): a loader that supports it
    reads only the test split (``train`` empty, ``val`` None), so an evaluation needs only the test
    files; the others build every split as for training. Training never sets it. The reader gets ``cfg``
    over its YAML defaults (:func:`~srnn_bench.data.base.with_defaults`): a key ``cfg`` lacks has the
    value of ``configs/dataset/<name>.yaml``."""
    name = cfg["name"]
    check_choice("dataset", name, sorted(DATASETS))
    cfg = with_defaults(cfg)
    build = importlib.import_module(DATASETS[name]).build
    if test_only and "test_only" in inspect.signature(build).parameters:
        return build(cfg, data_dir, test_only=True)
    return build(cfg, data_dir)


__all__ = ["DATASETS", "IGNORE_INDEX", "DataError", "DataSplits", "build_data", "collate_time_first"]
