// pdADMM-G-Q end to end: it trains as well as pdADMM-G, p and q stay exactly on Δ, both copies
// of every boundary dual stay bit-identical for every wire codec, bytes match the formats, and
// bad -Q configs are one clear error naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "host/admm/steps.h"
#include "host/admm/trainer.h"
#include "host/backend/cpu_ops.h"
#include "host/io/error.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

Config synthetic_config(const std::vector<std::string>& sets) {
  Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json", sets);
  c.output.progress = "off";
  c.output.checkpoint = false;
  c.threads = 1;
  return c;
}

// 4 layers in 4 groups (G = L): three boundaries, each crossing the wire.
const std::vector<std::string> kSmall = {"model.layers=4", "model.hidden=32", "data.synthetic.nodes=800",
                                         "data.synthetic.val=100", "data.synthetic.test=200", "groups=4"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool bit_equal(const HostMatrix<float>& a, const HostMatrix<float>& b) {
  return a.rows == b.rows && a.cols == b.cols &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

// Every element of m is a level of g, bit for bit (projecting changes nothing).
bool on_grid(const Grid& g, const HostMatrix<float>& m) {
  HostMatrix<float> p = m;
  project_host(g, p.data.data(), p.size());
  return bit_equal(p, m);
}

struct CodecCase {
  const char* name;
  std::vector<std::string> sets;
  size_t bytes_per_boundary;  // 32 x 100 boundary tensors, computed by hand from the formats
};

// n = 32 rows x N = 100 training columns per boundary tensor.
// fp32 12800, fp16/bf16 6400, int8 400 scales + 3200 codes, codes on 64 levels (6 bits) 2400.
std::vector<CodecCase> codec_cases() {
  const std::string g = "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 64}";
  const std::string q_mode = "algorithm=\"pdadmm-g-q\"";
  std::vector<CodecCase> v;
  const char* lossy[] = {"fp32", "fp16", "bf16", "int8"};
  const size_t lossy_bytes[] = {12800, 6400, 6400, 3600};
  for (int i = 0; i < 4; ++i) {
    const std::string w = lossy[i];
    v.push_back({lossy[i], {"admm.wire.p=\"" + w + "\"", "admm.wire.q=\"" + w + "\""}, 2 * lossy_bytes[i]});
    v.push_back({lossy[i], {q_mode, g, "admm.quantize=\"p\"", "admm.wire.q=\"" + w + "\""}, 2400 + lossy_bytes[i]});
    v.push_back({lossy[i], {q_mode, g, "admm.quantize=\"q\"", "admm.wire.p=\"" + w + "\""}, 2400 + lossy_bytes[i]});
  }
  v.push_back({"codes", {q_mode, g, "admm.quantize=\"both\""}, 4800});
  return v;
}

TEST(QuantTraining, DualCopiesBitIdenticalForEveryCodec) {
  for (const CodecCase& cc : codec_cases()) {
    std::string label;
    for (const std::string& s : cc.sets) label += s + " ";
    SCOPED_TRACE(label);
    Config c = synthetic_config(with(kSmall, cc.sets));
    Problem p = build_problem(c);
    std::vector<HostMatrix<float>> W0, b0;
    init_weights(p.dims, c.model.init_std, 5, W0, b0);
    auto solver = make_solver(c, p, W0, b0);
    ASSERT_EQ(solver->num_groups(), 4);
    IterationStats st;
    for (int i = 0; i < 40; ++i) st = solver->iterate(false);
    ASSERT_EQ(st.boundary_bytes.size(), 3u);
    for (size_t bb : st.boundary_bytes) EXPECT_EQ(bb, cc.bytes_per_boundary);
    const bool qp = quantizes_p(c.admm.quantize), qq = quantizes_q(c.admm.quantize);
    for (int l = 0; l < 3; ++l) {
      HostMatrix<float> own = solver->download(l, "u"), copy = solver->dual_copy(l);
      EXPECT_TRUE(bit_equal(own, copy)) << "boundary after layer " << l;
      double norm = 0;
      for (float v : own.data) norm += double(v) * v;
      EXPECT_GT(norm, 0) << "the dual must have moved for this check to mean anything";
      if (qp) {
        EXPECT_TRUE(on_grid(c.admm.grid, solver->download(l + 1, "p"))) << "p of layer " << l + 1;
      }
      if (qq) {
        EXPECT_TRUE(on_grid(c.admm.grid, solver->download(l, "q"))) << "q of layer " << l;
      }
    }
  }
}

// A hidden W that overflowed, under -Q with p and q on the grid: relu(NaN) = 0 and the projections
// keep z, q and p finite, so the residual and the duals stay finite; the W step's ||W p + b - z||²
// (IterationStats::w_fit, checked every iteration by the trainer) is what shows it, at once.
TEST(QuantTraining, AnOverflowedWeightShowsInTheNextIteration) {
  const std::string g = "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 64}";
  Config c = synthetic_config(with(kSmall, {"algorithm=\"pdadmm-g-q\"", g, "admm.quantize=\"both\""}));
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  auto solver = make_solver(c, p, W0, b0);
  IterationStats st;
  for (int i = 0; i < 3; ++i) st = solver->iterate(false);
  ASSERT_TRUE(std::isfinite(st.w_fit));
  EXPECT_GT(st.w_fit, 0);
  HostMatrix<float> w = solver->download(1, "W");
  w.data[7] = std::numeric_limits<float>::infinity();
  solver->upload(1, "W", w);
  st = solver->iterate(false);
  EXPECT_TRUE(std::isfinite(st.residual)) << "the residual catches it here; this test is then about nothing";
  EXPECT_TRUE(std::isfinite(st.u_dot_r));
  EXPECT_FALSE(std::isfinite(st.w_fit));
}

// A p that overflowed (NaN or inf in one node's column) stops the run whatever the wire: an int8
// wire coded it as 0 or ±127 * scale on both sides, so with p on int8 (the shipped -Q configs) the
// iteration's residual, objective and W fit stayed finite while the same state in one group diverged.
TEST(QuantTraining, ANonFinitePCrossesEveryWireAsNonFinite) {
  const std::string q = "algorithm=\"pdadmm-g-q\"", g = "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 64}";
  const std::vector<std::vector<std::string>> cases = {
      {"admm.wire.p=\"fp32\""},
      {"admm.wire.p=\"int8\""},
      {"admm.wire.p=\"int8\"", "groups=1"},
      {q, g, "admm.quantize=\"q\"", "admm.wire.p=\"int8\"", "admm.wire.q=\"codes\""}};
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()})
    for (const auto& sets : cases) {
      Config c = synthetic_config(with(kSmall, sets));
      Problem p = build_problem(c);
      std::vector<HostMatrix<float>> W0, b0;
      init_weights(p.dims, c.model.init_std, 5, W0, b0);
      auto solver = make_solver(c, p, W0, b0);
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(std::isfinite(solver->iterate(false).residual));
      HostMatrix<float> pm = solver->download(2, "p");
      for (int64_t k = 0; k < pm.rows; ++k) pm.data[static_cast<size_t>(k * pm.cols + 5)] = bad;
      solver->upload(2, "p", pm);
      const IterationStats st = solver->iterate(true);
      EXPECT_FALSE(std::isfinite(st.residual) && std::isfinite(st.objective) && std::isfinite(st.w_fit))
          << bad << " with " << sets.back() << ": residual " << st.residual << ", objective " << st.objective;
    }
}

