// CudaOps<T>: cuBLAS GEMM, kernels/*.cu for the element-wise steps and reductions. Mirrors
// host/backend/cpu_ops.cpp call for call (same shape checks and messages, same element math).
#include "cuda/cuda_ops.h"

#include <climits>
#include <string>
#include <type_traits>

#include "cuda/check.h"
#include "host/backend/shape_check.h"
#include "host/io/error.h"
#include "kernels/admm_kernels.cuh"
#include "kernels/codec_kernels.cuh"
#include "kernels/dense_kernels.cuh"
#include "kernels/fused_kernels.cuh"
#include "kernels/launch.cuh"
#include "kernels/project_kernels.cuh"
#include "kernels/reduce_kernels.cuh"
#include "kernels/softmax_kernels.cuh"

namespace pdadmm {

namespace {

int to_int(int64_t v, const char* what) {
  if (v > INT_MAX) throw Error(std::string("gemm: ") + what + " = " + std::to_string(v) + " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

// Row-major C (m x n) = op(A) op(B) is column-major Cᵀ (n x m) = op(B)ᵀ op(A)ᵀ, and a row-major
// matrix read as column-major is its transpose: so swap the operands and keep the op flags.
void blas_gemm(cublasHandle_t h, cublasOperation_t op_b, cublasOperation_t op_a, int n, int m, int k, float alpha,
               const float* b, int ldb, const float* a, int lda, float beta, float* c, int ldc) {
  CUBLAS_CHECK(cublasSgemm(h, op_b, op_a, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc));
}
void blas_gemm(cublasHandle_t h, cublasOperation_t op_b, cublasOperation_t op_a, int n, int m, int k, double alpha,
               const double* b, int ldb, const double* a, int lda, double beta, double* c, int ldc) {
  CUBLAS_CHECK(cublasDgemm(h, op_b, op_a, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc));
}

std::string shape_name(int64_t rows, int64_t cols, size_t scalar) {
  return "a " + std::to_string(rows) + "x" + std::to_string(cols) + (scalar == 1 ? " byte buffer" : " tensor");
}

}  // namespace

template <typename T>
CudaOps<T>::CudaOps(int device, bool tf32, int group)
    : device_(device),
      group_(group),
      stream_(device, /*non_blocking=*/false),
      cublas_(device, stream_.get(), tf32),
      cusparse_(device, stream_.get()),
      partials_(device, 2 * kernels::kMaxReduceBlocks, alloc_what("reduction scratch").c_str()),
      sums_(device, 2, alloc_what("reduction totals").c_str()),
      host_sums_(2, "reduction totals") {}

template <typename T>
std::string CudaOps<T>::alloc_what(const std::string& thing) const {
  return group_ >= 0 ? thing + " of group " + std::to_string(group_) : thing;
}

template <typename T>
CudaOps<T>::~CudaOps() {
  // Queued kernels may still read the scratch buffers freed below.
  if (stream_.get()) CUDA_CHECK_NOTHROW(cudaStreamSynchronize(stream_.get()));
}

template <typename T>
Tensor<T> CudaOps<T>::alloc(int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) throw Error("alloc: negative shape");
  DeviceScope scope(device_);
  const size_t bytes = static_cast<size_t>(rows * cols) * sizeof(T);
  const std::string what = alloc_what(shape_name(rows, cols, sizeof(T)));
  T* p = static_cast<T*>(device_alloc(device_, bytes, what.c_str()));
  const int dev = device_;
  Tensor<T> t(p, rows, cols, [dev](T* q) { device_free(dev, q); });
  if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream()));
  return t;
}

template <typename T>
Tensor<uint8_t> CudaOps<T>::alloc_bytes(int64_t n) {
  if (n < 0) throw Error("alloc_bytes: negative size");
  DeviceScope scope(device_);
  const std::string what = alloc_what(shape_name(1, n, 1));
  uint8_t* p = static_cast<uint8_t*>(device_alloc(device_, static_cast<size_t>(n), what.c_str()));
  const int dev = device_;
  Tensor<uint8_t> t(p, 1, n, [dev](uint8_t* q) { device_free(dev, q); });
  if (n) CUDA_CHECK(cudaMemsetAsync(p, 0, static_cast<size_t>(n), stream()));
  return t;
}

