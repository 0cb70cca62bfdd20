// Each update step against its own subproblem: the step does not increase the objective it
// minimises, and closed forms match brute force / finite differences.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "host/admm/steps.h"
#include "host/backend/cpu_ops.h"
#include "kernels/admm_math.cuh"

namespace pdadmm {
namespace {

using Ops64 = CpuOps<double>;

struct Fixture {
  Ops64 ops;
  std::mt19937_64 gen{42};
  Tensor<double> rand(int64_t r, int64_t c, double scale = 1.0) {
    std::normal_distribution<double> nd(0, scale);
    std::vector<double> h(static_cast<size_t>(r * c));
    for (double& v : h) v = nd(gen);
    Tensor<double> t = ops.alloc(r, c);
    ops.upload(h.data(), t);
    return t;
  }
  std::vector<double> get(const Tensor<double>& t) {
    std::vector<double> h(static_cast<size_t>(t.size()));
    ops.download(t, h.data());
    return h;
  }
};

// A hidden layer with neighbours q_in, u_in, p_next, all random.
struct RandomLayer {
  Fixture& f;
  Layer<double> L;
  Tensor<double> q_in, u_in, p_next;
  RandomLayer(Fixture& fx, int64_t n_in, int64_t n_out, int64_t n, bool last = false) : f(fx) {
    L.index = 1;
    L.n_in = n_in;
    L.n_out = n_out;
    L.last = last;
    L.W = f.rand(n_out, n_in, 0.5);
    L.b = f.rand(n_out, 1, 0.1);
    L.z = f.rand(n_out, n);
    L.p = f.rand(n_in, n);
    L.q = f.rand(n_out, n);
    L.u = f.rand(n_out, n, 0.1);
    for (Tensor<double>* t : {&L.wp, &L.a, &L.r, &L.gp, &L.wg, &L.y, &L.zeta, &L.zeta_old}) *t = f.ops.alloc(n_out, n);
    L.g = f.ops.alloc(n_in, n);
    L.d = f.ops.alloc(n_in, n);
    L.gw = f.ops.alloc(n_out, n_in);
    L.gram = f.ops.alloc(n, n);
    q_in = f.rand(n_in, n);
    u_in = f.rand(n_in, n, 0.1);
    p_next = f.rand(n_out, n);
    L.x = &L.p;
    L.q_in = &q_in;
    L.u_in = &u_in;
    L.p_next = &p_next;
    refresh_wp(f.ops, L);
  }
  // φ(p) of the p-subproblem.
  double phi(const AdmmParams& prm) {
    Tensor<double> wp = f.ops.alloc(L.n_out, L.z.cols()), a = f.ops.alloc(L.n_out, L.z.cols()),
                   r = f.ops.alloc(L.n_out, L.z.cols()), pq = f.ops.alloc(L.n_in, L.z.cols());
    f.ops.gemm(false, false, 1, L.W, L.p, 0, wp);
    f.ops.add_bias(wp, L.b, a);
    const double fit = f.ops.residual(a, L.z, r);
    const double d2 = f.ops.residual(L.p, q_in, pq);  // pq = p - q
    return prm.nu / 2 * fit + f.ops.dot(u_in, pq) + prm.rho / 2 * d2;
  }
  double psi(const AdmmParams& prm) {
    Tensor<double> wp = f.ops.alloc(L.n_out, L.z.cols()), a = f.ops.alloc(L.n_out, L.z.cols()),
                   r = f.ops.alloc(L.n_out, L.z.cols());
    f.ops.gemm(false, false, 1, L.W, *L.x, 0, wp);
    f.ops.add_bias(wp, L.b, a);
    return prm.nu / 2 * f.ops.residual(a, L.z, r) + prm.mu / 2 * f.ops.sum_sq(L.W);
  }
};

class StepRules : public ::testing::TestWithParam<std::tuple<StepRule, double>> {};

TEST_P(StepRules, PStepDecreasesItsObjectiveAndKeepsWpCache) {
  Fixture f;
  AdmmParams prm;
  prm.step = std::get<0>(GetParam());
  prm.nu = std::get<1>(GetParam());
  prm.rho = 2 * prm.nu;
  for (int trial = 0; trial < 5; ++trial) {
    RandomLayer rl(f, 6, 5, 7);
    const double before = rl.phi(prm);
    const std::vector<double> p0 = f.get(rl.L.p);
    p_step(f.ops, rl.L, prm);
    EXPECT_LE(rl.phi(prm), before + 1e-12);
    // A random p is not stationary: a step that leaves p where it was must not pass.
    EXPECT_NE(f.get(rl.L.p), p0) << "p did not move";
    EXPECT_LT(rl.phi(prm), before) << "a non-stationary p should lower phi";
    // The incrementally updated W p equals a fresh product.
    Tensor<double> fresh = f.ops.alloc(5, 7);
    f.ops.gemm(false, false, 1, rl.L.W, rl.L.p, 0, fresh);
    std::vector<double> a = f.get(fresh), b = f.get(rl.L.wp);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-10);
  }
}

TEST_P(StepRules, WStepDecreasesItsObjectiveBothPaths) {
  for (int gram : {1, -1}) {
    Fixture f;
    AdmmParams prm;
    prm.step = std::get<0>(GetParam());
    prm.nu = std::get<1>(GetParam());
    prm.mu = 0.3;
    RandomLayer rl(f, 6, 5, 4);
    rl.L.use_gram = gram > 0;
    const double before = rl.psi(prm);
    w_step(f.ops, rl.L, prm);
    EXPECT_LE(rl.psi(prm), before + 1e-12) << "gram " << gram;
    EXPECT_LT(rl.psi(prm), before) << "a non-stationary W should move";
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, StepRules,
                         ::testing::Combine(::testing::Values(StepRule::Backtrack, StepRule::Exact),
                                            ::testing::Values(1e-3, 1.0, 50.0)));

// The reference's give-up: after max_backtracks doublings of t without passing the test, p stays
// (§1.3: count > 10 -> cand = p). The reference vectors never reach it.
TEST(Steps, PStepGivesUpAfterMaxBacktracks) {
  for (int max_bt : {10, 20}) {
    Fixture f;
    AdmmParams prm;
    prm.nu = prm.rho = 1e5;  // curvature / ||g||^2 >= rho = 1e5 > t0 2^10 = 20480
    prm.max_backtracks = max_bt;
    RandomLayer rl(f, 6, 5, 7);
    const std::vector<double> before = f.get(rl.L.p);
    p_step(f.ops, rl.L, prm);
    const bool moved = f.get(rl.L.p) != before;
    if (max_bt == 10) {
      EXPECT_FALSE(moved);
      EXPECT_EQ(rl.L.counts.p_giveups, 1);
      EXPECT_EQ(rl.L.counts.p_backtracks, 11);
    } else {
      EXPECT_TRUE(moved);
      EXPECT_EQ(rl.L.counts.p_giveups, 0);
      EXPECT_GT(rl.L.counts.p_backtracks, 10);
    }
  }
}

// The same give-up on the quantised path (p ∈ Δ, pdADMM-G-Q): after max_backtracks rejected steps
// p and its W p cache stay as they were, bit for bit; with room for more it moves to grid levels
// and φ does not rise.
TEST(Steps, ProjectedPStepGivesUpAfterMaxBacktracks) {
  for (int max_bt : {10, 20}) {
    Fixture f;
    AdmmParams prm;
    prm.nu = prm.rho = 1e5;  // as above: no t up to t0 2^10 passes the majorisation test
    prm.max_backtracks = max_bt;
    prm.quantize = Quantize::P;
    prm.grid = make_uniform_grid(-1, 0.25, 9);
    RandomLayer rl(f, 6, 5, 7);
    project_host(prm.grid, rl.L.p.data(), rl.L.p.size());
    refresh_wp(f.ops, rl.L);
    const std::vector<double> p0 = f.get(rl.L.p), wp0 = f.get(rl.L.wp);
    const double before = rl.phi(prm);
    p_step(f.ops, rl.L, prm);
    if (max_bt == 10) {
      EXPECT_EQ(f.get(rl.L.p), p0);
      EXPECT_EQ(f.get(rl.L.wp), wp0);
      EXPECT_EQ(rl.L.counts.p_giveups, 1);
      EXPECT_EQ(rl.L.counts.p_backtracks, 11);
    } else {
      EXPECT_NE(f.get(rl.L.p), p0);
      EXPECT_EQ(rl.L.counts.p_giveups, 0);
      EXPECT_GT(rl.L.counts.p_backtracks, 10);
      EXPECT_LE(rl.phi(prm), before);
      for (double v : f.get(rl.L.p)) EXPECT_DOUBLE_EQ(std::round((v + 1) / 0.25) * 0.25 - 1, v);
      // The cache follows p: W p formed afresh.
      Tensor<double> wp = f.ops.alloc(rl.L.n_out, rl.L.z.cols());
      f.ops.gemm(false, false, 1, rl.L.W, rl.L.p, 0, wp);
      const std::vector<double> want = f.get(wp), got = f.get(rl.L.wp);
      for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12 * (1 + std::fabs(want[i])));
    }
  }
}

// A 4 x 4 layer of 3 columns with W = 2I, b = 0, u = 0 and z = W p (r = 0): the p step's
// curvature is then exact in dyadic arithmetic, for the equality tests below.
void load_on_the_bound(Fixture& f, RandomLayer& rl, const std::vector<double>& p, const std::vector<double>& q) {
  std::vector<double> w(16, 0.0), zero4(4, 0.0), zero12(12, 0.0);
  for (int i = 0; i < 4; ++i) w[i * 5] = 2;
  f.ops.upload(w.data(), rl.L.W);
  f.ops.upload(zero4.data(), rl.L.b);
  f.ops.upload(p.data(), rl.L.p);
  f.ops.upload(q.data(), rl.q_in);
  f.ops.upload(zero12.data(), rl.u_in);
  refresh_wp(f.ops, rl.L);
  f.ops.copy(rl.L.wp, rl.L.z);
}

// The reference's test fails while φ(cand) > the bound: at equality t0 is taken. A layer where
// gᵀHg = t0 ||g||² exactly: W = 2I, r = 0, u = 0, so g = ρ (p - q) and gᵀHg = (4ν + ρ) ||g||²
// = 20 ||g||² for ν = 1, ρ = 16 (dyadic values: every sum exact). Just past it, one doubling.
TEST(Steps, PStepTakesT0WhereTheBoundHoldsWithEquality) {
  for (double rho : {16.0, 16.5}) {
    Fixture f;
    AdmmParams prm;
    prm.step = StepRule::Backtrack;
    prm.nu = 1;
    prm.rho = rho;
    ASSERT_EQ(prm.t0, 20.0);
    RandomLayer rl(f, 4, 4, 3);
    std::vector<double> p(12), q(12);
    for (int i = 0; i < 12; ++i) {
      p[i] = 0.25 * (i % 5) - 0.5;
      q[i] = p[i] + 0.125 * (i % 3 - 1);
    }
    load_on_the_bound(f, rl, p, q);
    p_step(f.ops, rl.L, prm);
    const int doublings = rho == 16.0 ? 0 : 1;
    EXPECT_EQ(rl.L.counts.p_backtracks, doublings) << "rho " << rho;
    // p - g/t with g = ρ (p - q) and t = 20 · 2^doublings.
    const std::vector<double> got = f.get(rl.L.p);
    for (int i = 0; i < 12; ++i)
      EXPECT_NEAR(got[i], p[i] - rho * (p[i] - q[i]) / (20.0 * (1 << doublings)), 1e-15) << "rho " << rho << " " << i;
  }
}

// The same on p ∈ Δ: with W = 2I every d has dᵀHd = 20 ||d||² exactly, so the projected step's
// test dᵀHd <= t ||d||² holds with equality at t0 and accepts cand = proj(p - g/t0).
TEST(Steps, ProjectedPStepTakesT0WhereTheBoundHoldsWithEquality) {
  Fixture f;
  AdmmParams prm;
  prm.step = StepRule::Backtrack;
  prm.nu = 1;
  prm.rho = 16;
  prm.quantize = Quantize::P;
  prm.grid = make_uniform_grid(-2, 0.125, 33);
  RandomLayer rl(f, 4, 4, 3);
  std::vector<double> p(12), q(12), want(12);
  for (int i = 0; i < 12; ++i) {
    p[i] = 0.25 * (i % 5) - 0.5;
    q[i] = p[i] + 0.5 * (i % 3 - 1);
    want[i] = p[i] + 0.375 * (i % 3 - 1);  // p - g/20 = p + 0.4 (i % 3 - 1): the level 0.375 away
  }
  load_on_the_bound(f, rl, p, q);
  p_step(f.ops, rl.L, prm);
  EXPECT_EQ(rl.L.counts.p_backtracks, 0);
  EXPECT_EQ(f.get(rl.L.p), want);
}

TEST(Steps, ExactPStepIsTheLineMinimum) {
  // Along the gradient direction, no other step length does better.
  Fixture f;
  AdmmParams prm;
  prm.step = StepRule::Exact;
  prm.nu = 0.7;
  prm.rho = 1.9;
  RandomLayer rl(f, 4, 3, 5);
  std::vector<double> p0 = f.get(rl.L.p);
  const double start = rl.phi(prm);
  p_step(f.ops, rl.L, prm);
  const double best = rl.phi(prm);
  std::vector<double> p1 = f.get(rl.L.p);
  // Without a move every scaled point below is p0 itself and the comparison holds trivially.
  ASSERT_NE(p1, p0) << "the exact step did not move p";
  EXPECT_LT(best, start);
  for (double scale : {0.5, 0.9, 1.1, 2.0}) {
    std::vector<double> p(p0.size());
    for (size_t i = 0; i < p.size(); ++i) p[i] = p0[i] + scale * (p1[i] - p0[i]);
    f.ops.upload(p.data(), rl.L.p);
    EXPECT_GE(rl.phi(prm), best - 1e-12) << "scale " << scale;
  }
}

// The W counterpart: along the step W1 - W0, ψ(W) = ν/2‖W x + b - z‖² + μ/2‖W‖² is lowest at W1,
// on the Gram path, the direct one, and a deferred layer 1 (W = s W₀ + C xᵀ, its ‖W‖² and W x kept
// incrementally; the second step starts from a pending update). A step off by a constant factor in
// its curvature still lowers ψ, so WStepDecreasesItsObjectiveBothPaths alone passed it.
TEST(Steps, ExactWStepIsTheLineMinimum) {
  for (const auto& [nu, mu] : {std::pair{0.7, 0.3}, std::pair{50.0, 1e-3}}) {
    for (const char* path : {"gram", "direct", "deferred"}) {
      Fixture f;
      AdmmParams prm;
      prm.step = StepRule::Exact;
      prm.nu = nu;
      prm.mu = mu;
      RandomLayer rl(f, 6, 5, 4);
      Layer<double>& L = rl.L;
      L.use_gram = std::string(path) != "direct";
      if (std::string(path) == "deferred") {
        L.index = 0;
        L.deferred_w = L.gram_fixed = true;
        for (Tensor<double>* t : {&L.c, &L.wx0, &L.track}) *t = f.ops.alloc(L.n_out, L.z.cols());
        f.ops.gemm(true, false, 1, *L.x, *L.x, 0, L.gram);
        reset_deferred_w(f.ops, L);
        refresh_wp(f.ops, L);
      }
      // ψ at an explicit W (b, z, x as the layer holds them).
      const auto psi = [&](const std::vector<double>& w) {
        const int64_t n = L.z.cols();
        Tensor<double> wt = f.ops.alloc(L.n_out, L.n_in), wx = f.ops.alloc(L.n_out, n), a = f.ops.alloc(L.n_out, n),
                       r = f.ops.alloc(L.n_out, n);
        f.ops.upload(w.data(), wt);
        f.ops.gemm(false, false, 1, wt, *L.x, 0, wx);
        f.ops.add_bias(wx, L.b, a);
        return prm.nu / 2 * f.ops.residual(a, L.z, r) + prm.mu / 2 * f.ops.sum_sq(wt);
      };
      const auto current_w = [&] {
        Tensor<double> wt = f.ops.alloc(L.n_out, L.n_in);
        form_w(f.ops, L, wt);
        return f.get(wt);
      };
      for (int step = 0; step < 2; ++step) {
        const std::string what = std::string(path) + " nu " + std::to_string(nu) + " step " + std::to_string(step);
        const std::vector<double> w0 = current_w();
        const double start = psi(w0);
        w_step(f.ops, L, prm);
        ASSERT_EQ(L.counts.w_formed, 0) << what << ": the Gram path fell back to the direct one";
        const std::vector<double> w1 = current_w();
        const double best = psi(w1);
        // Without a move every point below is W0 itself and the comparison holds trivially.
        ASSERT_NE(w1, w0) << what << ": the exact step did not move W";
        EXPECT_LT(best, start) << what;
        for (double scale : {0.5, 0.9, 1.1, 2.0}) {
          std::vector<double> w(w0.size());
          for (size_t i = 0; i < w.size(); ++i) w[i] = w0[i] + scale * (w1[i] - w0[i]);
          EXPECT_GE(psi(w), best - 1e-12 * (1 + std::fabs(best))) << what << ", scale " << scale;
        }
        // The cached W x follows W (the next step's residual uses it).
        Tensor<double> wt = f.ops.alloc(L.n_out, L.n_in), wx = f.ops.alloc(L.n_out, L.z.cols());
        f.ops.upload(w1.data(), wt);
        f.ops.gemm(false, false, 1, wt, *L.x, 0, wx);
        const std::vector<double> fresh = f.get(wx), cached = f.get(L.wp);
        for (size_t i = 0; i < fresh.size(); ++i) ASSERT_NEAR(fresh[i], cached[i], 1e-9 * (1 + std::fabs(fresh[i]))) << what;
      }
    }
  }
}

TEST(Steps, BStepIsTheExactMinimiser) {
  Fixture f;
  AdmmParams prm;
  RandomLayer rl(f, 4, 3, 6);
  b_step(f.ops, rl.L);
  const double at = rl.psi(prm);
  std::vector<double> b = f.get(rl.L.b);
  for (size_t i = 0; i < b.size(); ++i)
    for (double h : {-1e-3, 1e-3}) {
      std::vector<double> bb = b;
      bb[i] += h;
      f.ops.upload(bb.data(), rl.L.b);
      EXPECT_GT(rl.psi(prm), at);
    }
}

TEST(Steps, ZClosedFormMatchesBruteForce) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int i = 0; i < 2000; ++i) {
    const double a = u(gen), z0 = u(gen), q = u(gen);
    auto h = [&](double z) { return (z - a) * (z - a) + (q - relu(z)) * (q - relu(z)) + (z - z0) * (z - z0); };
    const double z = z_hidden_element(a, z0, q, true);
    double best = 1e300;
    for (double t = -8; t <= 8; t += 1e-3) best = std::min(best, h(t));
    EXPECT_LE(h(z), best + 1e-9) << "a=" << a << " z0=" << z0 << " q=" << q;
  }
}

