// pdADMM-G update rules. The p- and W-subproblems are quadratics, so the reference's
// backtracking test φ(cand) <= φ(x) + <g, d> + t/2||d||² is evaluated exactly from
// dᵀHd = curvature along the step: no trial point is ever materialised and the cached
// W p is updated as W p - (G p)/t instead of being recomputed (reference bug 6).
#include "host/admm/steps.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace pdadmm {

namespace {

// Chooses t for a step -g/t on a quadratic with gᵀHg = curv and ||g||² = g2.
// Returns false when the reference rule gives up (the caller keeps the old value).
bool choose_t(const AdmmParams& prm, double curv, double g2, double* t, int* backtracks) {
  if (prm.step == StepRule::Exact) {
    *t = curv > 0 ? curv / g2 : 1.0;
    return true;
  }
  double tt = prm.t0;
  int count = 0;
  while (curv > tt * g2) {  // the majorisation test fails
    tt *= 2;
    if (++count > prm.max_backtracks) {
      *backtracks += count;
      return false;
    }
  }
  *backtracks += count;
  *t = tt;
  return true;
}

// Projected step: cand = proj_Δ(p - g/t), d = cand - p. Backtrack accepts when ½ dᵀHd <= t/2 ||d||²
// (the paper's majorisation, eq. (3)). Exact starts at the line minimum's t and accepts when φ does
// not rise, <g, d> + ½ dᵀHd <= 0: projecting the line minimum can overshoot along stiff directions
// (φ rose in about a quarter of the steps of a converging p), so it backs off like Backtrack.
template <typename T>
void projected_p_step(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  double t = prm.t0;
  if (prm.step == StepRule::Exact) {
    ops.gemm(false, false, T(1), L.W, L.g, T(0), L.wg);
    const double g2 = ops.sum_sq(L.g);
    if (g2 == 0) return;
    t = (prm.nu * ops.sum_sq(L.wg) + prm.rho * g2) / g2;
  }
  for (int count = 0;; ++count) {
    ops.copy(L.p, L.d);
    ops.axpby(T(-1.0 / t), L.g, T(1), L.d);
    ops.project(prm.grid, L.d);
    ops.axpby(T(-1), L.p, T(1), L.d);  // d = cand - p
    const double d2 = ops.sum_sq(L.d);
    if (d2 == 0) return;  // the grid absorbed the step
    ops.gemm(false, false, T(1), L.W, L.d, T(0), L.wg);
    const double dhd = prm.nu * ops.sum_sq(L.wg) + prm.rho * d2;
    const double gd = prm.step == StepRule::Exact ? ops.dot(L.g, L.d) : 0.0;
    // Non-finite iterates decide no test: the exact rule's NaN t doubled up to max_backtracks
    // times, a GEMM each (2^31: hours, before the iteration's divergence was reported).
    if (!std::isfinite(dhd) || !std::isfinite(gd)) return;
    const bool accept = prm.step == StepRule::Exact ? gd + 0.5 * dhd <= 0 : dhd <= t * d2;
    if (accept) {
      ops.axpby(T(1), L.d, T(1), L.p);
      ops.project(prm.grid, L.p);  // p + (cand - p) can miss the level by an ulp; codes need p on Δ
      ops.axpby(T(1), L.wg, T(1), L.wp);
      return;
    }
    L.counts.p_backtracks++;
    if (count + 1 > prm.max_backtracks) {
      L.counts.p_giveups++;
      return;
    }
    t *= 2;
  }
}

// The direct path's W gradient: G = ν r xᵀ + μ W formed into gw, G x into gp, returns ‖G‖². The
// Gram path falls back to it when its ‖G‖² is lost to cancellation (gw is allocated then).
template <typename T>
double form_gradient_w(Ops<T>& ops, Layer<T>& L, double nu, double mu) {
  if (L.gw.size() == 0) L.gw = ops.alloc(L.n_out, L.n_in);
  ops.gemm(false, true, T(nu), L.r, *L.x, T(0), L.gw);
  if (L.deferred_w && L.w_pending) ops.gemm(false, true, T(mu), L.c, *L.x, T(1), L.gw);  // W = s W₀ + C Xᵀ
  ops.axpby(T(mu * (L.deferred_w ? L.w_scale : 1.0)), L.W, T(1), L.gw);
  ops.gemm(false, false, T(1), L.gw, *L.x, T(0), L.gp);
  return ops.sum_sq(L.gw);
}

}  // namespace