template <typename T>
void CudaOps<T>::upload(const T* host, Tensor<T>& dst) {
  if (!dst.size()) return;
  DeviceScope scope(device_);
  CUDA_CHECK(cudaMemcpyAsync(dst.data(), host, dst.bytes(), cudaMemcpyHostToDevice, stream()));
  // The host buffer may be pinned (truly asynchronous copy): the caller owns it again on return.
  stream_.sync();
}

template <typename T>
void CudaOps<T>::download(const Tensor<T>& src, T* host) {
  if (!src.size()) return;
  DeviceScope scope(device_);
  CUDA_CHECK(cudaMemcpyAsync(host, src.data(), src.bytes(), cudaMemcpyDeviceToHost, stream()));
  stream_.sync();
}

template <typename T>
void CudaOps<T>::copy(const Tensor<T>& src, Tensor<T>& dst) {
  check_same("copy", src, dst);
  if (!src.size()) return;
  DeviceScope scope(device_);
  CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.bytes(), cudaMemcpyDeviceToDevice, stream()));
}

template <typename T>
void CudaOps<T>::fill(Tensor<T>& x, T value) {
  DeviceScope scope(device_);
  kernels::fill(x.data(), x.size(), value, stream());
}

template <typename T>
void CudaOps<T>::bind_thread() {
  CUDA_CHECK(cudaSetDevice(device_));
}

template <typename T>
void CudaOps<T>::sync() {
  stream_.sync();
}

template <typename T>
void CudaOps<T>::gemm(bool ta, bool tb, T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta, Tensor<T>& c) {
  const auto [m, n, k] = gemm_dims(ta, tb, a, b, c);
  if (m == 0 || n == 0) return;
  DeviceScope scope(device_);
  if (k == 0) {  // cuBLAS would reject the zero leading dimension of an empty operand
    kernels::scale(beta, c.data(), c.size(), stream());
    return;
  }
  blas_gemm(cublas_.get(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, to_int(n, "n"),
            to_int(m, "m"), to_int(k, "k"), alpha, b.data(), to_int(b.cols(), "ldb"), a.data(),
            to_int(a.cols(), "lda"), beta, c.data(), to_int(c.cols(), "ldc"));
}

template <typename T>
void CudaOps<T>::axpby(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) {
  check_same("axpby", x, y);
  DeviceScope scope(device_);
  kernels::axpby(alpha, x.data(), beta, y.data(), x.size(), stream());
}

template <typename T>
DualStats CudaOps<T>::finish_sums(int blocks, int fields) {
  kernels::sum_partials(partials_.data(), blocks, fields, sums_.data(), stream());
  CUDA_CHECK(cudaMemcpyAsync(host_sums_.data(), sums_.data(), fields * sizeof(double), cudaMemcpyDeviceToHost,
                             stream()));
  stream_.sync();
  return {host_sums_[0], fields > 1 ? host_sums_[1] : 0.0};
}

template <typename T>
template <typename Launch>
DualStats CudaOps<T>::reduce(int64_t n, int fields, const Launch& launch) {
  if (n == 0) return {};
  DeviceScope scope(device_);
  const int blocks = kernels::reduce_blocks(n);
  launch(blocks);
  return finish_sums(blocks, fields);
}

template <typename T>
double CudaOps<T>::dot(const Tensor<T>& x, const Tensor<T>& y) {
  check_same("dot", x, y);
  const int64_t n = x.size();
  return reduce(n, 1, [&](int blocks) {
    kernels::dot(x.data(), y.data(), n, partials_.data(), blocks, stream());
  }).r2;
}

template <typename T>
double CudaOps<T>::sum_sq(const Tensor<T>& x) {
  return dot(x, x);
}

template <typename T>
void CudaOps<T>::add_bias(const Tensor<T>& wp, const Tensor<T>& b, Tensor<T>& out) {
  check_same("add_bias", wp, out);
  check_same("add_bias(b)", b.rows(), b.cols(), wp.rows(), 1);
  DeviceScope scope(device_);
  kernels::add_bias(wp.data(), b.data(), out.data(), wp.rows(), wp.cols(), stream());
}

template <typename T>
void CudaOps<T>::relu(Tensor<T>& x) {
  DeviceScope scope(device_);
  kernels::relu(x.data(), x.size(), stream());
}

template <typename T>
double CudaOps<T>::residual(const Tensor<T>& a, const Tensor<T>& z, Tensor<T>& r) {
  check_same("residual", a, z);
  check_same("residual", a, r);
  const int64_t n = a.size();
  return reduce(n, 1, [&](int blocks) {
    kernels::residual(a.data(), z.data(), r.data(), n, partials_.data(), blocks, stream());
  }).r2;
}

template <typename T>
void CudaOps<T>::row_mean_diff(const Tensor<T>& z, const Tensor<T>& wp, Tensor<T>& b) {
  check_same("row_mean_diff", z, wp);
  check_same("row_mean_diff(b)", b.rows(), b.cols(), z.rows(), 1);
  DeviceScope scope(device_);
  kernels::row_mean_diff(z.data(), wp.data(), b.data(), z.rows(), z.cols(), stream());
}

template <typename T>
void CudaOps<T>::p_grad(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u, Tensor<T>& g) {
  check_same("p_grad", p, g);
  check_same("p_grad", q, g);
  check_same("p_grad", u, g);
  DeviceScope scope(device_);
  kernels::p_grad(nu, rho, p.data(), q.data(), u.data(), g.data(), g.size(), stream());
}

template <typename T>
void CudaOps<T>::z_hidden(const Tensor<T>& a, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& z) {
  check_same("z_hidden", a, z);
  check_same("z_hidden", q, z);
  DeviceScope scope(device_);
  kernels::z_hidden(a.data(), q.data(), prox_in_compare, z.data(), z.size(), stream());
}

template <typename T>
void CudaOps<T>::q_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& u, const Tensor<T>& z,
                          Tensor<T>& q) {
  check_same("q_update", p_next, q);
  check_same("q_update", u, q);
  check_same("q_update", z, q);
  DeviceScope scope(device_);
  kernels::q_update(nu, rho, p_next.data(), u.data(), z.data(), q.data(), q.size(), stream());
}

