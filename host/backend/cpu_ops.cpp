// CPU backend: OpenBLAS GEMM and loops over the shared element math.
#include "host/backend/cpu_ops.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <vector>
#include <cmath>
#include <cstring>
#include <new>
#include <string>

#include "host/backend/avx2_clone.h"
#include "host/backend/shape_check.h"
#include "host/io/error.h"
#include "kernels/admm_math.cuh"

namespace pdadmm {

namespace {

constexpr int64_t kParallelMin = 1 << 15;  // below this many elements OpenMP costs more than it saves
constexpr int64_t kGemmRowBlocks = 2;      // row blocks of every large GEMM (gemm_split_rows)
constexpr int64_t kGemmMaxRowBlocks = 8;   // ... and of a huge one: one block per 2^32 multiply-adds
constexpr int64_t kGemmMinBlockRows = 128;

// The element-wise loops below have AVX2 twins (host/backend/avx2_clone.h; the sums' lanes are
// fixed by kLanes, not by the vector width): a loop gets the AVX2 build by running inside
// range_avx2 / fill_chunk_sum_avx2 as an always-inline lambda (PDADMM_LAMBDA_INLINE) or template.
template <typename F>
PDADMM_TARGET_AVX2 void range_avx2(int64_t i0, int64_t i1, F& f) {
  f(i0, i1);
}

// Sums term(i) over fixed chunks of [0, n) in chunk order, each chunk over kLanes interleaved
// partial sums added in lane order: where every addition happens depends on n only, never on the
// number of threads, so neither do step sizes (grouping invariance holds for any BLAS/OMP split);
// the independent lanes vectorise where one running sum is a latency chain.
constexpr int64_t kChunk = 8192;
constexpr int kLanes = 8;
template <int K, typename F>
PDADMM_ALWAYS_INLINE std::array<double, K> chunk_sum(int64_t i0, int64_t i1, F& term) {
  double lane[K][kLanes] = {};
  int64_t i = i0;
  for (; i + kLanes <= i1; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const std::array<double, K> t = term(i + l);
      for (int k = 0; k < K; ++k) lane[k][l] += t[k];
    }
  std::array<double, K> s{};
  for (int k = 0; k < K; ++k)
    for (int l = 0; l < kLanes; ++l) s[k] += lane[k][l];
  for (; i < i1; ++i) {
    const std::array<double, K> t = term(i);
    for (int k = 0; k < K; ++k) s[k] += t[k];
  }
  return s;
}

template <int K, typename Fill, typename F>
PDADMM_ALWAYS_INLINE std::array<double, K> fill_chunk_sum(int64_t i0, int64_t i1, Fill& fill, F& term) {
  fill(i0, i1);
  return chunk_sum<K>(i0, i1, term);
}
template <int K, typename Fill, typename F>
PDADMM_TARGET_AVX2 std::array<double, K> fill_chunk_sum_avx2(int64_t i0, int64_t i1, Fill& fill, F& term) {
  return fill_chunk_sum<K>(i0, i1, fill, term);
}

// f(i0, i1) on one range, its loops built for AVX2 where the CPU has it.
template <typename F>
void on_range(int64_t i0, int64_t i1, F& f) {
  if (use_host_ops_avx2()) return range_avx2(i0, i1, f);
  f(i0, i1);
}

// f(i0, i1) over [0, n) split evenly among `team` threads (element-wise work: any split, same bits).
template <typename F>
void parallel_ranges(int64_t n, int team, F f) {
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t per = (n + nt - 1) / nt, i0 = std::min(n, t * per), i1 = std::min(n, i0 + per);
    if (i0 < i1) on_range(i0, i1, f);
  }
}

// fill(i0, i1) runs on each chunk before its sums (while the chunk is in cache): for a pass that
// writes its elements in a loop of its own shape (by rows) and sums them in the fixed order.
template <int K, typename Fill, typename F>
std::array<double, K> chunked_sums(int64_t n, int threads, Fill fill, F term) {
  const auto one = [&](int64_t i0, int64_t i1) {
    if (use_host_ops_avx2()) return fill_chunk_sum_avx2<K>(i0, i1, fill, term);
    return fill_chunk_sum<K>(i0, i1, fill, term);
  };
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1) return one(0, n);
  std::vector<std::array<double, K>> part(static_cast<size_t>(chunks));
#pragma omp parallel for num_threads(threads) if (n > kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) part[c] = one(c * kChunk, std::min(n, (c + 1) * kChunk));
  std::array<double, K> s{};
  for (const auto& p : part)
    for (int k = 0; k < K; ++k) s[k] += p[k];
  return s;
}

