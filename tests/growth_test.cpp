// Greedy layer-wise growth: what each stage inherits (trained layers, duals, reference
// initialisation of the new layers), grouping invariance across stages, and a staged run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "host/admm/growth.h"
#include "host/admm/layer_plan.h"
#include "host/io/error.h"
#include "host/io/host_memory.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

Config small(const std::vector<std::string>& sets) {
  std::vector<std::string> all{"data.synthetic.nodes=600", "data.synthetic.val=100", "data.synthetic.test=200",
                               "model.hidden=32", "output.progress=\"off\"", "output.checkpoint=false", "threads=1"};
  all.insert(all.end(), sets.begin(), sets.end());
  return parse_config(nlohmann::json::object(), all);
}

const char* kStages = "model.stages=[{\"layers\":2,\"iterations\":15},{\"layers\":4,\"iterations\":5}]";
const char* kKeepDuals = "model.stage_duals=\"keep\"";  // the default resets them (the reference)

struct Grown {
  std::unique_ptr<Solver<float>> prev, next;
};

Grown grow(const Config& c, Problem& p) {
  Grown g;
  g.prev = start_stage(c, p, 0, nullptr);
  for (int i = 0; i < 15; ++i) g.prev->iterate(false);
  g.next = start_stage(c, p, 1, g.prev.get());
  return g;
}

// pdadmm info's peak: a stage is built after the one it grows from handed its kept tensors to the
// host and let its own go, so the most at once is the largest carry plus the next stage's plan
// (each the solver's own allocation, DataInfo's memory-plan test); the planned carry is what
// take_stage downloads; nothing without stages.
TEST(Growth, PeakIsTheCarryBesideTheNextStage) {
  for (const char* duals : {"keep", "reset"})
    for (const char* last : {"fresh", "keep"}) {
      const std::string stages = std::string("model.stages=[{\"layers\":2,\"iterations\":1},{\"layers\":3,") +
                                 "\"iterations\":1,\"last\":\"" + last + "\"},{\"layers\":6,\"iterations\":1}]";
      const Config c = small({stages, "model.layers=6", std::string("model.stage_duals=\"") + duals + "\""});
      Problem p = build_problem(c);
      const int64_t d = p.x.rows, C = p.y.rows, N = p.x.cols;
      const auto plan = [&](std::vector<int64_t> dims) {
        return plan_group_bytes(dims, 0, static_cast<int>(dims.size()) - 1, N, c.admm, sizeof(float));
      };
      EXPECT_EQ(stage_carry_bytes(c, p, 0), 0.0);
      auto s0 = start_stage(c, p, 0, nullptr);
      s0->iterate(false);
      EXPECT_EQ(take_stage(c, 1, *s0).bytes(), stage_carry_bytes(c, p, 1)) << duals << " " << last;
      auto s1 = start_stage(c, p, 1, s0.get());
      s1->iterate(false);
      EXPECT_EQ(take_stage(c, 2, *s1).bytes(), stage_carry_bytes(c, p, 2)) << duals << " " << last;
      const double three = plan({d, 32, 32, C}), six = plan({d, 32, 32, 32, 32, 32, C});
      EXPECT_EQ(growth_peak_bytes(c, p), std::max(stage_carry_bytes(c, p, 1) + three, stage_carry_bytes(c, p, 2) + six));
      EXPECT_LT(growth_peak_bytes(c, p), three + six) << "less than two solvers at once";
    }
  Problem q = build_problem(small({}));
  EXPECT_EQ(growth_peak_bytes(small({}), q), 0.0);
  // Two stages: the one change's peak (a third stage's above hid a skipped first change).
  const Config two = small({"model.stages=[{\"layers\":2,\"iterations\":1},{\"layers\":3,\"iterations\":1}]",
                            "model.layers=3"});
  Problem p2 = build_problem(two);
  const std::vector<int64_t> dims3 = {p2.x.rows, 32, 32, p2.y.rows};
  EXPECT_EQ(growth_peak_bytes(two, p2),
            stage_carry_bytes(two, p2, 1) + plan_group_bytes(dims3, 0, 3, p2.x.cols, two.admm, sizeof(float)));
  EXPECT_GT(growth_peak_bytes(two, p2), 0.0);
}

