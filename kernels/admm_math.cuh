// Per-element pdADMM-G update rules, written once for CPU loops and CUDA kernels.
// Symbols follow DESIGN.md: a = W p + b, z0 = previous z, nu = ν (relaxation), rho = ρ (penalty).
#pragma once
#include "kernels/hd.cuh"

namespace pdadmm {

template <typename T>
PDADMM_HD T relu(T x) { return x > T(0) ? x : T(0); }

// Hidden-layer z: argmin ν/2 (z−a)² + ν/2 (q − relu z)² + ν/2 (z − z0)² over the two ReLU
// branches. prox_in_compare = true (default) compares the branches with the proximal term
// included, which is the exact minimiser. false reproduces the reference code, which drops
// (c − z0)² from the comparison (reference_algorithm.md §1.6, bug 3). Ties go to the z <= 0 branch.
template <typename T>
PDADMM_HD T z_hidden_element(T a, T z0, T q, bool prox_in_compare) {
  T c1 = (a + z0) / T(2);
  c1 = c1 < T(0) ? c1 : T(0);
  T c2 = (a + z0 + q) / T(3);
  c2 = c2 > T(0) ? c2 : T(0);
  T d1 = q - relu(c1), d2 = q - relu(c2);
  T v1 = (c1 - a) * (c1 - a) + d1 * d1;
  T v2 = (c2 - a) * (c2 - a) + d2 * d2;
  if (prox_in_compare) {
    v1 += (c1 - z0) * (c1 - z0);
    v2 += (c2 - z0) * (c2 - z0);
  }
  return v1 > v2 ? c2 : c1;
}

// q = argmin ν/2 (q − relu z)² − u q + ρ/2 (p_next − q)²  (paper's general formula; with ν = ρ it
// is the reference's (p + u/ρ + relu z)/2).
template <typename T>
PDADMM_HD T q_element(T p_next, T u, T z, T nu, T rho) {
  return (nu * relu(z) + rho * p_next + u) / (nu + rho);
}

// Gradient of the p-subproblem given d = Wᵀ(Wp + b − z): ν d + u + ρ (p − q).
template <typename T>
PDADMM_HD T p_grad_element(T d, T p, T q, T u, T nu, T rho) {
  return nu * d + u + rho * (p - q);
}

// FISTA proximal step for z_L: argmin <G, ζ> + 1/(2η) ||ζ − z||² + ν/2 ||ζ − a||².
template <typename T>
PDADMM_HD T fista_prox_element(T z, T grad, T a, T nu, T eta) {
  return (nu * a + (z - eta * grad) / eta) / (nu + T(1) / eta);
}

}  // namespace pdadmm
