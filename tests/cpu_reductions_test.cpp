// The CPU backend's reductions (dot, residual, dual_update, relu_gap_sq) against plain long-double
// sums, at sizes around the chunk and lane edges, and bit-equal on any number of threads; its fused
// passes bit-equal to the steps they fuse (Ops' defaults); its AVX2 loops bit-equal to the baseline's.
#include <gtest/gtest.h>

#include <cblas.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "host/backend/avx2_clone.h"
#include "host/backend/cpu_ops.h"
#include "host/data/augment.h"
#include "host/data/csr.h"
#include "host/data/dataset.h"
#include "kernels/admm_math.cuh"

namespace pdadmm {
namespace {

Tensor<float> make(CpuOps<float>& ops, const std::vector<float>& v) {
  Tensor<float> t = ops.alloc(1, static_cast<int64_t>(v.size()));
  ops.upload(v.data(), t);
  return t;
}

std::vector<float> normals(size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(gen);
  return v;
}

struct Sums {
  double dot, res, r2, ur, gap;
  std::vector<float> r, u;
};

Sums run(int threads, const std::vector<float>& x, const std::vector<float>& y) {
  CpuOps<float> ops(threads);
  const Tensor<float> a = make(ops, x), b = make(ops, y);
  Tensor<float> r = make(ops, x), u = make(ops, y);
  Sums s;
  s.dot = ops.dot(a, b);
  s.res = ops.residual(a, b, r);
  const DualStats d = ops.dual_update(0.5f, a, b, u);
  s.r2 = d.r2;
  s.ur = d.u_dot_r;
  s.gap = ops.relu_gap_sq(a, b);
  s.r.resize(x.size());
  s.u.resize(x.size());
  ops.download(r, s.r.data());
  ops.download(u, s.u.data());
  return s;
}

class Reductions : public ::testing::TestWithParam<size_t> {};

TEST_P(Reductions, EqualThePlainSumsOnAnyThreadCount) {
  const size_t n = GetParam();
  const std::vector<float> x = normals(n, 7 + n), y = normals(n, 11 + n);
  long double dot = 0, res = 0, r2 = 0, ur = 0, gap = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    dot += static_cast<long double>(x[i]) * y[i];
    const float r = x[i] - y[i], u = y[i] + 0.5f * r;
    res += static_cast<long double>(r) * r;
    r2 += static_cast<long double>(r) * r;
    ur += static_cast<long double>(u) * r;
    const long double g = static_cast<long double>(x[i]) - relu(y[i]);
    gap += g * g;
    scale += static_cast<long double>(x[i]) * x[i] + static_cast<long double>(y[i]) * y[i];
  }
  const Sums one = run(1, x, y);
  const double tol = 1e-12 * static_cast<double>(scale) + 1e-300;
  EXPECT_NEAR(one.dot, static_cast<double>(dot), tol);
  EXPECT_NEAR(one.res, static_cast<double>(res), tol);
  EXPECT_NEAR(one.r2, static_cast<double>(r2), tol);
  EXPECT_NEAR(one.ur, static_cast<double>(ur), tol);
  EXPECT_NEAR(one.gap, static_cast<double>(gap), tol);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(one.r[i], x[i] - y[i]) << i;
    ASSERT_EQ(one.u[i], y[i] + 0.5f * (x[i] - y[i])) << i;
  }
  for (int threads : {2, 3}) {
    const Sums t = run(threads, x, y);
    EXPECT_EQ(t.dot, one.dot) << threads;
    EXPECT_EQ(t.res, one.res) << threads;
    EXPECT_EQ(t.r2, one.r2) << threads;
    EXPECT_EQ(t.ur, one.ur) << threads;
    EXPECT_EQ(t.gap, one.gap) << threads;
  }
}

// Empty, below one lane group, lane edges, chunk (8192) edges, and several chunks run in parallel.
INSTANTIATE_TEST_SUITE_P(Sizes, Reductions,
                         ::testing::Values(0, 1, 7, 8, 9, 8191, 8192, 8193, 3 * 8192 + 5, 100003));


