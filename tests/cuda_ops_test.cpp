// CudaOps against CpuOps<float>: every Ops method on the same random inputs, with the stated
// tolerances (element-wise and reductions: relative 1e-5; GEMM with TF32 off: relative Frobenius
// 1e-5). GPU tests skip without a device; the no-device error test runs everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_backend.h"
#include "host/backend/cpu_ops.h"
#include "host/io/error.h"
#include "host/quant/grid.h"
#include "host/quant/wire.h"
#if defined(PDADMM_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace pdadmm {
namespace {

// A build without the backend says why: a reason naming nvcc sent users who had turned it off
// (PDADMM_CUDA=OFF) to install a compiler that would change nothing.
TEST(CudaBackend, ABuildWithoutTheBackendSaysWhy) {
  if (cuda_compiled()) GTEST_SKIP() << "the CUDA backend is built";
#if defined(PDADMM_CUDA_OFF)
  EXPECT_EQ(cuda_unavailable_reason(), "this build has no CUDA backend (configured with -DPDADMM_CUDA=OFF)");
#else
  EXPECT_EQ(cuda_unavailable_reason(), "this build has no CUDA backend (nvcc was not found at configure time)");
#endif
}

TEST(CudaBackend, MakeOpsWithoutDeviceThrowsClearError) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is visible";
  EXPECT_FALSE(cuda_unavailable_reason().empty());
  try {
    make_cuda_ops(0);
    FAIL() << "make_cuda_ops(0) did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("backend \"cuda\": ", 0), 0u) << msg;
    if (cuda_compiled()) {
      EXPECT_NE(msg.find("no CUDA device is visible ("), std::string::npos) << msg;
    }
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
  EXPECT_THROW(make_cuda_ops_double(0), Error);
  EXPECT_THROW(make_cuda_transport({0, 0}), Error);
  EXPECT_TRUE(cuda_devices().empty());
}

TEST(CudaBackend, MissingDeviceIsNamed) {
  const int n = cuda_device_count();
  if (n == 0) GTEST_SKIP() << "no CUDA device visible: " << cuda_unavailable_reason();
  try {
    make_cuda_ops(n);
    FAIL() << "device " << n << " should not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("device " + std::to_string(n) + " does not exist"), std::string::npos)
        << e.what();
  }
}

// A CPU and a GPU tensor holding the same values.
struct Pair {
  Tensor<float> cpu, gpu;
};

class CudaOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible: " << cuda_unavailable_reason();
    gpu_ = make_cuda_ops(0);
    gpu_->bind_thread();
  }

  Pair random(int64_t rows, int64_t cols, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> h(static_cast<size_t>(rows * cols));
    for (auto& v : h) v = dist(rng_);
    return from_host(rows, cols, h);
  }
  Pair from_host(int64_t rows, int64_t cols, const std::vector<float>& h) {
    Pair p{cpu_.alloc(rows, cols), gpu_->alloc(rows, cols)};
    cpu_.upload(h.data(), p.cpu);
    gpu_->upload(h.data(), p.gpu);
    return p;
  }
  // One-hot labels, C x N.
  Pair one_hot(int64_t classes, int64_t cols) {
    std::uniform_int_distribution<int64_t> pick(0, classes - 1);
    std::vector<float> h(static_cast<size_t>(classes * cols), 0.0f);
    for (int64_t c = 0; c < cols; ++c) h[static_cast<size_t>(pick(rng_) * cols + c)] = 1.0f;
    return from_host(classes, cols, h);
  }
  std::vector<float> host_of(const Tensor<float>& t, Ops<float>& ops) {
    std::vector<float> h(static_cast<size_t>(t.size()));
    ops.download(t, h.data());
    return h;
  }
  // ||gpu - cpu|| / ||cpu|| (0 when both vanish).
  double rel_err(const Pair& p) {
    const auto c = host_of(p.cpu, cpu_), g = host_of(p.gpu, *gpu_);
    double num = 0, den = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      num += (double(g[i]) - c[i]) * (double(g[i]) - c[i]);
      den += double(c[i]) * c[i];
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
  }
  bool bit_equal(const Pair& p) {
    const auto c = host_of(p.cpu, cpu_), g = host_of(p.gpu, *gpu_);
    return std::memcmp(c.data(), g.data(), c.size() * sizeof(float)) == 0;
  }
  static double rel(double gpu, double cpu) { return std::fabs(gpu - cpu) / std::max(std::fabs(cpu), 1e-30); }

  CpuOps<float> cpu_;
  std::unique_ptr<Ops<float>> gpu_;
  std::mt19937 rng_{20240611};
};

