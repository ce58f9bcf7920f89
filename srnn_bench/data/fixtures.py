"""Writers of small files in the datasets' real on-disk formats (tests, memory measurement, demos).

No dataset can be downloaded on the development machines, so the tests generate tiny, format-identical
files with these writers and run the real loaders on them. Each writer documents the format it follows.
"""

from __future__ import annotations

import gzip
import os
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


# --- ECG: PhysioNet QT database (wfdb) ---

ECG_FS = 250
ECG_BEAT = 200  # samples per synthetic beat (0.8 s)
# one beat: P wave (0, 10, 20), QRS (40, 50, 60), T wave (100, 120, 140) relative to the beat start
ECG_BEAT_ANN = [(0, "("), (10, "p"), (20, ")"), (40, "("), (50, "N"), (60, ")"), (100, "("), (120, "t"), (140, ")")]


def write_qtdb_record(root, name, n=3000, first=100, beats=13, seed=0):
    """One 2-lead 250 Hz QTDB-style record (``.hea``/``.dat`` via wfdb.wrsamp) with ``.q1c`` wave boundaries
    ``(`` peak ``)`` for P, QRS and T of every synthetic beat."""
    import wfdb

    rng = np.random.default_rng(seed)
    t = np.arange(n)
    sig = np.zeros((n, 2))
    samples, symbols = [], []
    for b in range(beats):
        s0 = first + b * ECG_BEAT
        sig[:, 0] += 1.5 * np.exp(-0.5 * ((t - s0 - 50) / 3.0) ** 2) + 0.2 * np.exp(-0.5 * ((t - s0 - 10) / 5.0) ** 2)
        sig[:, 1] += 0.4 * np.exp(-0.5 * ((t - s0 - 120) / 10.0) ** 2) - 0.8 * np.exp(-0.5 * ((t - s0 - 52) / 3.0) ** 2)
        for off, sym in ECG_BEAT_ANN:
            samples.append(s0 + off)
            symbols.append(sym)
    sig += 0.01 * rng.standard_normal(sig.shape)
    wfdb.wrsamp(name, fs=ECG_FS, units=["mV", "mV"], sig_name=["MLII", "V5"], p_signal=sig, fmt=["16", "16"], write_dir=str(root))
    # wfdb.wrann only accepts letters in an extension; the file format is the same, so rename to .q1c
    wfdb.wrann(name, "qac", np.asarray(samples), symbol=symbols, write_dir=str(root))
    os.replace(root / f"{name}.qac", root / f"{name}.q1c")


