// State of one layer l (0-based) of the GA-MLP under pdADMM-G, owned by its layer group,
// plus the workspaces its update steps need (allocated once, reused every iteration).
#pragma once
#include "host/backend/tensor.h"

namespace pdadmm {

struct StepCounts {
  int p_backtracks = 0, p_giveups = 0;
  int w_backtracks = 0, w_giveups = 0;
  int w_formed = 0;  // Gram-path W steps that formed G (steps.cpp: ‖G‖² lost to cancellation)
  int fista_its = 0;
  void add(const StepCounts& o) {
    p_backtracks += o.p_backtracks;
    p_giveups += o.p_giveups;
    w_backtracks += o.w_backtracks;
    w_giveups += o.w_giveups;
    w_formed += o.w_formed;
    fista_its += o.fista_its;
  }
};

template <typename T>
struct Layer {
  int index = 0;           // l
  int64_t n_in = 0;        // rows of p_l
  int64_t n_out = 0;       // rows of z_l
  bool last = false;       // l == L-1 (cross-entropy layer, no q/u)

  Tensor<T> W, b, z;
  Tensor<T> p;             // p_l for l >= 1 (layer 0 reads the fixed input X)
  Tensor<T> q, u;          // q_l, u_l for l < L-1
  Tensor<T> wp;            // cache of W p (kept current through every update)
  Tensor<T> a;             // W p + b, input of the z update (as of the last z update or upload)

  // Neighbours' tensors this layer reads: its own group's layers or the group's boundary copies.
  const Tensor<T>* x = nullptr;       // p_l as read by W/b/z (p for l >= 1, X for l = 0)
  const Tensor<T>* q_in = nullptr;    // q_{l-1}
  const Tensor<T>* u_in = nullptr;    // u_{l-1}
  const Tensor<T>* p_next = nullptr;  // p_{l+1}

  // Workspaces.
  Tensor<T> r;      // n_out x N: W p + b - z
  Tensor<T> g;      // n_in x N: gradient of the p-subproblem
  Tensor<T> wg;     // n_out x N: W g, then W d for projected p steps
  Tensor<T> gw;     // n_out x n_in: gradient of the W-subproblem (direct path)
  Tensor<T> gp;     // n_out x N: G p
  Tensor<T> gram;   // N x N: pᵀp (Gram path); fixed for layer 0
  bool use_gram = false;
  bool gram_fixed = false;  // layer 0: p = X never changes
  // Deferred W (layer 0, AdmmParams::defer_first_w): the layer's weights are w_scale W + c Xᵀ,
  // W as last set from outside; w_sq tracks their squared norm (recomputed at each refresh).
  bool deferred_w = false;
  bool w_pending = false;  // c or w_scale differ from 0 and 1
  Tensor<T> c;             // n_out x N
  Tensor<T> wx0;           // n_out x N: W X
  double w_scale = 1, w_sq = 0, w0_sq = 0;
  // The same update since an anchor W_a, never folded by a refresh: W = track_scale W_a + track Xᵀ.
  // Lets the trainer score layer 1 without the d-column features (Solver::anchor_first_layer).
  bool tracking = false;
  Tensor<T> track;         // n_out x N
  double track_scale = 1;
  Tensor<T> d;      // n_in x N: step of a projected p update
  Tensor<T> y;      // last layer: one-hot labels (C x N)
  Tensor<T> zeta, zeta_old;  // last layer: FISTA iterates

  StepCounts counts;  // of the current iteration
};

}  // namespace pdadmm
