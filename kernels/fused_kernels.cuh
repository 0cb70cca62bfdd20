// Launchers for the fused passes of Ops (bias_residual, bias_z_hidden, dot2, axpby_sum_sq,
// p_grad_sum_sq, q_dual_update): one kernel where the steps they fuse take two or three, and one
// host wait where dot2 took two. Each forms every element exactly as the kernels of the steps do
// (the same expressions, --fmad=false) and each sum over the same grid (reduce_blocks(n)) in the
// same grid-stride order as reduce_kernels.cu, so a fused pass gives the steps' bits.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

namespace pdadmm {
namespace kernels {

// r = (wp + b 1ᵀ) - z; field 0: Σ r²
template <typename T>
void bias_residual(const T* wp, const T* b, const T* z, T* r, int64_t rows, int64_t cols, double* partials,
                   int blocks, cudaStream_t stream);
// a = wp + b 1ᵀ; z = z_hidden_element(a, z, q, prox_in_compare)
template <typename T>
void bias_z_hidden(const T* wp, const T* b, const T* q, bool prox_in_compare, T* a, T* z, int64_t rows,
                   int64_t cols, cudaStream_t stream);
// field 0: Σ x y, field 1: Σ y w
template <typename T>
void dot2(const T* x, const T* y, const T* w, int64_t n, double* partials, int blocks, cudaStream_t stream);
// y = alpha x + beta y; field 0: Σ y²
template <typename T>
void axpby_sum_sq(T alpha, const T* x, T beta, T* y, int64_t n, double* partials, int blocks, cudaStream_t stream);
// g = p_grad_element(g, p, q, u, ν, ρ); field 0: Σ g²
template <typename T>
void p_grad_sum_sq(T nu, T rho, const T* p, const T* q, const T* u, T* g, int64_t n, double* partials, int blocks,
                   cudaStream_t stream);
// q = q_element(p_next, u, z, ν, ρ); r = p_next - q; u += ρ r; field 0: Σ r², field 1: Σ u_new r
template <typename T>
void q_dual_update(T nu, T rho, const T* p_next, const T* z, T* q, T* u, int64_t n, double* partials, int blocks,
                   cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
