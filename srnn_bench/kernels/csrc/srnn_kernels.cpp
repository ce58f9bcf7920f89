// Fused whole-sequence kernels for the SRNN layers of srnn_bench (CPU).
//
// One call runs a layer over all T steps; a second call runs its hand-written BPTT backward.
// Only the elementwise neuron update is hand-written; matrix products go to ATen (MKL/BLAS).
//
// ALIF (Yin, Corradi & Bohte 2021, eqs 5-8, update order of the authors' code; the same
// operations, in the same order, as srnn_bench/neurons/alif.py::alif_step):
//   b_t     = rho * b_{t-1} + (1 - rho) * s_{t-1}                       (eq. 6)
//   theta_t = b_j0 + beta * b_t                                          (eq. 7)
//   i_t     = iff_t + s_{t-1} W_rec^T                                    (Methods, synaptic current)
//   u_t     = alpha * u_{t-1} + (1 - alpha) * i_t - theta_t * s_{t-1} * dt   (eq. 5, soft reset)
//   s_t     = H(u_t - theta_t)                                           (eq. 8, surrogate backward)
// Leaky integrator readout (Yin et al. Methods): u_t = alpha * u_{t-1} + (1 - alpha) * i_t.
//
// Compiled with -ffp-contract=off so that no multiply-add is fused: the forward is bitwise
// the reference's (same operations in the same order, same matmul call).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

using at::Tensor;