// admm.z_branch through the backend: CpuOps::z_hidden follows the flag element by element, and on
// these values the reference's quirk and the exact comparison choose differently somewhere (the
// reference vectors' iterations never reach such a case).
TEST(Steps, ZBranchFlagReachesTheBackend) {
  Fixture f;
  const int64_t n = 4096;
  Tensor<double> a = f.rand(1, n, 2.0), q = f.rand(1, n, 2.0), zq = f.rand(1, n, 2.0), ze = f.ops.alloc(1, n);
  f.ops.copy(zq, ze);
  const std::vector<double> av = f.get(a), qv = f.get(q), z0 = f.get(zq);
  f.ops.z_hidden(a, q, false, zq);
  f.ops.z_hidden(a, q, true, ze);
  const std::vector<double> quirk = f.get(zq), exact = f.get(ze);
  int differ = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(quirk[i], z_hidden_element(av[i], z0[i], qv[i], false)) << i;
    ASSERT_EQ(exact[i], z_hidden_element(av[i], z0[i], qv[i], true)) << i;
    differ += quirk[i] != exact[i];
  }
  EXPECT_GT(differ, 0) << "no value where the two comparisons choose differently";
}

// A tie goes to the z <= 0 branch (reference_algorithm.md §1: z = c2 where v1 > v2, else c1).
// The reference's comparison (no (c - z0)² term) ties exactly on these values, c1 = 0 and c2 > 0
// (a = -2, z0 = 2, q = 3: c2 = 1, v1 = v2 = 13); the brute-force test above cannot tell the
// branches apart there, both reach the same value.
TEST(Steps, ZTieGoesToTheNonPositiveBranch) {
  const std::vector<std::array<double, 4>> ties = {{-2, 2, 3, 1}, {-1.5, 1.5, 2.25, 0.75}, {-1.75, 2.5, 3, 1.25}};
  Fixture f;
  Tensor<double> a = f.ops.alloc(1, 3), q = f.ops.alloc(1, 3), z = f.ops.alloc(1, 3);
  for (size_t i = 0; i < ties.size(); ++i) {
    const auto [av, z0, qv, c2] = ties[i];
    // The tie itself, worked out here: c1 = min((a + z0) / 2, 0) = 0.
    ASSERT_EQ((av + z0 + qv) / 3, c2);
    ASSERT_GE(av + z0, 0);
    ASSERT_EQ(av * av + qv * qv, (c2 - av) * (c2 - av) + (qv - c2) * (qv - c2)) << "case " << i;
    EXPECT_EQ(z_hidden_element(av, z0, qv, false), 0.0) << "case " << i;
    EXPECT_EQ(z_hidden_element(static_cast<float>(av), static_cast<float>(z0), static_cast<float>(qv), false), 0.0f)
        << "case " << i;
    a.data()[i] = av;
    q.data()[i] = qv;
    z.data()[i] = z0;
  }
  f.ops.z_hidden(a, q, false, z);
  EXPECT_EQ(f.get(z), std::vector<double>(3, 0.0)) << "CpuOps::z_hidden";
}

