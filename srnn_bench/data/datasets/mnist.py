"""MNIST and Fashion-MNIST from their IDX files: S-MNIST, PS-MNIST (Yin et al. 2021) and the static
28x28 images that the SRC paper (De Geeter et al.) rate- or latency-codes.

Files (torchvision's layout, so an existing torchvision download is reused)::

    <data_dir>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
    <data_dir>/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]

gzipped or raw. When absent and ``dataset.download`` is true, the .gz files are fetched from the public
mirrors and their published MD5 checked; ``dataset.verify_md5=true`` also checks files already present.
Every file is parsed for real (magic number, type code, dimensions, exact data length, gzip CRC): a
truncated or corrupt file stops with one message naming it.

Dataset names (``dataset.name``) and what an item ``(x [T, C], y)`` is:

- ``mnist`` / ``fmnist`` — ``layout: image``: x = pixels / 255 as one step, [1, 784]; an encoder
  (``encoder=rate`` / ``latency``, ``num_steps: 200``) turns it into a spike train (SRC paper).
- ``smnist`` — ``layout: sequence``, pixel by pixel: [784, 1], x / 255 as input current (Yin Methods);
  ``window: 8`` gives the NMI model's 8-pixel sliding window (stride 1), [784, 8].
- ``psmnist`` — the same after a fixed pixel permutation (``permutation_seed``), 4-pixel window: [784, 4].

Sliding window as in the authors' PS-MNIST script: step i reads pixels [i*stride, i*stride + w) while
that start is < 784 - w, else the last w pixels; int(784 / stride) steps. ``binarize: 0.1`` reproduces
that script's (x / 255 > 0.1) spike input (default null: the paper's current injection).
Parsing takes well under a second, so no preprocessing cache is needed; windows are cut per item.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..base import DataError, DataSplits
from ..cache import download, missing_data_message, verify_checksum
from ..sparse import ArrayDataset, limited, train_val_test

IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class Source:
    title: str
    folder: str
    mirrors: tuple[str, ...]
    md5: dict  # of the .gz files, as published (torchvision's lists)


SOURCES = {
    "mnist": Source(
        "MNIST",
        "MNIST/raw",
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"),
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion_mnist": Source(
        "Fashion-MNIST",
        "FashionMNIST/raw",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
}
LAYOUT = "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz)"


def read_idx(path: str | Path) -> np.ndarray:
    """Parse one IDX file (raw or gzipped); raise :class:`DataError` naming the file if it is not valid."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise DataError(f"{path}: truncated or corrupt gzip file ({e}); delete it and fetch it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}); delete it and fetch it again")
    ndim, dtype = raw[3], np.dtype(IDX_TYPES[raw[2]])
    if ndim < 1 or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX header; delete it and fetch it again")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        what = "truncated" if len(body) < expected else "has trailing bytes"
        raise DataError(f"{path}: {what}: header says {list(dims)} ({expected} bytes of data), found {len(body)}; delete it and fetch it again")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))  # a writable copy


def locate(data_dir, source: str, base: str, download_ok: bool, verify_md5: bool) -> Path:
    """Path of ``base`` (raw) or ``base.gz`` under the source folder, downloading the .gz if allowed."""
    src = SOURCES[source]
    folder = Path(data_dir) / src.folder
    raw, gz = folder / base, folder / f"{base}.gz"
    if raw.is_file():
        return raw
    if gz.is_file():
        if verify_md5:
            verify_checksum(gz, md5=src.md5[gz.name])
        return gz
    msg = missing_data_message(src.title, gz, f"{folder}/ holding {LAYOUT}", " or ".join(src.mirrors))
    if download_ok:
        errors = []
        for mirror in src.mirrors:
            try:
                return download(mirror + gz.name, gz, md5=src.md5[gz.name])
            except DataError as e:
                errors.append(str(e))
        msg += f" (automatic download failed: {errors[0]})"
    raise DataError(msg)