namespace {

// ---------------------------------------------------------------------------------------------
// exp for the surrogate derivatives. float: Cephes-style range reduction + degree-6 polynomial
// (about 1 ulp), branch-free so that GCC vectorises the loops; double: std::exp.
inline float exp_fast(float x) {
  const float lo = -87.0f, hi = 88.0f;
  const float xin = x;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  float fx = x * 1.44269504088896341f + 0.5f;
  const float magic = 12582912.0f;  // 1.5 * 2^23: round to nearest integer
  float n = (fx + magic) - magic;
  n = n > fx ? n - 1.0f : n;  // floor
  x = x - n * 0.693359375f;
  x = x - n * -2.12194440e-4f;
  const float z = x * x;
  float y = 1.9875691500E-4f;
  y = y * x + 1.3981999507E-3f;
  y = y * x + 8.3334519073E-3f;
  y = y * x + 4.1665795894E-2f;
  y = y * x + 1.6666665459E-1f;
  y = y * x + 5.0000001201E-1f;
  y = y * z + x + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float p;
  std::memcpy(&p, &e, sizeof(p));
  const float r = y * p;
  return xin < lo ? 0.0f : r;
}
inline double exp_fast(double x) { return std::exp(x); }

// Surrogate kinds; must match srnn_bench/kernels/scan.py::_SURROGATE_KINDS.
enum SurrogateKind : int64_t {
  GENERIC = 0,  // derivative supplied by Python (``sd`` tensor)
  MULTI_GAUSSIAN = 1,
  GAUSSIAN = 2,
  LINEAR = 3,
  SLAYER = 4,
  ATAN = 5,
  FAST_SIGMOID = 6,
  STRAIGHT_THROUGH = 7,
};

constexpr double kSqrt2Pi = 2.5066282746310002;  // sqrt(2 pi)
constexpr double kPi = 3.14159265358979323846;

// The loops live in functions with __restrict pointers and by-value constants so that GCC vectorises them.
template <typename T>
__attribute__((noinline)) void mg_loop(const T* __restrict x, T* __restrict out, int64_t n, T c0, T cw, T k0, T kw, T sg, T gamma) {
  for (int64_t k = 0; k < n; ++k) {
    const T v = x[k], a = v - sg, b = v + sg;
    const T f = c0 * exp_fast(-(v * v) * k0) - cw * exp_fast(-(a * a) * kw) - cw * exp_fast(-(b * b) * kw);
    out[k] = gamma * f;
  }
}

template <typename T>
__attribute__((noinline)) void gauss_loop(const T* __restrict x, T* __restrict out, int64_t n, T c0, T k0, T gamma) {
  for (int64_t k = 0; k < n; ++k) out[k] = gamma * (c0 * exp_fast(-(x[k] * x[k]) * k0));
}

// d S / d x for n values of x; the formulas of srnn_bench/surrogates.py (gamma * f(x)).
template <typename T>
void surrogate_derivative(const T* __restrict x, T* __restrict out, int64_t n, int64_t kind,
                          const std::vector<double>& p) {
  const T gamma = static_cast<T>(p[0]);
  switch (kind) {
    case MULTI_GAUSSIAN: {  // Yin et al. 2021 eq. 1
      const double sigma = p[1], h = p[2], s = p[3], wide = s * sigma;
      mg_loop<T>(x, out, n, static_cast<T>((1.0 + h) / (kSqrt2Pi * sigma)), static_cast<T>(h / (kSqrt2Pi * wide)),
                 static_cast<T>(1.0 / (2.0 * sigma * sigma)), static_cast<T>(1.0 / (2.0 * wide * wide)),
                 static_cast<T>(sigma), gamma);
      break;
    }
    case GAUSSIAN: {
      const double sigma = p[1];
      gauss_loop<T>(x, out, n, static_cast<T>(1.0 / (kSqrt2Pi * sigma)), static_cast<T>(1.0 / (2.0 * sigma * sigma)),
                    gamma);
      break;
    }
    case LINEAR: {
      const T a = static_cast<T>(p[1]);
      for (int64_t k = 0; k < n; ++k) {
        const T r = T(1) - a * std::abs(x[k]);
        out[k] = gamma * (r > T(0) ? r : T(0));
      }
      break;
    }
    case SLAYER: {
      const T a = static_cast<T>(p[1]);
      for (int64_t k = 0; k < n; ++k) out[k] = gamma * exp_fast(-a * std::abs(x[k]));
      break;
    }
    case ATAN: {
      const T half_a = static_cast<T>(p[1] / 2.0), c = static_cast<T>(kPi / 2.0 * p[1]);
      for (int64_t k = 0; k < n; ++k) {
        const T z = c * x[k];
        out[k] = gamma * half_a / (T(1) + z * z);
      }
      break;
    }
    case FAST_SIGMOID: {
      const T slope = static_cast<T>(p[1]);
      for (int64_t k = 0; k < n; ++k) {
        const T d = T(1) + slope * std::abs(x[k]);
        out[k] = gamma / (d * d);
      }
      break;
    }
    case STRAIGHT_THROUGH: {
      const T half_w = static_cast<T>(p[1] / 2.0);
      for (int64_t k = 0; k < n; ++k) out[k] = std::abs(x[k]) <= half_w ? gamma : T(0);
      break;
    }
    default:
      TORCH_CHECK(false, "srnn_kernels: unknown surrogate kind ", kind);
  }
}

template <typename T>
T* ptr(const Tensor& t) {
  return t.data_ptr<T>();
}

void check_seq(const Tensor& x, const char* name) {
  TORCH_CHECK(x.dim() == 3, "srnn_kernels: ", name, " must be [T, B, N]");
  TORCH_CHECK(x.device().is_cpu(), "srnn_kernels: ", name, " must be on the CPU");
}

// One batch row of one ALIF step (Yin et al. 2021 eqs 5-8), the operations of alif_step in its order.
template <typename T>
void alif_forward_row(int64_t N, const T* __restrict al, const T* __restrict rh, const T* __restrict sp,
                      const T* __restrict up, const T* __restrict it, T* __restrict bp, T* __restrict ut,
                      T* __restrict st, T bj0, T bt, T dtt) {
  for (int64_t n = 0; n < N; ++n) {
    const T s_prev = sp[n];
    const T bn = rh[n] * bp[n] + (T(1) - rh[n]) * s_prev;                       // eq. 6
    const T theta = bj0 + bt * bn;                                              // eq. 7
    const T un = al[n] * up[n] + (T(1) - al[n]) * it[n] - theta * s_prev * dtt;  // eq. 5
    bp[n] = bn;
    ut[n] = un;
    st[n] = (un - theta) > T(0) ? T(1) : T(0);  // eq. 8, H(0) = 0
  }
}

// One batch row of one reverse BPTT step (see scan.py for the recurrences).
template <typename T>
void alif_backward_row(int64_t N, const T* __restrict al, const T* __restrict rh, const T* __restrict sp,
                       const T* __restrict up, const T* __restrict bp, const T* __restrict bcur,
                       const T* __restrict it, const T* __restrict got, const T* __restrict gmt,
                       const T* __restrict sdt, T* __restrict git, T* __restrict gup, T* __restrict gbp,
                       T* __restrict gsp, T* __restrict aa, T* __restrict ar, T bj0, T bt, T dtt) {
  for (int64_t n = 0; n < N; ++n) {
    const T s_prev = sp[n];
    const T theta = bj0 + bt * bcur[n];
    const T gx = (got[n] + gsp[n]) * sdt[n];          // dL/dx_t, x_t = u_t - theta_t
    const T du = gup[n] + gx + gmt[n];                // dL/du_t
    const T dth = -gx - du * s_prev * dtt;            // dL/dtheta_t (threshold and soft reset)
    const T db = gbp[n] + bt * dth;                   // dL/db_t
    git[n] = (T(1) - al[n]) * du;                     // dL/di_t
    aa[n] += du * (up[n] - it[n]);                    // d u_t / d alpha
    ar[n] += db * (bp[n] - s_prev);                   // d b_t / d rho
    gup[n] = al[n] * du;
    gbp[n] = rh[n] * db;
    gsp[n] = (T(1) - rh[n]) * db - du * theta * dtt;  // dL/ds_{t-1}, without W_rec
  }
}

template <typename T>
void surrogate_input_row(int64_t n, const T* __restrict u, const T* __restrict b, T* __restrict x, T bj0, T bt) {
  for (int64_t k = 0; k < n; ++k) x[k] = u[k] - (bj0 + bt * b[k]);
}

// One batch row of the state recomputation in the backward: u_t and b_t from the saved spikes and
// currents, the operations of alif_forward_row (so bitwise the forward's values).
template <typename T>
void alif_state_row(int64_t N, const T* __restrict al, const T* __restrict rh, const T* __restrict sp,
                    const T* __restrict up, const T* __restrict bp, const T* __restrict it, T* __restrict un_,
                    T* __restrict bn_, T bj0, T bt, T dtt) {
  for (int64_t n = 0; n < N; ++n) {
    const T s_prev = sp[n];
    const T bn = rh[n] * bp[n] + (T(1) - rh[n]) * s_prev;
    const T theta = bj0 + bt * bn;
    un_[n] = al[n] * up[n] + (T(1) - al[n]) * it[n] - theta * s_prev * dtt;
    bn_[n] = bn;
  }
}

// ---------------------------------------------------------------------------------------------
// Threads: every batch row is an independent sequence (the recurrent product of a row needs only that
// row's spikes), so each kernel splits the batch into contiguous row ranges, one per intra-op thread
// (at::parallel_for, torch.set_num_threads), and runs the whole time loop of its rows. A row's
// arithmetic is the same whatever the split, so the results do not depend on the number of threads.
// ATen products called inside a range (the per-step dL/di_t W_rec) run single-threaded there.
template <typename F>
void for_row_ranges(int64_t B, const F& f) {
  at::parallel_for(0, B, 1, f);
}

// Steps per recomputation block of the backward: ceil(sqrt(T)) (memory O((T/K + K) B N)).
int64_t replay_block(int64_t T) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(T)))));
}

