"""Whole-sequence autograd ops with hand-written BPTT backwards (the ``fused`` backend).

Each op runs one layer over all T steps in one C++ call (``csrc/srnn_kernels.cpp``) and is one
node in the autograd graph, instead of ~10 nodes per step. What the backward keeps:

* ALIF: the spikes (the float tensor that is the layer's output and the next layer's input, so it
  is shared with that layer's weight gradient and costs nothing extra) and the total input current
  ``i_t`` (written over the layer's own input projection). ``u_t``, ``b_t`` and ``theta_t`` are
  recomputed in the backward from the spikes and currents, bitwise as in the forward, block by
  block from the states the forward kept before every block of ~sqrt(T) steps (O(sqrt(T) B N)
  extra memory). The naive loop keeps about eight [B, N] float tensors per step.
* integrator: ``u_t`` (its output) and the projected input.
* sparse input projection: the input as CSR (int32 indices) instead of the dense [T, B, F] tensor.

The BPTT recurrences (derived from Yin et al. 2021 eqs 5-8; ``x_t = u_t - theta_t``):

    dL/dx_t     = (g_s_t + dL/ds_t|future) * surrogate'(x_t)
    dL/du_t     = alpha * dL/du_{t+1} + dL/dx_t (+ grad of the recorded membrane)
    dL/dtheta_t = -dL/dx_t - dL/du_t * s_{t-1} * dt
    dL/db_t     = rho * dL/db_{t+1} + beta * dL/dtheta_t
    dL/di_t     = (1 - alpha) * dL/du_t
    dL/ds_{t-1} = (1 - rho) * dL/db_t - dL/du_t * theta_t * dt + dL/di_t W_rec
    dL/dalpha   = sum_t dL/du_t (u_{t-1} - i_t),   dL/drho = sum_t dL/db_t (b_{t-1} - s_{t-1})
    dL/dW_rec   = sum_t dL/di_t^T s_{t-1}

``alpha = exp(-dt/tau_m)`` and ``rho = exp(-dt/tau_adp)`` are computed by ordinary autograd outside
the op, so the gradients w.r.t. ``tau_m`` / ``tau_adp`` follow the reference's chain exactly.
"""

from __future__ import annotations

import torch

from .. import surrogates as S
from ._build import load

# surrogate class -> (C++ kind, parameter names); unknown classes use their Python ``derivative``.
_SURROGATE_KINDS: dict[type, tuple[int, tuple[str, ...]]] = {
    S.MultiGaussian: (1, ("gamma", "sigma", "h", "s")),
    S.Gaussian: (2, ("gamma", "sigma")),
    S.Linear: (3, ("gamma", "alpha")),
    S.SLayer: (4, ("gamma", "alpha")),
    S.ATan: (5, ("gamma", "alpha")),
    S.FastSigmoid: (6, ("gamma", "slope")),
    S.StraightThrough: (7, ("gamma", "width")),
}


def surrogate_kind(surrogate: S.Surrogate) -> tuple[int, list[float]]:
    """``(kind, params)`` of the compiled derivative, or ``(0, [])`` for the Python ``derivative``."""
    entry = _SURROGATE_KINDS.get(type(surrogate))  # exact type: a subclass may override derivative
    if entry is None:
        return 0, []
    kind, names = entry
    return kind, [float(getattr(surrogate, n)) for n in names]


