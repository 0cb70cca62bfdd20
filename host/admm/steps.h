// The six pdADMM-G update rules for one layer (DESIGN.md steps 1-6), written once against Ops.
// Each step reads only its own layer's state and the neighbour tensors the layer points to.
#pragma once
#include "host/admm/layer.h"
#include "host/admm/params.h"
#include "host/backend/ops.h"

namespace pdadmm {

// Step 1 (l >= 1): p_l <- p_l - g/t, g = ∇φ(p_l), t from the step rule; projected onto Δ when
// p is quantized. Keeps layer.wp = W p current.
template <typename T> void p_step(Ops<T>& ops, Layer<T>& layer, const AdmmParams& prm);
// Step 2: W_l <- W_l - G/t for ψ(W) = ν/2||W p + b - z||² + μ/2||W||². Returns ||W p + b - z||² at
// its start: a W or p that overflowed shows there, where relu(NaN) = 0 and -Q's projections keep
// z, q and p finite, so neither the residual nor the duals see it.
template <typename T> double w_step(Ops<T>& ops, Layer<T>& layer, const AdmmParams& prm);
// Step 3: b_l = row mean of (z_l - W_l p_l) (exact minimiser).
template <typename T> void b_step(Ops<T>& ops, Layer<T>& layer);
// Step 4: z_l by the two-branch closed form (hidden) or FISTA on cross-entropy (last layer).
template <typename T> void z_step(Ops<T>& ops, Layer<T>& layer, const AdmmParams& prm);
// Step 5 (l < L-1): q_l closed form (projected onto Δ when q is quantized and `project`; a caller
// that encodes q as grid codes next passes false: the encoder projects it in place the same way).
template <typename T> void q_step(Ops<T>& ops, Layer<T>& layer, const AdmmParams& prm, bool project = true);
// Step 6 (l < L-1): u_l += ρ (p_{l+1} - q_l) into `u` (the layer's own or a boundary copy).
template <typename T>
DualStats dual_step(Ops<T>& ops, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u, const AdmmParams& prm);
// Steps 5 and 6 of a layer in one pass: for a q that is not quantized and crosses no wire.
template <typename T> DualStats q_dual_step(Ops<T>& ops, Layer<T>& layer, const AdmmParams& prm);
// Recomputes the cached W p exactly (a deferred W from its parts, and its ||W||²).
template <typename T> void refresh_wp(Ops<T>& ops, Layer<T>& layer);
// After W was set from outside: nothing pending, ||W||² and W X measured (deferred layers only).
template <typename T> void reset_deferred_w(Ops<T>& ops, Layer<T>& layer);
// The layer's current weights into `out` (W's shape), without changing the layer's state.
template <typename T> void form_w(Ops<T>& ops, const Layer<T>& layer, Tensor<T>& out);
// w = scale w + c xᵀ: a deferred W's pending update applied to its stored W (form_w's product; a
// grown stage's layer 1 applies the stage before's in place, Group::init).
template <typename T>
void apply_deferred_update(Ops<T>& ops, const Tensor<T>& c, const Tensor<T>& x, double scale, Tensor<T>& w);

// Per-layer terms of the objective after an iteration.
struct LayerTerms {
  double fit = 0;  // ||z - W p - b||²
  double gap = 0;  // ||q - relu(z)||² (hidden layers)
  double w2 = 0;   // ||W||²
  double ce = 0;   // cross-entropy summed over training nodes (last layer)
};
template <typename T> LayerTerms layer_terms(Ops<T>& ops, Layer<T>& layer, const AdmmParams& prm);

}  // namespace pdadmm
