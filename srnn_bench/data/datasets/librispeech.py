"""LibriSpeech 100 h framewise classification (Panayotov et al. 2015; Ponghiran & Roy 2022, Sec. 5).

Layout::

    <data_dir>/LibriSpeech/train-clean-100/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac
    <data_dir>/LibriSpeech/dev-clean/...   <data_dir>/LibriSpeech/test-clean/...
    <data_dir>/LibriSpeech/alignments/train-clean-100.txt[.gz]  dev-clean.txt[.gz]  test-clean.txt[.gz]

The flac folders are public (https://www.openslr.org/12; downloaded with ``dataset.download=true``
when the network allows). Frame labels are not part of LibriSpeech: Ponghiran & Roy train on Kaldi
``tri4b`` forced alignments (pytorch-kaldi, ``lab_cd`` = ``ali-to-pdf``: one context-dependent
state id per 10 ms frame). Provide them as Kaldi text archives, one utterance a line::

    103-1240-0000 0 0 0 17 17 17 ...

e.g. ``ali-to-pdf exp/tri4b/final.mdl "ark:gunzip -c exp/tri4b/ali.*.gz|" ark,t:train-clean-100.txt``
(or ``ali-to-phones --per-frame=true`` for phone labels). Frames are Kaldi's: 25 ms windows every
10 ms with snip-edges, ``1 + (N - 400) // 160`` per utterance, which is what
:func:`srnn_bench.data.audio.mfcc39` computes; an alignment off by up to ``frame_tolerance`` frames is
trimmed to the shorter, a larger mismatch is an error naming the utterance. Utterances without an
alignment line are skipped (their count is logged).

Features: 39 MFCC (12 + energy, deltas; the paper uses Kaldi fMLLR features, which need a trained
Kaldi system), min-max normalised with training statistics, stored as float16 (36 M frames x 39 would
be 5.6 GB as float32). Utterances are cut into ``max_frames`` pieces (Ponghiran's max_seq_length 1000).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import tarfile
from pathlib import Path

import numpy as np
import torch

from ..audio import chunk_sequences, frame_count, mfcc39, minmax_apply, minmax_fit, read_audio
from ..base import DataError, DataSplits, TensorSequenceDataset, limit
from ..cache import cached_arrays, download, missing_data_message

log = logging.getLogger(__name__)

VERSION = "librispeech-openslr12-r1"
SPLITS = {"train": "train-clean-100", "val": "dev-clean", "test": "test-clean"}
URL = "https://www.openslr.org/resources/12/{}.tar.gz"
ALIGN_HELP = (
    "Kaldi text alignments '<utt-id> <label per 10 ms frame> ...', one utterance a line, e.g. from "
    "ali-to-pdf exp/tri4b/final.mdl \"ark:gunzip -c exp/tri4b/ali.*.gz|\" ark,t:train-clean-100.txt "
    "(Kaldi's egs/librispeech/s5 recipe; the format pytorch-kaldi / wponghiran/imp-snns-for-sl train on)"
)


def _root(cfg, data_dir) -> Path:
    return Path(cfg["root"] or Path(data_dir) / "LibriSpeech").expanduser()


def ensure_audio(cfg, data_dir, root: Path) -> None:
    for part in SPLITS.values():
        if (root / part).is_dir():
            continue
        url = URL.format(part)
        missing = missing_data_message(f"LibriSpeech {part}", root / part, "<speaker>/<chapter>/*.flac", url)
        if not cfg["download"]:
            raise DataError(missing + " (dataset.download=false)")
        tarball = Path(data_dir) / f"{part}.tar.gz"
        try:
            if not tarball.is_file():
                download(url, tarball, what=f"{part}.tar.gz")
            tmp = Path(data_dir) / f".{part}.partial"
            with tarfile.open(tarball) as tf:
                tf.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))  # the tarball holds LibriSpeech/<part>/
            root.mkdir(parents=True, exist_ok=True)
            (tmp / "LibriSpeech" / part).replace(root / part)
        except DataError as e:
            raise DataError(f"{missing} (automatic download failed: {e})") from None
        except (tarfile.TarError, OSError, EOFError) as e:
            raise DataError(f"{tarball}: corrupt or truncated archive ({e}); delete it and download again") from None


def alignment_file(root: Path, part: str) -> Path:
    for name in (f"{part}.txt", f"{part}.txt.gz", f"{part}.ali.txt"):
        if (root / "alignments" / name).is_file():
            return root / "alignments" / name
    raise DataError(
        f"LibriSpeech frame alignments not found: expected {root / 'alignments' / (part + '.txt')} (or .txt.gz): "
        f"{ALIGN_HELP}"
    )


def read_alignments(path: Path) -> dict[str, np.ndarray]:
    opener = gzip.open if path.suffix == ".gz" else open
    out = {}
    try:
        with opener(path, "rt") as f:
            for ln, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                try:
                    out[parts[0]] = np.asarray([int(v) for v in parts[1:]], np.int64)
                except ValueError:
                    raise DataError(f"{path}:{ln}: non-integer frame label in utterance {parts[0]}; expected {ALIGN_HELP}") from None
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: unreadable alignment file ({e}); regenerate it ({ALIGN_HELP})") from None
    if not out:
        raise DataError(f"{path}: no alignments in file; expected {ALIGN_HELP}")
    return out


def _load_part(root: Path, part: str, tol: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ali = read_alignments(alignment_file(root, part))
    flacs = sorted((root / part).rglob("*.flac"))
    feats, labels, skipped = [], [], 0
    for f in flacs:
        if f.stem not in ali:
            skipped += 1
            continue
        wave = read_audio(f, fix=f"re-extract {part}.tar.gz")
        x, y = mfcc39(wave), ali[f.stem]
        if abs(len(x) - len(y)) > tol:
            raise DataError(
                f"{f}: {len(x)} feature frames (1 + (N - 400) // 160 = {frame_count(len(wave))}) but {len(y)} alignment labels; "
                "the alignment belongs to other audio or uses another frame shift — regenerate it"
            )
        n = min(len(x), len(y))
        feats.append(x[:n])
        labels.append(y[:n])
    if skipped:
        log.warning("LibriSpeech %s: %d of %d utterances have no alignment and are skipped", part, skipped, len(flacs))
    if not feats:
        raise DataError(f"{root / part}: no .flac utterance matches an alignment line; {ALIGN_HELP}")
    return feats, labels


def _preprocess(root: Path, pre: dict) -> dict[str, np.ndarray]:
    parts = {s: _load_part(root, p, pre["frame_tolerance"]) for s, p in SPLITS.items()}
    lo, hi = minmax_fit(parts["train"][0])
    out = {}
    for s, (feats, labels) in parts.items():
        norm = lambda f: minmax_apply(f, lo, hi)
        out[f"x_{s}"], out[f"y_{s}"], _ = chunk_sequences(feats, labels, pre["max_frames"], norm, np.float16)
    out["feat_min"], out["feat_max"] = lo, hi
    return out


def build(cfg, data_dir: str) -> DataSplits:
    pre = {
        "max_frames": int(cfg["max_frames"]),
        "frame_tolerance": int(cfg["frame_tolerance"]),
        "features": "mfcc39-win25-hop10-mel26-delta5",
    }
    if pre["max_frames"] <= 0 or pre["frame_tolerance"] < 0:
        raise ValueError(f"dataset.max_frames must be > 0 and dataset.frame_tolerance >= 0, got {pre}")
    root = _root(cfg, data_dir)
    ensure_audio(cfg, data_dir, root)
    ali_files = [alignment_file(root, p) for p in SPLITS.values()]
    stamp = [(str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in ali_files]
    key = {**pre, "root": str(root.resolve()), "alignments": hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]}
    a = cached_arrays(data_dir, "librispeech", VERSION, key, lambda: _preprocess(root, pre))
    labelled = np.concatenate([a[f"y_{s}"][a[f"y_{s}"] >= 0] for s in SPLITS])
    n_classes = int(cfg["n_classes"] or labelled.max() + 1)
    if labelled.max() >= n_classes:
        raise DataError(f"{root / 'alignments'}: label {labelled.max()} >= dataset.n_classes={n_classes}")
    t = lambda k: torch.from_numpy(a[k])
    x_tr, y_tr = limit(t("x_train"), t("y_train"), cfg["limit_train"])
    x_te, y_te = limit(t("x_test"), t("y_test"), cfg["limit_test"])
    return DataSplits(
        train=TensorSequenceDataset(x_tr, y_tr),
        test=TensorSequenceDataset(x_te, y_te),
        val=TensorSequenceDataset(*limit(t("x_val"), t("y_val"), cfg["limit_test"])),
        n_inputs=39,
        n_classes=n_classes,
        n_steps=pre["max_frames"],
        per_step_labels=True,
    )
