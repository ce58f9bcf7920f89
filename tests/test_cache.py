"""Preprocessing cache: keyed on version and preprocessing config; corrupt entries are rebuilt."""

import numpy as np
import pytest

from srnn_bench.data import DataError
from srnn_bench.data.cache import cache_key, cached_arrays, download, verify_checksum


def test_key_changes_with_config_and_version():
    base = cache_key("shd", "v1", {"dt_ms": 4})
    assert base != cache_key("shd", "v1", {"dt_ms": 5})
    assert base != cache_key("shd", "v2", {"dt_ms": 4})
    assert base == cache_key("shd", "v1", {"dt_ms": 4})


def test_hit_miss_and_corrupt_entry_rebuilt(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(10.0)}

    a = cached_arrays(tmp_path, "toy", "v1", {"k": 1}, build)
    b = cached_arrays(tmp_path, "toy", "v1", {"k": 1}, build)
    assert len(calls) == 1 and np.array_equal(a["x"], b["x"])
    cached_arrays(tmp_path, "toy", "v1", {"k": 2}, build)
    assert len(calls) == 2
    entry = next((tmp_path / "cache" / "toy").glob(f"{cache_key('toy', 'v1', {'k': 1})}.npz"))
    entry.write_bytes(entry.read_bytes()[:20])  # truncated, as after a crash mid-write
    c = cached_arrays(tmp_path, "toy", "v1", {"k": 1}, build)
    assert len(calls) == 3 and np.array_equal(c["x"], np.arange(10.0))


def test_download_offline_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="could not download toy.bin from http://127.0.0.1:9/toy.bin") as e:
        download("http://127.0.0.1:9/toy.bin", tmp_path / "toy.bin")
    assert str(tmp_path / "toy.bin") in str(e.value)
    assert not (tmp_path / "toy.bin").exists()


def test_wrong_checksum_names_file(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    verify_checksum(p, md5="900150983cd24fb0d6963f7d28e17f72")
    with pytest.raises(DataError, match="wrong MD5"):
        verify_checksum(p, md5="0" * 32)
