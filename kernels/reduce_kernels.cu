// Reduction kernels (kernels/reduce_kernels.cuh): grid-stride pass with per-thread double
// accumulators, block_sum, one partial per block; then sum_partials. Deterministic order.
#include "cuda/check.h"
#include "kernels/admm_math.cuh"
#include "kernels/block_reduce.cuh"
#include "kernels/launch.cuh"
#include "kernels/reduce_kernels.cuh"

namespace pdadmm {
namespace kernels {

namespace {

template <typename T>
__global__ void dot_kernel(const T* __restrict__ x, const T* __restrict__ y, int64_t n, double* partials) {
  double s = 0;
  PDADMM_GRID_STRIDE(i, n) s += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  store_partial(s, partials);
}

template <typename T>
__global__ void residual_kernel(const T* __restrict__ a, const T* __restrict__ z, T* __restrict__ r, int64_t n,
                                double* partials) {
  double s = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const T d = a[i] - z[i];
    r[i] = d;
    s += static_cast<double>(d) * d;
  }
  store_partial(s, partials);
}

template <typename T>
__global__ void dual_update_kernel(T rho, const T* __restrict__ p_next, const T* __restrict__ q, T* __restrict__ u,
                                   int64_t n, double* partials) {
  double r2 = 0, ur = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const T r = p_next[i] - q[i];
    const T un = u[i] + rho * r;
    u[i] = un;
    r2 += static_cast<double>(r) * r;
    ur += static_cast<double>(un) * r;
  }
  store_partials(r2, ur, partials);
}

template <typename T>
__global__ void relu_gap_sq_kernel(const T* __restrict__ q, const T* __restrict__ z, int64_t n, double* partials) {
  double s = 0;
  PDADMM_GRID_STRIDE(i, n) {
    const double d = static_cast<double>(q[i]) - relu(z[i]);
    s += d * d;
  }
  store_partial(s, partials);
}

// One block per field; each thread sums a strided slice in order, then block_sum.
__global__ void sum_partials_kernel(const double* __restrict__ partials, int blocks, double* __restrict__ out) {
  const double* p = partials + static_cast<int64_t>(blockIdx.x) * blocks;
  double s = 0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) s += p[i];
  store_partial(s, out);
}


}  // namespace

template <typename T>
void dot(const T* x, const T* y, int64_t n, double* partials, int blocks, cudaStream_t stream) {
  dot_kernel<<<blocks, kBlockThreads, 0, stream>>>(x, y, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void residual(const T* a, const T* z, T* r, int64_t n, double* partials, int blocks, cudaStream_t stream) {
  residual_kernel<<<blocks, kBlockThreads, 0, stream>>>(a, z, r, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void dual_update(T rho, const T* p_next, const T* q, T* u, int64_t n, double* partials, int blocks,
                 cudaStream_t stream) {
  dual_update_kernel<<<blocks, kBlockThreads, 0, stream>>>(rho, p_next, q, u, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void relu_gap_sq(const T* q, const T* z, int64_t n, double* partials, int blocks, cudaStream_t stream) {
  relu_gap_sq_kernel<<<blocks, kBlockThreads, 0, stream>>>(q, z, n, partials);
  CUDA_LAUNCH_CHECK(stream);
}

void sum_partials(const double* partials, int blocks, int fields, double* out, cudaStream_t stream) {
  sum_partials_kernel<<<fields, kBlockThreads, 0, stream>>>(partials, blocks, out);
  CUDA_LAUNCH_CHECK(stream);
}

#define PDADMM_INSTANTIATE(T)                                                                       \
  template void dot<T>(const T*, const T*, int64_t, double*, int, cudaStream_t);                   \
  template void residual<T>(const T*, const T*, T*, int64_t, double*, int, cudaStream_t);          \
  template void dual_update<T>(T, const T*, const T*, T*, int64_t, double*, int, cudaStream_t);    \
  template void relu_gap_sq<T>(const T*, const T*, int64_t, double*, int, cudaStream_t);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace kernels
}  // namespace pdadmm
