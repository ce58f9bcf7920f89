"""ECG wave segmentation on the QT database (Laguna et al. 1997), as in Yin et al. 2021 (ECG task).

Two sources (``dataset.source``):

``yin2021`` — the authors' encoded data set, the one behind Table 1's 85.9% (their repository
byin-cwi/Efficient-spiking-networks, ``data/QTDB_{train,test}.mat``; read with ``scipy.io.loadmat``)::

    <data_dir>/yin2021/data/QTDB_train.mat   x int16 [618, 1301, 4], y uint8 [618, 1301, 6], t, max_i
    <data_dir>/yin2021/data/QTDB_test.mat    the same for 141 test sequences

``x`` is already the level-crossing spike code (2 leads -> up/down channels, values in {0, 1} plus one -1
per sequence in channel 0; the authors feed ``x * 1.`` as the input current: ``encoder=identity``);
``y`` is one-hot per step, and an all-zero row marks an unlabelled step (8.2 % of the steps). Items:
x [1301, 4] float32, y [1301] class index with ``IGNORE_INDEX`` for unlabelled steps. What the
loss does with those (``dataset.unlabelled``): ``mask`` (default) ignores them; ``class0`` trains
them as class 0, as the authors' ``argmax`` of an all-zero row does (``DataSplits.unlabelled_class``).
Both accuracies are in every run's metrics (``srnn_bench.metrics.accuracy.per_step_accuracies``).
Absent files are downloaded from the authors' repository and checked against their SHA-256.

``physionet`` — raw QTDB records through wfdb, labelled and windowed here (below).

Layout of ``physionet`` (``wfdb.dl_database('qtdb', ...)`` or the PhysioNet zip, extracted)::

    <data_dir>/qtdb/RECORDS           record names, one a line (optional: else every *.hea)
    <data_dir>/qtdb/sel100.hea .dat .q1c   header, 2-lead 250 Hz signal, cardiologist-1 wave annotations

Items: x [1301, 2] — the two leads, each normalised per record (``normalise: zscore``: zero mean, unit
variance; ``minmax``: [0, 1]) — and y [1301] per-step wave labels. The paper's input is the
level-crossing code of this signal (``encoder=level_crossing``, L+ = L- = 0.3: 2 leads -> 4 spike
channels), applied per batch by the encoder.

Labels (Yin et al. 2021: "six characteristic waveforms P, PQ, QR, RS, ST and TP"). The q1c annotations
mark each wave as ``(`` onset, peak (``p`` P wave, ``N`` QRS/R peak, ``t`` T wave), ``)`` offset. The
fiducials P-on, P-off, QRS-on, R, QRS-off, T-off cut the cardiac cycle into the six classes

    P  = [P-on, P-off)      PQ = [P-off, QRS-on)    QR = [QRS-on, R)
    RS = [R, QRS-off)       ST = [QRS-off, T-off)   TP = [T-off, next P-on)

A span between two consecutive fiducials is labelled only when they follow each other in this cycle
(e.g. P-off then QRS-on) and are at most ``max_gap_s`` apart; every other step (missing onsets,
unannotated beats, outside the annotated region) is unlabelled (-100, masked from loss and accuracy).
The authors released only their preprocessed .mat files (Efficient-spiking-networks, ECG/), not the
segmentation script, so this labelling is our written reading of the paper.

Segmentation: each record's annotated region (first to last q1c annotation) is cut into
non-overlapping windows of ``seq_len`` = 1301 samples (5.2 s at 250 Hz); windows with fewer than
``min_labelled`` labelled steps are dropped. Records (not windows) are split into train/test with
``test_fraction`` and a fixed seed, so no beat of a test patient is seen in training.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ...utils.checks import check_choice
from ..base import IGNORE_INDEX, DataError, DataSplits, make_splits
from ..cache import cached_arrays, missing_data_message

log = logging.getLogger(__name__)

CLASSES = ("P", "PQ", "QR", "RS", "ST", "TP")
FOLDER = "qtdb"
VERSION = "qtdb-1.0.0-q1c-r1"
SOURCE = "https://physionet.org/content/qtdb/1.0.0/ (or wfdb.dl_database('qtdb', DIR))"
EXPECTED = "RECORDS and, per record, <name>.hea, <name>.dat and <name>.q1c (PhysioNet QT database 1.0.0)"
_WAVE = {"p": (0, 1), "N": (2, 4), "t": (None, 5)}
"""peak symbol -> (class starting at the onset, class starting at the offset); R itself starts RS (3)."""
_QRS = frozenset("NLRBAaJSVrFejnE/fQ?")
"""WFDB beat symbols: q1c marks most QRS peaks 'N', but any beat label is a QRS peak."""


def fiducials(samples: np.ndarray, symbols: list[str]) -> list[tuple[int, int]]:
    """(sample, class that starts there) for P-on, P-off, QRS-on, R, QRS-off and T-off, in time order.

    An onset/offset counts only when it directly brackets its peak: ``(`` right before and ``)`` right
    after the peak symbol, as the QT database writes them.
    """
    events = []
    for i, sym in enumerate(symbols):
        sym = "N" if sym in _QRS else sym
        if sym not in _WAVE:
            continue
        on_cls, off_cls = _WAVE[sym]
        if on_cls is not None and i > 0 and symbols[i - 1] == "(":
            events.append((int(samples[i - 1]), on_cls))
        if sym == "N":
            events.append((int(samples[i]), 3))
        if i + 1 < len(symbols) and symbols[i + 1] == ")":
            events.append((int(samples[i + 1]), off_cls))
    return sorted(events)


def label_steps(events: list[tuple[int, int]], n: int, max_gap: int) -> np.ndarray:
    """Per-sample labels from :func:`fiducials`: the span [s_i, s_i+1) gets class c_i when
    c_i+1 = (c_i + 1) mod 6 and s_i+1 - s_i <= max_gap; all other samples -100."""
    y = np.full(n, IGNORE_INDEX, np.int64)
    for (s0, c0), (s1, c1) in zip(events, events[1:]):
        if c1 == (c0 + 1) % len(CLASSES) and 0 < s1 - s0 <= max_gap:
            y[max(s0, 0) : min(s1, n)] = c0
    return y


def _normalise(x: np.ndarray, how: str) -> np.ndarray:
    if how == "zscore":
        return (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    lo, hi = x.min(0), x.max(0)
    return (x - lo) / np.where(hi > lo, hi - lo, 1.0)


def read_record(root: Path, name: str):
    """(signal [N, 2] physical units, fs, annotation samples, symbols); DataError names a bad file."""
    import wfdb

    base = root / name
    fix = f"delete the record's files and download it again ({SOURCE})"
    for ext in (".hea", ".dat", ".q1c"):
        if not base.with_suffix(ext).is_file():
            raise DataError(f"{base.with_suffix(ext)}: file not found; {fix}")
    try:
        rec = wfdb.rdrecord(str(base))
    except Exception as e:  # wfdb raises ValueError / HeaderSyntaxError / IndexError on bad files
        raise DataError(f"{base}.dat/.hea: unreadable or truncated record ({type(e).__name__}: {e}); {fix}") from None
    if rec.p_signal is None or rec.p_signal.shape[0] != rec.sig_len or rec.p_signal.shape[1] < 2:
        raise DataError(f"{base}.dat: expected {rec.sig_len} samples of 2 leads, got {None if rec.p_signal is None else rec.p_signal.shape}; {fix}")
    if not np.isfinite(rec.p_signal[:, :2]).all():
        raise DataError(f"{base}.dat: signal holds invalid (NaN) samples; {fix}")
    if base.with_suffix(".q1c").read_bytes()[-2:] != b"\x00\x00":  # MIT annotation files end with 0x0000
        raise DataError(f"{base}.q1c: truncated or corrupt annotation file (no end-of-file marker); {fix}")
    try:
        ann = wfdb.rdann(str(base), "q1c")
    except Exception as e:
        raise DataError(f"{base}.q1c: unreadable annotation file ({type(e).__name__}: {e}); {fix}") from None
    if len(ann.sample) == 0:
        raise DataError(f"{base}.q1c: no annotations (empty or corrupt file); {fix}")
    if np.any(np.diff(ann.sample) < 0) or ann.sample.min() < 0 or ann.sample.max() >= rec.sig_len:
        raise DataError(f"{base}.q1c: annotation times out of order or beyond the {rec.sig_len}-sample record (corrupt file); {fix}")
    return rec.p_signal[:, :2].astype(np.float64), float(rec.fs), np.asarray(ann.sample), list(ann.symbol)


def record_names(root: Path) -> list[str]:
    listing = root / "RECORDS"
    if listing.is_file():
        names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    else:
        names = sorted(p.stem for p in root.glob("*.hea"))
    return [n for n in names if (root / n).with_suffix(".q1c").is_file()]


def ensure_present(cfg, data_dir) -> Path:
    root = Path(cfg["root"] or Path(data_dir) / FOLDER).expanduser()
    if root.is_dir() and record_names(root):
        return root
    missing = missing_data_message("QT database (QTDB)", root, EXPECTED, SOURCE)
    if not cfg["download"]:
        raise DataError(missing + " (dataset.download=false)")
    try:
        import wfdb

        log.info("downloading the QT database to %s", root)
        wfdb.dl_database("qtdb", dl_dir=str(root), annotators=["q1c"])
    except Exception as e:  # network errors surface as requests/urllib/OSError subclasses
        raise DataError(f"{missing} (automatic download failed: {type(e).__name__}: {str(e)[:200]})") from None
    if not record_names(root):
        raise DataError(missing)
    return root


def _preprocess(root: Path, names: list[str], pre: dict) -> dict[str, np.ndarray]:
    xs, ys, rec_ids = [], [], []
    for r, name in enumerate(names):
        sig, fs, samples, symbols = read_record(root, name)
        x = _normalise(sig, pre["normalise"]).astype(np.float32)
        y = label_steps(fiducials(samples, symbols), len(x), int(round(pre["max_gap_s"] * fs)))
        start, stop = int(samples.min()), min(int(samples.max()) + 1, len(x))
        for s in range(start, stop - pre["seq_len"] + 1, pre["seq_len"]):
            yw = y[s : s + pre["seq_len"]]
            if (yw != IGNORE_INDEX).mean() >= pre["min_labelled"]:
                xs.append(x[s : s + pre["seq_len"]])
                ys.append(yw)
                rec_ids.append(r)
    if not xs:
        raise DataError(f"{root}: no {pre['seq_len']}-sample window with labels found in {len(names)} records; {EXPECTED}")
    return {"x": np.stack(xs), "y": np.stack(ys), "record": np.asarray(rec_ids, np.int64)}


SOURCES = ("physionet", "yin2021")
UNLABELLED = {"mask": None, "class0": 0}
"""``dataset.unlabelled`` -> the class an unlabelled step is trained as (None: masked out of the loss)."""
YIN_FOLDER = "yin2021/data"
YIN_URL = "https://raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/data/{name}"
YIN_SHA256 = {
    "QTDB_train.mat": "72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7",
    "QTDB_test.mat": "916f11e21679a5b61988305bbb7cd1e6df8b34f1ed4a157a7a4e295d400ef232",
}
"""SHA-256 of the authors' published files (byin-cwi/Efficient-spiking-networks, branch main)."""


