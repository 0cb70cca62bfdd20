// Reference mode (ν = ρ tied, the reference's z-branch quirk and constants) reproduces
// shared/reference_vectors/pdadmm_reference.json in double precision, step for step.
#include <gtest/gtest.h>

#include "host/admm/solver.h"
#include "host/config/config.h"
#include "host/admm/steps.h"
#include "host/backend/cpu_ops.h"
#include "kernels/admm_math.cuh"
#include "tests/reference_check.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::max_rel_err;
using test::to_matrix;
using M = HostMatrix<double>;
using reference_check::check_problem;
using reference_check::kTol;
using reference_check::reference_params;
using reference_check::vectors;

TEST(ReferenceVectors, Tiny3LayerLargeRho) { check_problem("tiny_3layer", 1, 0); }
TEST(ReferenceVectors, Tiny3LayerSmallRho) { check_problem("tiny_3layer_small_rho", 1, 0); }
// The Gram-matrix W step and the direct one are the same rule.
TEST(ReferenceVectors, GramPathEverywhere) { check_problem("tiny_3layer", 1, 1); }
TEST(ReferenceVectors, DirectPathEverywhere) { check_problem("tiny_3layer", 1, -1); }
// Groups exchange p and q through the transport and must not change a single number.
TEST(ReferenceVectors, ThreeGroups) { check_problem("tiny_3layer", 3, 0); }
TEST(ReferenceVectors, TwoGroupsSmallRho) { check_problem("tiny_3layer_small_rho", 2, 0); }
// Training runs Solver<float>: the same rules in float32 take the same steps (every backtrack and
// FISTA count) to within float rounding (measured: 9.1e-5 worst tensor error, 1.2e-7 Lagrangian;
// r2, a sum of squares of small differences, 2.3e-5 with OpenBLAS's SSE kernels).
TEST(ReferenceVectors, Float32TakesTheSameSteps) {
  for (int gram : {0, 1, -1}) {
    SCOPED_TRACE("gram " + std::to_string(gram));
    check_problem<float>("tiny_3layer", 1, gram, 2e-4, 1e-4);
    check_problem<float>("tiny_3layer_small_rho", 1, gram, 2e-4, 1e-4);
  }
  check_problem<float>("tiny_3layer", 3, 0, 2e-4, 1e-4);
}

// What a user types, not the hand-built parameters above: "preset": "reference" with the problem's
// ρ = ν and μ must be every reference constant the vectors were computed with.
TEST(ReferenceVectors, ThePresetIsTheReference) {
  const nlohmann::json all = vectors();
  if (all.is_null()) GTEST_SKIP() << "shared/reference_vectors not found under " << test::shared_dir();
  for (const char* name : {"tiny_3layer", "tiny_3layer_small_rho"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& pr = all[name];
    const Config c = parse_config({}, {"admm.preset=\"reference\"", "admm.rho=" + pr["rho"].dump(),
                                       "admm.nu=" + pr["rho"].dump(), "admm.mu=" + pr["mu"].dump()});
    check_problem(name, 1, 0, kTol, kTol, &c.admm);
  }
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