template <typename T>
void p_step(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  const T nu = static_cast<T>(prm.nu), rho = static_cast<T>(prm.rho);
  ops.bias_residual(L.wp, L.b, L.z, L.a, L.r);         // r = W p + b - z
  ops.gemm(true, false, T(1), L.W, L.r, T(0), L.g);    // Wᵀ r
  if (quantizes_p(prm.quantize)) {
    ops.p_grad(nu, rho, L.p, *L.q_in, *L.u_in, L.g);   // g = ν Wᵀr + u + ρ (p - q)
    projected_p_step(ops, L, prm);
    return;
  }
  const double g2 = ops.p_grad_sum_sq(nu, rho, L.p, *L.q_in, *L.u_in, L.g);  // g as above, and ||g||²
  ops.gemm(false, false, T(1), L.W, L.g, T(0), L.wg);  // W g
  if (g2 == 0) return;
  const double curv = prm.nu * ops.sum_sq(L.wg) + prm.rho * g2;  // gᵀ H g
  double t = 0;
  if (!choose_t(prm, curv, g2, &t, &L.counts.p_backtracks)) {
    L.counts.p_giveups++;
    return;
  }
  ops.axpby(T(-1.0 / t), L.g, T(1), L.p);
  ops.axpby(T(-1.0 / t), L.wg, T(1), L.wp);
}

template <typename T>
double w_step(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  const double nu = prm.nu, mu = prm.mu;
  const Tensor<T>& x = *L.x;
  const double fit = ops.bias_residual(L.wp, L.b, L.z, L.a, L.r);  // r = W p + b - z, so G = ν r pᵀ + μ W
  double G2 = 0, Gp2 = -1, rwp = 0, w2 = 0;  // Gp2 < 0: not yet summed
  if (L.use_gram) {
    // G p = ν r (pᵀp) + μ W p and ||G||² from N x N products: never form G when N is small.
    if (!L.gram_fixed) ops.gemm(true, false, T(1), x, x, T(0), L.gram);
    ops.gemm(false, false, T(nu), L.r, L.gram, T(0), L.gp);
    const std::array<double, 2> d = ops.dot2(L.gp, L.r, L.wp);
    const double rkr = d[0];  // ν <r K, r> = ||r pᵀ||² ν
    rwp = d[1];               // <r, W p> = <r pᵀ, W>
    w2 = L.deferred_w ? L.w_sq : ops.sum_sq(L.W);
    G2 = nu * rkr + 2 * nu * mu * rwp + mu * mu * w2;
    Gp2 = ops.axpby_sum_sq(T(mu), L.wp, T(1), L.gp);
    // The three terms cancel near a stationary W (‖G‖² ≪ each), and their rounding, up to a few ε
    // times each, can swamp ‖G‖²: t is then off by any factor and the step overshoots or stalls.
    // Below 64 ε of their sum, form G as the direct path does (no shipped config comes within 20x).
    // A pending deferred W = s W₀ + C Xᵀ far smaller than s W₀ is itself a cancelling sum: its
    // ‖W‖² and W p carry that rounding too, so the terms from them count as that much larger.
    const double amp =
        L.deferred_w && L.w_pending && w2 > 0 ? std::max(1.0, L.w_scale * L.w_scale * L.w0_sq / w2) : 1.0;
    const double scale = nu * rkr + (2 * nu * mu * std::fabs(rwp) + mu * mu * w2) * amp;
    if (G2 <= 64 * std::numeric_limits<T>::epsilon() * scale) {
      G2 = form_gradient_w(ops, L, nu, mu);
      Gp2 = -1;  // gp was formed again
      L.counts.w_formed++;
    }
  } else {
    G2 = form_gradient_w(ops, L, nu, mu);
  }
  if (G2 == 0) return fit;
  if (Gp2 < 0) Gp2 = ops.sum_sq(L.gp);
  double t = 0;
  if (!choose_t(prm, nu * Gp2 + mu * G2, G2, &t, &L.counts.w_backtracks)) {
    L.counts.w_giveups++;
    return fit;
  }
  if (L.deferred_w) {
    // W - (ν r Xᵀ + μ W)/t with W = s W_stored + c Xᵀ: scale s and c, and track ||W||².
    ops.axpby(T(-nu / t), L.r, T(1 - mu / t), L.c);
    L.w_scale *= 1 - mu / t;
    L.w_sq = std::max(0.0, w2 - 2 / t * (nu * rwp + mu * w2) + G2 / (t * t));
    L.w_pending = true;
    if (L.tracking) {
      ops.axpby(T(-nu / t), L.r, T(1 - mu / t), L.track);
      L.track_scale *= 1 - mu / t;
    }
  } else if (L.use_gram) {
    ops.gemm(false, true, T(-nu / t), L.r, x, T(1 - mu / t), L.W);  // W - (ν r pᵀ + μ W)/t
  } else {
    ops.axpby(T(-1.0 / t), L.gw, T(1), L.W);
  }
  ops.axpby(T(-1.0 / t), L.gp, T(1), L.wp);
  return fit;
}