// Each fused pass of CpuOps against Ops' default (the unfused steps; CudaFusedPasses checks
// CudaOps' the same way): the same bits in every tensor and sum, on 1-3 threads, at shapes whose chunks (8192
// elements) end inside a row, with 8 rows or not, parallel (> 2^15 elements) or not.
template <typename T>
class FusedPasses : public ::testing::Test {};
using Reals = ::testing::Types<float, double>;
TYPED_TEST_SUITE(FusedPasses, Reals);

template <typename T>
Tensor<T> filled(CpuOps<T>& ops, int64_t rows, int64_t cols, uint64_t seed) {
  const std::vector<float> v = normals(static_cast<size_t>(rows * cols), seed);
  std::vector<T> w(v.begin(), v.end());
  Tensor<T> t = ops.alloc(rows, cols);
  if (!w.empty()) ops.upload(w.data(), t);
  return t;
}

template <typename T>
void expect_same_bits(const Tensor<T>& a, const Tensor<T>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_TRUE(a.size() == 0 || std::memcmp(a.data(), b.data(), a.bytes()) == 0) << what;
}

TYPED_TEST(FusedPasses, GiveTheBitsOfTheStepsTheyFuse) {
  using T = TypeParam;
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {37, 300}, {150, 301}, {9, 4000}}) {
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols) + " threads " + std::to_string(threads));
      CpuOps<T> ops(threads);
      Ops<T>& base = ops;
      const Tensor<T> wp = filled(ops, rows, cols, 1), z = filled(ops, rows, cols, 2), q = filled(ops, rows, cols, 3),
                      p = filled(ops, rows, cols, 4), b = filled(ops, rows, 1, 5);
      const T nu = T(0.3), rho = T(0.7);
      {  // bias_residual: r and ||r||²; the default also leaves wp + b in a
        Tensor<T> a = ops.alloc(rows, cols), r1 = ops.alloc(rows, cols), r2 = ops.alloc(rows, cols);
        const double s1 = ops.bias_residual(wp, b, z, a, r1), s2 = base.Ops<T>::bias_residual(wp, b, z, a, r2);
        EXPECT_EQ(s1, s2);
        expect_same_bits(r1, r2, "bias_residual r");
      }
      for (bool prox : {true, false}) {  // bias_z_hidden: a and z
        Tensor<T> a1 = ops.alloc(rows, cols), a2 = ops.alloc(rows, cols), z1 = filled(ops, rows, cols, 2),
                  z2 = filled(ops, rows, cols, 2);
        ops.bias_z_hidden(wp, b, q, prox, a1, z1);
        base.Ops<T>::bias_z_hidden(wp, b, q, prox, a2, z2);
        expect_same_bits(a1, a2, "bias_z_hidden a");
        expect_same_bits(z1, z2, "bias_z_hidden z");
      }
      {  // dot2
        const std::array<double, 2> d1 = ops.dot2(wp, z, q), d2 = base.Ops<T>::dot2(wp, z, q);
        EXPECT_EQ(d1[0], d2[0]);
        EXPECT_EQ(d1[1], d2[1]);
      }
      {  // axpby_sum_sq
        Tensor<T> y1 = filled(ops, rows, cols, 6), y2 = filled(ops, rows, cols, 6);
        EXPECT_EQ(ops.axpby_sum_sq(T(0.25), wp, T(1), y1), base.Ops<T>::axpby_sum_sq(T(0.25), wp, T(1), y2));
        expect_same_bits(y1, y2, "axpby_sum_sq y");
      }
      {  // p_grad_sum_sq
        Tensor<T> g1 = filled(ops, rows, cols, 7), g2 = filled(ops, rows, cols, 7);
        EXPECT_EQ(ops.p_grad_sum_sq(nu, rho, p, q, z, g1), base.Ops<T>::p_grad_sum_sq(nu, rho, p, q, z, g2));
        expect_same_bits(g1, g2, "p_grad_sum_sq g");
      }
      {  // q_dual_update: q, u and both sums
        Tensor<T> q1 = filled(ops, rows, cols, 8), q2 = filled(ops, rows, cols, 8), u1 = filled(ops, rows, cols, 9),
                  u2 = filled(ops, rows, cols, 9);
        const DualStats d1 = ops.q_dual_update(nu, rho, p, z, q1, u1), d2 = base.Ops<T>::q_dual_update(nu, rho, p, z, q2, u2);
        EXPECT_EQ(d1.r2, d2.r2);
        EXPECT_EQ(d1.u_dot_r, d2.u_dot_r);
        expect_same_bits(q1, q2, "q_dual_update q");
        expect_same_bits(u1, u2, "q_dual_update u");
      }
      {  // row_mean_diff (8 rows side by side) against each row's sum in column order
        Tensor<T> m = ops.alloc(rows, 1);
        ops.row_mean_diff(z, wp, m);
        for (int64_t r = 0; r < rows; ++r) {
          T s = 0;
          for (int64_t c = 0; c < cols; ++c) s += z.data()[r * cols + c] - wp.data()[r * cols + c];
          ASSERT_EQ(m.data()[r], s / static_cast<T>(cols)) << "row " << r;
        }
      }
    }
  }
}

