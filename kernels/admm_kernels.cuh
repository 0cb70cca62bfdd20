// Launchers for the ADMM element-wise steps. Each kernel applies the SAME __host__ __device__
// element function from kernels/admm_math.cuh that CpuOps loops over.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

namespace pdadmm {
namespace kernels {

// g = p_grad_element(g, p, q, u, ν, ρ)
template <typename T>
void p_grad(T nu, T rho, const T* p, const T* q, const T* u, T* g, int64_t n, cudaStream_t stream);
// z = z_hidden_element(a, z, q, prox_in_compare)
template <typename T>
void z_hidden(const T* a, const T* q, bool prox_in_compare, T* z, int64_t n, cudaStream_t stream);
// q = q_element(p_next, u, z, ν, ρ)
template <typename T>
void q_update(T nu, T rho, const T* p_next, const T* u, const T* z, T* q, int64_t n, cudaStream_t stream);
// zeta_old = zeta; zeta = fista_prox_element(z, grad, a, ν, η); z = (1-γ) zeta + γ zeta_old
template <typename T>
void fista_step(T nu, T eta, T gamma, const T* a, const T* grad, T* zeta, T* zeta_old, T* z, int64_t n,
                cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