TEST(Growth, NewStageKeepsTrainedLayersAndInitialisesNewOnesAsTheReference) {
  const Config c = small({kStages, kKeepDuals});
  Problem p = build_problem(c);
  Grown g = grow(c, p);
  ASSERT_EQ(g.prev->num_layers(), 2);
  ASSERT_EQ(g.next->num_layers(), 4);
  EXPECT_EQ(p.dims, (std::vector<int64_t>{p.x.rows, 32, 32, 32, 5}));
  for (const char* t : {"W", "b", "z", "q", "u"})
    EXPECT_EQ(g.next->download(0, t).data, g.prev->download(0, t).data) << t << " of the kept layer";
  const HostMatrix<float> q0 = g.prev->download(0, "q");
  HostMatrix<float> relu_q0 = q0;
  for (float& v : relu_q0.data) v = std::max(v, 0.0f);
  for (int l = 1; l <= 2; ++l) {
    const HostMatrix<float> W = g.next->download(l, "W");
    for (int64_t i = 0; i < W.rows; ++i)
      for (int64_t j = 0; j < W.cols; ++j) ASSERT_EQ(W(i, j), i == j ? 1.0f : 0.0f) << "identity W of layer " << l;
    for (float v : g.next->download(l, "b").data) ASSERT_EQ(v, 0.0f);
    for (float v : g.next->download(l, "u").data) ASSERT_EQ(v, 0.0f);
    // p_1 = q_0 (trained); z = I p + 0; q = relu(z); p_{l+1} = q_l.
    EXPECT_EQ(g.next->download(l, "p").data, l == 1 ? q0.data : relu_q0.data) << "layer " << l;
    EXPECT_EQ(g.next->download(l, "z").data, l == 1 ? q0.data : relu_q0.data) << "layer " << l;
    EXPECT_EQ(g.next->download(l, "q").data, relu_q0.data) << "layer " << l;
  }
  EXPECT_EQ(g.next->download(3, "p").data, relu_q0.data);
  for (float v : g.next->download(3, "z").data) ASSERT_EQ(v, 0.0f);  // zl_init "zeros"
  // The duals of the kept layers survive (non-trivial after 15 iterations).
  double u2 = 0;
  for (float v : g.next->download(0, "u").data) u2 += double(v) * v;
  EXPECT_GT(u2, 0.0);
}

// Stage 0 after 15 iterations with layer 1 on the Gram path (its XᵀX fixed, its W deferred), and
// two carries of it to stage 1: two ways of building the grown solver to compare.
struct TwoCarries {
  Config c = small({kStages, "admm.gram=\"on\""});
  Problem p;
  std::unique_ptr<Solver<float>> s0;
  StageCarry a, b;
};
std::unique_ptr<TwoCarries> two_carries() {
  auto t = std::make_unique<TwoCarries>();
  t->p = build_problem(t->c);
  t->s0 = start_stage(t->c, t->p, 0, nullptr);
  for (int i = 0; i < 15; ++i) t->s0->iterate(false);
  t->a = take_stage(t->c, 1, *t->s0);
  t->b = take_stage(t->c, 1, *t->s0);
  return t;
}

// X is the same in every stage, so layer 1's XᵀX goes over with the carry instead of being
// computed again: the grown solver holds the same bits and runs as one that computed it.
TEST(Growth, CarriedGramRunsAsAComputedOne) {
  const auto two = two_carries();
  const Config& c = two->c;
  Problem& p = two->p;
  Solver<float>* s0 = two->s0.get();
  StageCarry &carried = two->a, &computed = two->b;
  ASSERT_EQ(carried.x_gram.rows, p.x.cols) << "the stage before keeps XᵀX";
  ASSERT_EQ(carried.x_gram.data, s0->download(0, "gram").data);
  computed.x_gram = HostMatrix<float>();
  auto a = start_stage(c, p, 1, std::move(carried));
  auto b = start_stage(c, p, 1, std::move(computed));
  EXPECT_EQ(a->download(0, "gram").data, b->download(0, "gram").data);
  for (int i = 0; i < 5; ++i) {
    a->iterate(false);
    b->iterate(false);
  }
  for (int l = 0; l < a->num_layers(); ++l)
    for (const char* t : {"W", "b", "z"}) EXPECT_EQ(a->download(l, t).data, b->download(l, t).data) << t << l;
  // The product is the solver's own: it can be read, not set; only layer 1 keeps a fixed one.
  EXPECT_EQ(test::error_of([&] { a->upload(0, "gram", a->download(0, "gram")); }), "upload: unknown tensor 'gram'");
  EXPECT_EQ(test::error_of([&] { a->download(1, "gram"); }), "unknown tensor 'gram' of layer 1");
  const Config off = small({kStages, "admm.gram=\"off\""});
  Problem q = build_problem(off);
  EXPECT_EQ(take_stage(off, 1, *start_stage(off, q, 0, nullptr)).x_gram.size(), 0);
}

