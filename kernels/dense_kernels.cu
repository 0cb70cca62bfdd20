// Dense element-wise kernels (kernels/dense_kernels.cuh): grid-stride loops, one thread per element.
#include "cuda/check.h"
#include "kernels/dense_kernels.cuh"
#include "kernels/launch.cuh"

namespace pdadmm {
namespace kernels {

namespace {

template <typename T>
__global__ void fill_kernel(T* x, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    x[i] = value;
}

template <typename T>
__global__ void axpby_kernel(T alpha, const T* __restrict__ x, T beta, T* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = alpha * x[i] + beta * y[i];
}

template <typename T>
__global__ void scale_kernel(T beta, T* c, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    c[i] = beta == T(0) ? T(0) : beta * c[i];
}

template <typename T>
__global__ void add_bias_kernel(const T* __restrict__ wp, const T* __restrict__ b, T* __restrict__ out,
                                int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    out[i] = wp[i] + b[i / cols];
}

template <typename T>
__global__ void relu_kernel(T* __restrict__ x, int64_t n) {
  PDADMM_GRID_STRIDE(i, n) x[i] = x[i] > T(0) ? x[i] : T(0);
}

// One thread per row with a sequential sum in T: slower than a tree for very wide rows, but the
// same rounding as CpuOps, so b matches the CPU bit for bit (rows are short: N training nodes).
template <typename T>
__global__ void row_mean_diff_kernel(const T* __restrict__ z, const T* __restrict__ wp, T* __restrict__ b,
                                     int64_t rows, int64_t cols) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    const T* zr = z + r * cols;
    const T* wr = wp + r * cols;
    T s = 0;
    for (int64_t c = 0; c < cols; ++c) s += zr[c] - wr[c];
    b[r] = s / static_cast<T>(cols);
  }
}

}  // namespace

template <typename T>
void fill(T* x, int64_t n, T value, cudaStream_t stream) {
  if (n <= 0) return;
  fill_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(x, n, value);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void axpby(T alpha, const T* x, T beta, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  axpby_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(alpha, x, beta, y, n);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void scale(T beta, T* c, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  scale_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(beta, c, n);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void add_bias(const T* wp, const T* b, T* out, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  add_bias_kernel<<<elementwise_blocks(rows * cols), kBlockThreads, 0, stream>>>(wp, b, out, rows, cols);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void relu(T* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  relu_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(x, n);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void row_mean_diff(const T* z, const T* wp, T* b, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows <= 0) return;
  row_mean_diff_kernel<<<elementwise_blocks(rows), kBlockThreads, 0, stream>>>(z, wp, b, rows, cols);
  CUDA_LAUNCH_CHECK(stream);
}

#define PDADMM_INSTANTIATE(T)                                                        \
  template void fill<T>(T*, int64_t, T, cudaStream_t);                              \
  template void axpby<T>(T, const T*, T, T*, int64_t, cudaStream_t);               \
  template void scale<T>(T, T*, int64_t, cudaStream_t);                              \
  template void add_bias<T>(const T*, const T*, T*, int64_t, int64_t, cudaStream_t); \
  template void relu<T>(T*, int64_t, cudaStream_t);                                  \
  template void row_mean_diff<T>(const T*, const T*, T*, int64_t, int64_t, cudaStream_t);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace kernels
}  // namespace pdadmm
