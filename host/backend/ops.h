// Ops<T>: every piece of math the ADMM schedule needs, on tensors a backend owns.
// The schedule (host/admm) is written once against this interface; CpuOps and CudaOps
// implement it. T is float in training and double in the reference-parity tests.
// Reductions return double on the host (the step-size logic needs them there).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "host/backend/tensor.h"
#include "host/quant/grid.h"
#include "host/quant/wire.h"

namespace pdadmm {

enum class CeMode {
  Stable,     // log-sum-exp cross-entropy (default)
  Reference,  // reference code: -Σ y log(softmax + 1e-10), softmax denominator Σexp + 1e-10
};

struct DualStats {
  double r2 = 0;       // ||p_next - q||² (before u changes)
  double u_dot_r = 0;  // <u_new, p_next - q>
};

template <typename T>
class Ops {
 public:
  virtual ~Ops() = default;
  virtual std::string name() const = 0;

  // ---- memory ----
  virtual Tensor<T> alloc(int64_t rows, int64_t cols) = 0;  // zero-filled
  virtual Tensor<uint8_t> alloc_bytes(int64_t n) = 0;
  virtual void upload(const T* host, Tensor<T>& dst) = 0;
  virtual void download(const Tensor<T>& src, T* host) = 0;
  virtual void copy(const Tensor<T>& src, Tensor<T>& dst) = 0;
  virtual void fill(Tensor<T>& x, T value) = 0;
  // Called once on the group's own thread before it uses this object (CUDA: sets the device).
  virtual void bind_thread() {}
  // OpenMP threads of the group's team on its own thread (CPU); 0 for a device backend.
  virtual int team_threads() const { return 0; }
  // Waits until queued work on this backend is done (no-op on the CPU).
  virtual void sync() {}

  // ---- dense linear algebra ----
  // c = alpha * op(a) op(b) + beta * c, op = transpose when the flag is set.
  virtual void gemm(bool trans_a, bool trans_b, T alpha, const Tensor<T>& a, const Tensor<T>& b,
                    T beta, Tensor<T>& c) = 0;
  virtual void axpby(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) = 0;  // y = αx + βy
  virtual double dot(const Tensor<T>& x, const Tensor<T>& y) = 0;
  virtual double sum_sq(const Tensor<T>& x) = 0;

  // ---- ADMM element-wise steps (math in kernels/admm_math.cuh) ----
  virtual void add_bias(const Tensor<T>& wp, const Tensor<T>& b, Tensor<T>& out) = 0;  // wp + b 1ᵀ
  virtual void relu(Tensor<T>& x) = 0;  // x = max(x, 0) in place (forward passes)
  // r = a - z, returns ||r||².
  virtual double residual(const Tensor<T>& a, const Tensor<T>& z, Tensor<T>& r) = 0;
  // b = mean over columns of (z - wp).
  virtual void row_mean_diff(const Tensor<T>& z, const Tensor<T>& wp, Tensor<T>& b) = 0;
  // g holds Wᵀ(Wp + b - z) on entry; on exit ν g + u + ρ (p - q).
  virtual void p_grad(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u,
                      Tensor<T>& g) = 0;
  // z (holding z^k on entry) <- two-branch closed form with a = Wp + b.
  virtual void z_hidden(const Tensor<T>& a, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& z) = 0;
  virtual void q_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& u, const Tensor<T>& z,
                        Tensor<T>& q) = 0;
  // r = p_next - q; u += ρ r. Fused so that r is never stored.
  virtual DualStats dual_update(T rho, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u) = 0;
  // ||q - relu(z)||².
  virtual double relu_gap_sq(const Tensor<T>& q, const Tensor<T>& z) = 0;

  // ---- fused passes: what two or three of the steps above compute, in one pass over memory ----
  // The defaults run those steps; a backend that fuses them must give the same bits (the same
  // per-element math, each sum added in the same order as dot/sum_sq/residual/dual_update add it).
  // r = (wp + b 1ᵀ) - z, returns ||r||². `a` is scratch: a backend may leave wp + b 1ᵀ there or
  // not touch it.
  virtual double bias_residual(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& z, Tensor<T>& a,
                               Tensor<T>& r) {
    add_bias(wp, b, a);
    return residual(a, z, r);
  }
  // a = wp + b 1ᵀ, then z_hidden(a, q).
  virtual void bias_z_hidden(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& q, bool prox_in_compare,
                             Tensor<T>& a, Tensor<T>& z) {
    add_bias(wp, b, a);
    z_hidden(a, q, prox_in_compare, z);
  }
  // {<x, y>, <y, w>}.
  virtual std::array<double, 2> dot2(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& w) {
    return {dot(x, y), dot(y, w)};
  }
  // axpby, then returns ||y||² of the new y.
  virtual double axpby_sum_sq(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) {
    axpby(alpha, x, beta, y);
    return sum_sq(y);
  }
  // p_grad, then returns ||g||² of the new g.
  virtual double p_grad_sum_sq(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u, Tensor<T>& g) {
    p_grad(nu, rho, p, q, u, g);
    return sum_sq(g);
  }
  // q_update, then dual_update with the new q (an unquantized q that crosses no wire).
  virtual DualStats q_dual_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& z, Tensor<T>& q,
                                  Tensor<T>& u) {
    q_update(nu, rho, p_next, u, z, q);
    return dual_update(rho, p_next, q, u);
  }

  // ---- last layer (columns are samples, rows are classes; y is one-hot) ----
  virtual double cross_entropy(CeMode mode, const Tensor<T>& z, const Tensor<T>& y) = 0;
  virtual void softmax_minus(CeMode mode, const Tensor<T>& z, const Tensor<T>& y, Tensor<T>& g) = 0;
  // zeta_old <- zeta; zeta <- prox step from z; z <- (1-γ) zeta + γ zeta_old.
  virtual void fista_step(T nu, T eta, T gamma, const Tensor<T>& a, const Tensor<T>& grad,
                          Tensor<T>& zeta, Tensor<T>& zeta_old, Tensor<T>& z) = 0;

  // ---- pdADMM-G-Q: grid projection and wire codecs ----
  virtual void project(const Grid& grid, Tensor<T>& x) = 0;
  // Rounds x in place to what the receiver decodes, writes the payload; returns its bytes.
  virtual size_t encode(const WireSpec& spec, Tensor<T>& x, Tensor<uint8_t>& out) = 0;
  virtual void decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<T>& x) = 0;
};

}  // namespace pdadmm