// Every tensor and scalar a later iteration reads (save_state), bit for bit.
void expect_same_state(Solver<float>& a, Solver<float>& b) {
  const SolverState<float> sa = a.save_state(), sb = b.save_state();
  ASSERT_EQ(sa.names, sb.names);
  for (size_t i = 0; i < sa.names.size(); ++i) EXPECT_EQ(sa.tensors[i].data, sb.tensors[i].data) << sa.names[i];
  ASSERT_EQ(sa.layers.size(), sb.layers.size());
  for (size_t l = 0; l < sa.layers.size(); ++l) {
    EXPECT_EQ(sa.layers[l].w_scale, sb.layers[l].w_scale) << l;
    EXPECT_EQ(sa.layers[l].w_sq, sb.layers[l].w_sq) << l;
    EXPECT_EQ(sa.layers[l].w0_sq, sb.layers[l].w0_sq) << l;
    EXPECT_EQ(sa.layers[l].w_pending, sb.layers[l].w_pending) << l;
  }
}

// Layer 1's deferred W (W = s W₀ + C Xᵀ) goes over as its parts and is formed where the next
// solver keeps it: the same state, bit for bit, as a carry of the formed W, then the same iterates.
TEST(Growth, CarriedFirstLayerPartsRunAsTheFormedW) {
  const auto two = two_carries();
  Solver<float>* s0 = two->s0.get();
  StageCarry &parts = two->a, &formed = two->b;
  ASSERT_TRUE(parts.w1_pending) << "15 iterations leave an update pending; otherwise this test proves nothing";
  ASSERT_EQ(parts.w1_c.rows, 32);
  ASSERT_NE(parts.W[0].data, s0->download(0, "W").data) << "W₀ is not yet the layer's W";
  formed.W[0] = s0->download(0, "W");
  formed.w1_c = HostMatrix<float>();
  formed.w1_pending = false;
  auto a = start_stage(two->c, two->p, 1, std::move(parts));
  auto b = start_stage(two->c, two->p, 1, std::move(formed));
  EXPECT_EQ(a->download(0, "W").data, s0->download(0, "W").data);
  expect_same_state(*a, *b);
  for (int i = 0; i < 5; ++i) {
    a->iterate(false);
    b->iterate(false);
  }
  expect_same_state(*a, *b);
}

// The second stage's 4-layer solver built with inputs_given, before any p is uploaded (the
// solver keeps references into the problem, so both are held).
struct Unfed {
  std::unique_ptr<Problem> p;
  std::unique_ptr<Solver<float>> s;
};
Unfed unfed_solver() {
  const Config c = small({kStages});
  Unfed u{std::make_unique<Problem>(build_problem(c)), nullptr};
  std::vector<HostMatrix<float>> W, b;
  init_weights({u.p->x.rows, 32, 32, 5}, 0.1, 1, W, b);
  u.p->dims = {u.p->x.rows, 32, 32, 5};
  SolverStart<float> start;
  start.inputs_given = true;
  u.s = make_solver(stage_config(c, 1), *u.p, W, b, {}, start);
  return u;
}

