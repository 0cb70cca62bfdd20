// CpuOps<T>: the CPU backend. GEMM through OpenBLAS (cblas), element-wise steps as plain loops
// over the shared per-element math of kernels/*.cuh, OpenMP across `threads` when large.
#pragma once
#include <memory>

#include "host/backend/ops.h"

namespace pdadmm {

// Row-major C = alpha op(A) op(B) + beta C as a fixed split of the rows of C (two blocks when the
// GEMM is large, chosen from the shape alone; with `huge`, up to 8 for a GEMM of 3 x 2^32
// multiply-adds or more), one single-threaded OpenBLAS call per block (configure_threads,
// BlasSingleThread), run on up to `threads` OpenMP threads: every element comes from the same
// calls whatever the thread count or grouping, so results are bit-identical for any grouping or
// thread setting (OpenBLAS's own threading is not).
template <typename T>
void gemm_split_rows(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                     int64_t ldb, T beta, T* c, int64_t ldc, int threads, bool huge = false);
// The row blocks gemm_split_rows makes of an m x n x k GEMM (ceil(m / blocks) rows each).
int gemm_row_blocks(int64_t m, int64_t n, int64_t k, bool huge);

// Sets OpenBLAS to one thread for its lifetime (for code that runs before configure_threads).
class BlasSingleThread {
 public:
  BlasSingleThread();
  ~BlasSingleThread();
  BlasSingleThread(const BlasSingleThread&) = delete;
  BlasSingleThread& operator=(const BlasSingleThread&) = delete;

 private:
  int before_;
};

template <typename T>
class CpuOps final : public Ops<T> {
 public:
  // threads: OpenMP threads for element-wise loops in this group (BLAS threads are global).
  explicit CpuOps(int threads = 1) : threads_(threads < 1 ? 1 : threads) {}
  std::string name() const override { return "cpu"; }
  int team_threads() const override { return threads_; }

  Tensor<T> alloc(int64_t rows, int64_t cols) override;
  Tensor<uint8_t> alloc_bytes(int64_t n) override;
  void upload(const T* host, Tensor<T>& dst) override;
  void download(const Tensor<T>& src, T* host) override;
  void copy(const Tensor<T>& src, Tensor<T>& dst) override;
  void fill(Tensor<T>& x, T value) override;

  void gemm(bool trans_a, bool trans_b, T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta,
            Tensor<T>& c) override;
  void axpby(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) override;
  double dot(const Tensor<T>& x, const Tensor<T>& y) override;
  double sum_sq(const Tensor<T>& x) override;

  void add_bias(const Tensor<T>& wp, const Tensor<T>& b, Tensor<T>& out) override;
  void relu(Tensor<T>& x) override;
  double residual(const Tensor<T>& a, const Tensor<T>& z, Tensor<T>& r) override;
  void row_mean_diff(const Tensor<T>& z, const Tensor<T>& wp, Tensor<T>& b) override;
  void p_grad(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u, Tensor<T>& g) override;
  void z_hidden(const Tensor<T>& a, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& z) override;
  void q_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& u, const Tensor<T>& z,
                Tensor<T>& q) override;
  DualStats dual_update(T rho, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u) override;
  double relu_gap_sq(const Tensor<T>& q, const Tensor<T>& z) override;

  double bias_residual(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& z, Tensor<T>& a,
                       Tensor<T>& r) override;  // leaves `a` alone
  void bias_z_hidden(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& a,
                     Tensor<T>& z) override;
  std::array<double, 2> dot2(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& w) override;
  double axpby_sum_sq(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) override;
  double p_grad_sum_sq(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u, Tensor<T>& g) override;
  DualStats q_dual_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& z, Tensor<T>& q,
                          Tensor<T>& u) override;

  double cross_entropy(CeMode mode, const Tensor<T>& z, const Tensor<T>& y) override;
  void softmax_minus(CeMode mode, const Tensor<T>& z, const Tensor<T>& y, Tensor<T>& g) override;
  void fista_step(T nu, T eta, T gamma, const Tensor<T>& a, const Tensor<T>& grad, Tensor<T>& zeta,
                  Tensor<T>& zeta_old, Tensor<T>& z) override;

  void project(const Grid& grid, Tensor<T>& x) override;
  size_t encode(const WireSpec& spec, Tensor<T>& x, Tensor<uint8_t>& out) override;
  void decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<T>& x) override;

 private:
  int threads_;
};

extern template class CpuOps<float>;
extern template class CpuOps<double>;

}  // namespace pdadmm
