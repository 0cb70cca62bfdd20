// Greedy layer-wise growth (reference_algorithm.md §5.2): train a shallow net, then deepen it
// stage by stage (e.g. 2 -> 5 -> 10 layers), each stage starting from the trained layers.
#pragma once
#include <memory>
#include <vector>

#include "host/admm/plan.h"
#include "host/admm/trainer.h"

namespace pdadmm {

// What stage s keeps of the stage before, downloaded to the host so that the old solver can go
// before the new one is made: every W and b, and the kept hidden layers' z, q, p (u when
// model.stage_duals is "keep"; the last z when model.stage_last is "keep"); and layer 1's XᵀX
// when the stage before kept one, since X is the same in every stage. Under mpirun each tensor
// goes only to the process that runs its layer in stage s (the others hold it empty): the carry
// divides over the processes as the groups do. Layer 1's W goes
// as the layer keeps it (Solver::first_layer_w): with a deferred W, W[0] is W₀ and the next
// solver forms w1_scale W₀ + w1_c Xᵀ where it keeps W, the same bits without a scratch n_1 x d copy.
struct StageCarry {
  int kept = 0;  // hidden layers carried over; 0: stage 0, nothing carried
  std::vector<HostMatrix<float>> W, b, z, q, p, u;  // z, q, p, u per kept layer (p[0], u[l] may be empty)
  HostMatrix<float> z_last;
  HostMatrix<float> x_gram;  // empty when the stage before kept none
  HostMatrix<float> w1_c;    // empty when layer 1 did not defer its W
  double w1_scale = 1;
  bool w1_pending = false;   // W_1 = w1_scale W[0] + w1_c Xᵀ; else W[0]
  // The activation start_stage builds the new layers from (p = q of the layer below, as stored),
  // hidden x N, two copies at once in every process: not held yet, but counted with the carry.
  double act_bytes = 0;
  double bytes() const;
};
StageCarry take_stage(const Config& c, size_t s, Solver<float>& prev);

// Solver for stage s. Stage 0 (or prev == null): seeded N(0, init_std²) weights. Later stages
// keep every hidden layer of `prev` (W, b, z, p, q; u unless model.stage_duals is "reset"),
// add hidden layers as the reference does (W = I, b = 0, p = q of the layer before, z = W p + b,
// q = relu(z), u = 0) and a fresh last layer (N(0, init_std²), z_L as model.zl_init), or with
// model.stage_last "keep" the trained last layer (W, b, z): the grown net then computes the same
// function as the trained one, since relu(I a + 0) = a for a = relu(·) >= 0; "eye" W_L = I(C, n),
// b_L = 0 (the reference's 10-layer stage: the first C hidden units become the scores).
// Sets p.dims to the stage's shape.
std::unique_ptr<Solver<float>> start_stage(const Config& c, Problem& p, size_t s, StageCarry carry);
// The same from a live solver (prev stays; null: stage 0).
std::unique_ptr<Solver<float>> start_stage(const Config& c, Problem& p, size_t s, Solver<float>* prev);

}  // namespace pdadmm