template <int K, typename F>
std::array<double, K> chunked_sums(int64_t n, int threads, F term) {
  return chunked_sums<K>(n, threads, [](int64_t, int64_t) {}, term);
}

// f(row, i, e) over [i0, i1) of a row-major matrix with `cols` columns, cut at the rows' ends.
template <typename F>
PDADMM_ALWAYS_INLINE void by_rows(int64_t i0, int64_t i1, int64_t cols, F f) {
  if (i0 >= i1) return;
  for (int64_t row = i0 / cols, i = i0; i < i1; ++row) {
    const int64_t e = std::min(i1, (row + 1) * cols);
    f(row, i, e);
    i = e;
  }
}

template <typename T>
T* host_alloc(int64_t n) {
  if (n == 0) return nullptr;
  T* p = static_cast<T*>(::operator new(static_cast<size_t>(n) * sizeof(T), std::align_val_t(64), std::nothrow));
  if (!p) throw Error("out of host memory allocating " + std::to_string(n * sizeof(T)) + " bytes");
  std::memset(static_cast<void*>(p), 0, static_cast<size_t>(n) * sizeof(T));
  return p;
}

template <typename T>
void host_free(T* p) {
  ::operator delete(static_cast<void*>(p), std::align_val_t(64));
}

inline void blas_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                      const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, beta, c, ldc);
}
inline void blas_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, int lda,
                      const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, beta, c, ldc);
}

}  // namespace

int gemm_row_blocks(int64_t m, int64_t n, int64_t k, bool huge) {
  // The blocks depend on the shape only, never on the threads: OpenBLAS's Haswell/Zen kernels round
  // an element differently depending on where the call's edges fall, so a thread-dependent split
  // changed the last bits between groupings (SkylakeX's did not). Two blocks cost ~4% on one
  // thread and give two threads per group exact parallel GEMMs. With `huge` (the solver's GEMMs),
  // one of 3 x 2^32 multiply-adds or more (a 2048-wide layer on 20000 columns: 2^36) takes a block
  // per 2^32, up to 8 of m/8 rows or more (about 128 at least), so that a group's threads past two
  // share it; the training configs' GEMMs are smaller (Coauthor CS's largest, 500 x 300 x 34025, is
  // 1.2 x 2^32), so their bits are unchanged. In double: no overflow, exact below 2^53.
  const double madds = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int64_t many = huge ? std::min<int64_t>({kGemmMaxRowBlocks, m / kGemmMinBlockRows,
                                                 static_cast<int64_t>(madds / 4294967296.0)})
                            : 0;
  const int64_t two = std::min<int64_t>({kGemmRowBlocks, m, std::max<int64_t>(1, static_cast<int64_t>(madds / (1 << 18)))});
  return static_cast<int>(std::max<int64_t>(many, two));
}

template <typename T>
void gemm_split_rows(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                     int64_t ldb, T beta, T* c, int64_t ldc, int threads, bool huge) {
  const int parts = gemm_row_blocks(m, n, k, huge);
  const int64_t rows_per = (m + parts - 1) / parts;
  const int team = std::min(std::max(threads, 1), parts);
#pragma omp parallel for num_threads(team) schedule(static, 1) if (team > 1)
  for (int t = 0; t < parts; ++t) {
    const int64_t r0 = t * rows_per, r1 = std::min(m, r0 + rows_per);
    if (r0 >= r1) continue;
    const T* ap = ta ? a + r0 : a + r0 * lda;
    blas_gemm(ta, tb, static_cast<int>(r1 - r0), static_cast<int>(n), static_cast<int>(k), alpha, ap,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c + r0 * ldc, static_cast<int>(ldc));
  }
}
template void gemm_split_rows<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                     int64_t, float, float*, int64_t, int, bool);
template void gemm_split_rows<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                      const double*, int64_t, double, double*, int64_t, int, bool);

BlasSingleThread::BlasSingleThread() : before_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
BlasSingleThread::~BlasSingleThread() { openblas_set_num_threads(before_); }

template <typename T>
Tensor<T> CpuOps<T>::alloc(int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) throw Error("alloc: negative shape");
  return Tensor<T>(host_alloc<T>(rows * cols), rows, cols, host_free<T>);
}

