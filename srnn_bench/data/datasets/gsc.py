"""Google Speech Commands v1 (Warden 2018), the 12-class keyword-spotting protocol of Yin et al. 2021.

Layout (the public tarball ``speech_commands_v0.01.tar.gz``, extracted):

    <data_dir>/speech_commands_v0.01/
        yes/ no/ up/ ... (30 word folders of 1 s, 16 kHz mono wav)
        _background_noise_/*.wav
        validation_list.txt   testing_list.txt   (paths relative to this folder, e.g. ``yes/0a7c2a8d_nohash_0.wav``)

Classes (standard v1 protocol, as in TensorFlow's ``speech_commands`` example): the ten words
yes no up down left right on off stop go (0-9), ``_silence_`` (10) and ``_unknown_`` (11, every other
word). Splits: files listed in ``testing_list.txt`` / ``validation_list.txt`` form test / validation,
the rest train. Per split, unknown words are subsampled to ``unknown_percent`` % of that split's
known-word count (fixed seed) and ``silence_percent`` % silence clips are added: 1 s windows of the
``_background_noise_`` recordings at random offsets, each noise file cut in time 80/10/10 into
train/validation/test regions so no noise sample is shared between splits.

Preprocessing: :func:`srnn_bench.data.audio.gsc_logmel` (``features: logmel``, the paper's) -> x [101, 120],
or ``features: mfcc`` (:func:`~srnn_bench.data.audio.mfcc39` on the centre-padded 1 s clip, min-max
normalised with training statistics) -> [98, 39]. Arrays are cached keyed by the whole preprocessing config.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tarfile
from pathlib import Path

import numpy as np
import torch

from ..audio import SAMPLE_RATE, centre_pad, gsc_logmel, mfcc39, minmax_apply, minmax_fit, read_audio
from ..base import DataError, DataSplits, TensorSequenceDataset, limit
from ..cache import cached_arrays, download, missing_data_message

log = logging.getLogger(__name__)

WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SILENCE, UNKNOWN = "_silence_", "_unknown_"
CLASSES = (*WORDS, SILENCE, UNKNOWN)
URL = "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz"
FOLDER = "speech_commands_v0.01"
VERSION = "gsc-v0.01-protocol12-r1"
NOISE = "_background_noise_"
_NOISE_REGIONS = {"train": (0.0, 0.8), "val": (0.8, 0.9), "test": (0.9, 1.0)}
_SPLIT_SEED = {"train": 0, "val": 1, "test": 2}

EXPECTED = (
    "word folders yes/ no/ ... of .wav files, _background_noise_/, validation_list.txt, testing_list.txt — "
    "the extracted speech_commands_v0.01.tar.gz"
)


def _root(cfg, data_dir: str | Path) -> Path:
    return Path(cfg["root"] or Path(data_dir) / FOLDER).expanduser()


def ensure_present(cfg, data_dir: str | Path) -> Path:
    """The dataset folder; downloaded and extracted when absent and ``dataset.download`` allows it."""
    root = _root(cfg, data_dir)
    if (root / "testing_list.txt").is_file():
        return root
    missing = missing_data_message("Google Speech Commands v1", root, EXPECTED, cfg["url"] or URL)
    if not cfg["download"]:
        raise DataError(missing + " (dataset.download=false)")
    tarball = Path(data_dir) / Path(cfg["url"] or URL).name
    try:
        if not tarball.is_file():
            log.info("downloading %s to %s", cfg["url"] or URL, tarball)
            download(cfg["url"] or URL, tarball, md5=cfg["md5"] or None, what="speech_commands_v0.01.tar.gz")
        _extract(tarball, root)
    except DataError as e:
        raise DataError(f"{missing} (automatic download failed: {e})") from None
    if not (root / "testing_list.txt").is_file():
        raise DataError(f"{tarball}: extracted, but {root / 'testing_list.txt'} is missing; delete the file and retry. {missing}")
    return root


def _extract(tarball: Path, root: Path) -> None:
    tmp = root.with_name(root.name + ".partial")
    try:
        with tarfile.open(tarball) as tf:
            tf.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"{tarball}: corrupt or truncated archive ({e}); delete it and download again") from None
    tmp.replace(root)


def _read_list(path: Path) -> set[str]:
    if not path.is_file():
        raise DataError(f"{path}: file not found; it ships with the GSC v1 tarball ({EXPECTED})")
    return {ln.strip() for ln in path.read_text().splitlines() if ln.strip()}


def index_files(root: Path, unknown_percent: float, silence_percent: float, seed: int):
    """Per split, the (relative path, class) list of word clips plus the number of silence clips."""
    val, test = _read_list(root / "validation_list.txt"), _read_list(root / "testing_list.txt")
    words = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("_"))
    missing = [w for w in WORDS if w not in words]
    if missing:
        raise DataError(f"{root}: word folders {missing} missing; {EXPECTED}")
    known = {s: [] for s in _NOISE_REGIONS}
    unknown = {s: [] for s in _NOISE_REGIONS}
    for w in words:
        for f in sorted((root / w).glob("*.wav")):
            rel = f"{w}/{f.name}"
            split = "test" if rel in test else "val" if rel in val else "train"
            if w in WORDS:
                known[split].append((rel, WORDS.index(w)))
            else:
                unknown[split].append((rel, CLASSES.index(UNKNOWN)))
    out = {}
    for split in _NOISE_REGIONS:
        rng = np.random.default_rng([seed, _SPLIT_SEED[split]])
        n_known = len(known[split])
        n_unk = min(len(unknown[split]), int(np.ceil(n_known * unknown_percent / 100)))
        unk = [unknown[split][i] for i in sorted(rng.permutation(len(unknown[split]))[:n_unk])]
        out[split] = (known[split] + unk, int(np.ceil(n_known * silence_percent / 100)))
    return out


def _silence_clips(root: Path, split: str, n: int, seed: int) -> list[np.ndarray]:
    if n == 0:
        return []
    noise_files = sorted((root / NOISE).glob("*.wav"))
    if not noise_files:
        raise DataError(f"{root / NOISE}: no background-noise .wav files for the silence class; {EXPECTED}")
    noises = [read_audio(f) for f in noise_files]
    lo, hi = _NOISE_REGIONS[split]
    rng = np.random.default_rng([seed, 100 + _SPLIT_SEED[split]])
    clips = []
    for k in range(n):
        x = noises[k % len(noises)]
        a, b = int(lo * len(x)), int(hi * len(x))
        if b - a <= SAMPLE_RATE:
            clips.append(x[a:b])
        else:
            start = rng.integers(a, b - SAMPLE_RATE)
            clips.append(x[start : start + SAMPLE_RATE] * rng.uniform(0.0, 1.0))
    return clips


def _features(wave: np.ndarray, pre: dict) -> np.ndarray:
    if pre["features"] == "logmel":
        return gsc_logmel(wave, n_fft=pre["n_fft"], hop=pre["hop"], n_mels=pre["n_mels"], fmin=pre["fmin"], fmax=pre["fmax"])
    return mfcc39(centre_pad(wave, SAMPLE_RATE))


def _preprocess(root: Path, pre: dict, index) -> dict[str, np.ndarray]:
    arrays, fits = {}, {}
    for split, (files, n_sil) in index.items():
        fix = f"re-extract {FOLDER} from the tarball"
        # one clip at a time: only the features (48 KB per clip) are kept, not the waveforms
        feats = [_features(read_audio(root / rel, fix=fix), pre) for rel, _ in files]
        feats += [_features(w, pre) for w in _silence_clips(root, split, n_sil, pre["seed"])]
        labels = [c for _, c in files] + [CLASSES.index(SILENCE)] * n_sil
        arrays[f"x_{split}"] = np.stack(feats) if feats else np.zeros((0, 1, 1), np.float32)
        arrays[f"y_{split}"] = np.asarray(labels, np.int64)
    if pre["features"] == "mfcc":  # min-max with training statistics
        fits = minmax_fit(list(arrays["x_train"]))
        for split in index:
            if len(arrays[f"x_{split}"]):
                arrays[f"x_{split}"] = minmax_apply(arrays[f"x_{split}"], *fits)
    return arrays


def preprocess_config(cfg) -> dict:
    features = str(cfg["features"])
    if features not in ("logmel", "mfcc"):
        raise ValueError(f"dataset.features must be one of logmel, mfcc; got '{features}'")
    pre = {
        "features": features,
        "n_fft": int(cfg["n_fft"]),
        "hop": int(cfg["hop"]),
        "n_mels": int(cfg["n_mels"]),
        "fmin": float(cfg["fmin"]),
        "fmax": float(cfg["fmax"]),
        "unknown_percent": float(cfg["unknown_percent"]),
        "silence_percent": float(cfg["silence_percent"]),
        "seed": int(cfg["split_seed"]),
    }
    for k in ("unknown_percent", "silence_percent"):
        if pre[k] < 0:
            raise ValueError(f"dataset.{k} must be >= 0, got {pre[k]}")
    return pre


def build(cfg, data_dir: str) -> DataSplits:
    pre = preprocess_config(cfg)
    root = ensure_present(cfg, data_dir)
    index = index_files(root, pre["unknown_percent"], pre["silence_percent"], pre["seed"])
    files = hashlib.sha256(json.dumps({s: v for s, v in index.items()}, sort_keys=True).encode()).hexdigest()[:16]
    key = {**pre, "root": str(root.resolve()), "files": files}  # a changed file list is a new entry
    a = cached_arrays(data_dir, "gsc", VERSION, key, lambda: _preprocess(root, pre, index))
    if len(a["x_train"]) == 0 or len(a["x_test"]) == 0:
        raise DataError(f"{root}: no training or no test clips found; {EXPECTED}")
    t = lambda k: torch.from_numpy(a[k])
    x_tr, y_tr = limit(t("x_train"), t("y_train"), cfg["limit_train"])
    x_te, y_te = limit(t("x_test"), t("y_test"), cfg["limit_test"])
    val = None
    if len(a["x_val"]):
        val = TensorSequenceDataset(*limit(t("x_val"), t("y_val"), cfg["limit_test"]))
    return DataSplits(
        train=TensorSequenceDataset(x_tr, y_tr),
        test=TensorSequenceDataset(x_te, y_te),
        val=val,
        n_inputs=x_tr.shape[2],
        n_classes=len(CLASSES),
        n_steps=x_tr.shape[1],
    )
