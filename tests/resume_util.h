// Solver-level resume check shared by resume_test (CPU) and cuda_training_test (the same on the
// CUDA backend): a solver that loads another's saved state continues its run bit for bit.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/admm/solver.h"
#include "host/admm/trainer.h"
#include "host/config/config.h"

namespace pdadmm {
namespace resume_check {

inline Config small_config(const std::vector<std::string>& sets) {
  std::vector<std::string> all = {"model.layers=4", "model.hidden=32", "data.synthetic.nodes=600",
                                  "data.synthetic.val=100", "data.synthetic.test=200", "admm.refresh_every=4"};
  all.insert(all.end(), sets.begin(), sets.end());
  // The built-in defaults (configs/synthetic.json's but for output): no file is read, so the
  // CUDA binary runs from a build carried to another machine (tools/gpu_check.sh).
  Config c = parse_config(nlohmann::json::object(), all);
  c.output.progress = "off";
  c.threads = 1;
  return c;
}

// Iterations [from, to) as the trainer would run them: terms on some, layer 1 anchored at
// iteration 2, ρ raised after iteration 6 (the state must carry all three).
inline void run(Solver<float>& s, int from, int to) {
  for (int i = from; i < to; ++i) {
    s.iterate(i % 3 == 0);
    if (i == 2) s.anchor_first_layer();
    if (i == 6) s.params().rho *= 2;
  }
}

inline void expect_same_state(Solver<float>& a, Solver<float>& b) {
  const SolverState<float> x = a.save_state(), y = b.save_state();
  EXPECT_EQ(x.iteration, y.iteration);
  EXPECT_EQ(x.rho, y.rho);
  ASSERT_EQ(x.names, y.names);
  for (size_t i = 0; i < x.names.size(); ++i) EXPECT_EQ(x.tensors[i].data, y.tensors[i].data) << x.names[i];
  for (size_t l = 0; l < x.layers.size(); ++l) {
    EXPECT_EQ(x.layers[l].w_scale, y.layers[l].w_scale) << l;
    EXPECT_EQ(x.layers[l].w_sq, y.layers[l].w_sq) << l;
    EXPECT_EQ(x.layers[l].track_scale, y.layers[l].track_scale) << l;
    EXPECT_EQ(x.layers[l].tracking, y.layers[l].tracking) << l;
  }
  std::vector<HostMatrix<float>> Wa, ba, Wb, bb;
  a.weights(Wa, ba);
  b.weights(Wb, bb);
  for (size_t l = 0; l < Wa.size(); ++l) EXPECT_EQ(Wa[l].data, Wb[l].data) << "W of layer " << l;
}

// K = 14 straight against 5 (or 9), save, load into a solver started from other weights, 9 (5) more.
inline void expect_resume_is_exact(const std::vector<std::string>& sets, const std::vector<int>& partition) {
  Config c = small_config(sets);
  c.partition = partition;
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0, W1, b1;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  init_weights(p.dims, c.model.init_std, 9, W1, b1);
  auto straight = make_solver(c, p, W0, b0);
  run(*straight, 0, 14);
  for (int k : {5, 9}) {
    auto first = make_solver(c, p, W0, b0);
    run(*first, 0, k);
    const SolverState<float> st = first->save_state();
    std::vector<HostMatrix<float>> Wk, bk, Wr, br;
    first->weights(Wk, bk);
    first.reset();
    auto resumed = make_solver(c, p, W1, b1);
    resumed->load_state(st);
    EXPECT_EQ(resumed->iteration(), k);
    // Read before any iteration, as a resume at a growth stage's end reads them for the next stage
    // (a deferred layer 1 forms W only while its update is pending: the flag is state too).
    resumed->weights(Wr, br);
    for (size_t l = 0; l < Wk.size(); ++l) EXPECT_EQ(Wk[l].data, Wr[l].data) << "W of layer " << l << " at " << k;
    run(*resumed, k, 14);
    SCOPED_TRACE("stopped at " + std::to_string(k));
    expect_same_state(*straight, *resumed);
  }
}

}  // namespace resume_check
}  // namespace pdadmm