template <typename T>
Tensor<uint8_t> CpuOps<T>::alloc_bytes(int64_t n) {
  return Tensor<uint8_t>(host_alloc<uint8_t>(n), 1, n, host_free<uint8_t>);
}

template <typename T>
void CpuOps<T>::upload(const T* host, Tensor<T>& dst) {
  if (dst.size()) std::memcpy(dst.data(), host, dst.bytes());
}

template <typename T>
void CpuOps<T>::download(const Tensor<T>& src, T* host) {
  if (src.size()) std::memcpy(host, src.data(), src.bytes());
}

template <typename T>
void CpuOps<T>::copy(const Tensor<T>& src, Tensor<T>& dst) {
  check_same("copy", src, dst);
  if (src.size()) std::memcpy(dst.data(), src.data(), src.bytes());
}

template <typename T>
void CpuOps<T>::fill(Tensor<T>& x, T value) {
  std::fill(x.data(), x.data() + x.size(), value);
}

template <typename T>
void CpuOps<T>::gemm(bool ta, bool tb, T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta, Tensor<T>& c) {
  const auto [m, n, k] = gemm_dims(ta, tb, a, b, c);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < c.size(); ++i) c.data()[i] = beta == T(0) ? T(0) : beta * c.data()[i];
    return;
  }
  gemm_split_rows(ta, tb, m, n, k, alpha, a.data(), a.cols(), b.data(), b.cols(), beta, c.data(), c.cols(), threads_,
                  true);
}

template <typename T>
void CpuOps<T>::axpby(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) {
  check_same("axpby", x, y);
  const T* xp = x.data();
  T* yp = y.data();
  const int64_t n = x.size();
  parallel_ranges(n, n > kParallelMin ? threads_ : 1, [&](int64_t i0, int64_t i1) PDADMM_LAMBDA_INLINE {
    for (int64_t i = i0; i < i1; ++i) yp[i] = alpha * xp[i] + beta * yp[i];
  });
}

template <typename T>
double CpuOps<T>::dot(const Tensor<T>& x, const Tensor<T>& y) {
  check_same("dot", x, y);
  const T* xp = x.data();
  const T* yp = y.data();
  const int64_t n = x.size();
  return chunked_sums<1>(n, threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    return std::array<double, 1>{static_cast<double>(xp[i]) * static_cast<double>(yp[i])};
  })[0];
}

template <typename T>
double CpuOps<T>::sum_sq(const Tensor<T>& x) {
  return dot(x, x);
}

template <typename T>
void CpuOps<T>::relu(Tensor<T>& x) {
  const int64_t n = x.size();
  T* v = x.data();
#pragma omp parallel for num_threads(threads_) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) v[i] = pdadmm::relu(v[i]);
}

template <typename T>
void CpuOps<T>::add_bias(const Tensor<T>& wp, const Tensor<T>& b, Tensor<T>& out) {
  check_same("add_bias", wp, out);
  check_same("add_bias(b)", b.rows(), b.cols(), wp.rows(), 1);
  const int64_t rows = wp.rows(), cols = wp.cols();
#pragma omp parallel for num_threads(threads_) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T bias = b.data()[r];
    const T* src = wp.data() + r * cols;
    T* dst = out.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) dst[c] = src[c] + bias;
  }
}

template <typename T>
double CpuOps<T>::residual(const Tensor<T>& a, const Tensor<T>& z, Tensor<T>& r) {
  check_same("residual", a, z);
  check_same("residual", a, r);
  const int64_t n = a.size();
  const T *ap = a.data(), *zp = z.data();
  T* rp = r.data();
  return chunked_sums<1>(n, threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    rp[i] = ap[i] - zp[i];
    return std::array<double, 1>{static_cast<double>(rp[i]) * rp[i]};
  })[0];
}