TEST(Steps, QClosedFormHasZeroGradient) {
  std::mt19937_64 gen(8);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int i = 0; i < 200; ++i) {
    const double p = u(gen), uu = u(gen), z = u(gen), nu = 0.1 + std::fabs(u(gen)), rho = 0.1 + std::fabs(u(gen));
    auto obj = [&](double q) { return nu / 2 * (q - relu(z)) * (q - relu(z)) + uu * (p - q) + rho / 2 * (p - q) * (p - q); };
    const double q = q_element(p, uu, z, nu, rho);
    const double h = 1e-5;
    EXPECT_NEAR((obj(q + h) - obj(q - h)) / (2 * h), 0.0, 1e-6);
  }
}

TEST(Steps, FistaDecreasesTheLastLayerObjective) {
  Fixture f;
  AdmmParams prm;
  prm.nu = 0.5;
  RandomLayer rl(f, 4, 3, 8, /*last=*/true);
  std::vector<double> y(3 * 8, 0.0);
  for (int j = 0; j < 8; ++j) y[(j % 3) * 8 + j] = 1;
  f.ops.upload(y.data(), rl.L.y);
  auto h = [&] {
    f.ops.add_bias(rl.L.wp, rl.L.b, rl.L.a);
    return f.ops.cross_entropy(prm.ce, rl.L.z, rl.L.y) + prm.nu / 2 * f.ops.residual(rl.L.a, rl.L.z, rl.L.r);
  };
  const double before = h();
  z_step(f.ops, rl.L, prm);
  EXPECT_LT(h(), before);
  EXPECT_GT(rl.L.counts.fista_its, 0);
}