def make_qtdb(root, names=("sel100", "sel102", "sel103")):
    """A ``qtdb/`` folder: a few records plus the RECORDS list."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(names):
        write_qtdb_record(root, n, seed=i)
    (root / "RECORDS").write_text("\n".join(names) + "\n")
    return root


def write_yin_qtdb(folder, n_train: int = 8, n_test: int = 4, seq_len: int = 1301, seed: int = 0) -> Path:
    """The authors' encoded QTDB layout (``QTDB_train.mat`` / ``QTDB_test.mat``, MATLAB v5, written with
    ``scipy.io.savemat``) with their variables, dtypes and shapes: ``x`` int16 [N, T, 4] spikes in {0, 1} plus
    one -1 in channel 0, ``y`` uint8 [N, T, 6] one-hot with all-zero (unlabelled) rows, ``t`` uint16 [N, T],
    ``max_i`` uint16 [N, 1]. Labels follow a wave cycle of random lengths; the spikes fire more often around
    class changes, so a network can learn something."""
    import scipy.io

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, n in (("QTDB_train.mat", n_train), ("QTDB_test.mat", n_test)):
        y = np.zeros((n, seq_len, 6), np.uint8)
        x = np.zeros((n, seq_len, 4), np.int16)
        for i in range(n):
            t, c = 0, int(rng.integers(6))
            while t < seq_len:
                d = int(rng.integers(10, 60))
                if rng.random() > 0.1:  # ~10% of the spans stay unlabelled
                    y[i, t : t + d, c] = 1
                x[i, t : t + 3, c % 4] = 1
                t, c = t + d, (c + 1) % 6
            x[i] |= (rng.random((seq_len, 4)) < 0.02).astype(np.int16)
            x[i, int(rng.integers(seq_len)), 0] = -1
        tt = np.tile(np.arange(seq_len, dtype=np.uint16), (n, 1))
        max_i = np.full((n, 1), seq_len, np.uint16)
        scipy.io.savemat(folder / name, {"x": x, "y": y, "t": tt, "max_i": max_i})
    return folder


# --- GSC: Speech Commands v1 (wav folders) ---

SR = 16000  # audio sample rate of the GSC, TIMIT and LibriSpeech fixtures


def tone(freq, n=SR, amp=0.5, sr=SR):
    """A pure tone, float32."""
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def make_gsc(root, per_word=3, unknown_words=("bed", "cat")):
    """Speech Commands v1 in the tarball layout: word folders, _background_noise_, validation_list.txt, testing_list.txt."""
    import soundfile as sf

    from .datasets.gsc import WORDS

    root = Path(root)
    rng = np.random.default_rng(0)
    val, test = [], []
    for k, w in enumerate(WORDS + unknown_words):
        (root / w).mkdir(parents=True)
        for j in range(per_word):
            name = f"{w}/{k:04x}abcd_nohash_{j}.wav"
            n = SR if j else SR * 3 // 4  # one shorter clip: centre-padded
            sf.write(root / name, tone(200 + 150 * k, n) + 0.01 * rng.standard_normal(n).astype(np.float32), SR, subtype="PCM_16")
            (val if j == 1 else test if j == 2 else []).append(name)
    (root / "_background_noise_").mkdir()
    sf.write(root / "_background_noise_" / "white_noise.wav", 0.3 * rng.standard_normal(30 * SR), SR, subtype="PCM_16")
    (root / "validation_list.txt").write_text("\n".join(val) + "\n")
    (root / "testing_list.txt").write_text("\n".join(test) + "\n")
    return root


# --- TIMIT (NIST SPHERE / RIFF + .PHN) ---

TIMIT_N = 9600  # 0.6 s -> 1 + (9600 - 400) // 160 = 58 frames
TIMIT_PHN = [(0, 1600, "h#"), (1600, 4000, "ao"), (4000, 4800, "q"), (4800, 8000, "s"), (8000, TIMIT_N, "h#")]


def timit_utterance(seed):
    """0.6 s of synthetic speech-like audio (a tone, then a noise burst)."""
    rng = np.random.default_rng(seed)
    x = 0.01 * rng.standard_normal(TIMIT_N)
    t = np.arange(TIMIT_N) / SR
    x[1600:4000] += 0.5 * np.sin(2 * np.pi * (300 + 20 * seed) * t[1600:4000])
    x[4800:8000] += 0.3 * rng.standard_normal(3200)
    return x.astype(np.float32)


def write_timit_utt(folder, name, seed, fmt="NIST"):
    """``<name>.WAV`` (NIST SPHERE or RIFF) and its ``.PHN`` phone segmentation."""
    import soundfile as sf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / f"{name}.WAV", timit_utterance(seed), SR, format=fmt, subtype="PCM_16")
    (folder / f"{name}.PHN").write_text("".join(f"{a} {b} {p}\n" for a, b, p in TIMIT_PHN))


def make_timit(root):
    """A TIMIT tree (TRAIN/TEST, dialect regions, speakers) with SA, SI and SX sentences."""
    root = Path(root)
    write_timit_utt(root / "TRAIN/DR1/FCJF0", "SI1027", 1)
    write_timit_utt(root / "TRAIN/DR1/FCJF0", "SX127", 2, fmt="WAV")  # RIFF variant of the corpus
    write_timit_utt(root / "TRAIN/DR1/FCJF0", "SA1", 3)  # dialect sentence: excluded
    write_timit_utt(root / "TRAIN/DR2/MABC0", "SI2000", 4)
    write_timit_utt(root / "TRAIN/DR2/MABC0", "SX200", 5)
    write_timit_utt(root / "TEST/DR1/MDAB0", "SI1039", 6)  # core test speaker
    write_timit_utt(root / "TEST/DR1/MDAB0", "SX139", 7)
    write_timit_utt(root / "TEST/DR1/MXYZ0", "SI1111", 8)  # not in the core test set
    return root


# --- LibriSpeech (flac + frame alignments) ---

LIBRISPEECH_PARTS = ("train-clean-100", "dev-clean", "test-clean")


def make_librispeech(root, n_utts=(3, 1, 1), gz=False, skip_alignment=None):
    """flac folders ``<part>/<spk>/<chapter>/<utt>.flac`` plus Kaldi-style text alignments per part."""
    import gzip

    import soundfile as sf

    from .audio import frame_count

    root = Path(root)
    rng = np.random.default_rng(0)
    for part, n in zip(LIBRISPEECH_PARTS, n_utts):
        lines = []
        for u in range(n):
            spk, chap = 19 + u % 2, 198
            folder = root / part / str(spk) / str(chap)
            folder.mkdir(parents=True, exist_ok=True)
            n_samples = 8000 + 1600 * u + 37
            wave = (0.3 * np.sin(2 * np.pi * 220 * (u + 1) * np.arange(n_samples) / SR) + 0.01 * rng.standard_normal(n_samples))
            utt = f"{spk}-{chap}-{u:04d}"
            sf.write(folder / f"{utt}.flac", wave.astype(np.float32), SR)
            labels = (np.arange(frame_count(n_samples)) // 10) % 5  # a new "state" every 10 frames
            if utt != skip_alignment:
                lines.append(utt + " " + " ".join(map(str, labels)))
        (root / "alignments").mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        if gz:
            with gzip.open(root / "alignments" / f"{part}.txt.gz", "wt") as f:
                f.write(text)
        else:
            (root / "alignments" / f"{part}.txt").write_text(text)
    return root


# --- one call per dataset: a tiny, format-identical copy under a data directory ---

def make_fixture(dataset: str, data_dir) -> Path:
    """Write a tiny copy of ``dataset`` (a ``dataset=`` config name) in its real on-disk layout under
    ``data_dir`` — what ``make reproduce-* SMOKE=1`` trains on to prove the pipeline end to end."""
    root = Path(data_dir)
    if dataset in ("shd", "ssc"):
        splits = (("train", 16), ("test", 8)) if dataset == "shd" else (("train", 16), ("valid", 8), ("test", 8))
        for i, (split, n) in enumerate(splits):
            path = root / dataset.upper() / f"{dataset}_{split}.h5"
            if not path.exists():
                random_hsd(path, n, n_classes=20 if dataset == "shd" else 35, seed=i)
        return root / dataset.upper()
    if dataset in ("mnist", "smnist", "psmnist"):
        return random_mnist(root / "MNIST" / "raw", n_train=32, n_test=16)
    if dataset == "fmnist":
        return random_mnist(root / "FashionMNIST" / "raw", n_train=32, n_test=16)
    if dataset == "nmnist":
        return random_nmnist(root / "NMNIST", n_per_class=1)
    if dataset == "soli":
        return random_soli(root / "SoLi")
    if dataset == "ecg_yin2021":
        target = root / "yin2021" / "data"
        return target if (target / "QTDB_test.mat").exists() else write_yin_qtdb(target)
    if dataset == "ecg":
        return (root / "qtdb") if (root / "qtdb" / "RECORDS").exists() else make_qtdb(root / "qtdb", names=[f"sel{100 + i}" for i in range(6)])
    if dataset == "gsc":
        target = root / "speech_commands_v0.01"
        return target if (target / "testing_list.txt").exists() else make_gsc(target, per_word=3)
    if dataset == "timit":
        return make_timit(root / "TIMIT")
    if dataset == "librispeech":
        return make_librispeech(root / "LibriSpeech")
    raise ValueError(f"no fixture for dataset '{dataset}'")