// A grown solver skips the initial forward pass of layers 2..L (SolverStart::inputs_given: every
// p is set after, computing W p once): it holds what a solver built with the forward pass holds
// once the same iterates are uploaded into it, bit for bit, and iterates the same, over group
// boundaries, kept duals and last layer, and -Q's grid. A solver left without a p refuses to run.
TEST(Growth, GrownSolverHoldsWhatAFedOneHolds) {
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{kStages}, {kStages, "partition=[1,2,1]"},
        {kStages, kKeepDuals, "model.stage_last=\"keep\"", "partition=[2,2]"},
        {kStages, "algorithm=pdadmm-g-q", "admm.quantize=\"both\"", "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 5}"}}) {
    const Config c = small(sets);
    Problem p = build_problem(c);
    Grown g = grow(c, p);
    std::vector<HostMatrix<float>> W, b;
    g.next->weights(W, b);
    auto fed = make_solver(stage_config(c, 1), p, W, b);
    for (int l = 0; l < fed->num_layers(); ++l)
      for (const char* t : {"z", "q", "p", "u"}) {
        const HostMatrix<float> m = g.next->download(l, t);
        if (m.size() > 0) fed->upload(l, t, m);
      }
    SCOPED_TRACE(sets.back());
    expect_same_state(*g.next, *fed);
    for (int i = 0; i < 3; ++i) {
      g.next->iterate(false);
      fed->iterate(false);
    }
    expect_same_state(*g.next, *fed);
  }
  Unfed u = unfed_solver();
  Solver<float>* s = u.s.get();
  s->upload(1, "p", s->download(1, "p"));
  EXPECT_THROW(s->iterate(false), Error) << "layer 3's p was never set";
  s->upload(2, "p", s->download(2, "p"));
  s->iterate(false);
}

// Growing from a stage of 3 layers keeps two hidden layers: the second one's p (its input, trained
// apart from the q below it) must carry over too, not only z, q and u. Stages from 2 layers never
// reach that line (the only kept layer's p is the input X).
TEST(Growth, EveryKeptLayerCarriesItsTrainedState) {
  const Config c = small({"model.stages=[{\"layers\":3,\"iterations\":15},{\"layers\":5,\"iterations\":5}]", kKeepDuals});
  Problem p = build_problem(c);
  Grown g = grow(c, p);
  ASSERT_EQ(g.next->num_layers(), 5);
  for (int l = 0; l < 2; ++l)
    for (const char* t : {"W", "b", "z", "q", "u"})
      EXPECT_EQ(g.next->download(l, t).data, g.prev->download(l, t).data) << t << " of kept layer " << l;
  const HostMatrix<float> p1 = g.prev->download(1, "p"), q0 = g.prev->download(0, "q");
  EXPECT_NE(p1.data, q0.data) << "after 15 iterations p_1 and q_0 differ; otherwise this test proves nothing";
  EXPECT_EQ(g.next->download(1, "p").data, p1.data) << "p of kept layer 1";
}

// Each stage's fresh last layer draws from its own seeded stream: with three stages the second
// and the third start from different weights (the same stream twice would repeat them).
TEST(Growth, FreshLastLayersDifferFromStageToStage) {
  const Config c = small({"model.stages=[{\"layers\":2,\"iterations\":3},{\"layers\":3,\"iterations\":3},"
                          "{\"layers\":4,\"iterations\":3}]"});
  Problem p = build_problem(c);
  auto s0 = start_stage(c, p, 0, nullptr);
  auto s1 = start_stage(c, p, 1, s0.get());
  auto s2 = start_stage(c, p, 2, s1.get());
  const HostMatrix<float> w1 = s1->download(2, "W"), w2 = s2->download(3, "W");
  ASSERT_EQ(w1.data.size(), w2.data.size());
  EXPECT_NE(w1.data, w2.data);
  EXPECT_NE(s0->download(1, "W").data, w1.data);
}

// pdADMM-G-Q with p on Δ (the paper's default): a new layer's p is projected, and z = I p + 0 must
// be that projected p, as in a fresh solver (z = W p + b).
TEST(Growth, QuantizedPKeepsZEqualToWpPlusB) {
  const Config c = small({kStages, "algorithm=pdadmm-g-q", "admm.quantize=p", "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 5}"});
  Problem p = build_problem(c);
  Grown g = grow(c, p);
  for (int l = 1; l <= 2; ++l) {
    const HostMatrix<float> pl = g.next->download(l, "p"), z = g.next->download(l, "z");
    for (float v : pl.data) ASSERT_EQ(v * 2, std::round(v * 2)) << "p of layer " << l << " on the grid";
    EXPECT_EQ(z.data, pl.data) << "z = I p + 0 of layer " << l;
    HostMatrix<float> relu_z = z;
    for (float& v : relu_z.data) v = std::max(v, 0.0f);
    EXPECT_EQ(g.next->download(l, "q").data, relu_z.data) << "q = relu(z) of layer " << l;
  }
}