constexpr double kTol = 1e-5;
// Big enough for grid-stride loops and many reduction blocks; odd so no vector width divides it.
constexpr int64_t kRows = 517, kCols = 1031;

TEST_F(CudaOpsTest, MemoryAllocUploadDownloadCopyFill) {
  EXPECT_EQ(gpu_->name(), "cuda");
  Tensor<float> z = gpu_->alloc(7, 9);
  for (float v : host_of(z, *gpu_)) EXPECT_EQ(v, 0.0f);
  Pair a = random(kRows, kCols);
  EXPECT_TRUE(bit_equal(a));
  Tensor<float> b = gpu_->alloc(kRows, kCols);
  gpu_->copy(a.gpu, b);
  EXPECT_EQ(host_of(b, *gpu_), host_of(a.cpu, cpu_));
  gpu_->fill(b, 2.5f);
  for (float v : host_of(b, *gpu_)) ASSERT_EQ(v, 2.5f);
  Tensor<float> wrong = gpu_->alloc(3, 3);
  EXPECT_THROW(gpu_->copy(a.gpu, wrong), Error);
  Tensor<uint8_t> bytes = gpu_->alloc_bytes(1000);
  EXPECT_EQ(bytes.size(), 1000);
  Tensor<float> empty = gpu_->alloc(0, 5);
  EXPECT_TRUE(empty.empty());
}

TEST_F(CudaOpsTest, GemmMatchesCpuForEveryTransposeCombination) {
  const int64_t m = 67, n = 141, k = 203;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Pair a = ta ? random(k, m) : random(m, k);
      Pair b = tb ? random(n, k) : random(k, n);
      Pair c = random(m, n);
      cpu_.gemm(ta, tb, 0.75f, a.cpu, b.cpu, -0.5f, c.cpu);
      gpu_->gemm(ta, tb, 0.75f, a.gpu, b.gpu, -0.5f, c.gpu);
      EXPECT_LE(rel_err(c), kTol) << "ta=" << ta << " tb=" << tb;
    }
}

TEST_F(CudaOpsTest, GemmLargeAndDegenerateShapes) {
  Pair a = random(512, 1024), b = random(1024, 300), c = random(512, 300);
  cpu_.gemm(false, false, 1.0f, a.cpu, b.cpu, 0.0f, c.cpu);
  gpu_->gemm(false, false, 1.0f, a.gpu, b.gpu, 0.0f, c.gpu);
  EXPECT_LE(rel_err(c), kTol);
  Pair e = random(5, 0), f = random(0, 6), g = random(5, 6);  // k = 0: c = beta c
  cpu_.gemm(false, false, 1.0f, e.cpu, f.cpu, 2.0f, g.cpu);
  gpu_->gemm(false, false, 1.0f, e.gpu, f.gpu, 2.0f, g.gpu);
  EXPECT_TRUE(bit_equal(g));
  EXPECT_THROW(gpu_->gemm(false, false, 1.0f, a.gpu, a.gpu, 0.0f, c.gpu), Error);
}

TEST_F(CudaOpsTest, Tf32GemmIsCloseButOptIn) {
  auto tf32 = make_cuda_ops(0, CudaOpsOptions{true});
  const int64_t m = 256, n = 128, k = 512;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> ha(m * k), hb(k * n);
  for (auto& v : ha) v = dist(rng_);
  for (auto& v : hb) v = dist(rng_);
  Tensor<float> a = tf32->alloc(m, k), b = tf32->alloc(k, n), c = tf32->alloc(m, n);
  tf32->upload(ha.data(), a);
  tf32->upload(hb.data(), b);
  tf32->gemm(false, false, 1.0f, a, b, 0.0f, c);
  Pair ref{cpu_.alloc(m, n), gpu_->alloc(m, n)};
  Pair pa = from_host(m, k, ha), pb = from_host(k, n, hb);
  cpu_.gemm(false, false, 1.0f, pa.cpu, pb.cpu, 0.0f, ref.cpu);
  const auto c_tf32 = host_of(c, *tf32), c_cpu = host_of(ref.cpu, cpu_);
  double num = 0, den = 0;
  for (size_t i = 0; i < c_cpu.size(); ++i) {
    num += (double(c_tf32[i]) - c_cpu[i]) * (double(c_tf32[i]) - c_cpu[i]);
    den += double(c_cpu[i]) * c_cpu[i];
  }
  EXPECT_LE(std::sqrt(num / den), 1e-2);
}

