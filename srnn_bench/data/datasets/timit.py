"""TIMIT framewise phone classification (Garofolo et al. 1993; Yin et al. 2021, Methods, TIMIT).

TIMIT is licensed (LDC93S1): it is never downloaded; point ``paths.data_dir`` (or ``dataset.root``) at
your copy::

    <data_dir>/TIMIT/TRAIN/DR1/FCJF0/SI1027.WAV  SI1027.PHN  ...   (DR1..DR8, one folder per speaker)
    <data_dir>/TIMIT/TEST/DR1/MDAB0/...

(upper or lower case; .WAV in NIST SPHERE or RIFF, 16 kHz; .PHN lines ``start_sample end_sample phone``).

Utterances: the SA dialect sentences are excluded (as usual and in the paper: 3696 training
utterances); the test set is the 24-speaker core test set (192 utterances, ``test_set: core``) or every
SI/SX test utterance (``full``, 1344). 10% of the training utterances (fixed seed) are held out for
validation, as in the paper.

Features: :func:`srnn_bench.data.audio.mfcc39` (12 MFCC + log energy, delta, delta-delta = 39 per
10 ms frame), min-max normalised per feature with training statistics. Labels: the phone under each
frame's centre, 61 classes (``phone_set: 61``) or folded to the 39 classes of Lee & Hon (1989)
(``phone_set: 39``; the glottal stop ``q`` is deleted there, so its frames are unlabelled, -100).
Utterances are cut into ``max_frames``-frame pieces (the last zero-padded, its padding unlabelled) so
each batch is one tensor; the paper's sequence length is 500 (Table S1).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from ...utils.rules import check_value
from ..audio import chunk_sequences, mfcc39, minmax_apply, minmax_fit, read_audio, segment_labels
from ..base import DataError, DataSplits, TensorSequenceDataset, limit
from ..cache import cached_arrays, missing_data_message

VERSION = "timit-LDC93S1-r1"
SOURCE = "the LDC (https://catalog.ldc.upenn.edu/LDC93S1; licensed, not downloadable here)"
EXPECTED = "TIMIT/TRAIN/DR1/<SPEAKER>/<UTT>.WAV + .PHN ... and TIMIT/TEST/DR1/... (DR1-DR8)"

PHONES_61 = ["aa", "ae", "ah", "ao", "aw", "ax", "ax-h", "axr", "ay", "b", "bcl", "ch", "d", "dcl", "dh", "dx", "eh", "el", "em", "en", "eng", "epi", "er", "ey", "f", "g", "gcl", "h#", "hh", "hv", "ih", "ix", "iy", "jh", "k", "kcl", "l", "m", "n", "ng", "nx", "ow", "oy", "p", "pau", "pcl", "q", "r", "s", "sh", "t", "tcl", "th", "uh", "uw", "ux", "v", "w", "y", "z", "zh"]
assert len(PHONES_61) == 61

FOLD_39 = {
    "ao": "aa", "ax": "ah", "ax-h": "ah", "axr": "er", "hv": "hh", "ix": "ih", "el": "l", "em": "m",
    "en": "n", "nx": "n", "eng": "ng", "zh": "sh", "ux": "uw",
    "pcl": "sil", "tcl": "sil", "kcl": "sil", "bcl": "sil", "dcl": "sil", "gcl": "sil", "h#": "sil",
    "pau": "sil", "epi": "sil", "q": None,
}
"""Lee & Hon (1989) folding of the 61 TIMIT phones onto 39 classes (``q`` deleted)."""
PHONES_39 = sorted({FOLD_39.get(p, p) for p in PHONES_61} - {None})
assert len(PHONES_39) == 39

CORE_TEST_SPEAKERS = frozenset(
    ["MDAB0", "MWBT0", "FELC0", "MTAS1", "MWEW0", "FPAS0", "MJMP0", "MLNT0", "FPKT0", "MLLL0", "MTLS0", "FJLM0", "MBPM0", "MKLT0", "FNLP0", "MCMJ0", "MJDH0", "FMGD0", "MGRT0", "MNJM0", "FDHC0", "MJLN0", "MPAM0", "FMLD0"]
)
"""The 24-speaker core test set (2 men, 1 woman per dialect region; Halberstadt 1998)."""


def phone_index(phone_set: int) -> dict[str, int | None]:
    """phone (61-set) -> class index in the chosen set (None: deleted)."""
    if phone_set == 61:
        return {p: i for i, p in enumerate(PHONES_61)}
    fold = {p: FOLD_39.get(p, p) for p in PHONES_61}
    return {p: (None if f is None else PHONES_39.index(f)) for p, f in fold.items()}


def _find_root(cfg, data_dir) -> Path:
    if cfg["root"]:
        return Path(cfg["root"]).expanduser()
    for name in ("TIMIT", "timit"):
        if (Path(data_dir) / name).is_dir():
            return Path(data_dir) / name
    return Path(data_dir) / "TIMIT"


def _subdir(root: Path, name: str) -> Path | None:
    for n in (name.upper(), name.lower()):
        if (root / n).is_dir():
            return root / n
    return None


def list_utterances(root: Path, split: str, test_set: str = "core") -> list[Path]:
    """Sorted paths (without extension) of the SI/SX utterances that have both .WAV and .PHN."""
    base = _subdir(root, split)
    if base is None:
        raise DataError(missing_data_message("TIMIT", root, EXPECTED, SOURCE))
    out = []
    for phn in sorted(base.rglob("*")):
        if phn.suffix.lower() != ".phn" or phn.stem.upper().startswith("SA"):
            continue
        if split == "test" and test_set == "core" and phn.parent.name.upper() not in CORE_TEST_SPEAKERS:
            continue
        out.append(phn.with_suffix(""))
    return out


def _wav_of(stem: Path) -> Path:
    for ext in (".WAV", ".wav"):
        if stem.with_suffix(ext).is_file():
            return stem.with_suffix(ext)
    return stem.with_suffix(".WAV")


def read_phn(path: Path, index: dict[str, int | None]) -> list[tuple[int, int, int]]:
    """(start_sample, end_sample, class) per line of a .PHN file; deleted phones are dropped."""
    segs = []
    for ln, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            raise DataError(f"{path}:{ln}: expected 'start end phone', got {line!r}; the file is corrupt — restore it from the TIMIT distribution")
        phone = parts[2].lower()
        if phone not in index:
            raise DataError(f"{path}:{ln}: unknown phone '{phone}' (not one of TIMIT's 61); restore the file from the TIMIT distribution")
        if index[phone] is not None:
            segs.append((int(parts[0]), int(parts[1]), index[phone]))
    if not segs:
        raise DataError(f"{path}: no phone segments (empty or corrupt file); restore it from the TIMIT distribution")
    return segs


def load_utterance(stem: Path, index) -> tuple[np.ndarray, np.ndarray]:
    wav = read_audio(_wav_of(stem), fix="restore the file from your TIMIT copy (LDC93S1)")
    feats = mfcc39(wav)
    labels = segment_labels(read_phn(_phn_of(stem), index), len(feats))
    return feats, labels


def _phn_of(stem: Path) -> Path:
    for ext in (".PHN", ".phn"):
        if stem.with_suffix(ext).is_file():
            return stem.with_suffix(ext)
    return stem.with_suffix(".PHN")


def _preprocess(train: list[Path], test: list[Path], pre: dict) -> dict[str, np.ndarray]:
    index = phone_index(pre["phone_set"])
    rng = np.random.default_rng(pre["seed"])
    n_val = int(round(pre["val_fraction"] * len(train)))
    perm = rng.permutation(len(train))
    val_set = set(perm[:n_val].tolist())
    tr = [load_utterance(s, index) for i, s in enumerate(train) if i not in val_set]
    va = [load_utterance(s, index) for i, s in enumerate(train) if i in val_set]
    te = [load_utterance(s, index) for s in test]
    lo, hi = minmax_fit([f for f, _ in tr])
    out = {}
    for name, utts in (("train", tr), ("val", va), ("test", te)):
        norm = lambda f: minmax_apply(f, lo, hi)
        x, y, _ = chunk_sequences([f for f, _ in utts], [lab for _, lab in utts], pre["max_frames"], norm)
        out[f"x_{name}"], out[f"y_{name}"] = x, y
    out["feat_min"], out["feat_max"] = lo, hi
    return out


def build(cfg, data_dir: str) -> DataSplits:
    pre = {
        "phone_set": int(cfg["phone_set"]),
        "test_set": str(cfg["test_set"]),
        "max_frames": int(cfg["max_frames"]),
        "val_fraction": float(cfg["val_fraction"]),
        "seed": int(cfg["split_seed"]),
        "features": "mfcc39-win25-hop10-mel26-delta5",
    }
    if pre["phone_set"] not in (61, 39):
        raise ValueError(f"dataset.phone_set must be 61 or 39, got {pre['phone_set']}")
    if pre["test_set"] not in ("core", "full"):
        raise ValueError(f"dataset.test_set must be core or full, got '{pre['test_set']}'")
    check_value("dataset.val_fraction", pre["val_fraction"])
    root = _find_root(cfg, data_dir)
    if not root.is_dir():
        raise DataError(missing_data_message("TIMIT", root, EXPECTED, SOURCE))
    train, test = list_utterances(root, "train"), list_utterances(root, "test", pre["test_set"])
    if not train or not test:
        raise DataError(missing_data_message("TIMIT", root, EXPECTED + f" (found {len(train)} train / {len(test)} test utterances)", SOURCE))
    files = hashlib.sha256(json.dumps([str(p.relative_to(root)) for p in train + test]).encode()).hexdigest()[:16]
    key = {**pre, "root": str(root.resolve()), "files": files}
    a = cached_arrays(data_dir, "timit", VERSION, key, lambda: _preprocess(train, test, pre))
    t = lambda k: torch.from_numpy(a[k])
    x_tr, y_tr = limit(t("x_train"), t("y_train"), cfg["limit_train"])
    x_te, y_te = limit(t("x_test"), t("y_test"), cfg["limit_test"])
    val = TensorSequenceDataset(*limit(t("x_val"), t("y_val"), cfg["limit_test"])) if len(a["x_val"]) else None
    return DataSplits(
        train=TensorSequenceDataset(x_tr, y_tr),
        test=TensorSequenceDataset(x_te, y_te),
        val=val,
        n_inputs=39,
        n_classes=pre["phone_set"],
        n_steps=pre["max_frames"],
        per_step_labels=True,
    )
