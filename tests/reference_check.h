// The reference-mode check of shared/reference_vectors, shared by the CPU test
// (admm_reference_test) and the GPU one (cuda_training_test): a solver built from the vectors'
// initial W and b, run for their iterations, against every tensor, count and scalar they hold.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/admm/solver.h"
#include "host/backend/cpu_ops.h"
#include "tests/test_util.h"

namespace pdadmm::reference_check {

using test::max_rel_err;
using test::to_matrix;

inline constexpr double kTol = 1e-9;

inline nlohmann::json vectors() {
  static nlohmann::json j = test::read_json(test::shared_dir() + "/reference_vectors/pdadmm_reference.json");
  return j;
}

inline AdmmParams reference_params(double rho, double mu) {
  AdmmParams p;
  p.nu = p.rho = rho;
  p.mu = mu;
  p.step = StepRule::Backtrack;
  p.t0 = 20;
  p.max_backtracks = 10;
  p.z_prox_in_compare = false;
  p.ce = CeMode::Reference;
  p.fista_eta = 4;
  p.fista_tol = 1e-3;
  p.fista_tol_per_node = false;
  p.fista_max_iter = 50;
  p.refresh_every = 0;
  return p;
}

template <typename T>
HostMatrix<T> forward(const std::vector<HostMatrix<T>>& W, const std::vector<HostMatrix<T>>& b, const HostMatrix<T>& x) {
  HostMatrix<T> act = x;
  for (size_t l = 0; l < W.size(); ++l) {
    HostMatrix<T> z(W[l].rows, act.cols);
    for (int64_t i = 0; i < z.rows; ++i)
      for (int64_t j = 0; j < z.cols; ++j) {
        T s = b[l].data[i];
        for (int64_t k = 0; k < W[l].cols; ++k) s += W[l](i, k) * act(k, j);
        z(i, j) = (l + 1 < W.size() && s < 0) ? 0 : s;
      }
    act = z;
  }
  return act;
}

// The solver in T against the float64 vectors: tol bounds each tensor's error (relative, or
// absolute below 1) and scalar_tol the Lagrangian's and r2's relative error; the step counts exact.
template <typename T = double>
void check_problem(const char* name, int groups, int gram, double tol = kTol, double scalar_tol = kTol,
                   const AdmmParams* given = nullptr,
                   std::function<std::unique_ptr<Ops<T>>(int)> make_ops = nullptr,
                   std::unique_ptr<Transport> transport = nullptr) {
  using TM = HostMatrix<T>;
  const nlohmann::json all = vectors();
  if (all.is_null()) {
    GTEST_SKIP() << "shared/reference_vectors not found under " << test::shared_dir();
  }
  ASSERT_TRUE(all.contains(name)) << name;
  const nlohmann::json& pr = all[name];
  // An empty list would check nothing: the loop below must compare every iteration the file holds.
  ASSERT_TRUE(pr["iterations"].is_array());
  ASSERT_FALSE(pr["iterations"].empty()) << name << ": no iterations to compare";
  const TM x = to_matrix<T>(pr["X"]), y = to_matrix<T>(pr["Y"]);
  std::vector<TM> W, b;
  for (size_t l = 0; l < pr["W0"].size(); ++l) {
    W.push_back(to_matrix<T>(pr["W0"][l]));
    b.push_back(to_matrix<T>(pr["b0"][l]));
  }
  SolverSpec spec;
  spec.dims = {x.rows};
  for (const TM& w : W) spec.dims.push_back(w.rows);
  spec.n_cols = x.cols;
  spec.groups = groups;
  AdmmParams prm = given ? *given : reference_params(pr["rho"].get<double>(), pr["mu"].get<double>());
  prm.gram = gram;
  if (!make_ops) make_ops = [](int) { return std::make_unique<CpuOps<T>>(); };
  Solver<T> solver(spec, prm, x, y, W, b, make_ops, std::move(transport));
  const int L = solver.num_layers();
  for (const nlohmann::json& ref : pr["iterations"]) {  // NOLINT
    SCOPED_TRACE(std::string(name) + " iteration " + std::to_string(ref["it"].get<int>()));
    IterationStats st = solver.iterate(true);
    EXPECT_EQ(st.counts.p_backtracks, ref["p_backtracks"].get<int>());
    EXPECT_EQ(st.counts.p_giveups, ref["p_giveups"].get<int>());
    EXPECT_EQ(st.counts.w_backtracks, ref["W_backtracks"].get<int>());
    EXPECT_EQ(st.counts.w_giveups, ref["W_giveups"].get<int>());
    EXPECT_EQ(st.counts.fista_its, ref["fista_its"].get<int>());
    EXPECT_NEAR(st.lagrangian, ref["obj"].get<double>(), scalar_tol * std::fabs(ref["obj"].get<double>()));
    EXPECT_NEAR(st.r2, ref["r2"].get<double>(), scalar_tol * std::fabs(ref["r2"].get<double>()));
    for (int l = 0; l < L; ++l) {
      SCOPED_TRACE("layer " + std::to_string(l));
      EXPECT_LT(max_rel_err(solver.download(l, "W"), to_matrix<T>(ref["W"][l])), tol);
      EXPECT_LT(max_rel_err(solver.download(l, "b"), to_matrix<T>(ref["b"][l])), tol);
      EXPECT_LT(max_rel_err(solver.download(l, "z"), to_matrix<T>(ref["z"][l])), tol);
      if (l > 0) {
        EXPECT_LT(max_rel_err(solver.download(l, "p"), to_matrix<T>(ref["p"][l])), tol);
      }
      if (l < L - 1) {
        EXPECT_LT(max_rel_err(solver.download(l, "q"), to_matrix<T>(ref["q"][l])), tol);
        EXPECT_LT(max_rel_err(solver.download(l, "u"), to_matrix<T>(ref["u"][l])), tol);
      }
    }
    std::vector<TM> Wn, bn;
    solver.weights(Wn, bn);
    EXPECT_LT(max_rel_err(forward(Wn, bn, x), to_matrix<T>(ref["forward"])), tol);
  }
}

}  // namespace pdadmm::reference_check