// ALIF forward. Returns (spikes [T,B,N], u [T,B,N] (undefined unless keep_u), i [T,B,N] total
// input current, u_T [B,N], b_T [B,N], and the checkpoints of the backward's recomputation:
// (u, b) before every block of K = replay_block(T) steps, [ceil(T / K), B, N] each).
std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> alif_forward(
    const Tensor& iff_in, const c10::optional<Tensor>& w_rec, const Tensor& alpha_in, const Tensor& rho_in,
    const Tensor& u0_in, const Tensor& b0_in, const Tensor& s0_in, double b_j0, double beta, double dt,
    bool in_place, bool keep_u) {
  check_seq(iff_in, "iff");
  const Tensor iff = iff_in.contiguous();
  const int64_t T = iff.size(0), B = iff.size(1), N = iff.size(2), BN = B * N;
  const bool rec = w_rec.has_value() && w_rec->defined();
  const Tensor alpha = alpha_in.contiguous(), rho = rho_in.contiguous();
  const Tensor u0 = u0_in.contiguous(), s0 = s0_in.contiguous();
  Tensor b = b0_in.contiguous().clone();
  Tensor out = at::empty_like(iff);
  Tensor u_all = keep_u ? at::empty_like(iff) : Tensor();
  Tensor u_roll = keep_u ? Tensor() : at::empty({2, B, N}, iff.options());  // u_{t-1}, u_t alternating
  // i_t overwrites iff in place when the caller owns iff (in_place): the saved current then costs
  // no extra [T, B, N] buffer. iff_t is read before i_t is written, element by element.
  Tensor i_all = (rec && !(in_place && iff_in.is_contiguous())) ? at::empty_like(iff) : iff;
  const Tensor wT = rec ? w_rec->t() : Tensor();
  const Tensor wTc = rec ? wT.contiguous() : Tensor();  // rows of W_rec^T, for the event-driven product
  // t = 0: the given initial spikes may be any values, so a dense product (one call, all rows)
  Tensor rec_buf = rec ? at::mm(s0, wT).contiguous() : Tensor();
  const int64_t K = replay_block(T), nblk = (T + K - 1) / K;
  Tensor ck_u = at::empty({nblk, B, N}, iff.options()), ck_b = at::empty({nblk, B, N}, iff.options());
  AT_DISPATCH_FLOATING_TYPES(iff.scalar_type(), "alif_forward", [&] {
    using T_ = scalar_t;
    const T_* al = ptr<T_>(alpha);
    const T_* rh = ptr<T_>(rho);
    const T_ bj0 = static_cast<T_>(b_j0), bt = static_cast<T_>(beta), dtt = static_cast<T_>(dt);
    const T_* Fp = ptr<T_>(iff);
    T_* Ip = ptr<T_>(i_all);
    T_* Sp = ptr<T_>(out);
    T_* bp = ptr<T_>(b);
    T_* Ua = keep_u ? ptr<T_>(u_all) : ptr<T_>(u_roll);
    const T_* u0p = ptr<T_>(u0);
    const T_* s0p = ptr<T_>(s0);
    const T_* w = rec ? ptr<T_>(wTc) : nullptr;
    T_* rb = rec ? ptr<T_>(rec_buf) : nullptr;
    auto u_at = [&](int64_t t) -> T_* { return Ua + (keep_u ? t : (t & 1)) * BN; };
    T_* cku = ptr<T_>(ck_u);
    T_* ckb = ptr<T_>(ck_b);
    for_row_ranges(B, [&](int64_t r0, int64_t r1) {
      const int64_t o0 = r0 * N, bytes = (r1 - r0) * N * sizeof(T_);
      for (int64_t t = 0; t < T; ++t) {
        const T_* sp = t > 0 ? Sp + (t - 1) * BN : s0p;
        const T_* up = t > 0 ? u_at(t - 1) : u0p;
        if (t % K == 0) {  // state before block t / K
          std::memcpy(cku + (t / K) * BN + o0, up + o0, bytes);
          std::memcpy(ckb + (t / K) * BN + o0, bp + o0, bytes);
        }
        T_* it = Ip + t * BN;
        if (rec) {
          if (t > 0) {
            // Event-driven W_rec s_{t-1}: s_{t-1} is binary (our own spikes), so the product is the
            // sum of the W_rec^T rows of the neurons that spiked, added in increasing order from 0
            // (the order of a K-sequential BLAS kernel; adding the zeros changes nothing).
            for (int64_t r = r0; r < r1; ++r) {
              T_* acc = rb + r * N;
              for (int64_t n = 0; n < N; ++n) acc[n] = T_(0);
              const T_* srow = sp + r * N;
              for (int64_t j = 0; j < N; ++j)
                if (srow[j] != T_(0)) {
                  const T_* wrow = w + j * N;
                  for (int64_t n = 0; n < N; ++n) acc[n] += wrow[n];
                }
            }
          }
          const T_* ft = Fp + t * BN;
          for (int64_t k = r0 * N; k < r1 * N; ++k) it[k] = ft[k] + rb[k];  // i_ff + W_rec s_{t-1}, as the reference
        }
        T_* ut = u_at(t);
        T_* st = Sp + t * BN;
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t o = r * N;
          alif_forward_row<T_>(N, al, rh, sp + o, up + o, it + o, bp + o, ut + o, st + o, bj0, bt, dtt);
        }
      }
    });
  });
  Tensor u_last = keep_u ? u_all[T - 1].clone() : u_roll[(T - 1) & 1].clone();
  return {out, u_all, i_all, u_last, b, ck_u, ck_b};
}