// With W = 0, u = 0 and the exact step (t = ρ), the projected p step lands on proj(q_in). From
// level -1 to every level of linspace(-1, 2, 1000): p + (cand - p) misses a third of them in
// float, so the step has to land on the level itself.
TEST(QuantTraining, ProjectedPStepLandsExactlyOnFarLevels) {
  CpuOps<float> ops(1);
  AdmmParams prm;
  prm.nu = 0.1;
  prm.rho = 0.5;
  prm.step = StepRule::Exact;
  prm.quantize = Quantize::P;
  prm.grid = reference_grid();
  const int64_t n_in = 1000, n_out = 3, n = 1;
  Layer<float> L;
  L.index = 1;
  L.n_in = n_in;
  L.n_out = n_out;
  for (Tensor<float>* t : {&L.W, &L.gw}) *t = ops.alloc(n_out, n_in);
  for (Tensor<float>* t : {&L.z, &L.wp, &L.a, &L.r, &L.gp, &L.wg}) *t = ops.alloc(n_out, n);
  L.b = ops.alloc(n_out, 1);
  for (Tensor<float>* t : {&L.p, &L.g, &L.d}) *t = ops.alloc(n_in, n);
  Tensor<float> q_in = ops.alloc(n_in, n), u_in = ops.alloc(n_in, n);
  L.x = &L.p;
  L.q_in = &q_in;
  L.u_in = &u_in;
  ops.fill(L.p, -1.0f);
  std::vector<float> levels(prm.grid.levels.begin(), prm.grid.levels.end());
  ops.upload(levels.data(), q_in);
  p_step(ops, L, prm);
  std::vector<float> got(static_cast<size_t>(n_in));
  ops.download(L.p, got.data());
  int missed = 0;
  for (int64_t i = 0; i < n_in; ++i) missed += std::memcmp(&got[i], &levels[i], sizeof(float)) != 0;
  EXPECT_EQ(missed, 0);
}

