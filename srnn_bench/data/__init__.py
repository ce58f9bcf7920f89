"""Datasets. ``build_data(dataset_cfg, data_dir)`` dispatches on ``dataset.name``."""

from __future__ import annotations

import importlib

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


def build_data(cfg, data_dir: str) -> DataSplits:
    name = cfg["name"]
    if name not in DATASETS:
        raise ValueError(f"unknown dataset '{name}'; valid choices: {', '.join(sorted(DATASETS))}")
    return importlib.import_module(DATASETS[name]).build(cfg, data_dir)


__all__ = ["DATASETS", "IGNORE_INDEX", "DataError", "DataSplits", "build_data", "collate_time_first"]