// fista.tol_per_node (the default) scales the stopping tolerance by the N columns: the same run
// as tol x N without it, and not the same as the unscaled tol.
TEST(Steps, FistaToleranceScalesWithTheColumns) {
  const auto run = [](bool per_node, double tol) {
    Fixture f;  // same seed each time: the same layer
    AdmmParams prm;
    prm.nu = 0.5;
    prm.fista_tol_per_node = per_node;
    prm.fista_tol = tol;
    prm.fista_max_iter = 200;
    RandomLayer rl(f, 4, 3, 8, /*last=*/true);
    std::vector<double> y(3 * 8, 0.0);
    for (int j = 0; j < 8; ++j) y[(j % 3) * 8 + j] = 1;
    f.ops.upload(y.data(), rl.L.y);
    z_step(f.ops, rl.L, prm);
    std::vector<double> z(3 * 8);
    f.ops.download(rl.L.z, z.data());
    return std::pair{rl.L.counts.fista_its, z};
  };
  const double t = 1e-4;
  const auto scaled = run(true, t), by_hand = run(false, t * 8), unscaled = run(false, t);
  EXPECT_EQ(scaled.first, by_hand.first);
  EXPECT_EQ(scaled.second, by_hand.second);
  EXPECT_NE(unscaled.first, scaled.first) << "t too large or small to tell the two apart";
}

