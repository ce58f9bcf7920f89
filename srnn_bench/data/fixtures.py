"""Writers of small files in the datasets' real on-disk formats (tests, memory measurement, demos).

No dataset can be downloaded on the development machines, so the tests generate tiny, format-identical
files with these writers and run the real loaders on them. Each writer documents the format it follows.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_hsd(path, times: Sequence[np.ndarray], units: Sequence[np.ndarray], labels, n_classes: int = 20,
              times_dtype=np.float16) -> Path:
    """An SHD/SSC HDF5 file (Cramer et al. 2020 layout): ``spikes/times`` (ragged, seconds),
    ``spikes/units`` (ragged uint16), ``labels`` (uint16), ``extra/keys`` (class names), ``extra/speaker``."""
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(labels)
    with h5py.File(path, "w") as f:
        tt = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(times_dtype)))
        uu = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i in range(n):
            tt[i] = np.asarray(times[i], dtype=times_dtype)
            uu[i] = np.asarray(units[i], dtype=np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        f.create_dataset("extra/keys", data=np.array([f"class-{k}".encode() for k in range(n_classes)]))
        f.create_dataset("extra/speaker", data=np.zeros(n, dtype=np.uint16))
    return path


def random_hsd(path, n: int, n_classes: int = 20, spikes_per_sample: int = 60, seed: int = 0,
               max_time_s: float = 1.1, chunk: int = 1024) -> Path:
    """An SHD-like file of ``n`` random samples (times uniform in [0, max_time_s), 700 units); labels
    are class-dependent unit ranges so that a network can learn them. Written in chunks (big files)."""
    import h5py

    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = rng.integers(0, n_classes, n)
    with h5py.File(path, "w") as f:
        tt = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(np.float16)))
        uu = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            ts, us = np.empty(stop - start, dtype=object), np.empty(stop - start, dtype=object)
            for j, i in enumerate(range(start, stop)):
                k = int(rng.poisson(spikes_per_sample))
                ts[j] = np.sort(rng.uniform(0, max_time_s, k)).astype(np.float16)
                lo = int(labels[i]) * (700 // n_classes)
                us[j] = np.where(rng.random(k) < 0.5, rng.integers(lo, lo + 700 // n_classes, k), rng.integers(0, 700, k)).astype(np.uint16)
            tt[start:stop] = ts
            uu[start:stop] = us
        f.create_dataset("labels", data=labels.astype(np.uint16))
        f.create_dataset("extra/keys", data=np.array([f"class-{k}".encode() for k in range(n_classes)]))
        f.create_dataset("extra/speaker", data=np.zeros(n, dtype=np.uint16))
    return path


def write_nmnist_bin(path, x, y, p, t_us) -> Path:
    """One N-MNIST/N-Caltech101 event file (Orchard et al. 2015): 5 bytes per event — x (8 bit), y (8 bit),
    polarity (bit 23), timestamp in us (23 bits), big-endian."""
    x, y, p, t = (np.asarray(a, dtype=np.uint32) for a in (x, y, p, t_us))
    if (t >= 1 << 23).any():
        raise ValueError("fixture timestamps must be < 2^23 us")
    raw = np.zeros((x.size, 5), dtype=np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p << 7) | ((t >> 16) & 0x7F)
    raw[:, 3], raw[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw.tobytes())
    return path


def random_nmnist(root, n_per_class: int = 2, n_events: int = 300, seed: int = 0, splits=("Train", "Test")) -> Path:
    """``root/{Train,Test}/<digit>/<id>.bin`` — the unzipped N-MNIST layout — with random saccade-length
    recordings (~300 ms) whose active pixels depend on the digit."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    for split in splits:
        for digit in range(10):
            for k in range(n_per_class):
                cx = 3 + 3 * digit
                xs = np.clip(rng.normal(cx, 2.0, n_events), 0, 33).astype(int)
                ys = rng.integers(0, 34, n_events)
                ts = np.sort(rng.integers(0, 300_000, n_events))
                write_nmnist_bin(root / split / str(digit) / f"{k:05d}.bin", xs, ys, rng.integers(0, 2, n_events), ts)
    return root


def write_idx(path, array: np.ndarray, gz: bool | None = None) -> Path:
    """An IDX file (LeCun's MNIST format): magic 0x0000 + type code (0x08 = ubyte) + ndim, big-endian
    int32 dims, then the data. Gzipped when ``path`` ends in .gz (or ``gz``)."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    data = header + a.tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz if gz is not None else path.suffix == ".gz":
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


def random_mnist(folder, n_train: int = 64, n_test: int = 32, seed: int = 0, gz: bool = True) -> Path:
    """The four MNIST/Fashion-MNIST IDX files in ``folder`` with class-dependent random 28x28 images."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, c in enumerate(y):
            x[i, 2 * c : 2 * c + 6, 4:24] = 250  # a class-specific bright band
        ext = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", x)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", y)
    return folder


def write_soli(path, frames: dict[int, np.ndarray], label: np.ndarray) -> Path:
    """One Soli sequence file (Wang et al. 2016, deep-soli): datasets ``ch0``..``ch3`` of shape
    [n_frames, 1024] float32 (32x32 range-Doppler images, values in [0, 1]) and ``label`` [n_frames, 1]."""
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for c, a in frames.items():
            f.create_dataset(f"ch{c}", data=np.asarray(a, dtype=np.float32))
        f.create_dataset("label", data=np.asarray(label, dtype=np.int32).reshape(-1, 1))
    return path


def random_soli(folder, gestures=range(11), sessions=(2, 3), instances=(0, 1), frames=(28, 40, 90), seed: int = 0):
    """``folder/<gesture>_<session>_<instance>.h5`` files plus a ``file_half.json`` split (train: first
    session, eval: the others), in the layout of the public Soli data and the deep-soli split file."""
    import json

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    names = {"train": [], "eval": []}
    for g in gestures:
        for si, s in enumerate(sessions):
            for i in instances:
                n = int(frames[(g + si + i) % len(frames)])
                chans = {}
                for c in range(4):
                    a = rng.random((n, 1024)).astype(np.float32) * 0.3
                    a[:, g * 90 : g * 90 + 60] += 0.6
                    chans[c] = np.clip(a, 0, 1)
                write_soli(folder / f"{g}_{s}_{i}.h5", chans, np.full(n, g))
                names["train" if si == 0 else "eval"].append(f"{g}_{s}_{i}")
    (folder / "file_half.json").write_text(json.dumps(names))
    return folder