// Iterates a 4-layer, one-group -Q net on a grid whose step is not a power of two and checks that
// `what` of layers [first, first + 3) is on the grid afterwards, and that it moved at all.
void expect_stays_on_grid(const std::vector<std::string>& sets, const char* what, int first, int iterations) {
  Config c = synthetic_config(with(kSmall, with({"groups=1", "algorithm=\"pdadmm-g-q\"",
                                                 "admm.grid={\"min\": -0.3, \"max\": 1.7, \"levels\": 37}"},
                                                sets)));
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  auto solver = make_solver(c, p, W0, b0);
  std::vector<HostMatrix<float>> before;
  for (int l = first; l < first + 3; ++l) before.push_back(solver->download(l, what));
  for (int i = 0; i < iterations; ++i) solver->iterate(false);
  bool moved = false;
  for (int l = first; l < first + 3; ++l) {
    const HostMatrix<float> now = solver->download(l, what);
    EXPECT_TRUE(on_grid(c.admm.grid, now)) << what << " of layer " << l;
    moved = moved || !bit_equal(now, before[l - first]);
  }
  EXPECT_TRUE(moved) << what << " never left its starting levels, so the check means nothing";
}

// A step that is not a power of two: p + (proj(p - g/t) - p) is not always the level in float.
TEST(QuantTraining, ProjectedPStaysExactlyOnANonDyadicGrid) {
  expect_stays_on_grid({"admm.step=\"exact\""}, "p", 1, 30);
}

// admm.quantize "q": every hidden q stays on the grid after q steps, also where the next layer
// reads it inside the same group (only a neighbour group's copy goes through the codec, so an
// unprojected q would make the result depend on the grouping).
TEST(QuantTraining, QuantizedQStaysOnTheGrid) {
  expect_stays_on_grid({"admm.quantize=\"q\""}, "q", 0, 10);
}

TrainSummary train_synthetic(const std::string& dir, const std::vector<std::string>& sets,
                             const std::string& config = "synthetic") {
  Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/" + config + ".json", with({"groups=2"}, sets));
  c.output.progress = "off";
  c.output.checkpoint = false;
  c.threads = 1;
  c.output.dir = ::testing::TempDir() + "/" + dir;
  std::ostringstream log;
  TrainSummary s = train(c, log);
  // The ratio where a codec changed the bytes (an fp32 run's "1.00 x fewer" read as a saving).
  EXPECT_EQ(log.str().find(" than fp32 pdADMM-G") != std::string::npos, s.bytes_per_iter != s.bytes_per_iter_fp32)
      << log.str();
  EXPECT_NE(log.str().find(" across 1 boundary, "), std::string::npos) << log.str();
  return s;
}