// A NaN iterate (a diverging run) decides no backtracking test: the step returns at once instead
// of doubling a NaN t max_backtracks times, a GEMM each; the run's divergence check then stops it.
TEST(Steps, ProjectedPStepStopsAtNonFiniteIterates) {
  for (StepRule rule : {StepRule::Exact, StepRule::Backtrack}) {
    Fixture f;
    AdmmParams prm;
    prm.nu = prm.rho = 1.0;
    prm.step = rule;
    prm.max_backtracks = 1000000;
    prm.quantize = Quantize::P;
    prm.grid = make_uniform_grid(-1, 0.25, 9);
    RandomLayer rl(f, 6, 5, 7);
    project_host(prm.grid, rl.L.p.data(), rl.L.p.size());
    rl.L.W.data()[3] = std::numeric_limits<double>::infinity();
    rl.u_in.data()[2] = std::numeric_limits<double>::quiet_NaN();
    refresh_wp(f.ops, rl.L);
    p_step(f.ops, rl.L, prm);
    EXPECT_EQ(rl.L.counts.p_backtracks, 0) << (rule == StepRule::Exact ? "exact" : "backtrack");
    EXPECT_EQ(rl.L.counts.p_giveups, 0);
  }
}

TEST(Steps, ProjectedPStepLandsOnTheGridAndDoesNotIncrease) {
  Fixture f;
  AdmmParams prm;
  prm.nu = prm.rho = 1.0;
  prm.quantize = Quantize::P;
  prm.grid = make_uniform_grid(-1, 0.25, 17);
  RandomLayer rl(f, 5, 4, 6);
  project_host(prm.grid, rl.L.p.data(), rl.L.p.size());
  refresh_wp(f.ops, rl.L);
  const double before = rl.phi(prm);
  const std::vector<double> p0 = f.get(rl.L.p);
  p_step(f.ops, rl.L, prm);
  EXPECT_LE(rl.phi(prm), before + 1e-12);
  // p started on the grid: only a step that moved it to other levels shows the projection works.
  EXPECT_NE(f.get(rl.L.p), p0) << "p stayed on its starting levels";
  for (double v : f.get(rl.L.p)) EXPECT_DOUBLE_EQ(std::round((v + 1) / 0.25) * 0.25 - 1, v);
}