TEST(Growth, KeepingTheLastLayerPreservesTheFunction) {
  const Config c = small({kStages, "model.stage_last=\"keep\""});
  Problem p = build_problem(c);
  Grown g = grow(c, p);
  std::vector<HostMatrix<float>> W0, b0, W1, b1;
  g.prev->weights(W0, b0);
  g.next->weights(W1, b1);
  EXPECT_EQ(W1.back().data, W0.back().data);
  EXPECT_EQ(g.next->download(3, "z").data, g.prev->download(1, "z").data);
  // Identity layers pass relu activations through unchanged: same scores on every column.
  EXPECT_EQ(forward_columns(W1, b1, p.x).data, forward_columns(W0, b0, p.x).data);
}

// The reference's 10-layer stage: W_L = eye(C, n), b_L = 0, so the scores start as the first C
// hidden units, and z_L = ±1; set here per stage (model.stage_last / zl_init stay "fresh" / "zeros").
TEST(Growth, EyeLastLayerAsTheReference10LayerStage) {
  const Config c = small({"model.stages=[{\"layers\":2,\"iterations\":15},"
                          "{\"layers\":4,\"iterations\":5,\"last\":\"eye\",\"zl_init\":\"labels\"}]"});
  Problem p = build_problem(c);
  Grown g = grow(c, p);
  const HostMatrix<float> W = g.next->download(3, "W");
  ASSERT_EQ(W.rows, 5);
  ASSERT_EQ(W.cols, 32);
  for (int64_t i = 0; i < W.rows; ++i)
    for (int64_t j = 0; j < W.cols; ++j) ASSERT_EQ(W(i, j), i == j ? 1.0f : 0.0f) << "eye W_L at " << i << "," << j;
  for (float v : g.next->download(3, "b").data) ASSERT_EQ(v, 0.0f);
  const HostMatrix<float> z = g.next->download(3, "z");
  for (int64_t j = 0; j < z.cols; ++j)
    for (int64_t i = 0; i < z.rows; ++i) ASSERT_EQ(z(i, j), p.y(i, j) > 0 ? 1.0f : -1.0f) << i << "," << j;
  EXPECT_EQ(g.next->download(0, "W").data, g.prev->download(0, "W").data);
}

// The ρ schedule reads layer 1's W X + b from the solver's cache ("a") instead of a fresh GEMM:
// after iterations with W, b updates (and before a refresh) it still equals the product.
TEST(Growth, CachedFirstLayerMatchesAFreshProduct) {
  const Config c = small({kStages});
  Problem p = build_problem(c);
  auto s = start_stage(c, p, 0, nullptr);
  for (int i = 0; i < 12; ++i) s->iterate(false);
  std::vector<HostMatrix<float>> W, b;
  s->weights(W, b);
  const HostMatrix<float> a = s->download(0, "a");
  ASSERT_EQ(a.rows, W[0].rows);
  ASSERT_EQ(a.cols, p.x.cols);
  double err = 0, norm = 0;
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < a.cols; ++j) {
      double v = b[0].data[i];
      for (int64_t k = 0; k < p.x.rows; ++k) v += double(W[0](i, k)) * p.x(k, j);
      err = std::max(err, std::abs(v - a(i, j)));
      norm = std::max(norm, std::abs(v));
    }
  EXPECT_GT(norm, 0.0);
  EXPECT_LT(err, 1e-4 * norm);
  // Logits from the cached pre-activation equal a full forward pass's up to that rounding.
  HostMatrix<float> act = a;
  for (float& v : act.data) v = std::max(v, 0.0f);
  const HostMatrix<float> from_cache = forward_columns(W, b, act, 1), full = forward_columns(W, b, p.x);
  ASSERT_EQ(from_cache.data.size(), full.data.size());
  for (size_t i = 0; i < full.data.size(); ++i) EXPECT_NEAR(from_cache.data[i], full.data[i], 1e-3) << i;
}

