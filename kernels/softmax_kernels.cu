// Column softmax kernels (kernels/softmax_kernels.cuh). Each column is processed in the same
// order and precision as CpuOps (max, Σ exp in T, then per-row terms); only exp/log differ by
// the device math library's last-ulp rounding.
#include "cuda/check.h"
#include "kernels/block_reduce.cuh"
#include "kernels/launch.cuh"
#include "kernels/softmax_kernels.cuh"

namespace pdadmm {
namespace kernels {

namespace {

__device__ __forceinline__ float dev_exp(float x) { return expf(x); }
__device__ __forceinline__ double dev_exp(double x) { return exp(x); }
__device__ __forceinline__ float dev_log(float x) { return logf(x); }
__device__ __forceinline__ double dev_log(double x) { return log(x); }

// Column max (std::max order: keeps the first of equal values) and Σ exp(z - max) in T;
// Reference adds the code's 1e-10 to the denominator.
template <typename T>
__device__ void column_max_sum(bool reference, const T* z, int64_t rows, int64_t cols, int64_t c, T* m_out,
                               T* s_out) {
  T m = z[c];
  for (int64_t r = 1; r < rows; ++r) {
    const T v = z[r * cols + c];
    m = m < v ? v : m;
  }
  T s = 0;
  for (int64_t r = 0; r < rows; ++r) s += dev_exp(z[r * cols + c] - m);
  if (reference) s += T(1e-10);
  *m_out = m;
  *s_out = s;
}

template <typename T>
__global__ void cross_entropy_kernel(bool reference, const T* __restrict__ z, const T* __restrict__ y, int64_t rows,
                                     int64_t cols, double* partials) {
  double total = 0;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols; c += int64_t{gridDim.x} * blockDim.x) {
    T m, s;
    column_max_sum(reference, z, rows, cols, c, &m, &s);
    if (reference) {
      for (int64_t r = 0; r < rows; ++r) {
        const T yv = y[r * cols + c];
        if (yv != T(0)) {
          const T sm = dev_exp(z[r * cols + c] - m) / s;
          total -= yv * dev_log(sm + T(1e-10));
        }
      }
    } else {
      const T lse = m + dev_log(s);
      for (int64_t r = 0; r < rows; ++r) {
        const T yv = y[r * cols + c];
        if (yv != T(0)) total += yv * (lse - z[r * cols + c]);
      }
    }
  }
  store_partial(total, partials);
}

template <typename T>
__global__ void softmax_minus_kernel(bool reference, const T* __restrict__ z, const T* __restrict__ y,
                                     T* __restrict__ g, int64_t rows, int64_t cols) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols; c += int64_t{gridDim.x} * blockDim.x) {
    T m, s;
    column_max_sum(reference, z, rows, cols, c, &m, &s);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r * cols + c;
      g[i] = dev_exp(z[i] - m) / s - y[i];
    }
  }
}

}  // namespace

template <typename T>
void cross_entropy(bool reference, const T* z, const T* y, int64_t rows, int64_t cols, double* partials, int blocks,
                   cudaStream_t stream) {
  cross_entropy_kernel<<<blocks, kBlockThreads, 0, stream>>>(reference, z, y, rows, cols, partials);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void softmax_minus(bool reference, const T* z, const T* y, T* g, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  softmax_minus_kernel<<<elementwise_blocks(cols), kBlockThreads, 0, stream>>>(reference, z, y, g, rows, cols);
  CUDA_LAUNCH_CHECK(stream);
}

#define PDADMM_INSTANTIATE(T)                                                                      \
  template void cross_entropy<T>(bool, const T*, const T*, int64_t, int64_t, double*, int, cudaStream_t); \
  template void softmax_minus<T>(bool, const T*, const T*, T*, int64_t, int64_t, cudaStream_t);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace kernels
}  // namespace pdadmm
