"""Triton kernels of the ``fused`` backend for CUDA tensors: ALIF/LIF layer and leaky-integrator readout.

STATUS: numbers tested in Triton's CPU interpreter only (``TRITON_INTERPRET=1``,
tests/unit/test_triton_kernels.py); every variant also compiles ahead of time to an sm_90 cubin without a
GPU (the slow test there). Never run on a GPU so far: results, speed and launch limits on hardware
are unverified.

Design: one persistent program per block of ``BLOCK_B`` (16) batch rows, one launch per layer and
direction. Each program loads ``W_rec^T`` (``N`` padded to a power of two >= 16, ``tl.dot``'s smallest
tile) once (the compiler keeps it in shared memory) and loops over all ``T`` steps in the kernel with
its rows' state in registers.

Forward, per step (Yin, Corradi & Bohte 2021, eqs 5-8, in the order of
``srnn_bench/neurons/alif.py::alif_step`` and ``csrc/srnn_kernels.cpp``):

    i_t     = iff_t + s_{t-1} W_rec^T                                     (Methods, synaptic current)
    b_t     = rho * b_{t-1} + (1 - rho) * s_{t-1}                         (eq. 6)
    theta_t = b_j0 + beta * b_t                                            (eq. 7)
    u_t     = alpha * u_{t-1} + (1 - alpha) * i_t - theta_t * s_{t-1} * dt  (eq. 5, soft reset)
    s_t     = H(u_t - theta_t), H(0) = 0                                   (eq. 8)

with ``alpha = exp(-dt/tau_m)``, ``rho = exp(-dt/tau_adp)`` computed by torch outside the kernel (so
``tau`` gradients follow the reference's chain). LIF is the same cell with ``beta = 0`` (neurons/).
Readout (Yin et al. Methods, eq. 5 without spike and reset): ``u_t = alpha u_{t-1} + (1 - alpha) i_t``.

Backward: the BPTT recurrences listed at the top of :mod:`srnn_bench.kernels.scan`, in reverse time;
``dL/ds_{t-1}`` gets ``tl.dot(dL/di_t, W_rec)`` in the kernel. The kernel writes ``dL/di`` [T, B, N]
and per-program partial sums of ``dL/dalpha``, ``dL/drho`` [programs, N] (summed by torch, no atomics);
``dL/dW_rec = sum_t dL/di_t^T s_{t-1}`` is one matmul in torch after the kernel, and so are the
input-projection and readout weight gradients (autograd of ``W_in x``).

Memory the backward keeps (ALIF): the spikes (the layer's output, shared with the next layer), the
total current ``i_t`` (written over the caller's own ``iff`` projection when it owns it), and the
state ``(u, b)`` before every block of ``K = ceil(sqrt(T))`` steps, ``2 ceil(T/K)`` [B, N] tensors.
The backward recomputes each block's ``u_t, b_t`` from those (same operations as the forward) into a
[2, K, B, N] scratch. Unknown surrogates (a subclass) also keep ``x_t = u_t - theta_t`` [T, B, N]
and use their Python ``derivative``; the seven built-in ones use the closed forms of
:mod:`srnn_bench.surrogates` in the kernel (kind table :data:`scan._SURROGATE_KINDS`).

Numbers: float32 and float64. ``tl.dot`` runs with ``input_precision="ieee"`` (no TF32) and the
kernels are compiled with ``enable_fp_fusion=False`` (no multiply-add contraction, as the C++ kernels'
``-ffp-contract=off``), but the dot's summation order differs from the CPU BLAS, so ``i_t`` and the
membranes match the reference to rounding (~1e-7 relative in float32), not bitwise; a spike whose
``u_t - theta_t`` lies within that rounding of 0 can flip.

Limits (:func:`unavailable`; beyond them the dispatcher uses the reference loop with its one-line
warning): the recurrent kernels keep the padded ``W_rec`` tile in shared memory. Compiled ahead of time
for sm_90 without a GPU (``triton.compile``, Triton 3.9), the ALIF backward needs 120 KiB of shared
memory at N = 128 in float32 and 88 KiB at N = 64 in float64, but 368 KiB at N = 256 (float32) and
240 KiB at N = 128 (float64), above an H100's 227 KiB: hence ``MAX_N_REC`` = 128 (float32) / 64
(float64). Dense layers and the readout use no such tile (``MAX_N_DENSE`` = 256). ``T * B * N < 2**31``
(int32 offsets).
"""