TEST_F(CudaOpsTest, Blas1AndReductions) {
  Pair x = random(kRows, kCols), y = random(kRows, kCols);
  EXPECT_LE(rel(gpu_->dot(x.gpu, y.gpu), cpu_.dot(x.cpu, y.cpu)), kTol);
  EXPECT_LE(rel(gpu_->sum_sq(x.gpu), cpu_.sum_sq(x.cpu)), kTol);
  cpu_.axpby(0.3f, x.cpu, -1.7f, y.cpu);
  gpu_->axpby(0.3f, x.gpu, -1.7f, y.gpu);
  EXPECT_LE(rel_err(y), kTol);
  Pair one = random(1, 1);
  EXPECT_LE(rel(gpu_->sum_sq(one.gpu), cpu_.sum_sq(one.cpu)), kTol);
  Tensor<float> e = gpu_->alloc(0, 0);
  EXPECT_EQ(gpu_->dot(e, e), 0.0);
}

TEST_F(CudaOpsTest, BiasResidualRowMean) {
  Pair wp = random(kRows, kCols), b = random(kRows, 1), out = random(kRows, kCols);
  cpu_.add_bias(wp.cpu, b.cpu, out.cpu);
  gpu_->add_bias(wp.gpu, b.gpu, out.gpu);
  EXPECT_LE(rel_err(out), kTol);

  Pair a = random(kRows, kCols), z = random(kRows, kCols), r = random(kRows, kCols);
  const double rc = cpu_.residual(a.cpu, z.cpu, r.cpu), rg = gpu_->residual(a.gpu, z.gpu, r.gpu);
  EXPECT_LE(rel(rg, rc), kTol);
  EXPECT_LE(rel_err(r), kTol);

  Pair bb = random(kRows, 1);
  cpu_.row_mean_diff(z.cpu, wp.cpu, bb.cpu);
  gpu_->row_mean_diff(z.gpu, wp.gpu, bb.gpu);
  EXPECT_LE(rel_err(bb), kTol);
  EXPECT_THROW(gpu_->add_bias(wp.gpu, wp.gpu, out.gpu), Error);
}

// Ops::relu (the forward passes of Solver::forward_train / forward_from on the groups' devices):
// the host's bits, NaN and -0 included (both give +0).
TEST_F(CudaOpsTest, ReluMatchesTheHostBitForBit) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> h(static_cast<size_t>(kRows * kCols));
  for (auto& v : h) v = dist(rng_);
  h[0] = std::numeric_limits<float>::quiet_NaN();
  h[1] = -0.0f;
  h[2] = -std::numeric_limits<float>::infinity();
  h[3] = std::numeric_limits<float>::infinity();
  Pair x = from_host(kRows, kCols, h);
  cpu_.relu(x.cpu);
  gpu_->relu(x.gpu);
  EXPECT_TRUE(bit_equal(x));
  const auto g = host_of(x.gpu, *gpu_);
  EXPECT_EQ(std::count_if(g.begin(), g.end(), [](float v) { return v > 0; }),
            std::count_if(h.begin(), h.end(), [](float v) { return v > 0; }));
}