// Block-checkpointed recomputation of (u_t, b_t) of rows [r0, r1) for the reverse sweep, from the
// forward's checkpoints (the state before every block of K steps, [nblk, B, N]): each block is
// recomputed when the reverse sweep enters it, with the operations of the forward (so bitwise its
// values). Extra memory O(K R N), R = r1 - r0 rows. Every array is indexed like the global [B, N]
// rows: the block buffers hold only these rows, so their pointers are offset by -r0 N.
template <typename T>
struct StateReplay {
  int64_t T_, N, BN, RN, r0, K;
  const T *al, *rh, *S, *I, *s0, *cku, *ckb;
  T bj0, bt, dtt;
  Tensor blk_u, blk_b;
  int64_t cur = -1;

  StateReplay(int64_t T__, int64_t B, int64_t N_, int64_t r0_, int64_t r1, const T* al_, const T* rh_, const T* S_,
              const T* I_, const T* s0_, const T* cku_, const T* ckb_, T bj0_, T bt_, T dtt_,
              const at::TensorOptions& opts)
      : T_(T__), N(N_), BN(B * N_), RN((r1 - r0_) * N_), r0(r0_), K(replay_block(T__)), al(al_), rh(rh_), S(S_),
        I(I_), s0(s0_), cku(cku_), ckb(ckb_), bj0(bj0_), bt(bt_), dtt(dtt_) {
    blk_u = at::empty({K, r1 - r0, N}, opts);
    blk_b = at::empty({K, r1 - r0, N}, opts);
  }
  T* local(Tensor& t, int64_t q) { return t.data_ptr<T>() + q * RN - r0 * N; }
  void run_block(int64_t j, int64_t len) {
    const T* up = cku + j * BN;
    const T* bp = ckb + j * BN;
    for (int64_t q = 0; q < len; ++q) {
      const int64_t t = j * K + q;
      const T* sp = t > 0 ? S + (t - 1) * BN : s0;
      const T* it = I + t * BN;
      T* un = local(blk_u, q);
      T* bn = local(blk_b, q);
      for (int64_t o = r0 * N; o < r0 * N + RN; o += N)
        alif_state_row<T>(N, al, rh, sp + o, up + o, bp + o, it + o, un + o, bn + o, bj0, bt, dtt);
      up = un;
      bp = bn;
    }
    cur = j;
  }
  // pointers to u_t, b_t, u_{t-1}, b_{t-1}; t must go down monotonically
  void at_step(int64_t t, const T** ut, const T** bt_, const T** up, const T** bp) {
    const int64_t j = t / K;
    if (j != cur) run_block(j, std::min(K, T_ - j * K));
    const int64_t q = t - j * K;
    *ut = local(blk_u, q);
    *bt_ = local(blk_b, q);
    *up = q > 0 ? local(blk_u, q - 1) : cku + j * BN;
    *bp = q > 0 ? local(blk_b, q - 1) : ckb + j * BN;
  }
};