// The default: kept duals were built under the ρ the stage before ended at (raised by the
// schedule) and can wreck a stage restarting below it (docs/data.md, Greedy layer-wise growth).
TEST(Growth, ResetDualsAsTheReference) {
  const Config c = small({kStages});
  EXPECT_EQ(c.model.stage_duals, "reset");
  Problem p = build_problem(c);
  Grown g = grow(c, p);
  for (float v : g.next->download(0, "u").data) ASSERT_EQ(v, 0.0f);
  EXPECT_EQ(g.next->download(0, "z").data, g.prev->download(0, "z").data);
}

// Carried-over state reaches the neighbour groups' boundary copies: any grouping of the grown
// net iterates to the same bits.
TEST(Growth, GroupingOfTheGrownNetDoesNotChangeABit) {
  std::vector<std::vector<HostMatrix<float>>> Ws;
  Problem p = build_problem(small({kStages}));
  for (const char* part : {"partition=[4]", "partition=[1,2,1]", "partition=[1,1,1,1]"}) {
    const Config c = small({kStages, kKeepDuals, part});
    Grown g = grow(c, p);
    EXPECT_EQ(g.prev->num_groups(), std::min(g.next->num_groups(), 2));  // earlier stages: min(groups, layers)
    for (int i = 0; i < 5; ++i) g.next->iterate(i == 4);
    std::vector<HostMatrix<float>> W, b;
    g.next->weights(W, b);
    Ws.push_back(W);
    if (std::string(part) == "partition=[1,2,1]") {
      EXPECT_EQ(g.next->dual_copy(0).data, g.next->download(0, "u").data);
    }
  }
  for (size_t k = 1; k < Ws.size(); ++k)
    for (size_t l = 0; l < Ws[0].size(); ++l) EXPECT_EQ(Ws[k][l].data, Ws[0][l].data) << "layer " << l;
}

TEST(Growth, StagedTrainingRunsEveryStageAndLearns) {
  Config c = small({"model.stages=[{\"layers\":2,\"iterations\":40},{\"layers\":3,\"iterations\":20},"
                    "{\"layers\":5,\"iterations\":40}]"});
  c.output.dir = ::testing::TempDir() + "/pdadmm_growth";
  c.output.log_every = 10;
  std::ostringstream log;
  const TrainSummary s = train(c, log);
  EXPECT_EQ(s.iterations, 100);
  EXPECT_NE(log.str().find("stage 2/3: 3 layers from iteration 41"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("stage 3/3: 5 layers from iteration 61"), std::string::npos) << log.str();
  // Chance is 0.2; a 2-layer net alone reaches about 0.9 on this data (admm_training_test).
  EXPECT_GE(s.scores.test.acc, 0.75) << log.str();
}

TEST(Growth, UploadChecksNameAndShape) {
  const Config c = small({});
  Problem p = build_problem(c);
  auto s = start_stage(c, p, 0, nullptr);
  // Each refusal for its own reason (any Error passed for all three).
  using test::error_of;
  EXPECT_EQ(error_of([&] { s->upload(0, "x", HostMatrix<float>(1, 1)); }), "unknown tensor 'x' of layer 0");
  HostMatrix<float> z = s->download(0, "z");
  ASSERT_GT(z.rows, 1);
  ASSERT_GT(z.cols, 1);
  // Rows and columns both count: one of them right is not enough.
  for (const std::pair<int64_t, int64_t>& shape : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {z.rows, z.cols - 1}, {z.rows + 1, z.cols}, {z.cols, z.rows}, {0, z.cols}})
    EXPECT_EQ(error_of([&] { s->upload(0, "z", HostMatrix<float>(shape.first, shape.second)); }),
              "upload: z of layer 0 has the wrong shape")
        << shape.first << " x " << shape.second;
  EXPECT_EQ(error_of([&] { start_stage(c, p, 1, s.get()); }), "stage 1 does not exist");
  // The right shape is taken as given.
  for (size_t i = 0; i < z.data.size(); ++i) z.data[i] = static_cast<float>(i % 7) - 3;
  s->upload(0, "z", z);
  EXPECT_EQ(s->download(0, "z").data, z.data);
}

}  // namespace
}  // namespace pdadmm