TEST_F(CudaOpsTest, AdmmElementSteps) {
  Pair p = random(kRows, kCols), q = random(kRows, kCols), u = random(kRows, kCols), g = random(kRows, kCols);
  cpu_.p_grad(1.3f, 2.1f, p.cpu, q.cpu, u.cpu, g.cpu);
  gpu_->p_grad(1.3f, 2.1f, p.gpu, q.gpu, u.gpu, g.gpu);
  EXPECT_LE(rel_err(g), kTol);

  for (bool prox : {true, false}) {
    Pair a = random(kRows, kCols, -2, 2), qq = random(kRows, kCols, 0, 2), z = random(kRows, kCols, -2, 2);
    cpu_.z_hidden(a.cpu, qq.cpu, prox, z.cpu);
    gpu_->z_hidden(a.gpu, qq.gpu, prox, z.gpu);
    EXPECT_LE(rel_err(z), kTol) << "prox_in_compare=" << prox;
  }

  Pair z = random(kRows, kCols, -2, 2), qo = random(kRows, kCols);
  cpu_.q_update(0.8f, 1.9f, p.cpu, u.cpu, z.cpu, qo.cpu);
  gpu_->q_update(0.8f, 1.9f, p.gpu, u.gpu, z.gpu, qo.gpu);
  EXPECT_LE(rel_err(qo), kTol);

  const DualStats sc = cpu_.dual_update(0.7f, p.cpu, q.cpu, u.cpu);
  const DualStats sg = gpu_->dual_update(0.7f, p.gpu, q.gpu, u.gpu);
  EXPECT_LE(rel(sg.r2, sc.r2), kTol);
  EXPECT_LE(rel(sg.u_dot_r, sc.u_dot_r), kTol);
  EXPECT_LE(rel_err(u), kTol);

  EXPECT_LE(rel(gpu_->relu_gap_sq(q.gpu, z.gpu), cpu_.relu_gap_sq(q.cpu, z.cpu)), kTol);
}

TEST_F(CudaOpsTest, LastLayerSoftmaxAndFista) {
  const int64_t classes = 7, n = 2000;
  for (CeMode mode : {CeMode::Stable, CeMode::Reference}) {
    Pair z = random(classes, n, -5, 5), y = one_hot(classes, n), g = random(classes, n);
    EXPECT_LE(rel(gpu_->cross_entropy(mode, z.gpu, y.gpu), cpu_.cross_entropy(mode, z.cpu, y.cpu)), kTol);
    cpu_.softmax_minus(mode, z.cpu, y.cpu, g.cpu);
    gpu_->softmax_minus(mode, z.gpu, y.gpu, g.gpu);
    EXPECT_LE(rel_err(g), kTol);
  }
  Pair a = random(classes, n), grad = random(classes, n), zeta = random(classes, n), zold = random(classes, n),
       z = random(classes, n);
  cpu_.fista_step(1.1f, 0.05f, 0.3f, a.cpu, grad.cpu, zeta.cpu, zold.cpu, z.cpu);
  gpu_->fista_step(1.1f, 0.05f, 0.3f, a.gpu, grad.gpu, zeta.gpu, zold.gpu, z.gpu);
  EXPECT_LE(rel_err(zeta), kTol);
  EXPECT_LE(rel_err(zold), kTol);
  EXPECT_LE(rel_err(z), kTol);
}

TEST_F(CudaOpsTest, ProjectionIsBitIdenticalToTheHost) {
  const Grid uniform = make_uniform_grid(-1.0, 0.125, 17);
  const Grid list = make_list_grid({-3.0, -0.5, -0.1, 0.0, 0.2, 0.7, 1.5});
  for (const Grid* grid : {&uniform, &list}) {
    Pair x = random(kRows, kCols, -4, 4);
    cpu_.project(*grid, x.cpu);
    gpu_->project(*grid, x.gpu);
    EXPECT_TRUE(bit_equal(x)) << (grid->uniform ? "uniform" : "list");
  }
  Pair x = random(kRows, kCols, -4, 4);  // switching grids re-uploads the level table
  cpu_.project(uniform, x.cpu);
  gpu_->project(uniform, x.gpu);
  EXPECT_TRUE(bit_equal(x));
}

