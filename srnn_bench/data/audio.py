"""Audio helpers shared by the speech datasets (GSC, TIMIT, LibriSpeech): reading with integrity checks,
feature extraction (log-mel, MFCC; librosa, imported lazily), frame labels and fixed-length chunking.

Feature extraction is *dataset preprocessing* here, not an ``encoder=``: it needs the raw waveform, which
never reaches the encoder stage (encoders see the dataset's [T, B, C] tensors on the training device).
Each speech dataset therefore takes ``dataset.features`` (``logmel`` | ``mfcc``), and the features are
cached on disk with the rest of the preprocessing config (see ``cache.cached_arrays``).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .base import IGNORE_INDEX, DataError

SAMPLE_RATE = 16000


# --------------------------------------------------------------------------------------------- reading
def _riff_missing_bytes(path: Path, data: bytes) -> int:
    """Bytes the RIFF/WAVE header declares for its ``data`` chunk but the file lacks (0 if complete)."""
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"data":
            return max(0, size - (len(data) - pos - 8))
        pos += 8 + size + (size & 1)
    return 0


def _nist_missing_bytes(path: Path, data: bytes) -> int:
    """Bytes a NIST SPHERE header (TIMIT's .WAV) declares but the file lacks (0 if complete)."""
    try:
        header_len = int(data[8:16].strip())
        fields = {}
        for line in data[16:header_len].decode("ascii", "replace").splitlines():
            parts = line.split()
            if len(parts) >= 3:
                fields[parts[0]] = parts[2]
        need = int(fields["sample_count"]) * int(fields.get("sample_n_bytes", 2)) * int(fields.get("channel_count", 1))
    except (ValueError, KeyError):
        return 0  # let libsndfile judge the header
    if "shorten" in fields.get("sample_coding", ""):
        return 0  # compressed payload: size unknown from the header
    return max(0, need - (len(data) - header_len))


def read_audio(path: str | Path, expected_sr: int = SAMPLE_RATE, fix: str = "") -> np.ndarray:
    """Read a mono wav / NIST SPHERE / flac file as float32 in [-1, 1].

    Missing, unreadable, truncated (header declares more samples than the file holds — libsndfile
    would silently return the shorter signal) or wrong-sample-rate files raise :class:`DataError`
    naming the file and the fix.
    """
    import soundfile as sf

    path = Path(path)
    fix = fix or "re-extract or re-download the dataset"
    if not path.is_file():
        raise DataError(f"{path}: file not found; {fix}")
    head = path.read_bytes()
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        missing = _riff_missing_bytes(path, head)
    elif head[:7] == b"NIST_1A":
        missing = _nist_missing_bytes(path, head)
    else:
        missing = 0
    if missing:
        raise DataError(f"{path}: truncated audio file ({missing} bytes of samples missing); {fix}")
    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as e:
        raise DataError(f"{path}: unreadable or corrupt audio file ({e}); {fix}") from None
    if sr != expected_sr:
        raise DataError(f"{path}: sample rate {sr} Hz, expected {expected_sr} Hz; {fix}")
    return x.mean(axis=1) if x.shape[1] > 1 else x[:, 0]


# ---------------------------------------------------------------------------------------------- features
def centre_pad(x: np.ndarray, n: int) -> np.ndarray:
    """Centre ``x`` in ``n`` samples: zero-pad both sides (left gets the floor), or centre-crop."""
    if len(x) >= n:
        start = (len(x) - n) // 2
        return x[start : start + n]
    left = (n - len(x)) // 2
    return np.pad(x, (left, n - len(x) - left))


def gsc_logmel(
    wave: np.ndarray,
    sr: int = SAMPLE_RATE,
    n_samples: int = 16000,
    n_fft: int = 480,
    hop: int = 160,
    n_mels: int = 40,
    fmin: float = 20.0,
    fmax: float = 4000.0,
    delta_width: int = 9,
    eps: float = 1e-12,
) -> np.ndarray:
    """GSC input of Yin et al. 2021 (Methods, GSC; semantics.md §1 GSC), [frames, 3 * n_mels].

    1. ``x / max|x|``, centre-padded to ``n_samples`` (16000 = 1 s);
    2. mel power spectrogram S (n_fft 480 = 30 ms window, hop 160 = 10 ms, 40 mels in [20, 4000] Hz,
       librosa's centred frames: 1 + 16000 // 160 = 101 frames);
    3. ``L = log1p(S / max S)``; stack (L, delta L, delta^2 L) (librosa.feature.delta, width 9);
    4. divide each (channel, mel) row by its standard deviation over time ("variance of 1 across time"),
       in float64 (quiet high bands have stds ~1e-6); an all-zero row stays zero.
    Returned channel-major: column ``c * n_mels + m`` holds channel c (0 static, 1 delta, 2 delta-delta),
    mel m — the paper's "sequence of 101 frames, each a 40-by-3 matrix", flattened to 120 inputs.
    """
    import librosa

    peak = np.abs(wave).max() if wave.size else 0.0
    x = wave / peak if peak > 0 else wave
    x = centre_pad(x.astype(np.float32), n_samples)
    s = librosa.feature.melspectrogram(y=x, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin, fmax=fmax)
    smax = s.max()
    logmel = np.log1p(s / smax) if smax > 0 else np.zeros_like(s)
    d1 = librosa.feature.delta(logmel, width=delta_width, order=1)
    d2 = librosa.feature.delta(logmel, width=delta_width, order=2)
    feats = np.stack([logmel, d1, d2]).astype(np.float64)  # (3, n_mels, frames)
    feats = feats / (feats.std(axis=2, keepdims=True) + eps)
    return feats.transpose(2, 0, 1).reshape(feats.shape[2], -1).astype(np.float32)  # (frames, 3 * n_mels)


def mfcc39(
    wave: np.ndarray,
    sr: int = SAMPLE_RATE,
    win_ms: float = 25.0,
    hop_ms: float = 10.0,
    n_mfcc: int = 12,
    n_mels: int = 26,
    delta_width: int = 5,
    eps: float = 1e-10,
) -> np.ndarray:
    """Framewise speech features of Yin et al. 2021 (Methods, TIMIT; semantics.md §1 TIMIT), [frames, 39].

    Per 25 ms Hamming frame every 10 ms (no padding: frame t covers samples [t*hop, t*hop + win),
    ``1 + (N - win) // hop`` frames, Kaldi's snip-edges count): MFCC c1..c12 from a 26-band mel
    filterbank (librosa, the c0 term dropped) and the log frame energy ``log(sum_n x_n^2)``, i.e. 13
    static features, then their delta and delta-delta (librosa.feature.delta, width 5 = HTK's
    DELTAWINDOW 2) -> 39. Utterances shorter than one window give 0 frames.
    """
    import librosa

    win, hop = int(round(sr * win_ms / 1000)), int(round(sr * hop_ms / 1000))
    if len(wave) < win:
        return np.zeros((0, 3 * (n_mfcc + 1)), np.float32)
    n_fft = 1 << (win - 1).bit_length()
    frames = librosa.util.frame(np.ascontiguousarray(wave, dtype=np.float32), frame_length=win, hop_length=hop)
    windowed = frames * np.hamming(win)[:, None].astype(np.float32)  # (win, T)
    power = np.abs(np.fft.rfft(windowed, n=n_fft, axis=0)) ** 2
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sr / 2)
    logmel = np.log(mel @ power + eps)
    cep = librosa.feature.mfcc(S=logmel, n_mfcc=n_mfcc + 1)[1:]  # c1..c12 (DCT-II, ortho)
    energy = np.log((frames.astype(np.float64) ** 2).sum(axis=0) + eps)[None]
    static = np.concatenate([cep, energy]).astype(np.float32)  # (13, T)
    if static.shape[1] < delta_width:  # too short for a delta window: zero dynamics
        d1 = d2 = np.zeros_like(static)
    else:
        d1 = librosa.feature.delta(static, width=delta_width, order=1)
        d2 = librosa.feature.delta(static, width=delta_width, order=2)
    return np.concatenate([static, d1, d2]).T.astype(np.float32)  # (T, 39)


