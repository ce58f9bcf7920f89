"""Fast whole-sequence kernels for the SRNN layers: the ``neuron.backend`` choice.

``reference``  the per-step loop of :class:`srnn_bench.models.layers.SpikingLayer` over the pure
               step functions (plain autograd; kept for checking).
``fused``      one autograd op per layer and sequence with a hand-written BPTT backward, the
               elementwise update fused in C++ (compiled on first use, cached; batch rows split between
               torch's threads), event-driven recurrent products, a CSR projection for sparse inputs
               (:mod:`srnn_bench.kernels.scan`).
               Same numbers as ``reference`` (tests/unit/test_kernels.py). On CUDA tensors the same ops
               are Triton kernels (:mod:`srnn_bench.kernels.triton_scan`; tested only in Triton's
               CPU interpreter, tests/unit/test_triton_kernels.py). float32/float64 only: on other
               devices or dtypes, without a C++ compiler (CPU) or triton (CUDA), or for layers wider
               than ``triton_scan.MAX_N_REC`` / ``MAX_N_DENSE`` (CUDA), the layer falls back to the
               reference loop (one warning).
"""

from __future__ import annotations

BACKENDS = ("reference", "fused")
"""The values of ``neuron.backend``. A cell lists the ones it has in ``supported_backends`` (default
``("reference",)``); :class:`srnn_bench.models.layers.SpikingLayer` picks its time loop once from them."""


__all__ = ["BACKENDS"]