// Exact rule on p ∈ Δ: the projected line minimum can overshoot along a stiff direction, so it
// must not be accepted unchecked. A converging p (fixed neighbours, 30 steps) with one stiff input
// unit: before the check, φ rose in about a third of the steps (up to 13% relative).
TEST(Steps, ProjectedExactPStepNeverIncreasesPhi) {
  for (double gap : {0.25, 0.05}) {
    int rose = 0;
    for (int trial = 0; trial < 20; ++trial) {
      Fixture f;
      f.gen.seed(static_cast<uint64_t>(trial + 1));
      AdmmParams prm;
      prm.nu = prm.rho = 1.0;
      prm.step = StepRule::Exact;
      prm.quantize = Quantize::P;
      prm.grid = make_uniform_grid(-2, gap, static_cast<int>(4 / gap) + 1);
      RandomLayer rl(f, 8, 6, 5);
      for (int64_t i = 0; i < rl.L.n_out; ++i) rl.L.W.data()[i * rl.L.n_in] *= 20;  // one stiff input unit
      project_host(prm.grid, rl.L.p.data(), rl.L.p.size());
      refresh_wp(f.ops, rl.L);
      const double start = rl.phi(prm);
      double before = start;
      for (int k = 0; k < 30; ++k) {
        p_step(f.ops, rl.L, prm);
        const double after = rl.phi(prm);
        rose += after > before + 1e-12 * std::fabs(before);
        before = after;
      }
      EXPECT_LT(before, start) << "gap " << gap << " trial " << trial << ": p never moved";
    }
    EXPECT_EQ(rose, 0) << "gap " << gap;
  }
}

