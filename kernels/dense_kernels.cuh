// Launchers for the plain dense element-wise kernels (fill, axpby, scale, bias add, row mean);
// row-major tensors, one stream argument each. Defined in dense_kernels.cu for float and double.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

namespace pdadmm {
namespace kernels {

template <typename T>
void fill(T* x, int64_t n, T value, cudaStream_t stream);
// y = alpha x + beta y
template <typename T>
void axpby(T alpha, const T* x, T beta, T* y, int64_t n, cudaStream_t stream);
// c = beta c, and exactly 0 when beta == 0 (BLAS semantics: old NaNs do not survive).
template <typename T>
void scale(T beta, T* c, int64_t n, cudaStream_t stream);
// out = wp + b 1ᵀ (b has one value per row).
template <typename T>
void add_bias(const T* wp, const T* b, T* out, int64_t rows, int64_t cols, cudaStream_t stream);
// x = max(x, 0) in place.
template <typename T>
void relu(T* x, int64_t n, cudaStream_t stream);
// b[r] = mean over c of (z - wp)[r, c], summed in T in column order exactly like CpuOps.
template <typename T>
void row_mean_diff(const T* z, const T* wp, T* b, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