def read_yin_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x [N, T, 4] float32, y [N, T] int64 with IGNORE_INDEX where the one-hot row is all zero) of one
    of the authors' ``QTDB_*.mat`` files; DataError names the file and what is wrong."""
    import scipy.io

    fix = f"delete it and let the loader download it again ({YIN_URL.format(name=path.name)})"
    try:
        mat = scipy.io.loadmat(str(path), variable_names=["x", "y"])
    except Exception as e:  # scipy raises ValueError / TypeError / MatReadError on a bad file
        raise DataError(f"{path}: not a readable MATLAB file ({type(e).__name__}: {str(e)[:120]}); {fix}") from None
    if "x" not in mat or "y" not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DataError(f"{path}: needs variables 'x' [N, T, 4] and 'y' [N, T, 6] (found: {found}); {fix}")
    x, y = mat["x"], mat["y"]
    if x.ndim != 3 or y.ndim != 3 or x.shape[:2] != y.shape[:2] or y.shape[2] != len(CLASSES):
        raise DataError(f"{path}: expected x [N, T, C] and y [N, T, {len(CLASSES)}] (one-hot), "
                        f"got x {list(x.shape)}, y {list(y.shape)}; {fix}")
    if not (np.isin(y, (0, 1)).all() and (y.sum(-1) <= 1).all()):
        raise DataError(f"{path}: 'y' must be one-hot per step (each row 0/1 with at most one 1); {fix}")
    labels = np.where(y.any(-1), y.argmax(-1), IGNORE_INDEX).astype(np.int64)
    return x.astype(np.float32), labels