// A float layer near its W-subproblem's minimiser W* = ν (z - b1ᵀ)(νK + μI)⁻¹ pᵀ (K = pᵀp), with
// μ comparable to ν‖p‖²: there the Gram path's ‖G‖² = ν²‖rpᵀ‖² + 2νμ<rpᵀ, W> + μ²‖W‖² is a
// difference of terms a million times larger than itself, below float's resolution.
struct NearStationary {
  CpuOps<float> ops;
  int64_t n_in = 30, n_out = 20, n = 8;
  AdmmParams prm;
  std::vector<double> p, z, b, w_star;
  Layer<float> L;
  NearStationary(uint64_t seed, double delta, bool deferred, double c_scale = 0) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> nd(0, 1);
    prm.nu = 1.0;
    prm.mu = 10.0;
    prm.step = StepRule::Exact;
    auto draw = [&](int64_t count) {
      std::vector<double> v(static_cast<size_t>(count));
      for (double& e : v) e = static_cast<float>(nd(gen));  // representable in float
      return v;
    };
    p = draw(n_in * n), z = draw(n_out * n), b = draw(n_out);
    // M = ν (z - b1ᵀ)(νK + μI)⁻¹ by Gauss-Jordan on the SPD N x N system, then W* = M pᵀ.
    std::vector<double> a(static_cast<size_t>(n * n)), m(static_cast<size_t>(n_out * n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double k = 0;
        for (int64_t r = 0; r < n_in; ++r) k += p[r * n + i] * p[r * n + j];
        a[i * n + j] = prm.nu * k + (i == j ? prm.mu : 0);
      }
    for (int64_t o = 0; o < n_out; ++o)
      for (int64_t j = 0; j < n; ++j) m[o * n + j] = prm.nu * (z[o * n + j] - b[o]);
    for (int64_t c = 0; c < n; ++c) {  // m A⁻¹: eliminate on columns (A symmetric)
      const double piv = a[c * n + c];
      for (int64_t j = 0; j < n; ++j) a[c * n + j] /= piv;
      for (int64_t o = 0; o < n_out; ++o) m[o * n + c] /= piv;
      for (int64_t i = 0; i < n; ++i) {
        if (i == c) continue;
        const double f = a[i * n + c];
        for (int64_t j = 0; j < n; ++j) a[i * n + j] -= f * a[c * n + j];
        for (int64_t o = 0; o < n_out; ++o) m[o * n + i] -= f * m[o * n + c];
      }
    }
    w_star.assign(static_cast<size_t>(n_out * n_in), 0);
    for (int64_t o = 0; o < n_out; ++o)
      for (int64_t i = 0; i < n_in; ++i)
        for (int64_t j = 0; j < n; ++j) w_star[o * n_in + i] += m[o * n + j] * p[i * n + j];
    std::vector<double> w = w_star;
    for (double& e : w) e += delta * nd(gen) * std::fabs(e);
    // A pending deferred update: the layer holds W = s W₀ + C pᵀ with s = 0.5 and a random C, C pᵀ
    // about W's size (c_scale 0.1) or ten times it (1: s W₀ and C pᵀ then cancel, and the float
    // error of the representation's ‖W‖² and W p counts in the detection too).
    const bool pending = c_scale > 0;
    std::vector<double> c(static_cast<size_t>(n_out * n));
    if (pending) {
      c = draw(n_out * n);
      for (double& e : c) e = static_cast<float>(e * c_scale);
      for (int64_t o = 0; o < n_out; ++o)
        for (int64_t i = 0; i < n_in; ++i) {
          double cp = 0;
          for (int64_t j = 0; j < n; ++j) cp += c[o * n + j] * p[i * n + j];
          w[o * n_in + i] = (w[o * n_in + i] - cp) / 0.5;
        }
    }
    L.index = deferred ? 0 : 1;
    L.n_in = n_in;
    L.n_out = n_out;
    L.W = up(w, n_out, n_in);
    L.b = up(b, n_out, 1);
    L.z = up(z, n_out, n);
    L.p = up(p, n_in, n);
    L.x = &L.p;
    for (Tensor<float>* t : {&L.wp, &L.a, &L.r, &L.gp, &L.c, &L.wx0, &L.track}) *t = ops.alloc(n_out, n);
    L.gram = ops.alloc(n, n);
    L.use_gram = true;
    L.deferred_w = L.gram_fixed = deferred;
    if (deferred) {
      ops.gemm(true, false, 1.f, L.p, L.p, 0.f, L.gram);
      reset_deferred_w(ops, L);
    }
    if (pending) {
      L.c = up(c, n_out, n);
      L.w_scale = 0.5;
      L.w_pending = true;
    }
    refresh_wp(ops, L);
  }
  Tensor<float> up(const std::vector<double>& v, int64_t r, int64_t c) {
    std::vector<float> f(v.begin(), v.end());
    Tensor<float> t = ops.alloc(r, c);
    ops.upload(f.data(), t);
    return t;
  }
  // ψ(W) - ψ(W*) in double, W as the layer holds it (formed when deferred).
  double excess() {
    Tensor<float> wt = ops.alloc(n_out, n_in);
    form_w(ops, L, wt);
    std::vector<float> w(static_cast<size_t>(wt.size()));
    ops.download(wt, w.data());
    auto psi = [&](auto&& at) {
      double fit = 0, w2 = 0;
      for (int64_t o = 0; o < n_out; ++o)
        for (int64_t j = 0; j < n; ++j) {
          double s = b[o] - z[o * n + j];
          for (int64_t i = 0; i < n_in; ++i) s += at(o * n_in + i) * p[i * n + j];
          fit += s * s;
        }
      for (int64_t k = 0; k < n_out * n_in; ++k) w2 += at(k) * at(k);
      return prm.nu / 2 * fit + prm.mu / 2 * w2;
    };
    return psi([&](int64_t k) { return double(w[k]); }) - psi([&](int64_t k) { return w_star[k]; });
  }
};