def load_split(data_dir, source: str, split: str, download_ok: bool = True, verify_md5: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images [N, 28, 28] uint8, labels [N] int64) of ``split`` ('train' or 'test')."""
    img_name, lab_name = FILES[split]
    img_path = locate(data_dir, source, img_name, download_ok, verify_md5)
    lab_path = locate(data_dir, source, lab_name, download_ok, verify_md5)
    x, y = read_idx(img_path), read_idx(lab_path)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise DataError(f"{img_path}: expected uint8 images [N, 28, 28], found {x.dtype} {list(x.shape)}")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise DataError(f"{lab_path}: expected {x.shape[0]} labels (one per image in {img_path.name}), found shape {list(y.shape)}")
    if y.size and y.max() > 9:
        raise DataError(f"{lab_path}: label {int(y.max())} outside 0..9")
    return x, y.astype(np.int64)


def window_index(n_pixels: int, window: int, stride: int) -> torch.Tensor:
    """[T, window] pixel indices read at each step (Yin et al. PS-MNIST script), T = int(n_pixels / stride)."""
    if not 1 <= window <= n_pixels:
        raise ValueError(f"dataset.window must be in 1..{n_pixels}, got {window}")
    if stride < 1:
        raise ValueError(f"dataset.stride must be >= 1, got {stride}")
    starts = torch.arange(n_pixels // stride) * stride
    starts = torch.where(starts < n_pixels - window, starts, torch.tensor(n_pixels - window))
    return starts.unsqueeze(1) + torch.arange(window)


class _Encode:
    """Per-item transform: uint8 image [28, 28] -> float sequence [T, C]."""

    def __init__(self, layout: str, perm: torch.Tensor | None, index: torch.Tensor | None, binarize: float | None):
        self.layout, self.perm, self.index, self.binarize = layout, perm, index, binarize

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        # Yin Methods: x / 255 as input current; computed in float64 (collate casts to trainer.dtype: the
        # float32 result is the same correctly rounded quotient, float64 keeps the authors' float64 value)
        x = img.reshape(-1).double() / 255.0
        if self.binarize is not None:
            x = (x > self.binarize).float()
        if self.perm is not None:
            x = x[self.perm]
        if self.layout == "image":
            return x.unsqueeze(0)  # [1, 784]
        return x[self.index]  # [T, window]


def build(cfg, data_dir: str, test_only: bool = False) -> DataSplits:
    """The splits of ``cfg``; ``test_only`` (evaluation, :func:`srnn_bench.data.build_data`): the t10k files
    only, no training split (empty) and no validation split."""
    source = cfg["source"]
    if source not in SOURCES:
        raise ValueError(f"dataset.source must be one of {', '.join(SOURCES)}, got {source!r}")
    layout = cfg["layout"]
    if layout not in ("image", "sequence"):
        raise ValueError(f"dataset.layout must be 'image' or 'sequence', got {layout!r}")
    permute = bool(cfg["permute"])
    perm = torch.from_numpy(np.random.default_rng(int(cfg["permutation_seed"])).permutation(784)) if permute else None
    index = window_index(784, int(cfg["window"]), int(cfg["stride"])) if layout == "sequence" else None
    binarize = cfg["binarize"]
    binarize = None if binarize is None else float(binarize)
    enc = _Encode(layout, perm, index, binarize)
    dl, md5 = bool(cfg["download"]), bool(cfg["verify_md5"])
    x_te, y_te = load_split(data_dir, source, "test", dl, md5)
    if test_only:
        empty = ArrayDataset(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), enc)
        train, val, test = empty, None, limited(ArrayDataset(x_te, y_te, enc), cfg["limit_test"])
    else:
        x_tr, y_tr = load_split(data_dir, source, "train", dl, md5)
        train, val, test = train_val_test(ArrayDataset(x_tr, y_tr, enc), ArrayDataset(x_te, y_te, enc), cfg)
    return DataSplits(
        train=train,
        test=test,
        val=val,
        n_inputs=784 if layout == "image" else index.shape[1],
        n_classes=10,
        n_steps=1 if layout == "image" else index.shape[0],
        binary_input=binarize is not None,
    )