// The AVX2 build of the element-wise loops (use_host_ops_avx2) against the baseline SSE2 build
// on the same inputs: the same bits in every tensor and sum (no FMA, the same order), for CpuOps'
// element-wise passes and the sparse products (csr_spmm, features_times).
template <typename T>
std::vector<double> ops_outputs(int threads, int64_t rows, int64_t cols) {
  CpuOps<T> ops(threads);
  std::vector<double> out;
  const auto keep = [&](const Tensor<T>& t) {
    for (int64_t i = 0; i < t.size(); ++i) out.push_back(static_cast<double>(t.data()[i]));
  };
  const Tensor<T> wp = filled(ops, rows, cols, 1), z = filled(ops, rows, cols, 2), q = filled(ops, rows, cols, 3),
                  p = filled(ops, rows, cols, 4), b = filled(ops, rows, 1, 5);
  const T nu = T(0.3), rho = T(0.7);
  Tensor<T> a = ops.alloc(rows, cols), r = ops.alloc(rows, cols), y = filled(ops, rows, cols, 6),
            g = filled(ops, rows, cols, 7), qq = filled(ops, rows, cols, 8), u = filled(ops, rows, cols, 9);
  out.push_back(ops.bias_residual(wp, b, z, a, r));
  keep(r);
  for (bool prox : {true, false}) {
    Tensor<T> zz = filled(ops, rows, cols, 2);
    ops.bias_z_hidden(wp, b, q, prox, a, zz);
    keep(a);
    keep(zz);
  }
  const std::array<double, 2> d2 = ops.dot2(wp, z, q);
  out.insert(out.end(), d2.begin(), d2.end());
  out.push_back(ops.axpby_sum_sq(T(0.25), wp, T(1.5), y));
  ops.axpby(T(0.75), z, T(-0.5), y);
  keep(y);
  out.push_back(ops.p_grad_sum_sq(nu, rho, p, q, z, g));
  keep(g);
  const DualStats d = ops.q_dual_update(nu, rho, p, z, qq, u);
  out.push_back(d.r2);
  out.push_back(d.u_dot_r);
  keep(qq);
  keep(u);
  out.push_back(ops.dot(wp, z));
  out.push_back(ops.residual(wp, z, r));
  keep(r);
  return out;
}

TYPED_TEST(FusedPasses, Avx2BuildGivesTheBaselineBits) {
  using T = TypeParam;
  if (!use_host_ops_avx2()) GTEST_SKIP() << "no AVX2 here: only the baseline build runs";
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {37, 300}, {150, 301}, {9, 4000}}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols) + " threads " + std::to_string(threads));
      const std::vector<double> fast = ops_outputs<T>(threads, rows, cols);
      host_ops_avx2(false);
      const std::vector<double> base = ops_outputs<T>(threads, rows, cols);
      host_ops_avx2(true);
      ASSERT_EQ(fast.size(), base.size());
      EXPECT_EQ(std::memcmp(fast.data(), base.data(), fast.size() * sizeof(double)), 0);
    }
  }
}