// Near a stationary W the step must still lower ψ. Before the Gram path formed G there, a noisy
// ‖G‖² made it overshoot or skip the step: 4-5 of 20 cases here at δ = 1e-4, 18-19 at 1e-5.
TEST(Steps, FloatWStepNearAStationaryWDoesNotOvershoot) {
  // A hidden layer, deferred layer 1, the same with an update pending, and with one whose parts cancel.
  for (int kind = 0; kind < 4; ++kind) {
    const bool deferred = kind > 0;
    for (StepRule rule : {StepRule::Exact, StepRule::Backtrack}) {
      for (double delta : {1e-3, 1e-4, 1e-5}) {
        int rose = 0, formed = 0;
        for (uint64_t trial = 0; trial < 20; ++trial) {
          NearStationary s(trial + 1, delta, deferred, kind == 2 ? 0.1 : kind == 3 ? 1.0 : 0.0);
          s.prm.step = rule;
          s.prm.t0 = s.prm.mu;  // the backtracking rule's smallest t: the Hessian's smallest eigenvalue
          const double before = s.excess();
          ASSERT_GT(before, 0);
          w_step(s.ops, s.L, s.prm);
          rose += !(s.excess() < before);
          formed += s.L.counts.w_formed;
        }
        const std::string what =
            std::string(kind == 0 ? "hidden" : kind == 1 ? "deferred" : kind == 2 ? "pending" : "cancelling") + ", " +
                                 (rule == StepRule::Exact ? "exact" : "backtrack") + ", delta " + std::to_string(delta);
        EXPECT_EQ(rose, 0) << what;
        if (delta < 1e-4) {
          EXPECT_EQ(formed, 20) << what << ": the cancellation went undetected";
        }
      }
    }
  }
}

// FISTA's momentum: λ_{k+1} = (1 + √(1 + 4λ_k²)) / 2 from λ = 1, z = (1 - γ) ζ_k + γ ζ_{k-1} with
// γ = (1 - λ_k) / λ_{k+1}. The first step has γ = 0; the second's γ = (1 - φ) / λ₂ (φ the golden
// ratio) checked against two steps worked out here. A wrong recurrence still lowers the objective,
// so FistaDecreasesTheLastLayerObjective alone passed it.
TEST(Steps, FistaMomentumFollowsTheLambdaRecurrence) {
  Fixture f;
  AdmmParams prm;
  prm.nu = 0.5;
  prm.fista_tol = 0;  // no early stop: exactly fista_max_iter steps
  prm.fista_tol_per_node = false;
  prm.fista_max_iter = 2;
  RandomLayer rl(f, 4, 3, 8, /*last=*/true);
  std::vector<double> y(3 * 8, 0.0);
  for (int j = 0; j < 8; ++j) y[(j % 3) * 8 + j] = 1;
  f.ops.upload(y.data(), rl.L.y);
  // The two steps by hand: ζ_k = prox(z_{k-1}, softmax(z_{k-1}) - y), a = W p + b.
  Tensor<double> a = f.ops.alloc(3, 8), grad = f.ops.alloc(3, 8);
  f.ops.add_bias(rl.L.wp, rl.L.b, a);
  const std::vector<double> av = f.get(a);
  const auto prox_step = [&](const std::vector<double>& z) {
    Tensor<double> zt = f.ops.alloc(3, 8);
    f.ops.upload(z.data(), zt);
    f.ops.softmax_minus(prm.ce, zt, rl.L.y, grad);
    const std::vector<double> g = f.get(grad);
    std::vector<double> zeta(z.size());
    for (size_t i = 0; i < z.size(); ++i) zeta[i] = fista_prox_element(z[i], g[i], av[i], prm.nu, prm.fista_eta);
    return zeta;
  };
  const std::vector<double> zeta1 = prox_step(f.get(rl.L.z));  // γ = 0: z₁ = ζ₁
  const std::vector<double> zeta2 = prox_step(zeta1);
  const double phi = (1 + std::sqrt(5.0)) / 2, lambda2 = (1 + std::sqrt(1 + 4 * phi * phi)) / 2;
  const double gamma = (1 - phi) / lambda2;
  z_step(f.ops, rl.L, prm);
  ASSERT_EQ(rl.L.counts.fista_its, 2);
  const std::vector<double> got = f.get(rl.L.z);
  double moved = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], (1 - gamma) * zeta2[i] + gamma * zeta1[i], 1e-12) << i;
    moved += std::fabs(zeta2[i] - zeta1[i]);
  }
  EXPECT_GT(moved, 1e-3) << "the momentum term must matter for this test to mean anything";
}

}  // namespace
}  // namespace pdadmm