template <typename T>
DualStats CudaOps<T>::dual_update(T rho, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u) {
  check_same("dual_update", p_next, q);
  check_same("dual_update", u, q);
  const int64_t n = q.size();
  return reduce(n, 2, [&](int blocks) {
    kernels::dual_update(rho, p_next.data(), q.data(), u.data(), n, partials_.data(), blocks, stream());
  });
}

template <typename T>
double CudaOps<T>::relu_gap_sq(const Tensor<T>& q, const Tensor<T>& z) {
  check_same("relu_gap_sq", q, z);
  const int64_t n = q.size();
  return reduce(n, 1, [&](int blocks) {
    kernels::relu_gap_sq(q.data(), z.data(), n, partials_.data(), blocks, stream());
  }).r2;
}

// ---- fused passes: the same checks as CpuOps' (cpu_ops.cpp) ----
template <typename T>
double CudaOps<T>::bias_residual(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& z, Tensor<T>&,
                                 Tensor<T>& r) {
  check_same("bias_residual", wp, z);
  check_same("bias_residual", wp, r);
  check_same("bias_residual(b)", b.rows(), b.cols(), wp.rows(), 1);
  const int64_t n = wp.size();
  return reduce(n, 1, [&](int blocks) {
    kernels::bias_residual(wp.data(), b.data(), z.data(), r.data(), wp.rows(), wp.cols(), partials_.data(), blocks,
                           stream());
  }).r2;
}

template <typename T>
void CudaOps<T>::bias_z_hidden(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& q, bool prox_in_compare,
                               Tensor<T>& a, Tensor<T>& z) {
  check_same("bias_z_hidden", wp, a);
  check_same("bias_z_hidden", wp, z);
  check_same("bias_z_hidden", q, z);
  check_same("bias_z_hidden(b)", b.rows(), b.cols(), wp.rows(), 1);
  DeviceScope scope(device_);
  kernels::bias_z_hidden(wp.data(), b.data(), q.data(), prox_in_compare, a.data(), z.data(), wp.rows(), wp.cols(),
                         stream());
}

