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


@pytest.fixture
def http_root(tmp_path):
    """A local HTTP server (no network) serving ``tmp_path / "served"``; yields (folder, base URL)."""
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_wrong_checksum_download_never_appears_under_its_name(http_root, tmp_path):
    import hashlib

    served, base = http_root
    (served / "f.bin").write_bytes(b"payload")
    sha = hashlib.sha256(b"payload").hexdigest()
    dest = tmp_path / "dl" / "f.bin"
    with pytest.raises(DataError) as e:
        download(base + "f.bin", dest, sha256="0" * 64)
    msg = str(e.value)
    assert "\n" not in msg and f"downloaded sha256 {sha} does not match the published {'0' * 64}" in msg
    assert msg.startswith("f.bin: ") and str(dest) in msg and base + "f.bin" in msg
    assert not dest.exists() and list(dest.parent.iterdir()) == []  # neither the file nor a temp file
    with pytest.raises(DataError, match=r"downloaded md5 .* does not match the published 0{32}"):
        download(base + "f.bin", dest, md5="0" * 32)
    assert list(dest.parent.iterdir()) == []
    assert download(base + "f.bin", dest, sha256=sha) == dest and dest.read_bytes() == b"payload"
    with pytest.raises(DataError, match=r"could not download nope.bin from .*HTTPError"):
        download(base + "nope.bin", dest.parent / "nope.bin")
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.bin"]