class ALIFScan(torch.autograd.Function):
    """ALIF layer over a sequence: ``(iff, w_rec, alpha, rho, u0, b0, s0) -> (spikes, u or None, u_T, b_T)``.

    ``iff_scratch``: the caller owns ``iff`` and nothing else reads it (a fresh projection whose autograd
    node keeps only its inputs), so the total current ``i_t`` is written over it. ``keep_u``: return
    the membrane of every step (``record_membrane``); otherwise only ``u_T`` is kept.
    """

    @staticmethod
    def forward(ctx, iff, w_rec, alpha, rho, u0, b0, s0, b_j0, beta, dt, surrogate, iff_scratch=False, keep_u=True):
        ops = load()
        out, u_all, i_all, u_last, b_last, ck_u, ck_b = ops.alif_forward(
            iff, w_rec, alpha, rho, u0, b0, s0, b_j0, beta, dt, iff_scratch, keep_u
        )  # fmt: skip
        ctx.save_for_backward(out, i_all, s0, ck_u, ck_b, w_rec, alpha, rho)
        ctx.consts = (b_j0, beta, dt, surrogate)
        ctx.set_materialize_grads(False)
        return out, u_all, u_last, b_last

    @staticmethod
    def backward(ctx, g_out, g_mem, g_u_last, g_b_last):
        out, i_all, s0, ck_u, ck_b, w_rec, alpha, rho = ctx.saved_tensors
        b_j0, beta, dt, surrogate = ctx.consts
        ops = load()
        kind, params = surrogate_kind(surrogate)
        sd = None
        if kind == 0:  # any other surrogate: its own derivative(x), x recomputed bitwise
            x = ops.alif_surrogate_input(out, i_all, alpha, rho, s0, ck_u, ck_b, b_j0, beta, dt)
            sd = surrogate.derivative(x)
            del x
        gi, gw, ga, gr, gu0, gb0, gs0 = ops.alif_backward(
            g_out, g_mem, g_u_last, g_b_last, sd, out, i_all, s0, ck_u, ck_b, w_rec, alpha, rho,
            b_j0, beta, dt, kind, params,
        )  # fmt: skip
        need = ctx.needs_input_grad
        return (
            gi if need[0] else None,
            gw if (w_rec is not None and need[1]) else None,
            ga if need[2] else None,
            gr if need[3] else None,
            gu0 if need[4] else None,
            gb0 if need[5] else None,
            gs0 if need[6] else None,
            None, None, None, None, None, None,
        )  # fmt: skip


class LIScan(torch.autograd.Function):
    """Leaky-integrator readout over a whole sequence: ``(iff, alpha, u0) -> u``."""

    @staticmethod
    def forward(ctx, iff, alpha, u0):
        u_all = load().li_forward(iff, alpha, u0)
        ctx.save_for_backward(u_all, iff, u0, alpha)
        return u_all

    @staticmethod
    def backward(ctx, g_u):
        u_all, iff, u0, alpha = ctx.saved_tensors
        gi, ga, gu0 = load().li_backward(g_u, u_all, iff, u0, alpha)
        need = ctx.needs_input_grad
        return gi if need[0] else None, ga if need[1] else None, gu0 if need[2] else None


class CSRLinear(torch.autograd.Function):
    """``x W^T + b`` with a sparse input ``x`` held as CSR (``indptr, indices, values``).

    ``x`` itself is passed only so that autograd knows whether it needs a gradient; it is not saved.
    Its gradient ``g W`` is dense (one matmul); the weight gradient ``x^T g`` visits only the
    non-zeros. A hidden layer's input (the spikes of the layer below, ~2 % dense) takes this path too.
    """

    @staticmethod
    def forward(ctx, x, indptr, indices, values, weight, bias):
        ctx.save_for_backward(indptr, indices, values, weight if x.requires_grad else None)
        ctx.n_features = weight.shape[1]
        ctx.has_bias = bias is not None
        return load().csr_linear(indptr, indices, values, weight.t().contiguous(), bias)

    @staticmethod
    def backward(ctx, g):
        indptr, indices, values, weight = ctx.saved_tensors
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = g.mm(weight)
        if ctx.needs_input_grad[4]:
            gw = load().csr_linear_grad_weight(indptr, indices, values, g, ctx.n_features).t()
        gb = g.sum(0) if (ctx.has_bias and ctx.needs_input_grad[5]) else None
        return gx, None, None, None, gw, gb


# Above this input density the dense MKL matmul is faster than the CSR loops (measured by
# scripts/bench.py --sweep-density on the 2-core machine; see results/bench.md).
SPARSE_MAX_DENSITY = 0.15


def project_input(linear: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """The hoisted input projection ``W_in x_t + b`` for all steps, [T, B, F] -> [T, B, N].

    Uses the CSR path when ``x`` is sparse enough (at most ``SPARSE_MAX_DENSITY`` non-zeros); else
    ``nn.Linear``. ``x`` may need a gradient (a hidden layer's input spikes).
    """
    if x.dim() != 3 or not x.is_floating_point():
        return linear(x)
    T, B, F = x.shape
    flat = x.detach().reshape(T * B, F)
    indptr, indices, values = load().to_csr(flat, int(SPARSE_MAX_DENSITY * flat.numel()))
    if indptr is None:
        return linear(x)
    out = CSRLinear.apply(x.reshape(T * B, F), indptr, indices, values, linear.weight, linear.bias)
    return out.view(T, B, -1)