from __future__ import annotations

import math

import torch

from .. import surrogates as S
from .scan import surrogate_kind

try:  # optional: the `cuda` extra; the dispatcher checks :func:`unavailable` first
    import triton
    import triton.language as tl
except ImportError as _exc:  # pragma: no cover - exercised where triton is absent
    triton = None
    _IMPORT_ERROR = str(_exc)
else:
    _IMPORT_ERROR = ""

MAX_N_REC = {torch.float32: 128, torch.float64: 64}  # shared memory of the W_rec tile (docstring)
MAX_N_DENSE = 256
BLOCK_B = 16  # batch rows per program; tl.dot needs >= 16


def unavailable(n: int | None = None, numel: int = 0, dtype=torch.float32, recurrent: bool = True) -> str | None:
    """One-line reason why the Triton kernels cannot run (triton missing, layer too large), else None."""
    if triton is None:
        return f"triton is not installed ({_IMPORT_ERROR}; pip install 'srnn-bench[cuda]')"
    limit = MAX_N_REC.get(dtype, 0) if recurrent else MAX_N_DENSE
    if n is not None and n > limit:
        kind = "recurrent" if recurrent else "dense"
        return f"no Triton kernel for {kind} {dtype} layers wider than {limit} neurons (got {n})"
    if numel >= 2**31:
        return f"no Triton kernel for sequences of {numel} >= 2**31 elements"
    return None


def _block_n(n: int) -> int:
    return max(16, triton.next_power_of_2(n))


def _warps(block_n: int) -> int:
    return 8 if block_n >= 128 else 4


def surrogate_consts(surrogate: S.Surrogate) -> tuple[int, list[float]]:
    """``(kind, [gamma, c1..c5])``: the constants of the kernel's closed form for ``surrogate``.

    The formulas are those of :mod:`srnn_bench.surrogates` (and ``csrc/srnn_kernels.cpp``), with the
    constant parts folded here in double precision. ``kind = 0``: use the Python ``derivative``.
    """
    kind, p = surrogate_kind(surrogate)
    c = [0.0] * 6
    if kind == 0:
        return 0, c
    c[0] = p[0]  # gamma
    if kind == 1:  # multi-Gaussian, Yin et al. 2021 eq. 1
        sigma, h, s = p[1], p[2], p[3]
        wide = s * sigma
        c[1:] = [(1.0 + h) / (S.SQRT_2PI * sigma), h / (S.SQRT_2PI * wide), 1.0 / (2 * sigma**2),
                 1.0 / (2 * wide**2), sigma]  # fmt: skip
    elif kind == 2:  # Gaussian
        c[1], c[2] = 1.0 / (S.SQRT_2PI * p[1]), 1.0 / (2 * p[1] ** 2)
    elif kind in (3, 4, 6):  # linear (alpha), SLAYER (alpha), fast sigmoid (slope)
        c[1] = p[1]
    elif kind == 5:  # arc-tangent: (alpha/2) / (1 + (pi/2 alpha x)^2)
        c[1], c[2] = p[1] / 2.0, math.pi / 2.0 * p[1]
    elif kind == 7:  # straight-through: |x| <= width/2
        c[1] = p[1] / 2.0
    return kind, c


