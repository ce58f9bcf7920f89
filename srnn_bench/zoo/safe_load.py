"""Load checkpoints saved by other people's scripts without executing anything from the file.

Yin et al. published whole pickled ``nn.Module`` objects (``torch.save(model)``) whose classes live in their
scripts (``__main__.RNN_custom``, ``SRNN_layers.spike_rnn.spike_rnn``, ...). Unpickling them normally imports
and runs those classes. Here every file goes through PyTorch's own restricted unpickler
(``torch.load(weights_only=True)``), which rebuilds tensors and plain containers only; the authors' classes
(and ``torch.nn`` modules, which need no behaviour to read their state) are mapped to inert
:class:`ModuleRecord` classes created here, so their pickled state becomes a tree of dicts. Before loading,
the file's pickle opcodes are scanned and any global outside :data:`RECORD_PREFIXES` and PyTorch's own
allowlist (``os.system``, ``builtins.eval``, ...) makes the load fail with one line; nothing from the file
runs, and ``weights_only=False`` is never used.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch

# Modules whose classes become inert records (the authors' scripts, their layer package, torch.nn modules).
RECORD_PREFIXES = ("__main__.", "SRNN_layers.", "torch.nn.modules.")
# GLOBAL names torch's weights-only unpickler rebuilds itself (tensors, storages, containers).
_TORCH_ALLOWED = None


class UnsafeCheckpointError(ValueError):
    """The file names a global that is neither a tensor/container builder nor a module class."""


class ModuleRecord:
    """Inert stand-in for a pickled object of class :attr:`source_class`: keeps its state, runs nothing."""

    source_class = "?"

    def __init__(self, *args, **kwargs) -> None:  # REDUCE / NEWOBJ may pass arguments: ignore them
        pass

    def __setstate__(self, state) -> None:
        self.__dict__["_state"] = state if isinstance(state, dict) else {"_state": state}

    @property
    def state(self) -> dict:
        return self.__dict__.get("_state", {})

    def __repr__(self) -> str:
        return f"<record of {self.source_class}>"


def _record_class(full_name: str) -> type:
    return type(full_name.rsplit(".", 1)[-1], (ModuleRecord,), {"source_class": full_name})


@dataclass
class AuthorsCheckpoint:
    """What a checkpoint holds, read safely.

    state:   flat ``name -> tensor`` as ``module.state_dict()`` would name it (parameters and buffers of the
             whole module tree), or the file's own state_dict when it is one.
    attrs:   other tensors and plain values stored on the modules (``mem``, ``b``, ``thr``, sizes ...),
             flat ``name -> value`` (e.g. ``"dense_1.mem"``): the last batch's neuron state lives here.
    classes: ``module path -> source class`` for every record (``"" -> "__main__.RNN_custom"``).
    """

    path: Path
    state: dict[str, torch.Tensor]
    attrs: dict[str, object] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)

    @property
    def root_class(self) -> str | None:
        return self.classes.get("")


def _torch_allowed() -> set[str]:
    global _TORCH_ALLOWED
    if _TORCH_ALLOWED is None:
        from torch import _weights_only_unpickler as wou

        _TORCH_ALLOWED = set(wou._get_allowed_globals())
    return _TORCH_ALLOWED


def _pickle_streams(path: Path) -> Iterator[bytes]:
    """The pickle byte streams of a torch file: ``*/data.pkl`` of the zip format, or the legacy format's
    consecutive pickles (magic number, protocol, system info, object; raw storage bytes follow them)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith("data.pkl"):
                    yield zf.read(name)
        return
    data = path.read_bytes()
    buf = io.BytesIO(data)
    for _ in range(4):  # the fifth pickle (storage keys) names no globals; raw bytes follow it
        start = buf.tell()
        for _op in pickletools.genops(buf):
            pass
        yield data[start:buf.tell()]


