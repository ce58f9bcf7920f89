"""On-disk cache of preprocessed arrays, and the download / missing-data path shared by all datasets
(:func:`download` also fetches the zoo's published checkpoints).

Cache entries live under ``<data_dir>/cache/<dataset>/<key>.npz`` where ``key`` hashes the dataset
name, the dataset *version* string and the *full* preprocessing config: a changed encoder or
preprocessing setting never reuses a stale entry. Entries are written atomically (temp file, then
rename) with a SHA-256 of their content in a ``.sha256`` side file; an entry whose hash does not
match (half-written, truncated, bit rot) is deleted and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..utils.io import atomic_save_npz, atomic_write, atomic_write_text
from .base import DataError

log = logging.getLogger(__name__)


def cache_key(dataset: str, version: str, preprocess: Mapping) -> str:
    blob = json.dumps({"dataset": dataset, "version": version, "preprocess": preprocess}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_digest(path: str | Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file's content (``sha256``, ``md5``, ...), read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def sha256_file(path: str | Path) -> str:
    return file_digest(path, "sha256")


def md5_file(path: str | Path) -> str:
    return file_digest(path, "md5")


def cached_arrays(
    data_dir: str | Path,
    dataset: str,
    version: str,
    preprocess: Mapping,
    build: Callable[[], dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Return ``build()``'s arrays, from a verified cache entry when one exists.

    ``preprocess`` must contain every setting that changes the arrays (it is part of the key and is
    stored next to the entry as ``<key>.json`` for humans).
    """
    root = Path(data_dir) / "cache" / dataset
    key = cache_key(dataset, version, preprocess)
    path, digest = root / f"{key}.npz", root / f"{key}.sha256"
    if path.exists():
        if digest.exists() and digest.read_text().strip() == sha256_file(path):
            try:
                with np.load(path, allow_pickle=False) as f:
                    return {k: f[k] for k in f.files}
            except (OSError, ValueError, EOFError) as e:
                log.warning("cache entry %s unreadable (%s); rebuilding", path, e)
        else:
            log.warning("cache entry %s failed its checksum (half-written or corrupt); rebuilding", path)
        path.unlink(missing_ok=True)
        digest.unlink(missing_ok=True)
    arrays = build()
    atomic_save_npz(path, arrays)
    atomic_write_text(digest, sha256_file(path) + "\n")
    atomic_write_text(root / f"{key}.json", json.dumps({"dataset": dataset, "version": version, "preprocess": preprocess}, indent=2, sort_keys=True, default=str))
    return arrays


def missing_data_message(dataset: str, expected: str | Path, layout: str, source: str) -> str:
    """The one message a user sees when a dataset is absent: what, where to put it, where to get it."""
    return (
        f"{dataset} not found: expected {expected} ({layout}). "
        f"Get it from {source} and place it there, or set paths.data_dir=DIR (env SRNN_BENCH_DATA)."
    )


def download(url: str, dest: str | Path, *, md5: str | None = None, sha256: str | None = None, what: str = "",
             timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically, checksum verified before the rename: a failed or corrupt
    download never appears under ``dest`` (the project's one checked downloader; the zoo's too).

    Raises :class:`DataError` with one line (what failed, the URL, where to put the file by hand)
    instead of a raw urllib traceback when the network is unavailable or the checksum is wrong.
    """
    dest = Path(dest)
    name = what or dest.name

    def fetch(tmp: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f, 1 << 20)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            reason = (str(getattr(e, "reason", e)).splitlines() or [""])[0]
            raise DataError(f"could not download {name} from {url} ({type(e).__name__}: {reason}); "
                            f"download it by hand and place it at {dest}") from None
        if wrong := checksum_mismatch(tmp, md5=md5, sha256=sha256):
            algorithm, got, expected = wrong
            raise DataError(f"{name}: wrong {_NAMES[algorithm]} (downloaded {algorithm} {got} does not match the "
                            f"published {expected}): corrupt or a different version, nothing was saved at {dest}; "
                            f"fetch it again, or get it from {url} and place it there")

    return atomic_write(dest, fetch, suffix=dest.suffix)


_NAMES = {"md5": "MD5", "sha256": "SHA-256"}


def checksum_mismatch(
    path: str | Path, *, md5: str | None = None, sha256: str | None = None
) -> tuple[str, str, str] | None:
    """``(algorithm, got, expected)`` of the first given checksum that ``path`` fails, else ``None``."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected and (got := file_digest(path, algorithm)) != expected:
            return algorithm, got, expected
    return None


def verify_checksum(path: str | Path, *, md5: str | None = None, sha256: str | None = None) -> None:
    """Raise :class:`DataError` naming the file if its checksum differs from the published one."""
    if wrong := checksum_mismatch(path, md5=md5, sha256=sha256):
        algorithm, got, expected = wrong
        raise DataError(f"{path}: wrong {_NAMES[algorithm]} {got} (expected {expected}); the file is corrupt or a "
                        "different version — delete it and fetch again")
