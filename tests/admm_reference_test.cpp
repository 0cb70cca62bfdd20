// Reference mode (ν = ρ tied, the reference's z-branch quirk and constants) reproduces
// shared/reference_vectors/pdadmm_reference.json in double precision, step for step.
#include <gtest/gtest.h>

#include "host/admm/solver.h"
#include "host/admm/steps.h"
#include "host/backend/cpu_ops.h"
#include "kernels/admm_math.cuh"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::max_rel_err;
using test::to_matrix;
using M = HostMatrix<double>;

constexpr double kTol = 1e-9;

nlohmann::json vectors() {
  static nlohmann::json j = test::read_json(test::shared_dir() + "/reference_vectors/pdadmm_reference.json");
  return j;
}

AdmmParams reference_params(double rho, double mu) {
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
void check_problem(const char* name, int groups, int gram, double tol = kTol, double scalar_tol = kTol) {
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
  AdmmParams prm = reference_params(pr["rho"].get<double>(), pr["mu"].get<double>());
  prm.gram = gram;
  Solver<T> solver(spec, prm, x, y, W, b, [](int) { return std::make_unique<CpuOps<T>>(); });
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

TEST(ReferenceVectors, Tiny3LayerLargeRho) { check_problem("tiny_3layer", 1, 0); }
TEST(ReferenceVectors, Tiny3LayerSmallRho) { check_problem("tiny_3layer_small_rho", 1, 0); }
// The Gram-matrix W step and the direct one are the same rule.
TEST(ReferenceVectors, GramPathEverywhere) { check_problem("tiny_3layer", 1, 1); }
TEST(ReferenceVectors, DirectPathEverywhere) { check_problem("tiny_3layer", 1, -1); }
// Groups exchange p and q through the transport and must not change a single number.
TEST(ReferenceVectors, ThreeGroups) { check_problem("tiny_3layer", 3, 0); }
TEST(ReferenceVectors, TwoGroupsSmallRho) { check_problem("tiny_3layer_small_rho", 2, 0); }
// Training runs Solver<float>: the same rules in float32 take the same steps (every backtrack and
// FISTA count) to within float rounding (measured: 9.1e-5 worst tensor error, 1.2e-7 Lagrangian).
TEST(ReferenceVectors, Float32TakesTheSameSteps) {
  for (int gram : {0, 1, -1}) {
    SCOPED_TRACE("gram " + std::to_string(gram));
    check_problem<float>("tiny_3layer", 1, gram, 2e-4, 1e-5);
    check_problem<float>("tiny_3layer_small_rho", 1, gram, 2e-4, 1e-5);
  }
  check_problem<float>("tiny_3layer", 3, 0, 2e-4, 1e-5);
}

TEST(ReferenceVectors, ZUpdateCases) {
  const nlohmann::json all = vectors();
  if (all.is_null()) {
    GTEST_SKIP() << "shared/reference_vectors not found";
  }
  const nlohmann::json& c = all["z_update_cases"];
  ASSERT_FALSE(c["a"].empty()) << "no cases to compare";
  for (const char* k : {"z0", "q", "z_reference_quirk", "z_fixed"}) ASSERT_EQ(c[k].size(), c["a"].size()) << k;
  // The cases must include some where the quirk and the exact comparison choose differently, or
  // a z step that ignored the flag would pass both columns.
  ASSERT_FALSE(c["differ_at"].empty());
  for (size_t i : c["differ_at"].get<std::vector<size_t>>())
    ASSERT_NE(c["z_reference_quirk"][i].get<double>(), c["z_fixed"][i].get<double>()) << "case " << i;
  for (size_t i = 0; i < c["a"].size(); ++i) {
    const double a = c["a"][i], z0 = c["z0"][i], q = c["q"][i];
    EXPECT_NEAR(z_hidden_element(a, z0, q, false), c["z_reference_quirk"][i].get<double>(), 1e-12) << "case " << i;
    EXPECT_NEAR(z_hidden_element(a, z0, q, true), c["z_fixed"][i].get<double>(), 1e-12) << "case " << i;
  }
}

TEST(ReferenceVectors, FistaCase) {
  const nlohmann::json all = vectors();
  if (all.is_null()) {
    GTEST_SKIP() << "shared/reference_vectors not found";
  }
  const nlohmann::json& c = all["fista_case"];
  const M a = to_matrix<double>(c["a"]), y = to_matrix<double>(c["Y"]), z0 = to_matrix<double>(c["z0"]);
  ASSERT_FALSE(c["results"].empty()) << "no results to compare";
  for (auto it = c["results"].begin(); it != c["results"].end(); ++it) {
    const double rho = std::stod(it.key());
    SCOPED_TRACE("rho " + it.key());
    CpuOps<double> ops;
    Layer<double> L;
    L.last = true;
    for (Tensor<double>* t : {&L.z, &L.wp, &L.a, &L.r, &L.y, &L.zeta, &L.zeta_old}) *t = ops.alloc(a.rows, a.cols);
    L.b = ops.alloc(a.rows, 1);
    ops.upload(z0.data.data(), L.z);
    ops.upload(a.data.data(), L.wp);
    ops.upload(y.data.data(), L.y);
    z_step(ops, L, reference_params(rho, 0));
    M z(a.rows, a.cols);
    ops.download(L.z, z.data.data());
    EXPECT_LT(max_rel_err(z, to_matrix<double>(it.value()["z"])), kTol);
    EXPECT_EQ(L.counts.fista_its, it.value()["steps"].get<int>());
    const double h = ops.cross_entropy(CeMode::Reference, L.z, L.y) + 0.5 * rho * ops.residual(L.a, L.z, L.r);
    EXPECT_NEAR(h, it.value()["h"].get<double>(), kTol * it.value()["h"].get<double>());
  }
}

}  // namespace
}  // namespace pdadmm