template <typename T>
std::array<double, 2> CudaOps<T>::dot2(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& w) {
  check_same("dot2", x, y);
  check_same("dot2", w, y);
  const int64_t n = y.size();
  const DualStats s = reduce(n, 2, [&](int blocks) {
    kernels::dot2(x.data(), y.data(), w.data(), n, partials_.data(), blocks, stream());
  });
  return {s.r2, s.u_dot_r};
}

template <typename T>
double CudaOps<T>::axpby_sum_sq(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) {
  check_same("axpby_sum_sq", x, y);
  const int64_t n = y.size();
  return reduce(n, 1, [&](int blocks) {
    kernels::axpby_sum_sq(alpha, x.data(), beta, y.data(), n, partials_.data(), blocks, stream());
  }).r2;
}

template <typename T>
double CudaOps<T>::p_grad_sum_sq(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u,
                                 Tensor<T>& g) {
  check_same("p_grad_sum_sq", p, g);
  check_same("p_grad_sum_sq", q, g);
  check_same("p_grad_sum_sq", u, g);
  const int64_t n = g.size();
  return reduce(n, 1, [&](int blocks) {
    kernels::p_grad_sum_sq(nu, rho, p.data(), q.data(), u.data(), g.data(), n, partials_.data(), blocks, stream());
  }).r2;
}

template <typename T>
DualStats CudaOps<T>::q_dual_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& z, Tensor<T>& q,
                                    Tensor<T>& u) {
  check_same("q_dual_update", p_next, q);
  check_same("q_dual_update", u, q);
  check_same("q_dual_update", z, q);
  const int64_t n = q.size();
  return reduce(n, 2, [&](int blocks) {
    kernels::q_dual_update(nu, rho, p_next.data(), z.data(), q.data(), u.data(), n, partials_.data(), blocks, stream());
  });
}

template <typename T>
double CudaOps<T>::cross_entropy(CeMode mode, const Tensor<T>& z, const Tensor<T>& y) {
  check_same("cross_entropy", z, y);
  if (z.size() == 0) return 0;
  DeviceScope scope(device_);
  const int blocks = kernels::reduce_blocks(z.cols());
  kernels::cross_entropy(mode == CeMode::Reference, z.data(), y.data(), z.rows(), z.cols(), partials_.data(), blocks,
                         stream());
  return finish_sums(blocks, 1).r2;
}

template <typename T>
void CudaOps<T>::softmax_minus(CeMode mode, const Tensor<T>& z, const Tensor<T>& y, Tensor<T>& g) {
  check_same("softmax_minus", z, y);
  check_same("softmax_minus", z, g);
  DeviceScope scope(device_);
  kernels::softmax_minus(mode == CeMode::Reference, z.data(), y.data(), g.data(), z.rows(), z.cols(), stream());
}

template <typename T>
void CudaOps<T>::fista_step(T nu, T eta, T gamma, const Tensor<T>& a, const Tensor<T>& grad, Tensor<T>& zeta,
                            Tensor<T>& zeta_old, Tensor<T>& z) {
  check_same("fista_step", a, z);
  check_same("fista_step", grad, z);
  check_same("fista_step", zeta, z);
  check_same("fista_step", zeta_old, z);
  DeviceScope scope(device_);
  kernels::fista_step(nu, eta, gamma, a.data(), grad.data(), zeta.data(), zeta_old.data(), z.data(), z.size(),
                      stream());
}

template <typename T>
const double* CudaOps<T>::device_levels(const Grid& grid) {
  if (levels_host_ != grid.levels) {
    // Queued kernels may still read the old table: let them finish before it is freed or
    // overwritten. The copy from pageable memory is not guaranteed to be staged when
    // cudaMemcpyAsync returns, so wait for it too. Both happen only when the levels change.
    stream_.sync();
    if (levels_.size() < grid.levels.size())
      levels_ = DeviceBuffer<double>(device_, grid.levels.size(), alloc_what("grid levels").c_str());
    CUDA_CHECK(cudaMemcpyAsync(levels_.data(), grid.levels.data(), grid.levels.size() * sizeof(double),
                               cudaMemcpyHostToDevice, stream()));
    stream_.sync();
    levels_host_ = grid.levels;
  }
  return levels_.data();
}