template <typename T>
void CpuOps<T>::row_mean_diff(const Tensor<T>& z, const Tensor<T>& wp, Tensor<T>& b) {
  check_same("row_mean_diff", z, wp);
  check_same("row_mean_diff(b)", b.rows(), b.cols(), z.rows(), 1);
  const int64_t rows = z.rows(), cols = z.cols();
  // Each row's sum runs over its columns in order (a float chain, one add per element); kRows rows
  // side by side keep that many chains in flight instead of waiting on one.
  constexpr int64_t kRows = 8;
  const int64_t blocks = (rows + kRows - 1) / kRows;
#pragma omp parallel for num_threads(threads_) if (rows * cols > kParallelMin)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t r0 = blk * kRows, nr = std::min(kRows, rows - r0);
    const T* zr = z.data() + r0 * cols;
    const T* wr = wp.data() + r0 * cols;
    T s[kRows] = {};
    if (nr == kRows) {
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t j = 0; j < kRows; ++j) s[j] += zr[j * cols + c] - wr[j * cols + c];
    } else {
      for (int64_t j = 0; j < nr; ++j)
        for (int64_t c = 0; c < cols; ++c) s[j] += zr[j * cols + c] - wr[j * cols + c];
    }
    for (int64_t j = 0; j < nr; ++j) b.data()[r0 + j] = s[j] / static_cast<T>(cols);
  }
}

template <typename T>
void CpuOps<T>::p_grad(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u, Tensor<T>& g) {
  check_same("p_grad", p, g);
  check_same("p_grad", q, g);
  check_same("p_grad", u, g);
  const int64_t n = g.size();
  const T *pp = p.data(), *qp = q.data(), *up = u.data();
  T* gp = g.data();
#pragma omp parallel for num_threads(threads_) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) gp[i] = p_grad_element(gp[i], pp[i], qp[i], up[i], nu, rho);
}

template <typename T>
void CpuOps<T>::z_hidden(const Tensor<T>& a, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& z) {
  check_same("z_hidden", a, z);
  check_same("z_hidden", q, z);
  const int64_t n = z.size();
  const T *ap = a.data(), *qp = q.data();
  T* zp = z.data();
  // One loop per mode, so the flag is a constant in each and the loop has no branch to stop it vectorising.
  // NOLINTNEXTLINE(bugprone-branch-clone): the branches differ in that flag, which the check does not see
  if (prox_in_compare) {
#pragma omp parallel for num_threads(threads_) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) zp[i] = z_hidden_element(ap[i], zp[i], qp[i], true);
  } else {
#pragma omp parallel for num_threads(threads_) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) zp[i] = z_hidden_element(ap[i], zp[i], qp[i], false);
  }
}

template <typename T>
void CpuOps<T>::q_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& u, const Tensor<T>& z,
                         Tensor<T>& q) {
  check_same("q_update", p_next, q);
  check_same("q_update", u, q);
  check_same("q_update", z, q);
  const int64_t n = q.size();
  const T *pp = p_next.data(), *up = u.data(), *zp = z.data();
  T* qp = q.data();
#pragma omp parallel for num_threads(threads_) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) qp[i] = q_element(pp[i], up[i], zp[i], nu, rho);
}

template <typename T>
DualStats CpuOps<T>::dual_update(T rho, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u) {
  check_same("dual_update", p_next, q);
  check_same("dual_update", u, q);
  const int64_t n = q.size();
  const T *pp = p_next.data(), *qp = q.data();
  T* up = u.data();
  const auto s = chunked_sums<2>(n, threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    const T r = pp[i] - qp[i];
    up[i] += rho * r;
    return std::array<double, 2>{static_cast<double>(r) * r, static_cast<double>(up[i]) * r};
  });
  return {s[0], s[1]};
}

template <typename T>
double CpuOps<T>::relu_gap_sq(const Tensor<T>& q, const Tensor<T>& z) {
  check_same("relu_gap_sq", q, z);
  const int64_t n = q.size();
  const T *qp = q.data(), *zp = z.data();
  return chunked_sums<1>(n, threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    const double d = static_cast<double>(qp[i]) - pdadmm::relu(zp[i]);
    return std::array<double, 1>{d * d};
  })[0];
}

template <typename T>
double CpuOps<T>::bias_residual(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& z, Tensor<T>&, Tensor<T>& r) {
  check_same("bias_residual", wp, z);
  check_same("bias_residual", wp, r);
  check_same("bias_residual(b)", b.rows(), b.cols(), wp.rows(), 1);
  const int64_t cols = wp.cols();
  const T *wpp = wp.data(), *bp = b.data(), *zp = z.data();
  T* rp = r.data();
  return chunked_sums<1>(
      wp.size(), threads_,
      [&](int64_t i0, int64_t i1) PDADMM_LAMBDA_INLINE {
        by_rows(i0, i1, cols, [&](int64_t row, int64_t i, int64_t e) PDADMM_LAMBDA_INLINE {
          const T bias = bp[row];
          for (; i < e; ++i) rp[i] = (wpp[i] + bias) - zp[i];  // add_bias's a, then residual's a - z
        });
      },
      [&](int64_t i) PDADMM_LAMBDA_INLINE { return std::array<double, 1>{static_cast<double>(rp[i]) * rp[i]}; })[0];
}

