// Launchers for the reductions of Ops (dot, residual, dual update, ReLU gap). Pass 1 writes one
// double per block and field into partials[field * blocks + block] (blocks = reduce_blocks(n));
// sum_partials then adds each field in a fixed order. Element terms are formed in T and
// accumulated in double as CpuOps does, each term with the same shared function; the order of
// the additions differs from the CPU's chunks, so sums agree to rounding, not bit for bit.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

namespace pdadmm {
namespace kernels {

// field 0: Σ x y
template <typename T>
void dot(const T* x, const T* y, int64_t n, double* partials, int blocks, cudaStream_t stream);
// r = a - z; field 0: Σ r²
template <typename T>
void residual(const T* a, const T* z, T* r, int64_t n, double* partials, int blocks, cudaStream_t stream);
// r = p_next - q; u += ρ r; field 0: Σ r², field 1: Σ u_new r
template <typename T>
void dual_update(T rho, const T* p_next, const T* q, T* u, int64_t n, double* partials, int blocks,
                 cudaStream_t stream);
// field 0: Σ (q - relu z)²
template <typename T>
void relu_gap_sq(const T* q, const T* z, int64_t n, double* partials, int blocks, cudaStream_t stream);
// out[f] = Σ_b partials[f * blocks + b] for f < fields.
void sum_partials(const double* partials, int blocks, int fields, double* out, cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