// x_t = u_t - theta_t for every step (input of the surrogate), for the generic-surrogate path.
Tensor alif_surrogate_input(const Tensor& out, const Tensor& i_all, const Tensor& alpha_in, const Tensor& rho_in,
                            const Tensor& s0_in, const Tensor& ck_u_in, const Tensor& ck_b_in, double b_j0,
                            double beta, double dt) {
  const int64_t T = out.size(0), B = out.size(1), N = out.size(2), BN = B * N;
  const Tensor alpha = alpha_in.contiguous(), rho = rho_in.contiguous(), s0 = s0_in.contiguous();
  const Tensor ck_u = ck_u_in.contiguous(), ck_b = ck_b_in.contiguous();
  Tensor x = at::empty_like(out);
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "alif_surrogate_input", [&] {
    using T_ = scalar_t;
    const T_ bj0 = static_cast<T_>(b_j0), bt = static_cast<T_>(beta), dtt = static_cast<T_>(dt);
    for_row_ranges(B, [&](int64_t r0, int64_t r1) {
      StateReplay<T_> rp(T, B, N, r0, r1, ptr<T_>(alpha), ptr<T_>(rho), ptr<T_>(out), ptr<T_>(i_all), ptr<T_>(s0),
                         ptr<T_>(ck_u), ptr<T_>(ck_b), bj0, bt, dtt, out.options());
      const int64_t o = r0 * N;
      for (int64_t t = T - 1; t >= 0; --t) {
        const T_ *ut, *btp, *up, *bp;
        rp.at_step(t, &ut, &btp, &up, &bp);
        surrogate_input_row<T_>((r1 - r0) * N, ut + o, btp + o, ptr<T_>(x) + t * BN + o, bj0, bt);
      }
    });
  });
  return x;
}

// dL/dW_rec = sum_t dL/di_t^T s_{t-1} for t >= 1, event-driven: s_{t-1} are the layer's own binary
// spikes, so each spike adds one row of dL/di_t. Accumulated as the transpose [N_pre, N_post] with
// neurons split between threads (no two threads write the same row); returns W's layout [N_post, N_pre].
template <typename T>
void spike_outer_sum(const T* __restrict S, const T* __restrict G, int64_t T_, int64_t B, int64_t N, T* __restrict gwT) {
  const int64_t BN = B * N;
  at::parallel_for(0, N, 1, [&](int64_t j0, int64_t j1) {
    for (int64_t t = 1; t < T_; ++t)
      for (int64_t r = 0; r < B; ++r) {
        const T* srow = S + (t - 1) * BN + r * N;
        const T* grow = G + t * BN + r * N;
        for (int64_t j = j0; j < j1; ++j) {
          const T v = srow[j];
          if (v != T(0)) {
            T* dst = gwT + j * N;
            for (int64_t n = 0; n < N; ++n) dst[n] += v * grow[n];
          }
        }
      }
  });
}

