// Fused-pass kernels (kernels/fused_kernels.cuh). The element expressions are copied from
// dense_kernels.cu, admm_kernels.cu and reduce_kernels.cu (or shared through admm_math.cuh);
// CudaFusedPasses in tests/cuda_ops_test.cpp checks the bits against the unfused steps.
#include "cuda/check.h"
#include "kernels/admm_math.cuh"
#include "kernels/block_reduce.cuh"
#include "kernels/fused_kernels.cuh"
#include "kernels/launch.cuh"

namespace pdadmm {
namespace kernels {

namespace {

template <typename T>
__global__ void bias_residual_kernel(const T* __restrict__ wp, const T* __restrict__ b, const T* __restrict__ z,
                                     T* __restrict__ r, int64_t rows, int64_t cols, double* partials) {
  const int64_t n = rows * cols;
  double s = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const T a = wp[i] + b[i / cols];  // add_bias_kernel
    const T d = a - z[i];             // residual_kernel
    r[i] = d;
    s += static_cast<double>(d) * d;
  }
  store_partial(s, partials);
}

template <typename T>
__global__ void bias_z_hidden_kernel(const T* __restrict__ wp, const T* __restrict__ b, const T* __restrict__ q,
                                     bool prox_in_compare, T* __restrict__ a, T* __restrict__ z, int64_t rows,
                                     int64_t cols) {
  const int64_t n = rows * cols;
  PDADMM_GRID_STRIDE(i, n) {
    const T ai = wp[i] + b[i / cols];
    a[i] = ai;
    z[i] = z_hidden_element(ai, z[i], q[i], prox_in_compare);
  }
}

template <typename T>
__global__ void dot2_kernel(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ w, int64_t n,
                            double* partials) {
  double s0 = 0, s1 = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const double yi = static_cast<double>(y[i]);
    s0 += static_cast<double>(x[i]) * yi;
    s1 += yi * static_cast<double>(w[i]);
  }
  store_partials(s0, s1, partials);
}

template <typename T>
__global__ void axpby_sum_sq_kernel(T alpha, const T* __restrict__ x, T beta, T* __restrict__ y, int64_t n,
                                    double* partials) {
  double s = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const T v = alpha * x[i] + beta * y[i];  // axpby_kernel
    y[i] = v;
    s += static_cast<double>(v) * static_cast<double>(v);  // dot_kernel(y, y)
  }
  store_partial(s, partials);
}

template <typename T>
__global__ void p_grad_sum_sq_kernel(T nu, T rho, const T* __restrict__ p, const T* __restrict__ q,
                                     const T* __restrict__ u, T* __restrict__ g, int64_t n, double* partials) {
  double s = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const T v = p_grad_element(g[i], p[i], q[i], u[i], nu, rho);
    g[i] = v;
    s += static_cast<double>(v) * static_cast<double>(v);
  }
  store_partial(s, partials);
}

template <typename T>
__global__ void q_dual_update_kernel(T nu, T rho, const T* __restrict__ p_next, const T* __restrict__ z,
                                     T* __restrict__ q, T* __restrict__ u, int64_t n, double* partials) {
  double r2 = 0, ur = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const T ui = u[i];
    const T qi = q_element(p_next[i], ui, z[i], nu, rho);  // q_update_kernel, with the old u
    q[i] = qi;
    const T r = p_next[i] - qi;  // dual_update_kernel
    const T un = ui + rho * r;
    u[i] = un;
    r2 += static_cast<double>(r) * r;
    ur += static_cast<double>(un) * r;
  }
  store_partials(r2, ur, partials);
}

}  // namespace

template <typename T>
void bias_residual(const T* wp, const T* b, const T* z, T* r, int64_t rows, int64_t cols, double* partials,
                   int blocks, cudaStream_t stream) {
  bias_residual_kernel<<<blocks, kBlockThreads, 0, stream>>>(wp, b, z, r, rows, cols, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void bias_z_hidden(const T* wp, const T* b, const T* q, bool prox_in_compare, T* a, T* z, int64_t rows,
                   int64_t cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  bias_z_hidden_kernel<<<elementwise_blocks(rows * cols), kBlockThreads, 0, stream>>>(wp, b, q, prox_in_compare, a,
                                                                                       z, rows, cols);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void dot2(const T* x, const T* y, const T* w, int64_t n, double* partials, int blocks, cudaStream_t stream) {
  dot2_kernel<<<blocks, kBlockThreads, 0, stream>>>(x, y, w, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void axpby_sum_sq(T alpha, const T* x, T beta, T* y, int64_t n, double* partials, int blocks, cudaStream_t stream) {
  axpby_sum_sq_kernel<<<blocks, kBlockThreads, 0, stream>>>(alpha, x, beta, y, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void p_grad_sum_sq(T nu, T rho, const T* p, const T* q, const T* u, T* g, int64_t n, double* partials, int blocks,
                   cudaStream_t stream) {
  p_grad_sum_sq_kernel<<<blocks, kBlockThreads, 0, stream>>>(nu, rho, p, q, u, g, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void q_dual_update(T nu, T rho, const T* p_next, const T* z, T* q, T* u, int64_t n, double* partials, int blocks,
                   cudaStream_t stream) {
  q_dual_update_kernel<<<blocks, kBlockThreads, 0, stream>>>(nu, rho, p_next, z, q, u, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

#define PDADMM_INSTANTIATE(T)                                                                                   \
  template void bias_residual<T>(const T*, const T*, const T*, T*, int64_t, int64_t, double*, int, cudaStream_t); \
  template void bias_z_hidden<T>(const T*, const T*, const T*, bool, T*, T*, int64_t, int64_t, cudaStream_t);     \
  template void dot2<T>(const T*, const T*, const T*, int64_t, double*, int, cudaStream_t);                     \
  template void axpby_sum_sq<T>(T, const T*, T, T*, int64_t, double*, int, cudaStream_t);                      \
  template void p_grad_sum_sq<T>(T, T, const T*, const T*, const T*, T*, int64_t, double*, int, cudaStream_t);  \
  template void q_dual_update<T>(T, T, const T*, const T*, T*, T*, int64_t, double*, int, cudaStream_t);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace kernels
}  // namespace pdadmm
