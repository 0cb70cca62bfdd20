// ADMM element-wise kernels (kernels/admm_kernels.cuh) over the shared math of admm_math.cuh.
#include "cuda/check.h"
#include "kernels/admm_kernels.cuh"
#include "kernels/admm_math.cuh"
#include "kernels/launch.cuh"

namespace pdadmm {
namespace kernels {

namespace {

template <typename T>
__global__ void p_grad_kernel(T nu, T rho, const T* __restrict__ p, const T* __restrict__ q,
                              const T* __restrict__ u, T* __restrict__ g, int64_t n) {
  PDADMM_GRID_STRIDE(i, n) g[i] = p_grad_element(g[i], p[i], q[i], u[i], nu, rho);
}

template <typename T>
__global__ void z_hidden_kernel(const T* __restrict__ a, const T* __restrict__ q, bool prox_in_compare,
                                T* __restrict__ z, int64_t n) {
  PDADMM_GRID_STRIDE(i, n) z[i] = z_hidden_element(a[i], z[i], q[i], prox_in_compare);
}

template <typename T>
__global__ void q_update_kernel(T nu, T rho, const T* __restrict__ p_next, const T* __restrict__ u,
                                const T* __restrict__ z, T* __restrict__ q, int64_t n) {
  PDADMM_GRID_STRIDE(i, n) q[i] = q_element(p_next[i], u[i], z[i], nu, rho);
}

template <typename T>
__global__ void fista_step_kernel(T nu, T eta, T gamma, const T* __restrict__ a, const T* __restrict__ grad,
                                  T* __restrict__ zeta, T* __restrict__ zeta_old, T* __restrict__ z, int64_t n) {
  PDADMM_GRID_STRIDE(i, n) {
    const T old = zeta[i];
    const T next = fista_prox_element(z[i], grad[i], a[i], nu, eta);
    zeta_old[i] = old;
    zeta[i] = next;
    z[i] = (T(1) - gamma) * next + gamma * old;
  }
}


}  // namespace

template <typename T>
void p_grad(T nu, T rho, const T* p, const T* q, const T* u, T* g, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  p_grad_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(nu, rho, p, q, u, g, n);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void z_hidden(const T* a, const T* q, bool prox_in_compare, T* z, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  z_hidden_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(a, q, prox_in_compare, z, n);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void q_update(T nu, T rho, const T* p_next, const T* u, const T* z, T* q, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  q_update_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(nu, rho, p_next, u, z, q, n);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void fista_step(T nu, T eta, T gamma, const T* a, const T* grad, T* zeta, T* zeta_old, T* z, int64_t n,
                cudaStream_t stream) {
  if (n <= 0) return;
  fista_step_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(nu, eta, gamma, a, grad, zeta, zeta_old,
                                                                          z, n);
  CUDA_LAUNCH_CHECK(stream);
}

#define PDADMM_INSTANTIATE(T)                                                                 \
  template void p_grad<T>(T, T, const T*, const T*, const T*, T*, int64_t, cudaStream_t);    \
  template void z_hidden<T>(const T*, const T*, bool, T*, int64_t, cudaStream_t);            \
  template void q_update<T>(T, T, const T*, const T*, const T*, T*, int64_t, cudaStream_t);  \
  template void fista_step<T>(T, T, T, const T*, const T*, T*, T*, T*, int64_t, cudaStream_t);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace kernels
}  // namespace pdadmm