template <typename T>
void b_step(Ops<T>& ops, Layer<T>& L) {
  ops.row_mean_diff(L.z, L.wp, L.b);
}

template <typename T>
static void fista_last(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  const T nu = static_cast<T>(prm.nu), eta = static_cast<T>(prm.fista_eta);
  const double tol = prm.fista_tol_per_node ? prm.fista_tol * static_cast<double>(L.z.cols()) : prm.fista_tol;
  ops.copy(L.z, L.zeta);
  double lambda = 1, f_prev = 1e11;
  for (int it = 0; it < prm.fista_max_iter; ++it) {
    const double f = ops.cross_entropy(prm.ce, L.z, L.y) + 0.5 * prm.nu * ops.residual(L.a, L.z, L.r);
    if (std::fabs(f - f_prev) < tol) break;
    f_prev = f;
    const double lambda_old = lambda;
    lambda = (1 + std::sqrt(1 + 4 * lambda * lambda)) / 2;
    const T gamma = static_cast<T>((1 - lambda_old) / lambda);
    ops.softmax_minus(prm.ce, L.z, L.y, L.r);  // r holds the CE gradient softmax(z) - y
    ops.fista_step(nu, eta, gamma, L.a, L.r, L.zeta, L.zeta_old, L.z);
    L.counts.fista_its++;
  }
}

template <typename T>
void z_step(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  if (L.last) {
    ops.add_bias(L.wp, L.b, L.a);
    fista_last(ops, L, prm);
  } else {
    ops.bias_z_hidden(L.wp, L.b, L.q, prm.z_prox_in_compare, L.a, L.z);  // a = W p + b, then z
  }
}

template <typename T>
void q_step(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm, bool project) {
  ops.q_update(static_cast<T>(prm.nu), static_cast<T>(prm.rho), *L.p_next, L.u, L.z, L.q);
  if (project && quantizes_q(prm.quantize)) ops.project(prm.grid, L.q);
}

template <typename T>
DualStats q_dual_step(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  return ops.q_dual_update(static_cast<T>(prm.nu), static_cast<T>(prm.rho), *L.p_next, L.z, L.q, L.u);
}

template <typename T>
DualStats dual_step(Ops<T>& ops, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u, const AdmmParams& prm) {
  return ops.dual_update(static_cast<T>(prm.rho), p_next, q, u);
}

