// Launchers for the last layer's column softmax: cross-entropy partial sums and softmax - y.
// Columns are samples, rows are classes (C is small), so one thread owns one column.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

namespace pdadmm {
namespace kernels {

// reference = CeMode::Reference (softmax + 1e-10 inside the log), else log-sum-exp.
// field 0 of partials: the loss summed over columns (blocks = reduce_blocks(cols)).
template <typename T>
void cross_entropy(bool reference, const T* z, const T* y, int64_t rows, int64_t cols, double* partials,
                   int blocks, cudaStream_t stream);
// g = softmax(z) - y, column by column.
template <typename T>
void softmax_minus(bool reference, const T* z, const T* y, T* g, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
