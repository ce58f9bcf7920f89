"""N-MNIST (Orchard et al. 2015) event recordings, read and framed with tonic (SRC paper, De Geeter et al.).

Files: the unzipped archives in tonic's layout (``tonic.datasets.NMNIST(save_to=paths.data_dir)``)::

    <data_dir>/NMNIST/Train/<digit>/<id>.bin      (60000 files)
    <data_dir>/NMNIST/Test/<digit>/<id>.bin       (10000 files)

each a stream of 5-byte events (x, y, polarity, 23-bit microsecond timestamp). When the folders are
absent and ``dataset.download`` is true, tonic downloads and MD5-checks the archives (needs a network).

Item: the recording's events are decoded with ``tonic.io.read_mnist_file`` and accumulated by
``tonic.transforms.ToFrame(sensor_size=(34, 34, 2), n_time_bins=n_steps)`` into frames
(T, 2, 34, 34) — T = 200 in the SRC paper — flattened to [T, 2312] (polarity-major, then y, then x).
``frames: binary`` (default) gives spikes (event count clipped to 1, the paper's "tensors of spikes");
``frames: count`` keeps tonic's event counts. Frames are made per item (N-MNIST's .bin files are
already the compact form; 60000 x 200 x 2312 dense would be 28 GB even as uint8), so ``n_steps``
needs no cache. File sizes are checked up front (a multiple of 5 bytes, non-empty): a truncated file
stops with a message naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..base import DataError, DataSplits
from ..cache import missing_data_message
from ..sparse import train_val_test

SENSOR = (34, 34, 2)
N_FEATURES = 2 * 34 * 34
FOLDERS = {"train": "Train", "test": "Test"}
SOURCE = "https://www.garrickorchard.com/datasets/n-mnist (Train.zip / Test.zip; mirror: Mendeley Data 468j46mzdv)"


def index_files(root: Path) -> tuple[list[str], list[int]]:
    """Sorted .bin files under ``root/<digit>/`` with their digit labels (tonic's walk order)."""
    files, labels = [], []
    for path, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".bin"):
                digit = Path(path).name
                if not (len(digit) == 1 and digit.isdigit()):
                    raise DataError(f"{Path(path) / name}: N-MNIST files must sit in a folder named by their digit (0-9)")
                files.append(os.path.join(path, name))
                labels.append(int(digit))
    return files, labels


def check_files(files: list[str]) -> None:
    for f in files:
        size = os.path.getsize(f)
        if size == 0 or size % 5:
            raise DataError(f"{f}: {size} bytes is not a whole number of 5-byte N-MNIST events (truncated or corrupt); "
                            f"restore it from the archive at {SOURCE}")


class NMNISTFrames(Dataset):
    """Items ``(x [T, 2312] uint8/int16, y)``: one N-MNIST recording framed into ``n_steps`` time bins."""

    def __init__(self, files: list[str], labels: list[int], n_steps: int, frames: str = "binary", first_saccade_only: bool = False):
        import tonic

        self.files, self.labels = files, torch.tensor(labels, dtype=torch.long)
        self.n_steps, self.binary, self.first_saccade_only = int(n_steps), frames == "binary", bool(first_saccade_only)
        self.to_frame = tonic.transforms.ToFrame(sensor_size=SENSOR, n_time_bins=self.n_steps)
        self.dtype = tonic.datasets.NMNIST.dtype

    def __len__(self) -> int:
        return len(self.files)

    def events(self, i: int) -> np.ndarray:
        from tonic.io import read_mnist_file

        ev = read_mnist_file(self.files[i], dtype=self.dtype)
        if self.first_saccade_only:  # tonic's NMNIST option: the first of three saccades (t < 100 ms)
            ev = ev[ev["t"] < 1e5]
        if ev.size == 0:
            raise DataError(f"{self.files[i]}: no events; the file is corrupt — restore it from {SOURCE}")
        return ev

    def __getitem__(self, i: int):
        frames = self.to_frame(self.events(i))  # (T, P, H, W) event counts, int16
        x = torch.from_numpy(frames.reshape(frames.shape[0], N_FEATURES))
        x = (x > 0).to(torch.uint8) if self.binary else x
        return x, self.labels[i]


def _split_files(data_dir, split: str, download: bool) -> tuple[list[str], list[int]]:
    root = Path(data_dir) / "NMNIST" / FOLDERS[split]
    files, labels = index_files(root) if root.is_dir() else ([], [])
    if not files and download:
        import tonic

        try:
            tonic.datasets.NMNIST(save_to=str(data_dir), train=split == "train")
        except Exception as e:  # noqa: BLE001 — network / archive errors become one message
            msg = missing_data_message("N-MNIST", root, "<digit>/<id>.bin event files, the unzipped archive", SOURCE)
            raise DataError(f"{msg} (tonic could not download it: {type(e).__name__}: {e})") from None
        files, labels = index_files(root) if root.is_dir() else ([], [])
    if not files:
        raise DataError(missing_data_message("N-MNIST", root, "<digit>/<id>.bin event files, the unzipped archive", SOURCE))
    check_files(files)
    return files, labels


def build(cfg, data_dir: str) -> DataSplits:
    n_steps = int(cfg["n_steps"])
    if n_steps < 1:
        raise ValueError(f"dataset.n_steps must be >= 1, got {n_steps}")
    frames = cfg["frames"]
    if frames not in ("binary", "count"):
        raise ValueError(f"dataset.frames must be 'binary' or 'count', got {frames!r}")
    download, first = bool(cfg["download"]), bool(cfg["first_saccade_only"])
    train, val, test = train_val_test(
        NMNISTFrames(*_split_files(data_dir, "train", download), n_steps, frames, first),
        NMNISTFrames(*_split_files(data_dir, "test", download), n_steps, frames, first),
        cfg,
    )
    return DataSplits(
        train=train,
        test=test,
        val=val,
        n_inputs=N_FEATURES,
        n_classes=10,
        n_steps=n_steps,
        binary_input=frames == "binary",
    )
