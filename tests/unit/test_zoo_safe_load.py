"""srnn_bench.zoo.safe_load: the 8 published files load; files that would run code are refused and
nothing runs; damaged files stop with one line."""

from __future__ import annotations

import io
import os
import pickle
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from srnn_bench.zoo import registry, safe_load
from srnn_bench.zoo.safe_load import UnsafeCheckpointError, load_authors_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SRNN_BENCH_DATA") or ROOT.parent / "shared" / "data")


def _published():
    return [pytest.param(e, id=e.name) for e in registry.ENTRIES]


@pytest.mark.parametrize("e", _published())
def test_every_published_file_loads(e):
    path = e.local_path(SHARED)
    if not path.is_file():
        pytest.skip(f"{path} absent (the shared data copy is not next to the repository; set SRNN_BENCH_DATA)")
    ckpt = load_authors_checkpoint(path)
    assert all(isinstance(v, torch.Tensor) for v in ckpt.state.values()) and len(ckpt.state) >= 10
    if e.name == "ecg_0.8589":  # a plain state_dict
        assert ckpt.root_class is None and not ckpt.attrs
    else:
        assert ckpt.root_class.startswith("__main__.")
        # the last batch's neuron state is kept as stored: its batch size is the test-set remainder that
        # the golden README uses to tell which script saved the file
        remainder = {"shd_90.7": 24, "shd_87.41": 164, "ssc_74.19": 30, "gsc_0.91398": 9, "psmnist_94.73": 400}
        if e.name in remainder:
            sizes = {v.shape[0] for v in ckpt.attrs.values() if isinstance(v, torch.Tensor) and v.ndim == 2}
            assert remainder[e.name] in sizes, sizes
    if e.name == "gsc_0.91398":  # the NaN neuron is read as stored
        w = next(v for k, v in ckpt.state.items() if v.ndim == 2 and v.shape[0] == 300 and v.shape[1] == 120)
        assert torch.isnan(w[172]).all() and torch.isfinite(w[171]).all()
    if e.name == "timit_0.66292":  # and the negative adaptation time constant
        assert (ckpt.state["rnn_fw1.tau_adp"] < 0).sum() == 1


# -- malicious files ----------------------------------------------------------------------------------
class _Evil:
    """Unpickling it would run ``os.system("touch MARKER")``."""

    marker: Path

    def __init__(self, marker: Path) -> None:
        self.marker_path = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker_path}",))


class Net:
    """Pickled as ``__main__.Net`` (the authors' classes live in ``__main__``): a module record."""

    def __init__(self, payload) -> None:
        self.weight = torch.ones(2)
        self._modules = {"inner": payload}


@pytest.fixture
def as_main(monkeypatch):
    monkeypatch.setattr(Net, "__module__", "__main__")
    monkeypatch.setattr(sys.modules["__main__"], "Net", Net, raising=False)


def _save(obj, path: Path, legacy: bool) -> Path:
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def _stack_global_pickle(marker: Path, via_memo: bool) -> bytes:
    """Protocol 4 ``posix.system("touch marker")`` through STACK_GLOBAL; ``via_memo``: the module name
    is fetched from the memo (BINGET), not pushed where STACK_GLOBAL reads it."""
    s = lambda t: b"\x8c" + bytes([len(t)]) + t.encode()  # SHORT_BINUNICODE
    mod = os.system.__module__
    head = s(mod) + b"\x94" + b"0" + b"h\x00" if via_memo else s(mod)  # MEMOIZE, POP, BINGET 0
    return b"\x80\x04" + head + s("system") + b"\x93" + s(f"touch {marker}") + b"\x85" + b"R" + b"."


def _zip_with(data_pkl: bytes, path: Path) -> Path:
    torch.save({"w": torch.zeros(1)}, path)
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    name = next(n for n in items if n.endswith("data.pkl"))
    items[name] = data_pkl
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in items.items():
            zf.writestr(n, b)
    return path