// Every wire format the host implements: same payload bytes, same rounded x, decode recovers it.
// A format the host does not implement yet must be refused by the GPU too.
TEST_F(CudaOpsTest, EncodeDecodeMatchHostAndRoundTrip) {
  const Grid grid = make_uniform_grid(-1.0, 2.0 / 15, 16);
  for (WireFormat f : {WireFormat::Native, WireFormat::Fp32, WireFormat::Fp16, WireFormat::Bf16, WireFormat::Int8,
                       WireFormat::Codes}) {
    const WireSpec spec{f, &grid};
    SCOPED_TRACE(wire_name(f));
    size_t need = 0;
    try {
      need = encoded_bytes(spec, kRows, kCols, sizeof(float));
    } catch (const Error&) {
      Pair x = random(4, 4);
      Tensor<uint8_t> w = gpu_->alloc_bytes(1024);
      EXPECT_THROW(gpu_->encode(spec, x.gpu, w), Error);
      continue;
    }
    Pair x = random(kRows, kCols, -1.2f, 1.2f);
    if (f == WireFormat::Codes) {  // codes carry values on Δ
      cpu_.project(grid, x.cpu);
      gpu_->project(grid, x.gpu);
    }
    Tensor<uint8_t> wc = cpu_.alloc_bytes(static_cast<int64_t>(need)), wg = gpu_->alloc_bytes(static_cast<int64_t>(need));
    EXPECT_EQ(cpu_.encode(spec, x.cpu, wc), need);
    EXPECT_EQ(gpu_->encode(spec, x.gpu, wg), need);
    EXPECT_TRUE(bit_equal(x)) << "rounded x differs";
#if defined(PDADMM_HAVE_CUDA)
    std::vector<uint8_t> payload(need);  // Ops has no byte download: read the device payload directly
    ASSERT_EQ(cudaMemcpy(payload.data(), wg.data(), need, cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(std::memcmp(payload.data(), wc.data(), need), 0) << "payload bytes differ";
#endif
    Pair back = random(kRows, kCols);
    cpu_.decode(spec, wc, back.cpu);
    gpu_->decode(spec, wg, back.gpu);
    EXPECT_TRUE(bit_equal(back)) << "decoded values differ";
    const auto xr = host_of(x.gpu, *gpu_), dr = host_of(back.gpu, *gpu_);
    EXPECT_EQ(std::memcmp(xr.data(), dr.data(), xr.size() * sizeof(float)), 0) << "decode(encode(x)) != rounded x";
    Tensor<uint8_t> small = gpu_->alloc_bytes(static_cast<int64_t>(need) - 1);
    EXPECT_THROW(gpu_->encode(spec, x.gpu, small), Error);
  }
}

// int8 splits a column's rows over a 32 x 16 block: shapes below and above one tile, a zero column, NaN and
// ±inf must still give the host's bytes and rounded values.
TEST_F(CudaOpsTest, Int8MatchesTheHostOnEdgeShapesAndSpecialValues) {
  const WireSpec spec{WireFormat::Int8, nullptr};
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 5}, {17, 33}, {40, 70}}) {
    SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols));
    std::vector<float> h(static_cast<size_t>(rows * cols));
    for (auto& v : h) v = dist(rng_);
    if (cols > 2)
      for (int64_t r = 0; r < rows; ++r) h[static_cast<size_t>(r * cols + 1)] = 0.0f;
    // int8_scale's two edge paths, where the device's double -> float conversion and rint decide
    // the bytes: a column of subnormals (a subnormal scale) and one reaching FLT_MAX (the capped scale).
    if (cols > 4) {
      for (int64_t r = 0; r < rows; ++r) {
        h[static_cast<size_t>(r * cols + 3)] *= 1e-40f;
        h[static_cast<size_t>(r * cols + 4)] *= 1e38f;
      }
      h[4] = std::numeric_limits<float>::max();
    }
    h.front() = std::numeric_limits<float>::quiet_NaN();
    h.back() = std::numeric_limits<float>::infinity();
    if (rows > 1) h[static_cast<size_t>(cols)] = -std::numeric_limits<float>::infinity();
    Pair x = from_host(rows, cols, h);
    const size_t need = encoded_bytes(spec, rows, cols, sizeof(float));
    Tensor<uint8_t> wc = cpu_.alloc_bytes(static_cast<int64_t>(need)), wg = gpu_->alloc_bytes(static_cast<int64_t>(need));
    cpu_.encode(spec, x.cpu, wc);
    gpu_->encode(spec, x.gpu, wg);
    EXPECT_TRUE(bit_equal(x)) << "rounded x differs";
#if defined(PDADMM_HAVE_CUDA)
    std::vector<uint8_t> payload(need);
    ASSERT_EQ(cudaMemcpy(payload.data(), wg.data(), need, cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(std::memcmp(payload.data(), wc.data(), need), 0) << "payload bytes differ";
#endif
  }
}