def _globals_in(stream: bytes) -> set[str]:
    """Every global a pickle stream imports: GLOBAL, and STACK_GLOBAL with the two strings on the stack
    (pushed literally or fetched from the memo). An operand that cannot be resolved is refused."""
    found, stack, memo = set(), [], {}
    for op, arg, _pos in pickletools.genops(stream):
        name = op.name
        if name == "GLOBAL":
            found.add(str(arg).replace(" ", "."))
        elif name == "STACK_GLOBAL":
            mod, qual = (stack[-2], stack[-1]) if len(stack) >= 2 else (None, None)
            if not (isinstance(mod, str) and isinstance(qual, str)):
                raise UnsafeCheckpointError("a STACK_GLOBAL whose module and name are not literal strings")
            found.add(f"{mod}.{qual}")
        if name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = stack[-1] if stack else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(int(arg)))
        elif isinstance(arg, str) and name.endswith(("UNICODE", "STRING", "UNICODE8")):
            stack.append(arg)
        elif name not in ("PROTO", "FRAME"):
            stack.append(None)  # anything else: a value we do not track (only the top two strings matter)
    return found


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def _py3_name(full: str) -> str:
    """The name pickle's ``fix_imports`` gives a Python 2 global (``__builtin__.set`` -> ``builtins.set``)."""
    import _compat_pickle

    mod, _, qual = full.rpartition(".")
    if (mod, qual) in _compat_pickle.NAME_MAPPING:
        mod, qual = _compat_pickle.NAME_MAPPING[(mod, qual)]
    elif mod in _compat_pickle.IMPORT_MAPPING:
        mod = _compat_pickle.IMPORT_MAPPING[mod]
    return f"{mod}.{qual}"


def scan_globals(path: str | Path) -> set[str]:
    """The globals a torch file would import when loaded. Raises :class:`UnsafeCheckpointError` (one line)
    if any is neither rebuilt by torch's weights-only unpickler nor a class of :data:`RECORD_PREFIXES`."""
    path = Path(path)
    try:
        names = set().union(*(_globals_in(s) for s in _pickle_streams(path)))
    except UnsafeCheckpointError as e:
        raise UnsafeCheckpointError(f"{path}: refused: {e}") from None
    except Exception as e:  # noqa: BLE001 - truncated / not a pickle: one line
        raise UnsafeCheckpointError(f"{path}: not a readable torch checkpoint ({type(e).__name__}: {_first_line(e)})") from None
    names = {_py3_name(n) for n in names}
    bad = sorted(n for n in names if n not in _torch_allowed() and not n.startswith(RECORD_PREFIXES))
    if bad:
        raise UnsafeCheckpointError(
            f"{path}: refused: the file would import {', '.join(bad)} (only tensors, containers and module "
            f"classes of {', '.join(p.rstrip('.') for p in RECORD_PREFIXES)} are read)"
        )
    return names


def load_authors_checkpoint(path: str | Path) -> AuthorsCheckpoint:
    """Read a checkpoint saved by the authors' scripts (whole module or state_dict, zip or legacy format)
    without running code from it; tensors are mapped to the CPU."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    names = scan_globals(path)
    try:
        obj = _load_zip(path, names) if zipfile.is_zipfile(path) else _load_legacy(path)
    except UnsafeCheckpointError as e:
        raise UnsafeCheckpointError(str(e) if str(path) in str(e) else f"{path}: {e}") from None
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise UnsafeCheckpointError(f"{path}: refused by the restricted unpickler: {first}") from None
    except Exception as e:  # noqa: BLE001 - any other failure of a damaged file: one line
        raise UnsafeCheckpointError(f"{path}: not a readable torch checkpoint ({type(e).__name__}: {_first_line(e)})") from None
    ckpt = AuthorsCheckpoint(path=path, state={})
    if isinstance(obj, ModuleRecord):
        _flatten(obj, "", ckpt)
    elif isinstance(obj, Mapping) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        ckpt.state = {str(k): v for k, v in obj.items()}
    elif isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        ckpt.state = {str(k): v for k, v in obj["state_dict"].items() if isinstance(v, torch.Tensor)}
        ckpt.attrs = {str(k): v for k, v in obj.items() if k != "state_dict"}
    else:
        raise UnsafeCheckpointError(f"{path}: holds a {type(obj).__name__}, neither a module nor a state_dict")
    return ckpt


def _load_zip(path: Path, names: set[str]):
    """Zip format: torch's own weights-only unpickler, with the record classes allowlisted by name."""
    records = [(_record_class(n), n) for n in sorted(names) if n.startswith(RECORD_PREFIXES)]
    with torch.serialization.safe_globals(records):
        return torch.load(path, map_location="cpu", weights_only=True)