// ALIF backward (BPTT through u, b and s, soft reset and threshold adaptation included).
// Returns (grad_iff [T,B,N], grad_w_rec [N,N] or undefined, grad_alpha [N], grad_rho [N],
//          grad_u0, grad_b0, grad_s0 [B,N]).
std::vector<Tensor> alif_backward(const c10::optional<Tensor>& grad_out, const c10::optional<Tensor>& grad_mem,
                                  const c10::optional<Tensor>& grad_u_last, const c10::optional<Tensor>& grad_b_last,
                                  const c10::optional<Tensor>& sd_in, const Tensor& out, const Tensor& i_all,
                                  const Tensor& s0_in, const Tensor& ck_u_in, const Tensor& ck_b_in,
                                  const c10::optional<Tensor>& w_rec, const Tensor& alpha_in, const Tensor& rho_in,
                                  double b_j0, double beta, double dt, int64_t kind, std::vector<double> params) {
  const int64_t T = out.size(0), B = out.size(1), N = out.size(2), BN = B * N;
  const bool rec = w_rec.has_value() && w_rec->defined();
  const bool has_go = grad_out.has_value() && grad_out->defined();
  const bool has_gm = grad_mem.has_value() && grad_mem->defined();
  const bool has_sd = sd_in.has_value() && sd_in->defined();
  TORCH_CHECK(has_sd || kind != GENERIC, "srnn_kernels: generic surrogate needs its derivative tensor");
  const Tensor alpha = alpha_in.contiguous(), rho = rho_in.contiguous(), s0 = s0_in.contiguous();
  const Tensor ck_u = ck_u_in.contiguous(), ck_b = ck_b_in.contiguous();
  const auto opts = out.options();
  const Tensor zeros_bn = at::zeros({B, N}, opts);
  const Tensor go = has_go ? grad_out->contiguous() : Tensor();
  const Tensor gm = has_gm ? grad_mem->contiguous() : Tensor();
  const Tensor sd = has_sd ? sd_in->contiguous() : Tensor();
  const Tensor W = rec ? w_rec->contiguous() : Tensor();
  auto init = [&](const c10::optional<Tensor>& g) {
    return (g.has_value() && g->defined()) ? g->contiguous().clone() : at::zeros({B, N}, opts);
  };
  Tensor gu = init(grad_u_last), gb = init(grad_b_last), gsf = at::zeros({B, N}, opts);
  Tensor acc_a = at::zeros({B, N}, opts), acc_r = at::zeros({B, N}, opts);
  Tensor sdbuf = at::empty({B, N}, opts), xbuf = at::empty({B, N}, opts);
  Tensor gi_all = at::empty_like(out);
  Tensor gwT = rec ? at::zeros({N, N}, opts) : Tensor();
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "alif_backward", [&] {
    using T_ = scalar_t;
    const T_* al = ptr<T_>(alpha);
    const T_* rh = ptr<T_>(rho);
    const T_ bj0 = static_cast<T_>(b_j0), bt = static_cast<T_>(beta), dtt = static_cast<T_>(dt);
    const T_* S = ptr<T_>(out);
    const T_* I = ptr<T_>(i_all);
    const T_* z = ptr<T_>(zeros_bn);
    T_* gup = ptr<T_>(gu);
    T_* gbp = ptr<T_>(gb);
    T_* gsp = ptr<T_>(gsf);
    T_* aa = ptr<T_>(acc_a);
    T_* ar = ptr<T_>(acc_r);
    T_* sdb = ptr<T_>(sdbuf);
    T_* xb = ptr<T_>(xbuf);
    T_* GI = ptr<T_>(gi_all);
    for_row_ranges(B, [&](int64_t r0, int64_t r1) {
      const int64_t R = r1 - r0, o0 = r0 * N, RN = R * N;
      StateReplay<T_> rp(T, B, N, r0, r1, al, rh, S, I, ptr<T_>(s0), ptr<T_>(ck_u), ptr<T_>(ck_b), bj0, bt, dtt, opts);
      Tensor gs_rows = gsf.narrow(0, r0, R);
      for (int64_t t = T - 1; t >= 0; --t) {
        const T_ *ut, *bt_, *up, *bp;
        rp.at_step(t, &ut, &bt_, &up, &bp);  // u_t, b_t, u_{t-1}, b_{t-1}, recomputed bitwise
        const T_* it = I + t * BN;
        const T_* sp = t > 0 ? S + (t - 1) * BN : ptr<T_>(s0);
        const T_* got = has_go ? ptr<T_>(go) + t * BN : z;
        const T_* gmt = has_gm ? ptr<T_>(gm) + t * BN : z;
        const T_* sdt;
        if (has_sd) {
          sdt = ptr<T_>(sd) + t * BN;
        } else {
          surrogate_input_row<T_>(RN, ut + o0, bt_ + o0, xb + o0, bj0, bt);
          surrogate_derivative<T_>(xb + o0, sdb + o0, RN, kind, params);
          sdt = sdb;
        }
        T_* git = GI + t * BN;
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t o = r * N;
          alif_backward_row<T_>(N, al, rh, sp + o, up + o, bp + o, bt_ + o, it + o, got + o, gmt + o, sdt + o,
                                git + o, gup + o, gbp + o, gsp + o, aa + o, ar + o, bj0, bt, dtt);
        }
        if (rec) gs_rows.addmm_(gi_all.select(0, t).narrow(0, r0, R), W);  // + dL/di_t W_rec (these rows)
      }
    });
    if (rec) spike_outer_sum<T_>(S, GI, T, B, N, ptr<T_>(gwT));
  });
  Tensor gw;
  if (rec) {
    gw = gwT.t().contiguous();
    gw.addmm_(gi_all[0].t(), s0);  // t = 0: the initial spikes may be any values (dense)
  }
  return {gi_all, gw, acc_a.sum(0), acc_r.sum(0), gu, gb, gsf};
}

// ---------------------------------------------------------------------------------------------
// Leaky integrator: u_t = alpha * u_{t-1} + (1 - alpha) * i_t.
Tensor li_forward(const Tensor& iff_in, const Tensor& alpha_in, const Tensor& u0_in) {
  check_seq(iff_in, "iff");
  const Tensor iff = iff_in.contiguous(), alpha = alpha_in.contiguous(), u0 = u0_in.contiguous();
  const int64_t T = iff.size(0), B = iff.size(1), N = iff.size(2), BN = B * N;
  Tensor u_all = at::empty_like(iff);
  AT_DISPATCH_FLOATING_TYPES(iff.scalar_type(), "li_forward", [&] {
    using T_ = scalar_t;
    const T_* al = ptr<T_>(alpha);
    for_row_ranges(B, [&](int64_t r0, int64_t r1) {
      for (int64_t t = 0; t < T; ++t) {
        const T_* up = t > 0 ? ptr<T_>(u_all) + (t - 1) * BN : ptr<T_>(u0);
        const T_* it = ptr<T_>(iff) + t * BN;
        T_* ut = ptr<T_>(u_all) + t * BN;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t n = 0; n < N; ++n) {
            const int64_t k = r * N + n;
            ut[k] = al[n] * up[k] + (T_(1) - al[n]) * it[k];
          }
      }
    });
  });
  return u_all;
}