template <typename T>
void CpuOps<T>::bias_z_hidden(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& q, bool prox_in_compare,
                              Tensor<T>& a, Tensor<T>& z) {
  check_same("bias_z_hidden", wp, a);
  check_same("bias_z_hidden", wp, z);
  check_same("bias_z_hidden", q, z);
  check_same("bias_z_hidden(b)", b.rows(), b.cols(), wp.rows(), 1);
  const int64_t rows = wp.rows(), cols = wp.cols();
  const T *wpp = wp.data(), *bp = b.data(), *qp = q.data();
  T *ap = a.data(), *zp = z.data();
  // One loop per mode, as in z_hidden.
  const int team = rows * cols > kParallelMin ? threads_ : 1;
  const auto rows_of = [&](int64_t r0, int64_t r1) PDADMM_LAMBDA_INLINE {
    if (prox_in_compare) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = r * cols; i < (r + 1) * cols; ++i) {
          ap[i] = wpp[i] + bp[r];
          zp[i] = z_hidden_element(ap[i], zp[i], qp[i], true);
        }
    } else {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = r * cols; i < (r + 1) * cols; ++i) {
          ap[i] = wpp[i] + bp[r];
          zp[i] = z_hidden_element(ap[i], zp[i], qp[i], false);
        }
    }
  };
  parallel_ranges(rows, team, rows_of);
}

template <typename T>
std::array<double, 2> CpuOps<T>::dot2(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& w) {
  check_same("dot2", x, y);
  check_same("dot2", w, y);
  const T *xp = x.data(), *yp = y.data(), *wpp = w.data();
  return chunked_sums<2>(y.size(), threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    return std::array<double, 2>{static_cast<double>(xp[i]) * static_cast<double>(yp[i]),
                                 static_cast<double>(yp[i]) * static_cast<double>(wpp[i])};
  });
}

template <typename T>
double CpuOps<T>::axpby_sum_sq(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) {
  check_same("axpby_sum_sq", x, y);
  const T* xp = x.data();
  T* yp = y.data();
  return chunked_sums<1>(y.size(), threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    yp[i] = alpha * xp[i] + beta * yp[i];
    return std::array<double, 1>{static_cast<double>(yp[i]) * static_cast<double>(yp[i])};
  })[0];
}

template <typename T>
double CpuOps<T>::p_grad_sum_sq(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u,
                                Tensor<T>& g) {
  check_same("p_grad_sum_sq", p, g);
  check_same("p_grad_sum_sq", q, g);
  check_same("p_grad_sum_sq", u, g);
  const T *pp = p.data(), *qp = q.data(), *up = u.data();
  T* gp = g.data();
  return chunked_sums<1>(g.size(), threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    gp[i] = p_grad_element(gp[i], pp[i], qp[i], up[i], nu, rho);
    return std::array<double, 1>{static_cast<double>(gp[i]) * static_cast<double>(gp[i])};
  })[0];
}

template <typename T>
DualStats CpuOps<T>::q_dual_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& z, Tensor<T>& q,
                                   Tensor<T>& u) {
  check_same("q_dual_update", p_next, q);
  check_same("q_dual_update", u, q);
  check_same("q_dual_update", z, q);
  const T *pp = p_next.data(), *zp = z.data();
  T *qp = q.data(), *up = u.data();
  const auto s = chunked_sums<2>(q.size(), threads_, [&](int64_t i) PDADMM_LAMBDA_INLINE {
    qp[i] = q_element(pp[i], up[i], zp[i], nu, rho);  // q_update with the old u, then dual_update's terms
    const T r = pp[i] - qp[i];
    up[i] += rho * r;
    return std::array<double, 2>{static_cast<double>(r) * r, static_cast<double>(up[i]) * r};
  });
  return {s[0], s[1]};
}

// Softmax over each column of the C x N matrix z (classes are rows). Both modes subtract the
// column maximum; Reference adds the code's 1e-10 to the denominator.
template <typename T>
static void column_softmax(CeMode mode, const T* z, int64_t rows, int64_t cols, int64_t c, T* out) {
  T m = z[c];
  for (int64_t r = 1; r < rows; ++r) m = std::max(m, z[r * cols + c]);
  T s = 0;
  for (int64_t r = 0; r < rows; ++r) {
    out[r] = std::exp(z[r * cols + c] - m);
    s += out[r];
  }
  if (mode == CeMode::Reference) s += T(1e-10);
  for (int64_t r = 0; r < rows; ++r) out[r] /= s;
}