TEST(SparseProducts, Avx2BuildGivesTheBaselineBits) {
  if (!use_host_ops_avx2()) GTEST_SKIP() << "no AVX2 here: only the baseline build runs";
  std::mt19937_64 gen(3);
  Features h;
  h.is_sparse = true;
  h.rows = 300;
  h.cols = 57;
  h.sparse.rows = h.rows;
  h.sparse.cols = h.cols;
  h.sparse.indptr.push_back(0);
  for (int64_t v = 0; v < h.rows; ++v) {
    for (int32_t f = 0; f < h.cols; ++f)
      if (gen() % 5 == 0) {
        h.sparse.indices.push_back(f);
        h.sparse.values.push_back(std::normal_distribution<float>(0.f, 1.f)(gen));
      }
    h.sparse.indptr.push_back(static_cast<int64_t>(h.sparse.indices.size()));
  }
  const int64_t n = 37, ld = 2 * h.cols + 3;  // W's rows; a block of columns inside wider rows
  const std::vector<float> w = normals(static_cast<size_t>(n * ld), 4), x = normals(static_cast<size_t>(h.cols * n), 6);
  const std::vector<int32_t> some = {5, 0, 299, 17, 17};
  const auto run = [&] {
    std::vector<float> out(static_cast<size_t>(h.rows * n), 1.f), part(some.size() * n), sp(static_cast<size_t>(h.rows * n), 2.f);
    features_times(h, w.data(), n, ld, h.cols + 1, out.data());
    features_times(h, w.data(), n, ld, 2, part.data(), &some);
    out.insert(out.end(), part.begin(), part.end());
    for (const auto& [alpha, beta] : std::vector<std::pair<float, float>>{{1.f, 0.f}, {0.5f, 1.f}, {-1.5f, 0.25f}}) {
      csr_spmm(h.sparse, x.data(), n, alpha, beta, sp.data());
      out.insert(out.end(), sp.begin(), sp.end());
    }
    return out;
  };
  const std::vector<float> fast = run();
  host_ops_avx2(false);
  const std::vector<float> base = run();
  host_ops_avx2(true);
  ASSERT_EQ(fast.size(), base.size());
  EXPECT_EQ(std::memcmp(fast.data(), base.data(), fast.size() * sizeof(float)), 0);
}

// A GEMM big enough to split into two row blocks (m n k >= 2^19) with an odd m: every row of C,
// the last block's included, against a plain triple loop, for all four transposes.
TEST(CpuGemm, SplitRowBlocksCoverEveryRow) {
  const int64_t m = 3, n = 512, k = 512;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CpuOps<float> ops(2);
      const std::vector<float> av = normals(m * k, 3), bv = normals(k * n, 5), cv = normals(m * n, 9);
      Tensor<float> a = ops.alloc(ta ? k : m, ta ? m : k), b = ops.alloc(tb ? n : k, tb ? k : n), c = ops.alloc(m, n);
      ops.upload(av.data(), a);
      ops.upload(bv.data(), b);
      ops.upload(cv.data(), c);
      ops.gemm(ta, tb, 0.5f, a, b, 2.0f, c);
      std::vector<float> out(m * n);
      ops.download(c, out.data());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double want = 2.0 * cv[i * n + j], scale = std::abs(want);
          for (int64_t l = 0; l < k; ++l) {
            const double x = ta ? av[l * m + i] : av[i * k + l], y = tb ? bv[j * k + l] : bv[l * n + j];
            want += 0.5 * x * y;
            scale += std::abs(0.5 * x * y);
          }
          ASSERT_NEAR(out[i * n + j], want, 1e-5 * scale) << "row " << i << " col " << j << " ta " << ta << " tb " << tb;
        }
    }
}