// Returns (grad_iff, grad_alpha [N], grad_u0).
std::tuple<Tensor, Tensor, Tensor> li_backward(const Tensor& grad_u_in, const Tensor& u_all, const Tensor& iff_in,
                                               const Tensor& u0_in, const Tensor& alpha_in) {
  const Tensor gu_all = grad_u_in.contiguous(), iff = iff_in.contiguous();
  const Tensor alpha = alpha_in.contiguous(), u0 = u0_in.contiguous();
  const int64_t T = iff.size(0), B = iff.size(1), N = iff.size(2), BN = B * N;
  Tensor gi_all = at::empty_like(iff);
  Tensor gu = at::zeros({B, N}, iff.options()), acc = at::zeros({B, N}, iff.options());
  AT_DISPATCH_FLOATING_TYPES(iff.scalar_type(), "li_backward", [&] {
    using T_ = scalar_t;
    const T_* al = ptr<T_>(alpha);
    T_* g = ptr<T_>(gu);
    T_* a = ptr<T_>(acc);
    for_row_ranges(B, [&](int64_t r0, int64_t r1) {
      for (int64_t t = T - 1; t >= 0; --t) {
        const T_* up = t > 0 ? ptr<T_>(u_all) + (t - 1) * BN : ptr<T_>(u0);
        const T_* it = ptr<T_>(iff) + t * BN;
        const T_* go = ptr<T_>(gu_all) + t * BN;
        T_* gi = ptr<T_>(gi_all) + t * BN;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t n = 0; n < N; ++n) {
            const int64_t k = r * N + n;
            const T_ du = g[k] + go[k];
            gi[k] = (T_(1) - al[n]) * du;
            a[k] += du * (up[k] - it[k]);
            g[k] = al[n] * du;
          }
      }
    });
  });
  return {gi_all, acc.sum(0), gu};
}

// ---------------------------------------------------------------------------------------------
// Sparse input projection (the ~1.5 %-dense binary inputs): rows of x [R, F] in CSR form.
// Returns (indptr int64 [R+1], indices int32 [nnz], values [nnz]); undefined tensors when the
// number of non-zeros exceeds max_nnz (then the dense matmul is cheaper). Each thread scans a range
// of rows into its own lists; the lists are then concatenated in row order.
template <typename T>
void scan_rows(const T* __restrict xp, int64_t F, int64_t r0, int64_t r1, int64_t max_nnz, int64_t* __restrict counts,
               std::vector<int32_t>& idx, std::vector<T>& val) {
  constexpr int64_t blk = 8;
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = xp + r * F;
    const size_t before = idx.size();
    int64_t f = 0;
    for (; f + blk <= F; f += blk) {
      uint64_t bits = 0;  // all-zero block (the common case at ~1.5 % density): one test
      for (int64_t q = 0; q < blk; ++q) {
        T v = row[f + q];
        uint64_t u = 0;
        std::memcpy(&u, &v, sizeof(T));
        bits |= u;
      }
      if (bits == 0) continue;
      for (int64_t q = f; q < f + blk; ++q)
        if (row[q] != T(0)) {
          idx.push_back(static_cast<int32_t>(q));
          val.push_back(row[q]);
        }
    }
    for (; f < F; ++f)
      if (row[f] != T(0)) {
        idx.push_back(static_cast<int32_t>(f));
        val.push_back(row[f]);
      }
    counts[r] = static_cast<int64_t>(idx.size() - before);
    if (static_cast<int64_t>(idx.size()) > max_nnz) return;  // too dense already: the caller gives up
  }
}

std::tuple<Tensor, Tensor, Tensor> to_csr(const Tensor& x_in, int64_t max_nnz) {
  TORCH_CHECK(x_in.dim() == 2, "srnn_kernels.to_csr: x must be [R, F]");
  const Tensor x = x_in.contiguous();
  const int64_t R = x.size(0), F = x.size(1);
  Tensor indptr = at::zeros({R + 1}, x.options().dtype(at::kLong));
  int64_t* ip = indptr.data_ptr<int64_t>();
  Tensor indices, values;
  bool too_dense = false;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "to_csr", [&] {
    using T_ = scalar_t;
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), R));
    std::vector<std::vector<int32_t>> idx(parts);
    std::vector<std::vector<T_>> val(parts);
    const int64_t per = (R + parts - 1) / parts;
    at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t r0 = p * per, r1 = std::min(R, r0 + per);
        if (r0 >= r1) continue;
        idx[p].reserve(static_cast<size_t>(std::min<int64_t>(max_nnz, (r1 - r0) * F)) + 1);
        val[p].reserve(idx[p].capacity());
        scan_rows<T_>(ptr<T_>(x), F, r0, r1, max_nnz, ip + 1, idx[p], val[p]);
      }
    });
    int64_t nnz = 0;
    for (int64_t p = 0; p < parts; ++p) nnz += static_cast<int64_t>(idx[p].size());
    too_dense = nnz > max_nnz;
    if (too_dense) return;
    for (int64_t r = 0; r < R; ++r) ip[r + 1] += ip[r];
    indices = at::empty({nnz}, x.options().dtype(at::kInt));
    values = at::empty({nnz}, x.options());
    int64_t off = 0;
    for (int64_t p = 0; p < parts; ++p) {
      const size_t n = idx[p].size();
      if (n) {
        std::memcpy(indices.data_ptr<int32_t>() + off, idx[p].data(), n * sizeof(int32_t));
        std::memcpy(values.data_ptr<T_>() + off, val[p].data(), n * sizeof(T_));
      }
      off += static_cast<int64_t>(n);
    }
  });
  if (too_dense) return {Tensor(), Tensor(), Tensor()};
  return {indptr, indices, values};
}