TEST_F(CudaOpsTest, DoublePrecisionOps) {
  auto gd = make_cuda_ops_double(0);
  CpuOps<double> cd;
  const int64_t m = 33, n = 47, k = 29;
  std::uniform_real_distribution<double> dist(-1, 1);
  auto make = [&](int64_t r, int64_t c, Tensor<double>& tc, Tensor<double>& tg) {
    std::vector<double> h(static_cast<size_t>(r * c));
    for (auto& v : h) v = dist(rng_);
    tc = cd.alloc(r, c);
    tg = gd->alloc(r, c);
    cd.upload(h.data(), tc);
    gd->upload(h.data(), tg);
  };
  Tensor<double> ac, ag, bc, bg, cc, cg;
  make(m, k, ac, ag);
  make(k, n, bc, bg);
  make(m, n, cc, cg);
  cd.gemm(false, false, 1.0, ac, bc, 0.0, cc);
  gd->gemm(false, false, 1.0, ag, bg, 0.0, cg);
  std::vector<double> hc(m * n), hg(m * n);
  cd.download(cc, hc.data());
  gd->download(cg, hg.data());
  for (size_t i = 0; i < hc.size(); ++i) EXPECT_NEAR(hg[i], hc[i], 1e-12);
  Tensor<double> qc, qg, uc, ug;
  make(m, n, qc, qg);
  make(m, n, uc, ug);
  const DualStats sc = cd.dual_update(0.5, cc, qc, uc);
  const DualStats sg = gd->dual_update(0.5, cg, qg, ug);
  EXPECT_NEAR(sg.r2, sc.r2, 1e-9 * std::max(1.0, sc.r2));
  EXPECT_NEAR(sg.u_dot_r, sc.u_dot_r, 1e-9 * std::max(1.0, std::fabs(sc.u_dot_r)));
}

// CudaOps' fused passes (kernels/fused_kernels.cu) against Ops' defaults run on CudaOps (the
// unfused steps' kernels): the same bits in every tensor and sum, in float and double, at shapes
// with one block, with several, and past kMaxReduceBlocks * 256 elements (the reductions'
// grid-stride loops go round more than once), rows of one element and rows longer than a block.
template <typename T>
std::unique_ptr<Ops<T>> cuda_ops_of();
template <>
std::unique_ptr<Ops<float>> cuda_ops_of<float>() { return make_cuda_ops(0); }
template <>
std::unique_ptr<Ops<double>> cuda_ops_of<double>() { return make_cuda_ops_double(0); }

template <typename T>
class CudaFusedPasses : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible: " << cuda_unavailable_reason();
    ops_ = cuda_ops_of<T>();
    ops_->bind_thread();
  }
  Tensor<T> filled(int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> dist(0.0, 1.0);
    std::vector<T> h(static_cast<size_t>(rows * cols));
    for (auto& v : h) v = static_cast<T>(dist(rng));
    Tensor<T> t = ops_->alloc(rows, cols);
    ops_->upload(h.data(), t);
    return t;
  }
  void expect_same_bits(const Tensor<T>& a, const Tensor<T>& b, const char* what) {
    std::vector<T> ha(static_cast<size_t>(a.size())), hb(static_cast<size_t>(b.size()));
    ops_->download(a, ha.data());
    ops_->download(b, hb.data());
    ASSERT_EQ(ha.size(), hb.size()) << what;
    EXPECT_TRUE(ha.empty() || std::memcmp(ha.data(), hb.data(), ha.size() * sizeof(T)) == 0) << what;
  }
  std::unique_ptr<Ops<T>> ops_;
};
using CudaReals = ::testing::Types<float, double>;
TYPED_TEST_SUITE(CudaFusedPasses, CudaReals);