def frame_count(n_samples: int, win: int = 400, hop: int = 160) -> int:
    """Frames of :func:`mfcc39`: ``1 + (N - win) // hop`` (0 when shorter than one window)."""
    return 0 if n_samples < win else 1 + (n_samples - win) // hop


def segment_labels(segments, n_frames: int, win: int = 400, hop: int = 160) -> np.ndarray:
    """Framewise labels from (start_sample, end_sample, class) segments: frame t gets the class of
    the segment that contains its centre sample ``t * hop + win // 2``; uncovered frames get -100."""
    y = np.full(n_frames, IGNORE_INDEX, np.int64)
    centres = np.arange(n_frames) * hop + win // 2
    for start, end, c in segments:
        y[(centres >= start) & (centres < end)] = c
    return y


# ------------------------------------------------------------------------------------------ fixed length
def chunk_sequences(feats: list[np.ndarray], labels: list[np.ndarray], length: int, transform=None, dtype=np.float32):
    """Cut variable-length framewise sequences into ``length``-frame pieces (the last one of each
    utterance zero-padded, its padding labelled -100), so every item has the same T.

    ``transform`` (e.g. min-max normalisation) is applied per utterance while writing into one
    preallocated ``dtype`` array, so no second full-size float32 copy is made.
    Returns x [N, length, F], y [N, length] int64, and utt [N] (index of the source utterance).
    """
    if length <= 0:
        raise ValueError(f"dataset.max_frames must be > 0, got {length}")
    n_feat = feats[0].shape[1] if feats else 0
    n = sum(-(-len(f) // length) for f in feats)
    x = np.zeros((n, length, n_feat), dtype)
    y = np.full((n, length), IGNORE_INDEX, np.int64)
    utt = np.zeros(n, np.int64)
    i = 0
    for u, (f, lab) in enumerate(zip(feats, labels)):
        f = transform(f) if transform is not None else f
        for s in range(0, len(f), length):
            piece, plab = f[s : s + length], lab[s : s + length]
            x[i, : len(piece)], y[i, : len(plab)], utt[i] = piece, plab, u
            i += 1
    return x, y, utt


def minmax_fit(feats: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature min and max over every frame of the (training) utterances (a running reduction)."""
    frames = [f for f in feats if len(f)]
    lo = np.min([f.min(axis=0) for f in frames], axis=0)
    hi = np.max([f.max(axis=0) for f in frames], axis=0)
    return lo, hi


def minmax_apply(f: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(x - min) / (max - min)`` with training statistics (a constant feature maps to 0)."""
    span = np.where(hi > lo, hi - lo, 1.0)
    return ((f - lo) / span).astype(np.float32)