template <typename T>
void CudaOps<T>::project(const Grid& grid, Tensor<T>& x) {
  require(!grid.empty(), "project: the grid is empty (pdADMM-G-Q needs admm.grid)");
  DeviceScope scope(device_);
  kernels::project(device_view(grid), x.data(), x.size(), stream());
}

template <typename T>
GridView CudaOps<T>::device_view(const Grid& grid) {
  GridView view = grid.view();
  view.levels = device_levels(grid);
  return view;
}

// Payload layouts and rounding are those of encode_host / decode_host (host/quant/wire.cpp).
template <typename T>
size_t CudaOps<T>::encode(const WireSpec& spec, Tensor<T>& x, Tensor<uint8_t>& out) {
  const size_t need = encoded_bytes(spec, x.rows(), x.cols(), sizeof(T));  // also validates spec
  if (static_cast<size_t>(out.size()) < need) throw Error("encode: wire buffer too small");
  DeviceScope scope(device_);
  const int64_t n = x.size();
  switch (spec.format) {
    case WireFormat::Native:
      if (need) CUDA_CHECK(cudaMemcpyAsync(out.data(), x.data(), need, cudaMemcpyDeviceToDevice, stream()));
      break;
    case WireFormat::Fp32:
      if (std::is_same<T, float>::value) {  // float -> float is the identity, bits included
        if (need) CUDA_CHECK(cudaMemcpyAsync(out.data(), x.data(), need, cudaMemcpyDeviceToDevice, stream()));
      } else {
        kernels::encode_fp32(x.data(), n, out.data(), stream());
      }
      break;
    case WireFormat::Fp16: kernels::encode_half(kernels::HalfFormat::Fp16, x.data(), n, out.data(), stream()); break;
    case WireFormat::Bf16: kernels::encode_half(kernels::HalfFormat::Bf16, x.data(), n, out.data(), stream()); break;
    case WireFormat::Int8: kernels::encode_int8(x.data(), x.rows(), x.cols(), out.data(), stream()); break;
    case WireFormat::Codes:
      kernels::encode_codes(device_view(*spec.grid), spec.grid->bits(), x.data(), n, out.data(), stream());
      break;
  }
  return need;
}

template <typename T>
void CudaOps<T>::decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<T>& x) {
  const size_t need = encoded_bytes(spec, x.rows(), x.cols(), sizeof(T));
  if (static_cast<size_t>(in.size()) < need) throw Error("decode: wire buffer too small");
  DeviceScope scope(device_);
  const int64_t n = x.size();
  switch (spec.format) {
    case WireFormat::Native:
      if (need) CUDA_CHECK(cudaMemcpyAsync(x.data(), in.data(), need, cudaMemcpyDeviceToDevice, stream()));
      break;
    case WireFormat::Fp32:
      if (std::is_same<T, float>::value) {
        if (need) CUDA_CHECK(cudaMemcpyAsync(x.data(), in.data(), need, cudaMemcpyDeviceToDevice, stream()));
      } else {
        kernels::decode_fp32(in.data(), n, x.data(), stream());
      }
      break;
    case WireFormat::Fp16: kernels::decode_half(kernels::HalfFormat::Fp16, in.data(), n, x.data(), stream()); break;
    case WireFormat::Bf16: kernels::decode_half(kernels::HalfFormat::Bf16, in.data(), n, x.data(), stream()); break;
    case WireFormat::Int8: kernels::decode_int8(in.data(), x.rows(), x.cols(), x.data(), stream()); break;
    case WireFormat::Codes:
      kernels::decode_codes(device_view(*spec.grid), spec.grid->bits(), in.data(), n, x.data(), stream());
      break;
  }
}

template class CudaOps<float>;
template class CudaOps<double>;

}  // namespace pdadmm
