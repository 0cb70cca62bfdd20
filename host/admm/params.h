// Hyperparameters and numerical switches of pdADMM-G / pdADMM-G-Q, as one struct the
// schedule reads. Defaults fix the reference code's bugs, each with a switch back to the
// reference behaviour for parity (reference_algorithm.md §8), but for the step: the default keeps
// the reference's backtracking from t0, since exact steps in every stage lost accuracy (a config
// asks for them per stage, docs/tuning.md). StepRule::Exact is the line minimum along -g.
#pragma once
#include "host/backend/ops.h"
#include "host/quant/grid.h"
#include "host/quant/wire.h"

namespace pdadmm {

enum class StepRule {
  Backtrack,  // reference: t = t0, doubled until the quadratic upper bound holds (≤ max_backtracks)
  Exact,      // exact minimiser along the gradient (t = curvature along g); no backtracking needed
};

enum class Quantize { None, P, Q, Both };
// Whether p (q) is projected onto the grid Δ.
inline bool quantizes_p(Quantize q) { return q == Quantize::P || q == Quantize::Both; }
inline bool quantizes_q(Quantize q) { return q == Quantize::Q || q == Quantize::Both; }

struct AdmmParams {
  // Defaults satisfy the convergence condition ρ > 4ν; the reference ties ν = ρ (set both).
  double nu = 0.1;    // ν: weight of the relaxation terms ||z - Wp - b||², ||q - f(z)||²
  double rho = 0.5;   // ρ: augmented-Lagrangian penalty on p_{l+1} = q_l
  double mu = 1.0;    // weight decay μ/2 ||W||² (reference code; not in the paper)

  StepRule step = StepRule::Backtrack;
  double t0 = 20.0;        // reference: initial 1/step for p and W
  int max_backtracks = 10;  // reference: give up (keep the old value) after 11 failed tries

  // z for hidden layers: compare the two ReLU branches with the proximal term (exact minimiser).
  // false = reference quirk (§1.6).
  bool z_prox_in_compare = true;

  CeMode ce = CeMode::Stable;  // Reference: -log(softmax + 1e-10) (§1.7, bug 1)
  // FISTA on z_L. Reference: eta 4 (longer than 1/L = 2, bug 4) and tol 1e-3 on the objective
  // summed over nodes; default: eta 2 and tol per training node (independent of N).
  double fista_eta = 2.0;
  double fista_tol = 1e-5;
  bool fista_tol_per_node = true;
  int fista_max_iter = 50;

  // Recompute the cached W p with a GEMM every this many iterations (the cache is updated
  // incrementally, W p - (G p)/t; this bounds float drift). 0 = never.
  int refresh_every = 50;

  // W step through the N x N Gram matrix pᵀp: 0 = when cheaper (auto), 1 = always, -1 = never.
  int gram = 0;

  // Layer 1 on the Gram path keeps its W update pending as W = s W_stored + C Xᵀ (X never
  // changes): an iteration then costs O(n N²) there instead of a d x n x N GEMM and two passes
  // over the d x n matrix W. Training never forms W (the refresh uses W₀X and XᵀX); reads form a view.
  bool defer_first_w = true;

  // pdADMM-G-Q
  Quantize quantize = Quantize::None;
  Grid grid;
  WireSpec wire_p;  // how p_{l+1} travels backward
  WireSpec wire_q;  // how q_l travels forward
};

}  // namespace pdadmm
