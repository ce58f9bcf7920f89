"""Soli radar gestures (Wang et al. 2016, the public deep-soli data) for Yin et al. 2021.

Files::

    <data_dir>/SoLi/<gesture>_<session>_<instance>.h5    (or in <data_dir>/SoLi/dsp/, as unzipped)
    <data_dir>/SoLi/file_half.json                       the train/eval split (deep-soli config/file_half.json)

Each .h5 holds ``ch0``..``ch3`` [n_frames, 1024] float32 range-Doppler images (32x32, values in [0, 1])
and ``label`` [n_frames, 1] (per-frame gesture id). 11 gesture classes (ids 0-10; id 11, background
without a hand, is skipped). The split file maps "train" and "eval" (and optionally "test") to file
stems; with a "test" list, "eval" is the validation set, else "eval" is the test set and
``val_fraction`` of the training chunks is held out.

Preprocessing (Yin et al. code, semantics.md §1): one RDI channel (``channel``, default 3 as in the
authors' final scripts), 32x32 = 1024 inputs per frame, values / 255 of the 8-bit images the authors
read (``quantize_8bit``: round(x * 255) / 255, JPEG loss not modelled); the deep-soli image export
skips frame 0 (``drop_first_frame``). Sequences are cut to ``seq_len`` = 40 frames as in the
authors' ``dataset_cutoff``: shorter ones are tiled (frames 0..n-1, 0..), longer ones chunked into
consecutive 40-frame pieces, the last piece being the final 40 frames (the authors' loop makes one
duplicate chunk when n is a multiple of 40; here it is not duplicated). ``labels: frame`` gives
per-frame labels [40] (streaming, ``trainer.loss=per_step``; per-frame accuracy), ``labels: sequence``
one label per chunk (per-sequence accuracy). The chunks are cached (uint8) under
``<data_dir>/cache/soli/``, keyed by these settings and the files' sizes and mtimes.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from ..base import DataError, DataSplits
from ..cache import cached_arrays, missing_data_message
from ..sparse import ArrayDataset, train_val_test

VERSION = "soli-chunks-v1"
N_CLASSES = 11
SOURCE = ("the deep-soli dataset (https://github.com/simonwsw/deep-soli, README 'Dataset' link) and its "
          "config/file_half.json split file")
STEM = re.compile(r"^(\d+)_(\d+)_(\d+)$")


def data_folder(data_dir) -> Path:
    root = Path(data_dir) / "SoLi"
    return root / "dsp" if not any(root.glob("*.h5")) and (root / "dsp").is_dir() else root


def read_split(data_dir) -> dict[str, list[str]]:
    path = Path(data_dir) / "SoLi" / "file_half.json"
    if not path.is_file():
        raise DataError(missing_data_message("SoLi split file", path, "JSON {'train': [stems], 'eval': [stems]}", SOURCE))
    try:
        split = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({e}); fetch config/file_half.json from deep-soli again") from None
    if not isinstance(split, dict) or "train" not in split or not ({"eval", "test"} & set(split)):
        raise DataError(f"{path}: needs a 'train' list and an 'eval' (or 'test') list of file stems like '0_2_0'")
    return {k: list(v) for k, v in split.items()}


def chunk_index(n: int, seq_len: int) -> list[np.ndarray]:
    """Frame indices of the ``seq_len``-frame pieces of an ``n``-frame sequence (tile or chunk)."""
    if n <= 0:
        return []
    if n < seq_len:
        return [np.resize(np.arange(n), seq_len)]  # tiles 0..n-1, 0..n-1, ...
    starts = list(range(0, n - seq_len + 1, seq_len))
    if starts[-1] + seq_len < n:
        starts.append(n - seq_len)  # the last piece: the final seq_len frames
    return [np.arange(s, s + seq_len) for s in starts]


def read_sequence(path: Path, channel: int) -> tuple[np.ndarray, np.ndarray]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            key = f"ch{channel}"
            if key not in f or "label" not in f:
                raise DataError(f"{path}: missing dataset '{key}' or 'label' (found {', '.join(f.keys())}); not a Soli sequence file")
            x, lab = f[key][()], f["label"][()]
    except OSError as e:
        raise DataError(f"{path}: not a readable HDF5 file (truncated or corrupt: {e}); fetch it again from {SOURCE}") from None
    lab = np.asarray(lab).reshape(-1)
    if x.ndim != 2 or x.shape[1] != 1024 or lab.shape[0] != x.shape[0]:
        raise DataError(f"{path}: expected ch{channel} [n_frames, 1024] and label [n_frames, 1], got {list(x.shape)} and {list(lab.shape)}")
    return x, lab.astype(np.int64)


def _build_split(folder: Path, stems: list[str], channel: int, seq_len: int, quantize: bool, drop_first: bool) -> dict:
    xs, ys, yf = [], [], []
    for stem in stems:
        m = STEM.match(stem)
        if not m:
            raise DataError(f"{folder}: split entry {stem!r} is not '<gesture>_<session>_<instance>'")
        gesture = int(m.group(1))
        if gesture >= N_CLASSES:
            continue  # background recordings
        x, lab = read_sequence(folder / f"{stem}.h5", channel)
        if drop_first:
            x, lab = x[1:], lab[1:]
        x = np.clip(x, 0.0, 1.0)
        x = np.rint(x * 255.0).astype(np.uint8) if quantize else x.astype(np.float32)
        for idx in chunk_index(x.shape[0], seq_len):
            xs.append(x[idx])
            yf.append(lab[idx])
            ys.append(gesture)
    dtype = np.uint8 if quantize else np.float32
    return {
        "x": np.stack(xs) if xs else np.zeros((0, seq_len, 1024), dtype),
        "y_seq": np.asarray(ys, dtype=np.int64),
        "y_frame": np.stack(yf) if yf else np.zeros((0, seq_len), np.int64),
    }


def _signature(folder: Path, stems: list[str]) -> str:
    h = hashlib.sha256()
    missing = []
    for stem in sorted(stems):
        p = folder / f"{stem}.h5"
        if not p.is_file():
            missing.append(p)
            continue
        st = p.stat()
        h.update(f"{stem}:{st.st_size}:{st.st_mtime_ns};".encode())
    if missing:
        raise DataError(missing_data_message(f"SoLi ({len(missing)} of {len(stems)} split files)", missing[0],
                                             "<gesture>_<session>_<instance>.h5 files named in file_half.json", SOURCE))
    return h.hexdigest()[:16]


def build(cfg, data_dir: str) -> DataSplits:
    channel, seq_len = int(cfg["channel"]), int(cfg["seq_len"])
    if channel not in range(4):
        raise ValueError(f"dataset.channel must be 0..3, got {channel}")
    if seq_len < 1:
        raise ValueError(f"dataset.seq_len must be >= 1, got {seq_len}")
    labels = cfg["labels"]
    if labels not in ("frame", "sequence"):
        raise ValueError(f"dataset.labels must be 'frame' or 'sequence', got {labels!r}")
    quantize, drop_first = bool(cfg["quantize_8bit"]), bool(cfg["drop_first_frame"])
    folder = data_folder(data_dir)
    split = read_split(data_dir)
    test_key = "test" if "test" in split else "eval"
    val_key = "eval" if "test" in split else None

    def load(key: str) -> ArrayDataset:
        stems = split[key]
        pre = {"split": key, "channel": channel, "seq_len": seq_len, "quantize_8bit": quantize,
               "drop_first_frame": drop_first, "source": _signature(folder, stems)}
        a = cached_arrays(data_dir, "soli", VERSION, pre, lambda: _build_split(folder, stems, channel, seq_len, quantize, drop_first))
        bad = (a["y_frame"] >= N_CLASSES) | (a["y_frame"] < 0)
        if bad.any():
            raise DataError(f"{folder}: a 'label' value {int(a['y_frame'][bad][0])} is outside 0..{N_CLASSES - 1}")
        scale = 255.0 if quantize else 1.0
        return ArrayDataset(a["x"], a["y_frame"] if labels == "frame" else a["y_seq"], lambda x: x.float() / scale)

    train, val, test = train_val_test(load("train"), load(test_key), cfg, load(val_key) if val_key is not None else None)
    return DataSplits(
        train=train,
        test=test,
        val=val,
        n_inputs=1024,
        n_classes=N_CLASSES,
        n_steps=seq_len,
        per_step_labels=labels == "frame",
    )