def _cases(tmp: Path, marker: Path) -> dict[str, Path]:
    return {
        "zip reduce": _save({"w": torch.zeros(1), "x": _Evil(marker)}, tmp / "zip.pth", legacy=False),
        "legacy reduce": _save({"w": torch.zeros(1), "x": _Evil(marker)}, tmp / "legacy.pth", legacy=True),
        "zip stack_global": _zip_with(_stack_global_pickle(marker, False), tmp / "sg.pth"),
        "zip stack_global memo": _zip_with(_stack_global_pickle(marker, True), tmp / "sgm.pth"),
        "zip nested in module": _save(Net(_Evil(marker)), tmp / "nested_zip.pth", legacy=False),
        "legacy nested in module": _save(Net(_Evil(marker)), tmp / "nested_legacy.pth", legacy=True),
    }


def test_the_crafted_payloads_really_run_code_when_unpickled_plainly(tmp_path, as_main):
    """Control: the payloads are live (so the refusals below mean something)."""
    marker = tmp_path / "control"
    pickle.loads(_stack_global_pickle(marker, via_memo=True))
    assert marker.exists()
    marker.unlink()
    torch.load(_cases(tmp_path, marker)["legacy nested in module"], weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("case", ["zip reduce", "legacy reduce", "zip stack_global", "zip stack_global memo",
                                  "zip nested in module", "legacy nested in module"])
def test_malicious_files_are_refused_and_nothing_runs(tmp_path, as_main, case):
    marker = tmp_path / "PWNED"
    path = _cases(tmp_path, marker)[case]
    with pytest.raises(UnsafeCheckpointError) as err:
        load_authors_checkpoint(path)
    msg = str(err.value)
    assert "\n" not in msg and "refused" in msg and str(path) in msg
    assert "system" in msg or "not literal" in msg
    assert not marker.exists()


@pytest.mark.parametrize("case", ["zip reduce", "legacy reduce", "legacy nested in module", "zip nested in module"])
def test_the_unpickler_refuses_even_without_the_opcode_scan(tmp_path, as_main, monkeypatch, case):
    """Second line of defence: with the pre-load scan disabled, the restricted unpicklers still refuse."""
    marker = tmp_path / "PWNED"
    path = _cases(tmp_path, marker)[case]
    monkeypatch.setattr(safe_load, "scan_globals", lambda p: {"__main__.Net"})
    with pytest.raises(UnsafeCheckpointError):
        load_authors_checkpoint(path)
    assert not marker.exists()


def test_legacy_build_cannot_patch_an_allowlisted_class():
    import collections

    # BUILD with slot state on the class collections.Counter: a plain unpickler would setattr on it
    payload = b"\x80\x02ccollections\nCounter\nq\x00N}q\x01X\x09\x00\x00\x00zoo_pwnedq\x02K\x01s\x86q\x03b."
    with pytest.raises(UnsafeCheckpointError, match="sets the state of a type Counter"):
        safe_load._RestrictedUnpickler(io.BytesIO(payload)).load()
    assert not hasattr(collections.Counter, "zoo_pwned")


# -- damaged files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("cut", [0.5, 0.98])
def test_truncated_files_stop_with_one_line(tmp_path, legacy, cut):
    good = _save({"w": torch.arange(1000.0), "b": torch.ones(3)}, tmp_path / "good.pth", legacy)
    assert torch.equal(load_authors_checkpoint(good).state["w"], torch.arange(1000.0))
    data = good.read_bytes()
    bad = tmp_path / "bad.pth"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(UnsafeCheckpointError) as err:
        load_authors_checkpoint(bad)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", os.urandom(4096)], ids=["empty", "text", "random"])
def test_garbage_stops_with_one_line(tmp_path, content):
    bad = tmp_path / "x.pth"
    bad.write_bytes(content)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_authors_checkpoint(bad)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        load_authors_checkpoint(tmp_path / "nope.pth")