class _RestrictedUnpickler(pickle._Unpickler):
    """Resolves only torch's weights-only allowlist and :data:`RECORD_PREFIXES` (as records), and BUILDs
    (sets state on) only records, tensors and ordered dicts, as torch's weights-only unpickler does: a
    plain unpickler would let ``BUILD`` set attributes on an allowlisted *class* (``collections.Counter``)
    for the whole process. The pure-Python unpickler is used because its opcode table can be restricted;
    the object pickle is small (tensor data are raw bytes after it)."""

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, persistent_load=None) -> None:
        super().__init__(file)
        self._pload = persistent_load

    def load_build(self) -> None:
        inst = self.stack[-2]
        if isinstance(inst, type) or not isinstance(inst, (ModuleRecord, torch.Tensor, dict)):
            raise UnsafeCheckpointError(f"refused: the file sets the state of a {type(inst).__name__} "
                                        f"{getattr(inst, '__name__', '')}".rstrip())
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module: str, name: str):
        full = _py3_name(f"{module}.{name}")
        if full.startswith(RECORD_PREFIXES):
            return _record_class(full)
        allowed = _torch_allowed_map()
        if full in allowed:
            return allowed[full]
        raise UnsafeCheckpointError(f"refused: the file would import {full}")

    def persistent_load(self, pid):
        if self._pload is None:
            raise pickle.UnpicklingError("unexpected persistent id")
        return self._pload(pid)


def _load_legacy(path: Path):
    """The pre-1.6 torch format: four small pickles, the object pickle (storages as persistent ids
    ``("storage", type, key, location, numel, view)``, module classes as ``("module", cls, file, source)``,
    whose source is ignored), the list of storage keys, then each storage's raw bytes (int64 count + data)."""
    storages: dict[str, torch.Tensor] = {}

    def pload(pid):
        kind = pid[0]
        if kind == "module":
            return pid[1]  # the class, already mapped to a record by find_class; the source text is not read
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id kind {kind!r}")
        storage_type, key, _location, numel, view = pid[1:]
        if view is not None:
            raise UnsafeCheckpointError("storage views of the legacy format are not supported")
        dtype = storage_type.dtype if hasattr(storage_type, "dtype") else storage_type(0).dtype
        if key not in storages:
            storages[key] = torch.empty(int(numel), dtype=dtype)
        return torch.TypedStorage(wrap_storage=storages[key].untyped_storage(), dtype=dtype, _internal=True)

    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            _RestrictedUnpickler(f).load()
        obj = _RestrictedUnpickler(f, pload).load()
        keys = _RestrictedUnpickler(f).load()
        for key in keys:
            t = storages[key]
            count = int.from_bytes(f.read(8), "little")
            nbytes = count * t.element_size()
            data = f.read(nbytes)
            if count != t.numel() or len(data) != nbytes:
                raise UnsafeCheckpointError(f"storage {key} is truncated or mis-sized")
            t.copy_(torch.frombuffer(bytearray(data), dtype=t.dtype))
    return obj


def _torch_allowed_map() -> dict:
    from torch import _weights_only_unpickler as wou

    return wou._get_allowed_globals()


def _flatten(rec: ModuleRecord, prefix: str, out: AuthorsCheckpoint) -> None:
    out.classes[prefix.rstrip(".")] = rec.source_class
    st = rec.state
    for group in ("_parameters", "_buffers"):
        for k, v in (st.get(group) or {}).items():
            if isinstance(v, torch.Tensor):
                out.state[prefix + k] = v.detach()
    for k, sub in (st.get("_modules") or {}).items():
        if isinstance(sub, ModuleRecord):
            _flatten(sub, f"{prefix}{k}.", out)
    for k, v in st.items():
        if k.startswith("_") or k == "training":
            continue
        if isinstance(v, ModuleRecord):  # a module kept as a plain attribute
            _flatten(v, f"{prefix}{k}.", out)
        elif isinstance(v, torch.Tensor):
            out.attrs[prefix + k] = v.detach()
        elif isinstance(v, (int, float, str, bool, type(None), list, tuple)):
            out.attrs[prefix + k] = v