// int8 sends a float scale per node beside the codes: with 1 hidden unit that is 5 bytes a value
// against fp32's 4, and the log says "x more", not "0.80 x fewer".
TEST(QuantTraining, AWireLargerThanFp32IsCalledMore) {
  Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json",
                         {"groups=2", "model.hidden=1", "admm.iterations=2", "admm.wire.p=\"int8\"",
                          "admm.wire.q=\"int8\""});
  c.output.progress = "off";
  c.output.checkpoint = false;
  c.threads = 1;
  c.output.dir = ::testing::TempDir() + "/pdadmm_q_int8_hidden1";
  std::ostringstream log;
  const TrainSummary s = train(c, log);
  EXPECT_EQ(s.bytes_per_iter, 2u * (4 + 1) * 100);  // q and p: a scale and a code for each of N = 100 nodes
  EXPECT_DOUBLE_EQ(s.bytes_ratio_fp32, 0.8);
  EXPECT_NE(log.str().find("(1.25 x more than fp32 pdADMM-G, 800 per iteration)"), std::string::npos) << log.str();
}

// The synthetic default (2 layers x 256, N = 100) in 2 groups: one boundary of 256 x 100.
TEST(QuantTraining, TrainsOnTheSyntheticDefaultLikePdadmmG) {
  const TrainSummary base = train_synthetic("pdadmm_q_base", {});
  // fp32 pdADMM-G: q forward and p backward, 256 x 100 floats each.
  EXPECT_EQ(base.bytes_per_iter, 2u * 256 * 100 * 4);
  EXPECT_EQ(base.bytes_per_iter_fp32, base.bytes_per_iter);
  EXPECT_DOUBLE_EQ(base.bytes_ratio_fp32, 1.0);
  // The runs below are held to within 0.01 of this one: it must itself have learnt, or a 2-group
  // run broken for every codec (all near chance, 0.20) would pass. 0.91 as in admm_training_test.
  EXPECT_GE(base.scores.test.acc, 0.91);
  EXPECT_LT(base.last_objective, 0.2 * base.first_objective);
  // Both tensors on 16 uniform levels over [0, 2]: 4-bit codes both ways.
  const TrainSummary q = train_synthetic(
      "pdadmm_q_both", {"algorithm=\"pdadmm-g-q\"", "admm.quantize=\"both\"",
                        "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 16}"});
  EXPECT_EQ(q.bytes_per_iter, 2u * 256 * 100 * 4 / 8);
  EXPECT_EQ(q.bytes_per_iter_fp32, base.bytes_per_iter);
  EXPECT_DOUBLE_EQ(q.bytes_ratio_fp32, 8.0);
  EXPECT_LT(q.last_objective, 0.2 * q.first_objective);
  EXPECT_NEAR(q.scores.test.acc, base.scores.test.acc, 0.01);
  // p alone on the grid (the paper's variant), q as fp32: the residual has to shrink too.
  const TrainSummary qp = train_synthetic(
      "pdadmm_q_p", {"algorithm=\"pdadmm-g-q\"", "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 64}"});
  EXPECT_LT(qp.last_objective, 0.2 * qp.first_objective);
  EXPECT_LT(qp.last_residual, 0.1 * qp.first_residual);
  EXPECT_NEAR(qp.scores.test.acc, base.scores.test.acc, 0.01);
  // The ready config: q as 4-bit codes, p as int8 (256 x 100 codes + 100 fp32 scales).
  const TrainSummary ready = train_synthetic("pdadmm_q_ready", {}, "synthetic_q");
  EXPECT_EQ(ready.bytes_per_iter, 256u * 100 / 2 + 256 * 100 + 4 * 100);
  EXPECT_DOUBLE_EQ(ready.bytes_ratio_fp32, 204800.0 / 38800.0);
  EXPECT_LT(ready.last_objective, 0.2 * ready.first_objective);
  EXPECT_NEAR(ready.scores.test.acc, base.scores.test.acc, 0.01);
}