template <typename T>
void reset_deferred_w(Ops<T>& ops, Layer<T>& L) {
  if (!L.deferred_w) return;
  ops.fill(L.c, T(0));
  L.w_scale = 1;
  L.w0_sq = ops.sum_sq(L.W);
  L.w_sq = L.w0_sq;
  ops.gemm(false, false, T(1), L.W, *L.x, T(0), L.wx0);
  L.w_pending = false;
  L.tracking = false;  // a W from outside is not the anchor's descendant
}

template <typename T>
void apply_deferred_update(Ops<T>& ops, const Tensor<T>& c, const Tensor<T>& x, double scale, Tensor<T>& w) {
  ops.gemm(false, true, T(1), c, x, T(scale), w);
}

template <typename T>
void form_w(Ops<T>& ops, const Layer<T>& L, Tensor<T>& out) {
  ops.copy(L.W, out);
  if (L.w_pending) apply_deferred_update(ops, L.c, *L.x, L.w_scale, out);
}

template <typename T>
void refresh_wp(Ops<T>& ops, Layer<T>& L) {
  if (!L.deferred_w) {
    ops.gemm(false, false, T(1), L.W, *L.x, T(0), L.wp);
    return;
  }
  if (!L.w_pending) {
    ops.copy(L.wx0, L.wp);
    return;
  }
  // W X = s W₀X + C XᵀX and ||W||² = s²||W₀||² + 2s <W₀X, C> + <C XᵀX, C>: n x N products, so
  // the iteration never forms the n x d matrix W.
  ops.gemm(false, false, T(1), L.c, L.gram, T(0), L.gp);  // gp is free between iterations
  const double s = L.w_scale;
  L.w_sq = std::max(0.0, s * s * L.w0_sq + 2 * s * ops.dot(L.wx0, L.c) + ops.dot(L.gp, L.c));
  ops.copy(L.gp, L.wp);
  ops.axpby(T(s), L.wx0, T(1), L.wp);
}

template <typename T>
LayerTerms layer_terms(Ops<T>& ops, Layer<T>& L, const AdmmParams& prm) {
  LayerTerms t;
  t.fit = ops.bias_residual(L.wp, L.b, L.z, L.a, L.r);
  t.w2 = L.deferred_w ? L.w_sq : ops.sum_sq(L.W);
  if (L.last) {
    t.ce = ops.cross_entropy(prm.ce, L.z, L.y);
  } else {
    t.gap = ops.relu_gap_sq(L.q, L.z);
  }
  return t;
}

#define PDADMM_INSTANTIATE(T)                                                                              \
  template void p_step<T>(Ops<T>&, Layer<T>&, const AdmmParams&);                                          \
  template double w_step<T>(Ops<T>&, Layer<T>&, const AdmmParams&);                                        \
  template void b_step<T>(Ops<T>&, Layer<T>&);                                                             \
  template void z_step<T>(Ops<T>&, Layer<T>&, const AdmmParams&);                                          \
  template void q_step<T>(Ops<T>&, Layer<T>&, const AdmmParams&, bool);                                    \
  template DualStats q_dual_step<T>(Ops<T>&, Layer<T>&, const AdmmParams&);                                \
  template DualStats dual_step<T>(Ops<T>&, const Tensor<T>&, const Tensor<T>&, Tensor<T>&, const AdmmParams&); \
  template void refresh_wp<T>(Ops<T>&, Layer<T>&);                                                         \
  template void reset_deferred_w<T>(Ops<T>&, Layer<T>&);                                                   \
  template void form_w<T>(Ops<T>&, const Layer<T>&, Tensor<T>&);                                           \
  template void apply_deferred_update<T>(Ops<T>&, const Tensor<T>&, const Tensor<T>&, double, Tensor<T>&); \
  template LayerTerms layer_terms<T>(Ops<T>&, Layer<T>&, const AdmmParams&);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace pdadmm