// The row blocks come from the shape alone: two for a large GEMM, and for the solver's huge ones
// (3 x 2^32 multiply-adds and up) one per 2^32, at most 8 and m / 128.
TEST(CpuGemm, RowBlocksComeFromTheShape) {
  EXPECT_EQ(gemm_row_blocks(500, 140, 500, true), 2);     // Cora's iterations
  EXPECT_EQ(gemm_row_blocks(500, 300, 34025, true), 2);   // Coauthor CS's largest, 1.2 x 2^32
  EXPECT_EQ(gemm_row_blocks(8, 8, 8, true), 1);
  EXPECT_EQ(gemm_row_blocks(3, 512, 512, false), 2);
  EXPECT_EQ(gemm_row_blocks(4096, 1024, 3072, true), 3);  // 3 x 2^32
  EXPECT_EQ(gemm_row_blocks(4096, 1024, 3071, true), 2);  // just under
  EXPECT_EQ(gemm_row_blocks(4096, 1024, 3072, false), 2); // the augmentation's: two at most
  EXPECT_EQ(gemm_row_blocks(2048, 20000, 2048, true), 8); // 2^36.3: capped at 8
  EXPECT_EQ(gemm_row_blocks(300, 1 << 20, 1 << 20, true), 2);  // 300 / 128 rows: no more than 2
  EXPECT_EQ(gemm_row_blocks(640, 1 << 20, 1 << 20, true), 5);
}

// A huge GEMM in its blocks: the same bits as one single-threaded OpenBLAS call per block (on one
// thread or several), so every row comes from its own block's call.
TEST(CpuGemm, HugeGemmIsItsBlocksCalls) {
  const int64_t m = 4096, n = 1024, k = 3072, blocks = 3, rows = (m + blocks - 1) / blocks;
  ASSERT_EQ(gemm_row_blocks(m, n, k, true), blocks);
  const std::vector<float> av = normals(m * k, 3), bv = normals(k * n, 5);
  std::vector<float> want(static_cast<size_t>(m * n));
  BlasSingleThread one;  // as configure_threads leaves OpenBLAS for a run
  {
    for (int64_t r0 = 0; r0 < m; r0 += rows)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(std::min(rows, m - r0)),
                  static_cast<int>(n), static_cast<int>(k), 1.0f, av.data() + r0 * k, static_cast<int>(k), bv.data(),
                  static_cast<int>(n), 0.0f, want.data() + r0 * n, static_cast<int>(n));
  }
  for (int threads : {1, 3}) {
    CpuOps<float> ops(threads);
    Tensor<float> a = ops.alloc(m, k), b = ops.alloc(k, n), c = ops.alloc(m, n);
    ops.upload(av.data(), a);
    ops.upload(bv.data(), b);
    ops.gemm(false, false, 1.0f, a, b, 0.0f, c);
    std::vector<float> out(static_cast<size_t>(m * n));
    ops.download(c, out.data());
    EXPECT_EQ(std::memcmp(out.data(), want.data(), out.size() * sizeof(float)), 0) << threads << " thread(s)";
  }
}

// The default cross-entropy (stable: log-sum-exp after the column max) at values known in closed
// form, classes as rows: a huge logit must neither overflow nor lose its offset, wherever it sits.
TEST(CpuCrossEntropy, StableModeAtKnownValues) {
  CpuOps<float> ops(1);
  const auto ce = [&](std::vector<float> z, std::vector<float> y) {
    Tensor<float> tz = ops.alloc(2, 1), ty = ops.alloc(2, 1);
    ops.upload(z.data(), tz);
    ops.upload(y.data(), ty);
    return ops.cross_entropy(CeMode::Stable, tz, ty);
  };
  EXPECT_NEAR(ce({1000, 0}, {0, 1}), 1000.0, 1e-3) << "the label's logit 1000 below the max";
  EXPECT_NEAR(ce({0, 100}, {0, 1}), 0.0, 1e-6) << "the max in the last class";
  EXPECT_NEAR(ce({2, 0}, {1, 0}), std::log1p(std::exp(-2.0)), 1e-6);
}

}  // namespace
}  // namespace pdadmm