TEST(QuantTraining, ReadyConfigsSendCodedQAndInt8P) {
  // Code width per config: the grid each data set's validation accuracy chose (README).
  const std::pair<const char*, int> ready[] = {{"synthetic_q", 4},      {"cora_q", 6},
                                               {"citeseer_q", 5},       {"amazon_computers_q", 9},
                                               {"amazon_photo_q", 8},   {"coauthor_cs_q", 8}};
  for (const auto& [name, bits] : ready) {
    SCOPED_TRACE(name);
    Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/" + name + ".json");
    EXPECT_EQ(c.admm.quantize, Quantize::Q);
    EXPECT_EQ(c.admm.grid.bits(), bits);
    EXPECT_EQ(c.admm.wire_p.format, WireFormat::Int8);
    EXPECT_EQ(c.admm.wire_q.format, WireFormat::Codes);
    EXPECT_EQ(c.groups, c.model.layers);
  }
}

// One line naming the key at fault.
void expect_rejected(const std::vector<std::string>& sets, const std::string& key) {
  std::string label;
  for (const std::string& s : sets) label += s + " ";
  SCOPED_TRACE(label);
  try {
    parse_config(nlohmann::json::object(), sets);
    ADD_FAILURE() << "accepted; expected an error naming " << key;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(key), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(QuantTraining, BadConfigsNameTheKey) {
  const std::string q = "algorithm=\"pdadmm-g-q\"";
  expect_rejected({q, "admm.grid=[0, 2, 1]"}, "admm.grid[2]");
  expect_rejected({q, "admm.grid={\"values\": [0, 1, 1]}"}, "admm.grid.values[2]");
  // 2 <= m <= 65536: codes are 1 to 16 bits wide (the "m > 256" example reads as this bound).
  expect_rejected({q, "admm.grid={\"min\": 0, \"max\": 1, \"levels\": 65537}"}, "admm.grid.levels");
  expect_rejected({q, "admm.grid={\"min\": 0, \"max\": 1, \"levels\": 1}"}, "admm.grid.levels");
  expect_rejected({q, "admm.wire.p=\"fp8\""}, "admm.wire.p");
  expect_rejected({q, "admm.wire.q=\"int4\""}, "admm.wire.q");
  expect_rejected({q, "admm.quantize=\"r\""}, "admm.quantize");
  expect_rejected({q, "admm.quantize=\"none\""}, "admm.quantize");
  expect_rejected({"admm.quantize=\"p\""}, "admm.quantize");            // -Q key without -Q
  expect_rejected({q, "admm.wire.q=\"codes\""}, "admm.wire.q");        // q is not on Δ by default
  expect_rejected({"admm.wire.p=\"codes\""}, "admm.wire.p");           // nothing is on Δ
  // A tensor on Δ through a rounding codec would leave Δ (int8 turns level 1 of the paper grid
  // into 6 * 0.1575 = 0.945 on both sides).
  expect_rejected({q, "admm.wire.p=\"int8\""}, "admm.wire.p: \"int8\" would round p off the grid");
  expect_rejected({q, "admm.quantize=\"both\"", "admm.wire.p=\"fp16\""}, "admm.wire.p: \"fp16\"");
  expect_rejected({q, "admm.quantize=\"q\"", "admm.wire.q=\"bf16\""}, "admm.wire.q: \"bf16\" would round q");
  EXPECT_NO_THROW(parse_config(nlohmann::json::object(), {q, "admm.wire.p=\"fp32\"", "admm.wire.q=\"int8\""}));
  // The largest grid is fine and gives 16-bit codes.
  Config c = parse_config(nlohmann::json::object(), {q, "admm.grid={\"min\": 0, \"max\": 1, \"levels\": 65536}"});
  EXPECT_EQ(c.admm.grid.bits(), 16);
}

}  // namespace
}  // namespace pdadmm