// out [R, N] = bias + x W^T with x in CSR and wT = W^T [F, N]; rows split between threads.
Tensor csr_linear(const Tensor& indptr, const Tensor& indices, const Tensor& values, const Tensor& wT_in,
                  const c10::optional<Tensor>& bias) {
  const Tensor wT = wT_in.contiguous();
  const int64_t R = indptr.size(0) - 1, N = wT.size(1);
  Tensor out = (bias.has_value() && bias->defined()) ? bias->reshape({1, N}).expand({R, N}).contiguous()
                                                     : at::zeros({R, N}, wT.options());
  const int64_t* ip = indptr.data_ptr<int64_t>();
  const int32_t* ix = indices.data_ptr<int32_t>();
  AT_DISPATCH_FLOATING_TYPES(wT.scalar_type(), "csr_linear", [&] {
    using T_ = scalar_t;
    const T_* v = ptr<T_>(values);
    const T_* w = ptr<T_>(wT);
    T_* o = ptr<T_>(out);
    at::parallel_for(0, R, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        T_* orow = o + r * N;
        for (int64_t j = ip[r]; j < ip[r + 1]; ++j) {
          const T_* wrow = w + static_cast<int64_t>(ix[j]) * N;
          const T_ vj = v[j];
          for (int64_t n = 0; n < N; ++n) orow[n] += vj * wrow[n];
        }
      }
    });
  });
  return out;
}

// grad of W^T [F, N] = x^T g, x in CSR, g [R, N]. The F weight rows are split between threads; each
// thread visits every non-zero and adds those of its own rows, in row order r = 0..R-1. Every element is
// thus summed in the same order whatever the thread count (bitwise the single-thread result; issue #14).
Tensor csr_linear_grad_weight(const Tensor& indptr, const Tensor& indices, const Tensor& values, const Tensor& g_in,
                              int64_t F) {
  const Tensor g = g_in.contiguous();
  const int64_t R = indptr.size(0) - 1, N = g.size(1);
  Tensor out = at::zeros({F, N}, g.options());
  const int64_t* ip = indptr.data_ptr<int64_t>();
  const int32_t* ix = indices.data_ptr<int32_t>();
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "csr_linear_grad_weight", [&] {
    using T_ = scalar_t;
    const T_* v = ptr<T_>(values);
    const T_* gp = ptr<T_>(g);
    T_* w = ptr<T_>(out);
    at::parallel_for(0, F, 1, [&](int64_t f0, int64_t f1) {
      for (int64_t r = 0; r < R; ++r) {
        const T_* grow = gp + r * N;
        for (int64_t j = ip[r]; j < ip[r + 1]; ++j) {
          const int64_t f = static_cast<int64_t>(ix[j]);
          if (f < f0 || f >= f1) continue;
          T_* wrow = w + f * N;
          const T_ vj = v[j];
          for (int64_t n = 0; n < N; ++n) wrow[n] += vj * grow[n];
        }
      }
    });
  });
  return out;
}

Tensor surrogate_derivative_op(const Tensor& x_in, int64_t kind, std::vector<double> params) {
  const Tensor x = x_in.contiguous();
  Tensor out = at::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "surrogate_derivative",
                             [&] { surrogate_derivative<scalar_t>(ptr<scalar_t>(x), ptr<scalar_t>(out), x.numel(), kind, params); });
  return out;
}

}  // namespace

TORCH_LIBRARY(srnn_kernels, m) {
  m.def("alif_forward(Tensor iff, Tensor? w_rec, Tensor alpha, Tensor rho, Tensor u0, Tensor b0, Tensor s0, "
        "float b_j0, float beta, float dt, bool in_place=False, bool keep_u=True) "
        "-> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)",
        &alif_forward);
  m.def("alif_surrogate_input(Tensor out, Tensor i_all, Tensor alpha, Tensor rho, Tensor s0, Tensor ck_u, "
        "Tensor ck_b, float b_j0, float beta, float dt) -> Tensor",
        &alif_surrogate_input);
  m.def("alif_backward(Tensor? grad_out, Tensor? grad_mem, Tensor? grad_u_last, Tensor? grad_b_last, Tensor? sd, "
        "Tensor out, Tensor i_all, Tensor s0, Tensor ck_u, Tensor ck_b, Tensor? w_rec, Tensor alpha, Tensor rho, "
        "float b_j0, float beta, float dt, int kind, float[] params) -> Tensor[]",
        &alif_backward);
  m.def("li_forward(Tensor iff, Tensor alpha, Tensor u0) -> Tensor", &li_forward);
  m.def("li_backward(Tensor grad_u, Tensor u_all, Tensor iff, Tensor u0, Tensor alpha) -> (Tensor, Tensor, Tensor)",
        &li_backward);
  m.def("to_csr(Tensor x, int max_nnz) -> (Tensor, Tensor, Tensor)", &to_csr);
  m.def("csr_linear(Tensor indptr, Tensor indices, Tensor values, Tensor wT, Tensor? bias) -> Tensor", &csr_linear);
  m.def("csr_linear_grad_weight(Tensor indptr, Tensor indices, Tensor values, Tensor g, int F) -> Tensor",
        &csr_linear_grad_weight);
  m.def("surrogate_derivative(Tensor x, int kind, float[] params) -> Tensor", &surrogate_derivative_op);
}
