"""Datasets. ``build_data(dataset_cfg, data_dir)`` dispatches on ``dataset.name``."""

from __future__ import annotations

import importlib
import inspect

from .base import IGNORE_INDEX, DataError, DataSplits, collate_time_first

DATASETS = {
    "mnist1d": "srnn_bench.data.mnist1d",
    "npz": "srnn_bench.data.npz",
    "shd": "srnn_bench.data.hsd",
    "ssc": "srnn_bench.data.hsd",
    "nmnist": "srnn_bench.data.nmnist",
    "mnist": "srnn_bench.data.idx",
    "fmnist": "srnn_bench.data.idx",
    "smnist": "srnn_bench.data.idx",
    "psmnist": "srnn_bench.data.idx",
    "soli": "srnn_bench.data.soli",
    "gsc": "srnn_bench.data.gsc",
    "ecg": "srnn_bench.data.ecg",
    "timit": "srnn_bench.data.timit",
    "librispeech": "srnn_bench.data.librispeech",
}
"""name -> module with ``build(cfg, data_dir) -> DataSplits`` (imported lazily: heavy deps stay optional)."""


def build_data(cfg, data_dir: str, test_only: bool = False) -> DataSplits:
    """The splits of ``dataset.name``. ``test_only`` (``srnn_bench.evaluate``): a loader that supports it
    reads only the test split (``train`` empty, ``val`` None), so an evaluation needs only the test
    files; the others build every split as for training. Training never sets it."""
    name = cfg["name"]
    if name not in DATASETS:
        raise ValueError(f"unknown dataset '{name}'; valid choices: {', '.join(sorted(DATASETS))}")
    build = importlib.import_module(DATASETS[name]).build
    if test_only and "test_only" in inspect.signature(build).parameters:
        return build(cfg, data_dir, test_only=True)
    return build(cfg, data_dir)


__all__ = ["DATASETS", "IGNORE_INDEX", "DataError", "DataSplits", "build_data", "collate_time_first"]
