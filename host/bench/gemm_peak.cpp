// SGEMM peak measurement on random operands.
#include "host/bench/gemm_peak.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "host/backend/cpu_ops.h"
#include "host/data/rng.h"

namespace pdadmm {

namespace {

double best_seconds(const std::function<void()>& f, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  f();  // warm caches, threads and pages
  double best = 1e300, total = 0;
  for (int rep = 0; rep < 3 || total < min_seconds; ++rep) {
    const auto t0 = Clock::now();
    f();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = s < best ? s : best;
    total += s;
  }
  return best;
}

}  // namespace

GemmPeak measure_sgemm_peak(const GemmShape& s, int threads, double min_seconds) {
  CpuOps<float> ops(threads);
  // Stored shapes of A and B for the transposes the call uses.
  Tensor<float> a = s.trans_a ? ops.alloc(s.k, s.m) : ops.alloc(s.m, s.k);
  Tensor<float> b = s.trans_b ? ops.alloc(s.n, s.k) : ops.alloc(s.k, s.n);
  Tensor<float> c = ops.alloc(s.m, s.n);
  Rng rng(12345);
  std::vector<float> h(static_cast<size_t>(std::max(a.size(), b.size())));
  for (float& v : h) v = static_cast<float>(rng.normal());
  ops.upload(h.data(), a);
  ops.upload(h.data(), b);
  GemmPeak p;
  const double flops = s.flops();
  p.split_gflops = flops / best_seconds([&] { ops.gemm(s.trans_a, s.trans_b, 1.0f, a, b, 0.0f, c); }, min_seconds) / 1e9;
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(threads);
  const int lda = static_cast<int>(a.cols()), ldb = static_cast<int>(b.cols()), ldc = static_cast<int>(c.cols());
  p.blas_gflops = flops /
                  best_seconds(
                      [&] {
                        cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                                    s.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(s.m),
                                    static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, a.data(), lda, b.data(), ldb,
                                    0.0f, c.data(), ldc);
                      },
                      min_seconds) /
                  1e9;
  openblas_set_num_threads(before);
  return p;
}

}  // namespace pdadmm
