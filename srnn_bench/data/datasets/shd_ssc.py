"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) (Cramer et al. 2020), read with tonic.

Files (tonic's layout, ``tonic.datasets.SHD/SSC(save_to=paths.data_dir)``)::

    <data_dir>/SHD/shd_train.h5, shd_test.h5                       (20 classes)
    <data_dir>/SSC/ssc_train.h5, ssc_valid.h5, ssc_test.h5         (35 classes)

each an HDF5 file with ``spikes/times`` (ragged, seconds), ``spikes/units`` (ragged, 0..699), ``labels``,
``extra/keys`` and ``extra/speaker``. tonic only uses an ``.h5`` when the ``.h5.zip`` it was extracted
from sits next to it; when you placed the ``.h5`` by hand, the loader writes an empty ``.h5.zip`` marker
so tonic does not download it again. With ``dataset.download=true`` and a network, tonic downloads and
verifies (MD5) the archives itself.

Preprocessing (Yin et al. 2021 code, semantics.md §1): ``duration_ms / dt_ms`` = 250 bins of 4 ms;
bin i holds (i - 1) dt < t <= i dt; binary; 700 channels; spikes after (n_bins - 1) dt = 0.996 s are
dropped. tonic delivers times in whole microseconds (truncated), so a spike within 1 us above a bin
edge lands one bin earlier than with the float comparison of the authors' script. The authors' script
also writes unit u to channel 700 - u and drops unit 0 (a permutation plus one lost channel):
``dataset.authors_channels=true`` reproduces that; the default keeps channel = unit.

The binned spikes are cached as flat indices (:class:`srnn_bench.data.sparse.SparseSpikeDataset`) under
``<data_dir>/cache/<shd|ssc>/``, keyed by the preprocessing config and the source files' size and mtime.
SHD has no validation file: ``val_fraction`` of the training set is held out. SSC uses its own
``ssc_valid.h5`` as the validation set.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...utils.rules import check_value
from ..base import DataError, DataSplits
from ..cache import cached_arrays, missing_data_message
from ..sparse import SparseSpikeDataset, bin_spikes, source_signature, train_val_test

log = logging.getLogger(__name__)

VERSION = "hsd-bins-v2"
N_CHANNELS = 700
SOURCE = "https://zenkelab.org/datasets/ (shd_*.h5.zip / ssc_*.h5.zip; see https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/)"


@dataclass(frozen=True)
class Spec:
    tonic_class: str
    prefix: str
    splits: tuple[str, ...]
    n_classes: int

    def folder(self, data_dir) -> Path:
        return Path(data_dir) / self.tonic_class

    def path(self, data_dir, split: str) -> Path:
        return self.folder(data_dir) / f"{self.prefix}_{split}.h5"

    def layout(self) -> str:
        return ", ".join(f"{self.prefix}_{s}.h5" for s in self.splits) + " (unzipped HDF5 files)"


SPECS = {
    "shd": Spec("SHD", "shd", ("train", "test"), 20),
    "ssc": Spec("SSC", "ssc", ("train", "valid", "test"), 35),
}
REQUIRED_KEYS = ("spikes/times", "spikes/units", "labels", "extra/keys", "extra/speaker")


def check_h5(path: Path) -> int:
    """Open ``path`` and check it has the SHD/SSC structure; return the number of samples."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in REQUIRED_KEYS if k not in f]
            if missing:
                raise DataError(f"{path}: not an SHD/SSC file (missing {', '.join(missing)}); delete it and download it again from {SOURCE}")
            n = len(f["labels"])
            if len(f["spikes/times"]) != n or len(f["spikes/units"]) != n:
                raise DataError(f"{path}: spikes/times, spikes/units and labels differ in length; the file is corrupt — download it again from {SOURCE}")
            return n
    except OSError as e:
        raise DataError(f"{path}: not a readable HDF5 file (truncated or corrupt: {e}); delete it and download it again from {SOURCE}") from None


def tonic_dataset(data_dir, name: str, split: str, download: bool = True):
    """tonic's own SHD/SSC dataset object for ``split`` (downloading it when allowed and possible)."""
    spec = SPECS[name]
    path = spec.path(data_dir, split)
    if path.is_file():
        check_h5(path)
        marker = path.with_name(path.name + ".zip")
        if not marker.exists():
            marker.touch()  # tonic's _check_exists wants the archive next to the extracted file
    elif not download:
        raise DataError(missing_data_message(name.upper(), path, spec.layout() + " in " + str(spec.folder(data_dir)), SOURCE))
    import tonic

    cls = getattr(tonic.datasets, spec.tonic_class)
    kwargs = {"train": split == "train"} if name == "shd" else {"split": split}
    try:
        ds = cls(save_to=str(data_dir), **kwargs)
    except Exception as e:  # noqa: BLE001 — network, archive or HDF5 errors all become one message
        msg = missing_data_message(name.upper(), path, spec.layout() + " in " + str(spec.folder(data_dir)), SOURCE)
        raise DataError(f"{msg} (tonic could not provide it: {type(e).__name__}: {e})") from None
    if not path.is_file():
        raise DataError(missing_data_message(name.upper(), path, spec.layout(), SOURCE))
    return ds


def _bin_split(data_dir, name: str, split: str, dt_us: int, n_bins: int, authors_channels: bool, download: bool) -> dict:
    spec = SPECS[name]
    ds = tonic_dataset(data_dir, name, split, download)
    path = spec.path(data_dir, split)

    def build() -> dict[str, np.ndarray]:
        chunks, counts, labels = [], [], []
        try:
            for i in range(len(ds)):
                events, target = ds[i]
                units = events["x"]
                if authors_channels:  # Yin et al. generate_dataset.py: vector[700 - u] = 1 for u > 0
                    keep = units > 0
                    events, units = events[keep], N_CHANNELS - units[keep]
                flat = bin_spikes(events["t"], units, dt_us, n_bins, N_CHANNELS)
                chunks.append(flat)
                counts.append(flat.size)
                labels.append(int(target))
        except (OSError, KeyError, ValueError) as e:
            raise DataError(f"{path}: could not read sample {len(labels)} ({e}); the file is truncated or corrupt — download it again from {SOURCE}") from None
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        flat = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
        del chunks
        return {"flat": flat, "offsets": offsets, "labels": np.asarray(labels, dtype=np.int64)}

    preprocess = {
        "split": split,
        "dt_us": dt_us,
        "n_bins": n_bins,
        "n_channels": N_CHANNELS,
        "authors_channels": authors_channels,
        "source": source_signature(path),
    }
    return cached_arrays(data_dir, name, VERSION, preprocess, build)


def bins_of(cfg) -> tuple[int, int]:
    """(dt in microseconds, number of bins) from ``dataset.dt_ms`` and ``dataset.duration_ms``."""
    check_value("dataset.dt_ms", cfg["dt_ms"])
    dt_ms, duration_ms = float(cfg["dt_ms"]), float(cfg["duration_ms"])
    if not duration_ms >= dt_ms:
        raise ValueError(f"dataset.duration_ms must be >= dataset.dt_ms ({dt_ms}), got {duration_ms}")
    dt_us = int(round(dt_ms * 1000))
    if not math.isclose(dt_us, dt_ms * 1000, abs_tol=1e-6):
        raise ValueError(f"dataset.dt_ms must be a whole number of microseconds, got {dt_ms}")
    n_bins = int(round(duration_ms / dt_ms))
    if not math.isclose(n_bins * dt_ms, duration_ms, rel_tol=1e-9):
        raise ValueError(f"dataset.duration_ms ({duration_ms}) must be a multiple of dataset.dt_ms ({dt_ms})")
    return dt_us, n_bins


def build(cfg, data_dir: str) -> DataSplits:
    name = cfg["name"]
    if name not in SPECS:
        raise ValueError(f"srnn_bench.data.datasets.shd_ssc serves {', '.join(SPECS)}, not '{name}'")
    spec = SPECS[name]
    dt_us, n_bins = bins_of(cfg)
    authors = bool(cfg["authors_channels"])
    download = bool(cfg["download"])

    def load(split: str) -> SparseSpikeDataset:
        a = _bin_split(data_dir, name, split, dt_us, n_bins, authors, download)
        bad = (a["labels"] < 0) | (a["labels"] >= spec.n_classes)
        if bad.any():
            raise DataError(f"{spec.path(data_dir, split)}: label {int(a['labels'][bad][0])} outside 0..{spec.n_classes - 1}")
        return SparseSpikeDataset(a["flat"], a["offsets"], a["labels"], n_bins, N_CHANNELS)

    train, val, test = train_val_test(load("train"), load("test"), cfg, load("valid") if "valid" in spec.splits else None)
    return DataSplits(
        train=train,
        test=test,
        val=val,
        n_inputs=N_CHANNELS,
        n_classes=spec.n_classes,
        n_steps=n_bins,
        binary_input=True,
    )