template <typename T>
double CpuOps<T>::cross_entropy(CeMode mode, const Tensor<T>& z, const Tensor<T>& y) {
  check_same("cross_entropy", z, y);
  const int64_t rows = z.rows(), cols = z.cols();
  const T *zp = z.data(), *yp = y.data();
  double total = 0;
  if (rows == 0) return 0;  // no classes: nothing to read (as the CUDA backend)
  std::vector<T> sm(rows);
  for (int64_t c = 0; c < cols; ++c) {
    if (mode == CeMode::Reference) {
      column_softmax(mode, zp, rows, cols, c, sm.data());
      for (int64_t r = 0; r < rows; ++r)
        if (yp[r * cols + c] != T(0)) total -= yp[r * cols + c] * std::log(sm[r] + T(1e-10));
    } else {
      T m = zp[c];
      for (int64_t r = 1; r < rows; ++r) m = std::max(m, zp[r * cols + c]);
      T s = 0;
      for (int64_t r = 0; r < rows; ++r) s += std::exp(zp[r * cols + c] - m);
      // cppcheck-suppress invalidFunctionArg ; s >= 1: the max's own term is exp(0)
      const T lse = m + std::log(s);
      for (int64_t r = 0; r < rows; ++r)
        if (yp[r * cols + c] != T(0)) total += yp[r * cols + c] * (lse - zp[r * cols + c]);
    }
  }
  return total;
}

template <typename T>
void CpuOps<T>::softmax_minus(CeMode mode, const Tensor<T>& z, const Tensor<T>& y, Tensor<T>& g) {
  check_same("softmax_minus", z, y);
  check_same("softmax_minus", z, g);
  const int64_t rows = z.rows(), cols = z.cols();
  if (rows == 0) return;
  std::vector<T> sm(rows);
  for (int64_t c = 0; c < cols; ++c) {
    column_softmax(mode, z.data(), rows, cols, c, sm.data());
    for (int64_t r = 0; r < rows; ++r) g.data()[r * cols + c] = sm[r] - y.data()[r * cols + c];
  }
}

template <typename T>
void CpuOps<T>::fista_step(T nu, T eta, T gamma, const Tensor<T>& a, const Tensor<T>& grad, Tensor<T>& zeta,
                           Tensor<T>& zeta_old, Tensor<T>& z) {
  check_same("fista_step", a, z);
  check_same("fista_step", grad, z);
  check_same("fista_step", zeta, z);
  check_same("fista_step", zeta_old, z);
  const int64_t n = z.size();
  for (int64_t i = 0; i < n; ++i) {
    zeta_old.data()[i] = zeta.data()[i];
    zeta.data()[i] = fista_prox_element(z.data()[i], grad.data()[i], a.data()[i], nu, eta);
    z.data()[i] = (T(1) - gamma) * zeta.data()[i] + gamma * zeta_old.data()[i];
  }
}

template <typename T>
void CpuOps<T>::project(const Grid& grid, Tensor<T>& x) {
  const int64_t n = x.size();
  if (grid.empty() || n <= kParallelMin) return project_host(grid, x.data(), n);  // its error outside OpenMP
  parallel_ranges(n, threads_, [&](int64_t i0, int64_t i1) { project_host(grid, x.data() + i0, i1 - i0); });
}

template <typename T>
size_t CpuOps<T>::encode(const WireSpec& spec, Tensor<T>& x, Tensor<uint8_t>& out) {
  const size_t need = encoded_bytes(spec, x.rows(), x.cols(), sizeof(T));
  if (static_cast<size_t>(out.size()) < need) throw Error("encode: wire buffer too small");
  return encode_host(spec, x.data(), x.rows(), x.cols(), out.data());
}

template <typename T>
void CpuOps<T>::decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<T>& x) {
  const size_t need = encoded_bytes(spec, x.rows(), x.cols(), sizeof(T));
  if (static_cast<size_t>(in.size()) < need) throw Error("decode: wire buffer too small");
  decode_host(spec, in.data(), x.rows(), x.cols(), x.data());
}

template class CpuOps<float>;
template class CpuOps<double>;

}  // namespace pdadmm