namespace pdadmm {
namespace {

// Beside the groups' tensors a CPU run holds a copy of the weights and, in an evaluation, layer 1
// on every node (three nodes x hidden matrices) and on the scored rows (two scored x hidden): on a
// graph with many more nodes than training columns those dominate. A model whose groups fit but
// whose evaluation does not is refused before it allocates (it was killed by the OOM killer).
TEST(MemoryPlan, CountsTheHostsWeightsAndEvaluationBuffers) {
  const auto config = [](int64_t hidden, const char* gram) {
    return small({"data.synthetic.nodes=20000", "data.synthetic.train_per_class=2", "model.layers=2",
                  "model.hidden=" + std::to_string(hidden), std::string("admm.gram=\"") + gram + "\""});
  };
  Problem p = build_problem(config(32, "off"));
  const double nodes = 20000, scored = double(p.data.train.size() + p.data.val.size() + p.data.test.size());
  const double d = double(p.x.rows), C = double(p.y.rows), N = double(p.x.cols);
  const double weights = 32 * (d + 1) + C * 33;
  EXPECT_EQ(host_side_bytes(config(32, "off"), p), 4 * (weights + 3 * nodes * 32 + 2 * scored * 32));
  // Layer 1 on the Gram path defers its W, and the logged evaluations track it: X_Sᵀ X and the anchor too.
  EXPECT_EQ(host_side_bytes(config(32, "on"), p), 4 * (weights + 3 * nodes * 32 + 2 * scored * 32 + scored * (N + 32)));
  // What info prints as held before the check: graph and Â (CSR), features, labels and splits, X and Y.
  const double nnz = double(p.data.adj.nnz()), hat = double(p.ahat.nnz());
  const double features = p.h.is_sparse ? 8.0 * double(p.h.sparse.nnz()) + 8.0 * double(p.h.rows + 1)
                                        : 4.0 * double(p.h.rows * p.h.cols);
  EXPECT_EQ(problem_bytes(p), 8 * nnz + 8 * (nodes + 1) + 8 * hat + 8 * (nodes + 1) + features + 4 * nodes +
                                  4 * scored + 4 * d * N + 4 * C * N);

  const int64_t room = available_host_bytes();
  if (room < 0) GTEST_SKIP() << "no memory figure on this machine";
  // The hidden size at which the groups alone take half the room left (two layers: linear in it);
  // the evaluation's buffers, on 20 000 nodes, take more than the other half.
  const auto groups = [&](int64_t hidden) {
    return planned_host_bytes(config(hidden, "off"), {int64_t(d), hidden, int64_t(C)}, p.x.cols);
  };
  const int64_t hidden = static_cast<int64_t>(0.5 * double(room) / (groups(2) - groups(1)));
  const Config big = config(hidden, "off");
  p.dims = {int64_t(d), hidden, int64_t(C)};
  ASSERT_LT(groups(hidden), double(room));
  ASSERT_GT(groups(hidden) + host_side_bytes(big, p), double(room));
  try {
    require_host_memory(big, p);
    FAIL() << "a model whose evaluation does not fit was let through";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of host memory: the layer groups' tensors, the host's copy of the "
                                         "weights and an evaluation's buffers need"),
              std::string::npos)
        << e.what();
  }
}

// Every later layer's p must be set on a grown solver, layer 2's (the first with an input p) too:
// left unset, it held what the ops allocated, and the run iterated from it without a word.
TEST(Growth, ASolverWithoutLayer2sInputRefusesToRun) {
  Unfed u = unfed_solver();
  Solver<float>* s = u.s.get();
  s->upload(2, "p", s->download(2, "p"));
  EXPECT_EQ(test::error_of([&] { s->iterate(false); }),
            "layer 2's input p was never set (SolverStart::inputs_given)");
  EXPECT_EQ(test::error_of([&] { s->forward_train(); }),
            "layer 2's input p was never set (SolverStart::inputs_given)");
  s->upload(1, "p", s->download(1, "p"));
  EXPECT_EQ(test::error_of([&] { s->iterate(false); }), "(no error)");
}

}  // namespace
}  // namespace pdadmm