def ensure_yin_present(cfg, data_dir) -> Path:
    """The folder holding both ``QTDB_*.mat`` files; downloads (with SHA-256 check) what is absent."""
    from ..cache import download

    root = Path(cfg["root"] or Path(data_dir) / YIN_FOLDER).expanduser()
    for name, sha in YIN_SHA256.items():
        if (root / name).is_file():
            continue
        url = YIN_URL.format(name=name)
        where = f"the authors' encoded QTDB {name} not found at {root / name}; get it from {url} (sha256 {sha[:12]}...)"
        if not cfg["download"]:
            raise DataError(f"{where} (dataset.download=false)")
        log.info("downloading %s to %s", url, root / name)
        try:
            download(url, root / name, sha256=sha, what=f"the authors' encoded QTDB {name}")
        except DataError as e:
            raise DataError(f"{where}; automatic download failed: {e}") from None
    return root


def build_yin2021(cfg, data_dir: str) -> DataSplits:
    """``dataset.source=yin2021``: the authors' 618 / 141 encoded sequences, their own train/test split."""
    root = ensure_yin_present(cfg, data_dir)
    x, y = read_yin_mat(root / "QTDB_train.mat")
    x_test, y_test = read_yin_mat(root / "QTDB_test.mat")
    if x.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{root}: QTDB_train.mat x {list(x.shape[1:])} and QTDB_test.mat x "
                        f"{list(x_test.shape[1:])} differ in [T, C]")
    x, y, x_test, y_test = (torch.from_numpy(a) for a in (x, y, x_test, y_test))
    splits = make_splits(x, y, x_test, y_test, cfg, n_classes=len(CLASSES), per_step_labels=True, binary_input=True)
    splits.unlabelled_class = UNLABELLED[str(cfg["unlabelled"])]
    return splits