TYPED_TEST(CudaFusedPasses, GiveTheBitsOfTheStepsTheyFuse) {
  using T = TypeParam;
  Ops<T>& ops = *this->ops_;
  for (const auto& [rows, cols] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {37, 300}, {kRows, kCols}, {600000, 1}, {2, 300001}}) {
    SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols));
    const Tensor<T> wp = this->filled(rows, cols, 1), z = this->filled(rows, cols, 2), q = this->filled(rows, cols, 3),
                    p = this->filled(rows, cols, 4), b = this->filled(rows, 1, 5);
    const T nu = T(0.3), rho = T(0.7);
    {  // bias_residual: r and ||r||²
      Tensor<T> a = ops.alloc(rows, cols), r1 = ops.alloc(rows, cols), r2 = ops.alloc(rows, cols);
      const double s1 = ops.bias_residual(wp, b, z, a, r1), s2 = ops.Ops<T>::bias_residual(wp, b, z, a, r2);
      EXPECT_EQ(s1, s2);
      EXPECT_GT(s1, 0.0);
      this->expect_same_bits(r1, r2, "bias_residual r");
    }
    for (bool prox : {true, false}) {  // bias_z_hidden: a and z
      Tensor<T> a1 = ops.alloc(rows, cols), a2 = ops.alloc(rows, cols), z1 = this->filled(rows, cols, 2),
                z2 = this->filled(rows, cols, 2);
      ops.bias_z_hidden(wp, b, q, prox, a1, z1);
      ops.Ops<T>::bias_z_hidden(wp, b, q, prox, a2, z2);
      this->expect_same_bits(a1, a2, "bias_z_hidden a");
      this->expect_same_bits(z1, z2, "bias_z_hidden z");
    }
    {  // dot2
      const std::array<double, 2> d1 = ops.dot2(wp, z, q), d2 = ops.Ops<T>::dot2(wp, z, q);
      EXPECT_EQ(d1[0], d2[0]);
      EXPECT_EQ(d1[1], d2[1]);
      EXPECT_NE(d1[0], d1[1]);
    }
    {  // axpby_sum_sq
      Tensor<T> y1 = this->filled(rows, cols, 6), y2 = this->filled(rows, cols, 6);
      EXPECT_EQ(ops.axpby_sum_sq(T(0.25), wp, T(1), y1), ops.Ops<T>::axpby_sum_sq(T(0.25), wp, T(1), y2));
      this->expect_same_bits(y1, y2, "axpby_sum_sq y");
    }
    {  // p_grad_sum_sq
      Tensor<T> g1 = this->filled(rows, cols, 7), g2 = this->filled(rows, cols, 7);
      EXPECT_EQ(ops.p_grad_sum_sq(nu, rho, p, q, z, g1), ops.Ops<T>::p_grad_sum_sq(nu, rho, p, q, z, g2));
      this->expect_same_bits(g1, g2, "p_grad_sum_sq g");
    }
    {  // q_dual_update: q, u and both sums
      Tensor<T> q1 = this->filled(rows, cols, 8), q2 = this->filled(rows, cols, 8), u1 = this->filled(rows, cols, 9),
                u2 = this->filled(rows, cols, 9);
      const DualStats d1 = ops.q_dual_update(nu, rho, p, z, q1, u1),
                      d2 = ops.Ops<T>::q_dual_update(nu, rho, p, z, q2, u2);
      EXPECT_EQ(d1.r2, d2.r2);
      EXPECT_EQ(d1.u_dot_r, d2.u_dot_r);
      this->expect_same_bits(q1, q2, "q_dual_update q");
      this->expect_same_bits(u1, u2, "q_dual_update u");
    }
  }
  // The shape checks of the steps they replace.
  Tensor<T> x = this->filled(3, 7, 1), y = this->filled(7, 3, 2), bb = this->filled(3, 1, 3);
  EXPECT_THROW(ops.dot2(x, y, x), Error);
  EXPECT_THROW(ops.axpby_sum_sq(T(1), x, T(1), y), Error);
  EXPECT_THROW(ops.bias_residual(x, y, x, x, x), Error);
  EXPECT_THROW(ops.q_dual_update(T(1), T(1), x, x, y, x), Error);
  // Empty tensors: zero sums and no launch.
  Tensor<T> e = ops.alloc(0, 0), eb = ops.alloc(0, 1);
  EXPECT_EQ(ops.bias_residual(e, eb, e, e, e), 0.0);
  EXPECT_EQ(ops.dot2(e, e, e)[1], 0.0);
  EXPECT_EQ(ops.q_dual_update(T(1), T(1), e, e, e, e).r2, 0.0);
}

}  // namespace
}  // namespace pdadmm
