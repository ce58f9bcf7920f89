"""Compile-on-first-use loader of the C++ kernels (``csrc/srnn_kernels.cpp``).

``torch.utils.cpp_extension.load`` builds the library with ninja and the system C++ compiler
into torch's extension cache (``$TORCH_EXTENSIONS_DIR``, default ``~/.cache/torch_extensions``)
and reuses it while the source is unchanged. The ops are registered as ``torch.ops.srnn_kernels.*``.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

SOURCE = Path(__file__).parent / "csrc" / "srnn_kernels.cpp"
# -ffp-contract=off: no fused multiply-add, so the forward is bitwise the reference's.
# -fno-trapping-math lets GCC if-convert (vectorise) the threshold and surrogate loops; -march=native
# uses the build machine's vector width. The cache entry's name carries a hash of the CPU's feature flags,
# so a home directory shared by cluster nodes of different CPUs never loads a binary built for another.
CFLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-march=native"]
# -fopenmp: the kernels split the batch between torch's intra-op threads (at::parallel_for). The library
# links libgomp.so.1, the soname of the OpenMP runtime torch itself loads, so both share one thread pool.
# Apple's clang has no -fopenmp: there the kernels run on one thread.
OPENMP = [] if sys.platform == "darwin" else ["-fopenmp"]

_lock = threading.Lock()
_state: dict = {"ops": None, "error": None}


def cpu_tag() -> str:
    """8 hex digits identifying the CPU's instruction-set features (``/proc/cpuinfo`` flags)."""
    import hashlib
    import platform

    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = next((line for line in text.splitlines() if line.startswith(("flags", "Features"))), text)
    except OSError:
        flags = platform.processor() or platform.machine()
    return hashlib.sha1(flags.encode()).hexdigest()[:8]


def source_tag() -> str:
    """8 hex digits of the kernel source and flags: differing checkouts never share a cache entry."""
    import hashlib

    return hashlib.sha1(SOURCE.read_bytes() + " ".join(CFLAGS + OPENMP).encode()).hexdigest()[:8]


def compiler_missing() -> str | None:
    """A one-line reason when no C++ compiler is on PATH (``$CXX`` or ``c++``/``g++``), else None."""
    cxx = os.environ.get("CXX", "c++")
    if shutil.which(cxx) or shutil.which("g++"):
        return None
    return f"no C++ compiler found (tried $CXX={cxx!r} and 'g++'); install g++ to use neuron.backend=fused"


def load(verbose: bool = False):
    """Build (first call) and load the kernels; return ``torch.ops.srnn_kernels``.

    Raises ``RuntimeError`` with a one-line reason when the build is impossible (no compiler,
    no ninja, compile error); the error is remembered so later calls fail fast.
    """
    with _lock:
        if _state["ops"] is not None:
            return _state["ops"]
        if _state["error"] is not None:
            raise RuntimeError(_state["error"])
        import torch

        reason = compiler_missing()
        if reason is None:
            try:
                from torch.utils.cpp_extension import load as cpp_load
                from torch.utils.cpp_extension import verify_ninja_availability

                verify_ninja_availability()
                cpp_load(
                    name=f"srnn_kernels_{cpu_tag()}_{source_tag()}",
                    sources=[str(SOURCE)],
                    extra_cflags=CFLAGS + OPENMP,
                    extra_ldflags=OPENMP,
                    is_python_module=False,
                    verbose=verbose,
                )
                _state["ops"] = torch.ops.srnn_kernels
                return _state["ops"]
            except Exception as exc:  # noqa: BLE001  (any build failure is reported as one line)
                first = str(exc).strip().splitlines()
                reason = f"building the srnn_kernels C++ extension failed: {first[0] if first else type(exc).__name__}"
        _state["error"] = reason
        raise RuntimeError(reason)


def available() -> bool:
    """Whether the C++ kernels can be used (builds them on first call)."""
    try:
        load()
        return True
    except RuntimeError:
        return False