def build(cfg, data_dir: str) -> DataSplits:
    source, unlabelled = str(cfg["source"]), str(cfg["unlabelled"])
    check_choice("dataset.source", source, SOURCES)
    check_choice("dataset.unlabelled", unlabelled, UNLABELLED)
    if source == "yin2021":
        return build_yin2021(cfg, data_dir)
    pre = {
        "seq_len": int(cfg["seq_len"]),
        "normalise": str(cfg["normalise"]),
        "max_gap_s": float(cfg["max_gap_s"]),
        "min_labelled": float(cfg["min_labelled"]),
    }
    if pre["normalise"] not in ("zscore", "minmax"):
        raise ValueError(f"dataset.normalise must be one of zscore, minmax; got '{pre['normalise']}'")
    if pre["seq_len"] <= 0 or pre["max_gap_s"] <= 0 or not 0 <= pre["min_labelled"] <= 1:
        raise ValueError(f"dataset.seq_len and dataset.max_gap_s must be > 0, dataset.min_labelled in [0, 1]; got {pre}")
    root = ensure_present(cfg, data_dir)
    names = record_names(root)
    key = {**pre, "root": str(root.resolve()), "records": names}
    a = cached_arrays(data_dir, "ecg", VERSION, key, lambda: _preprocess(root, names, pre))
    frac = float(cfg["test_fraction"])
    if not 0 < frac < 1:
        raise ValueError(f"dataset.test_fraction must be in (0, 1), got {frac}")
    recs = np.unique(a["record"])
    perm = np.random.default_rng(int(cfg["split_seed"])).permutation(recs)
    n_test = min(max(1, int(round(frac * len(recs)))), len(recs) - 1) if len(recs) > 1 else 0
    test_recs = set(perm[:n_test].tolist())
    is_test = np.isin(a["record"], list(test_recs))
    if n_test == 0:
        raise DataError(f"{root}: windows from only one record; need >= 2 records for a record-level train/test split")
    x, y = torch.from_numpy(a["x"]), torch.from_numpy(a["y"])
    tr, te = torch.from_numpy(~is_test), torch.from_numpy(is_test)
    splits = make_splits(x[tr], y[tr], x[te], y[te], cfg, n_classes=len(CLASSES), per_step_labels=True)
    splits.unlabelled_class = UNLABELLED[unlabelled]
    return splits