if triton is not None:

    @triton.jit(do_not_specialize=["T", "K"])  # no recompilation per T, and T = 1 stays a tensor
    def _alif_fwd_kernel(
        iff_ptr, i_ptr, wt_ptr, alpha_ptr, rho_ptr, u0_ptr, b0_ptr, s0_ptr, c_ptr,
        out_ptr, u_ptr, x_ptr, cku_ptr, ckb_ptr, ulast_ptr, blast_ptr,
        T, B, N, K,
        REC: tl.constexpr, KEEP_U: tl.constexpr, STORE_X: tl.constexpr,
        BLOCK_B: tl.constexpr, BLOCK_N: tl.constexpr,
    ):  # fmt: skip
        pid = tl.program_id(0)
        rows = pid * BLOCK_B + tl.arange(0, BLOCK_B)
        cols = tl.arange(0, BLOCK_N)
        cm = cols < N
        m = (rows[:, None] < B) & cm[None, :]
        off = rows[:, None] * N + cols[None, :]
        BN = B * N
        bj0 = tl.load(c_ptr)
        beta = tl.load(c_ptr + 1)
        dt = tl.load(c_ptr + 2)
        alpha = tl.load(alpha_ptr + cols, mask=cm, other=0.0)[None, :]
        rho = tl.load(rho_ptr + cols, mask=cm, other=0.0)[None, :]
        u = tl.load(u0_ptr + off, mask=m, other=0.0)
        b = tl.load(b0_ptr + off, mask=m, other=0.0)
        s = tl.load(s0_ptr + off, mask=m, other=0.0)
        if REC:  # W_rec^T [N_in, N_out], zero-padded: padded spikes add nothing
            wt = tl.load(wt_ptr + cols[:, None] * N + cols[None, :], mask=cm[:, None] & cm[None, :], other=0.0)
        for t in range(T):
            if t % K == 0:  # checkpoint: the state before every block of K steps
                tl.store(cku_ptr + (t // K) * BN + off, u, mask=m)
                tl.store(ckb_ptr + (t // K) * BN + off, b, mask=m)
            cur = tl.load(iff_ptr + t * BN + off, mask=m, other=0.0)
            if REC:
                cur = cur + tl.dot(s, wt, input_precision="ieee")  # i_t = iff_t + s_{t-1} W_rec^T
                tl.store(i_ptr + t * BN + off, cur, mask=m)
            b = rho * b + (1.0 - rho) * s  # eq. 6
            theta = bj0 + beta * b  # eq. 7
            u = alpha * u + (1.0 - alpha) * cur - theta * s * dt  # eq. 5
            x = u - theta
            s = tl.where(x > 0, 1.0, 0.0).to(u.dtype)  # eq. 8
            tl.store(out_ptr + t * BN + off, s, mask=m)
            if KEEP_U:
                tl.store(u_ptr + t * BN + off, u, mask=m)
            if STORE_X:
                tl.store(x_ptr + t * BN + off, x, mask=m)
        tl.store(ulast_ptr + off, u, mask=m)
        tl.store(blast_ptr + off, b, mask=m)

    @triton.jit(do_not_specialize=["T", "K", "NBLK"])  # no recompilation per T, and T = 1 stays a tensor
    def _alif_bwd_kernel(
        go_ptr, gm_ptr, sd_ptr, out_ptr, i_ptr, s0_ptr, w_ptr, alpha_ptr, rho_ptr, c_ptr,
        cku_ptr, ckb_ptr, su_ptr, sb_ptr, gu_ptr, gb_ptr, gs_ptr, gi_ptr, pa_ptr, pr_ptr,
        T, B, N, K, NBLK,
        REC: tl.constexpr, HAS_GO: tl.constexpr, HAS_GM: tl.constexpr, KIND: tl.constexpr,
        BLOCK_B: tl.constexpr, BLOCK_N: tl.constexpr,
    ):  # fmt: skip
        pid = tl.program_id(0)
        rows = pid * BLOCK_B + tl.arange(0, BLOCK_B)
        cols = tl.arange(0, BLOCK_N)
        cm = cols < N
        m = (rows[:, None] < B) & cm[None, :]
        off = rows[:, None] * N + cols[None, :]
        # masks of the valid entries (0 <= off < B N) for 't > 0' / 't == 0': off < t B N / off >= t B N
        # (a scalar product compared with the tile; the interpreter's overflow checks on tile adds are slow)
        BN = B * N
        bj0 = tl.load(c_ptr)
        beta = tl.load(c_ptr + 1)
        dt = tl.load(c_ptr + 2)
        gamma = tl.load(c_ptr + 3)
        c1 = tl.load(c_ptr + 4)
        c2 = tl.load(c_ptr + 5)
        c3 = tl.load(c_ptr + 6)
        c4 = tl.load(c_ptr + 7)
        c5 = tl.load(c_ptr + 8)
        alpha = tl.load(alpha_ptr + cols, mask=cm, other=0.0)[None, :]
        rho = tl.load(rho_ptr + cols, mask=cm, other=0.0)[None, :]
        gu = tl.load(gu_ptr + off, mask=m, other=0.0)  # dL/du_T, dL/db_T (zeros when unused)
        gb = tl.load(gb_ptr + off, mask=m, other=0.0)
        gs = tl.zeros_like(gu)  # dL/ds_t from the future (through s_t's effect on step t+1)
        acc_a = tl.zeros_like(gu)
        acc_r = tl.zeros_like(gu)
        if REC:  # W_rec [N_out, N_in], zero-padded
            w = tl.load(w_ptr + cols[:, None] * N + cols[None, :], mask=cm[:, None] & cm[None, :], other=0.0)
        for jj in range(NBLK):
            j = NBLK - 1 - jj
            t0 = j * K
            L = tl.minimum(K, T - t0)
            # recompute u_t, b_t of block j from its checkpoint (the forward's operations)
            u = tl.load(cku_ptr + j * BN + off, mask=m, other=0.0)
            b = tl.load(ckb_ptr + j * BN + off, mask=m, other=0.0)
            for q in range(L):
                t = t0 + q
                sp = tl.load(out_ptr + (t - 1) * BN + off, mask=m & (off < t * BN), other=0.0)
                sp += tl.load(s0_ptr + off, mask=m & (off >= t * BN), other=0.0)
                cur = tl.load(i_ptr + t * BN + off, mask=m, other=0.0)
                b = rho * b + (1.0 - rho) * sp
                theta = bj0 + beta * b
                u = alpha * u + (1.0 - alpha) * cur - theta * sp * dt
                tl.store(su_ptr + q * BN + off, u, mask=m)
                tl.store(sb_ptr + q * BN + off, b, mask=m)
            tl.debug_barrier()
            for qq in range(L):
                q = L - 1 - qq
                t = t0 + q
                ut = tl.load(su_ptr + q * BN + off, mask=m, other=0.0)
                bt = tl.load(sb_ptr + q * BN + off, mask=m, other=0.0)
                up = tl.load(su_ptr + (q - 1) * BN + off, mask=m & (off < q * BN), other=0.0)
                up += tl.load(cku_ptr + j * BN + off, mask=m & (off >= q * BN), other=0.0)
                bp = tl.load(sb_ptr + (q - 1) * BN + off, mask=m & (off < q * BN), other=0.0)
                bp += tl.load(ckb_ptr + j * BN + off, mask=m & (off >= q * BN), other=0.0)
                sp = tl.load(out_ptr + (t - 1) * BN + off, mask=m & (off < t * BN), other=0.0)
                sp += tl.load(s0_ptr + off, mask=m & (off >= t * BN), other=0.0)
                cur = tl.load(i_ptr + t * BN + off, mask=m, other=0.0)
                theta = bj0 + beta * bt
                x = ut - theta
                # surrogate derivative gamma * f(x): the closed forms of srnn_bench/surrogates.py
                if KIND == 0:
                    sd = tl.load(sd_ptr + t * BN + off, mask=m, other=0.0)
                elif KIND == 1:  # multi-Gaussian (Yin et al. 2021 eq. 1)
                    xa = x - c5
                    xb = x + c5
                    sd = gamma * (
                        c1 * tl.exp(-(x * x) * c3) - c2 * tl.exp(-(xa * xa) * c4) - c2 * tl.exp(-(xb * xb) * c4)
                    )
                elif KIND == 2:  # Gaussian
                    sd = gamma * (c1 * tl.exp(-(x * x) * c2))
                elif KIND == 3:  # linear (triangle)
                    sd = gamma * tl.maximum(1.0 - c1 * tl.abs(x), 0.0)
                elif KIND == 4:  # SLAYER exponential
                    sd = gamma * tl.exp(-c1 * tl.abs(x))
                elif KIND == 5:  # arc-tangent
                    z = c2 * x
                    sd = gamma * c1 / (1.0 + z * z)
                elif KIND == 6:  # fast sigmoid
                    d = 1.0 + c1 * tl.abs(x)
                    sd = gamma / (d * d)
                else:  # straight-through (KIND == 7)
                    sd = tl.where(tl.abs(x) <= c1, gamma, 0.0).to(x.dtype)
                go = tl.zeros_like(gs)
                if HAS_GO:
                    go = tl.load(go_ptr + t * BN + off, mask=m, other=0.0)
                gx = (go + gs) * sd  # dL/dx_t
                du = gu + gx  # dL/du_t
                if HAS_GM:
                    du = du + tl.load(gm_ptr + t * BN + off, mask=m, other=0.0)
                dth = -gx - du * sp * dt  # dL/dtheta_t (threshold and soft reset)
                db = gb + beta * dth  # dL/db_t
                gi = (1.0 - alpha) * du  # dL/di_t
                tl.store(gi_ptr + t * BN + off, gi, mask=m)
                acc_a += du * (up - cur)  # d u_t / d alpha
                acc_r += db * (bp - sp)  # d b_t / d rho
                gu = alpha * du
                gb = rho * db
                gs = (1.0 - rho) * db - du * theta * dt  # dL/ds_{t-1}
                if REC:
                    gs = gs + tl.dot(gi, w, input_precision="ieee")  # + dL/di_t W_rec
            tl.debug_barrier()  # the next block overwrites the scratch
        tl.store(gu_ptr + off, gu, mask=m)
        tl.store(gb_ptr + off, gb, mask=m)
        tl.store(gs_ptr + off, gs, mask=m)
        tl.store(pa_ptr + pid * N + cols, tl.sum(acc_a, axis=0), mask=cm)
        tl.store(pr_ptr + pid * N + cols, tl.sum(acc_r, axis=0), mask=cm)

    @triton.jit(do_not_specialize=["T"])  # no recompilation per T, and T = 1 stays a tensor
    def _li_fwd_kernel(i_ptr, alpha_ptr, u0_ptr, u_ptr, T, B, N, BLOCK_B: tl.constexpr, BLOCK_N: tl.constexpr):
        pid = tl.program_id(0)
        rows = pid * BLOCK_B + tl.arange(0, BLOCK_B)
        cols = tl.arange(0, BLOCK_N)
        cm = cols < N
        m = (rows[:, None] < B) & cm[None, :]
        off = rows[:, None] * N + cols[None, :]
        BN = B * N
        alpha = tl.load(alpha_ptr + cols, mask=cm, other=0.0)[None, :]
        u = tl.load(u0_ptr + off, mask=m, other=0.0)
        for t in range(T):
            cur = tl.load(i_ptr + t * BN + off, mask=m, other=0.0)
            u = alpha * u + (1.0 - alpha) * cur  # Yin et al. Methods: leaky integrator readout
            tl.store(u_ptr + t * BN + off, u, mask=m)

    @triton.jit(do_not_specialize=["T"])  # no recompilation per T, and T = 1 stays a tensor
    def _li_bwd_kernel(
        gu_all_ptr, u_ptr, i_ptr, u0_ptr, alpha_ptr, gi_ptr, gu0_ptr, pa_ptr, T, B, N,
        BLOCK_B: tl.constexpr, BLOCK_N: tl.constexpr,
    ):  # fmt: skip
        pid = tl.program_id(0)
        rows = pid * BLOCK_B + tl.arange(0, BLOCK_B)
        cols = tl.arange(0, BLOCK_N)
        cm = cols < N
        m = (rows[:, None] < B) & cm[None, :]
        off = rows[:, None] * N + cols[None, :]
        # masks of the valid entries (0 <= off < B N) for 't > 0' / 't == 0': off < t B N / off >= t B N
        # (a scalar product compared with the tile; the interpreter's overflow checks on tile adds are slow)
        BN = B * N
        alpha = tl.load(alpha_ptr + cols, mask=cm, other=0.0)[None, :]
        g = tl.zeros_like(tl.load(u0_ptr + off, mask=m, other=0.0))
        acc = tl.zeros_like(g)
        for tt in range(T):
            t = T - 1 - tt
            up = tl.load(u_ptr + (t - 1) * BN + off, mask=m & (off < t * BN), other=0.0)
            up += tl.load(u0_ptr + off, mask=m & (off >= t * BN), other=0.0)
            cur = tl.load(i_ptr + t * BN + off, mask=m, other=0.0)
            du = g + tl.load(gu_all_ptr + t * BN + off, mask=m, other=0.0)
            tl.store(gi_ptr + t * BN + off, (1.0 - alpha) * du, mask=m)
            acc += du * (up - cur)
            g = alpha * du
        tl.store(gu0_ptr + off, g, mask=m)
        tl.store(pa_ptr + pid * N + cols, tl.sum(acc, axis=0), mask=cm)


def _c(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous()


def _grid(B: int) -> tuple[int]:
    return (triton.cdiv(B, BLOCK_B),)


class TritonALIFScan(torch.autograd.Function):
    """Triton twin of :class:`srnn_bench.kernels.scan.ALIFScan` (same arguments and outputs):
    ``(iff, w_rec, alpha, rho, u0, b0, s0, b_j0, beta, dt, surrogate, iff_scratch, keep_u)
    -> (spikes, u or None, u_T, b_T)``."""

    @staticmethod
    def forward(ctx, iff, w_rec, alpha, rho, u0, b0, s0, b_j0, beta, dt, surrogate, iff_scratch=False, keep_u=True):
        T, B, N = iff.shape
        dtype, dev = iff.dtype, iff.device
        rec = w_rec is not None
        kind, sc = surrogate_consts(surrogate)
        consts = torch.tensor([b_j0, beta, dt, *sc], dtype=dtype, device=dev)
        src = _c(iff)
        i_all = src if (not rec or (iff_scratch and src is iff)) else torch.empty_like(src)
        out = torch.empty_like(src)
        u_all = torch.empty_like(src) if keep_u else None
        x_all = torch.empty_like(src) if kind == 0 else None
        K = max(1, math.ceil(math.sqrt(T)))
        nblk = -(-T // K)
        ck_u = torch.empty(nblk, B, N, dtype=dtype, device=dev)
        ck_b = torch.empty_like(ck_u)
        u_last, b_last = torch.empty(B, N, dtype=dtype, device=dev), torch.empty(B, N, dtype=dtype, device=dev)
        alpha, rho, u0, b0, s0 = _c(alpha), _c(rho), _c(u0), _c(b0), _c(s0)
        wt = _c(w_rec.t()) if rec else consts
        bn = _block_n(N)
        _alif_fwd_kernel[_grid(B)](
            src, i_all, wt, alpha, rho, u0, b0, s0, consts,
            out, u_all if keep_u else out, x_all if kind == 0 else out, ck_u, ck_b, u_last, b_last,
            T, B, N, K, REC=rec, KEEP_U=keep_u, STORE_X=kind == 0, BLOCK_B=BLOCK_B, BLOCK_N=bn,
            num_warps=_warps(bn), enable_fp_fusion=False,
        )  # fmt: skip
        ctx.save_for_backward(out, i_all, s0, w_rec, alpha, rho, ck_u, ck_b, consts, x_all)
        ctx.meta = (K, nblk, kind, surrogate)
        ctx.set_materialize_grads(False)
        return out, u_all, u_last, b_last

    @staticmethod
    def backward(ctx, g_out, g_mem, g_u_last, g_b_last):
        out, i_all, s0, w_rec, alpha, rho, ck_u, ck_b, consts, x_all = ctx.saved_tensors
        K, nblk, kind, surrogate = ctx.meta
        T, B, N = out.shape
        rec = w_rec is not None
        sd = surrogate.derivative(x_all).contiguous() if kind == 0 else None
        gu = _c(g_u_last).clone() if g_u_last is not None else torch.zeros_like(s0)
        gb = _c(g_b_last).clone() if g_b_last is not None else torch.zeros_like(s0)
        gs = torch.empty_like(s0)
        gi = torch.empty_like(out)
        scratch = torch.empty(2, K, B, N, dtype=out.dtype, device=out.device)
        grid = _grid(B)
        pa = torch.empty(grid[0], N, dtype=out.dtype, device=out.device)
        pr = torch.empty_like(pa)
        bn = _block_n(N)
        _alif_bwd_kernel[grid](
            _c(g_out) if g_out is not None else out, _c(g_mem) if g_mem is not None else out,
            sd if sd is not None else out, out, i_all, s0, _c(w_rec) if rec else consts, alpha, rho, consts,
            ck_u, ck_b, scratch[0], scratch[1], gu, gb, gs, gi, pa, pr,
            T, B, N, K, nblk, REC=rec, HAS_GO=g_out is not None, HAS_GM=g_mem is not None, KIND=kind,
            BLOCK_B=BLOCK_B, BLOCK_N=bn, num_warps=_warps(bn), enable_fp_fusion=False,
        )  # fmt: skip
        need = ctx.needs_input_grad
        gw = None
        if rec and need[1]:  # dL/dW_rec = sum_t dL/di_t^T s_{t-1}: one matmul
            gw = gi[0].t().mm(s0)
            if T > 1:
                gw = gw.addmm(gi[1:].reshape(-1, N).t(), out[:-1].reshape(-1, N))
        return (
            gi if need[0] else None, gw,
            pa.sum(0) if need[2] else None, pr.sum(0) if need[3] else None,
            gu if need[4] else None, gb if need[5] else None, gs if need[6] else None,
            None, None, None, None, None, None,
        )  # fmt: skip


class TritonLIScan(torch.autograd.Function):
    """Triton twin of :class:`srnn_bench.kernels.scan.LIScan`: ``(iff, alpha, u0) -> u``."""

    @staticmethod
    def forward(ctx, iff, alpha, u0):
        T, B, N = iff.shape
        iff, alpha, u0 = _c(iff), _c(alpha), _c(u0)
        u_all = torch.empty_like(iff)
        bn = _block_n(N)
        _li_fwd_kernel[_grid(B)](
            iff, alpha, u0, u_all, T, B, N, BLOCK_B=BLOCK_B, BLOCK_N=bn, num_warps=_warps(bn), enable_fp_fusion=False
        )
        ctx.save_for_backward(u_all, iff, u0, alpha)
        return u_all

    @staticmethod
    def backward(ctx, g_u):
        u_all, iff, u0, alpha = ctx.saved_tensors
        T, B, N = iff.shape
        gi = torch.empty_like(iff)
        gu0 = torch.empty_like(u0)
        grid = _grid(B)
        pa = torch.empty(grid[0], N, dtype=iff.dtype, device=iff.device)
        bn = _block_n(N)
        _li_bwd_kernel[grid](
            _c(g_u), u_all, iff, u0, alpha, gi, gu0, pa, T, B, N, BLOCK_B=BLOCK_B, BLOCK_N=bn, num_warps=_warps(bn), enable_fp_fusion=False
        )  # fmt: skip
        need = ctx.needs_input_grad
        return gi if need[0] else None, pa.sum(0) if need[1] else None, gu0 if need[2] else None


__all__ = ["MAX_N_DENSE", "MAX_N_REC", "TritonALIFScan", "TritonLIScan", "surrogate_consts", "unavailable"]
