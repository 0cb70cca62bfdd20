// pdadmm bench: the modeled-time formula against hand-computed cases, the FLOP counter against
// the GEMMs the layer steps do (counted by hand from steps.cpp), and the bench JSON on a tiny config.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "host/admm/layer_plan.h"
#include "host/admm/trainer.h"
#include "host/admm/solver.h"
#include "host/backend/cpu_ops.h"
#include "host/bench/bench.h"
#include "host/bench/counting_ops.h"
#include "host/bench/link_model.h"
#include "host/io/error.h"
#include "host/quant/wire.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

TEST(LinkModel, TwoGroupsShareOneBoundary) {
  // 1 GB at 10 GB/s = 0.1 s, plus 2 messages x 5 us; the slower group decides.
  const Link l{"x", 10, 5};
  ModeledTime t = modeled_parallel({1.0, 2.0}, {1e9}, l);
  EXPECT_NEAR(t.comm_s[0], 0.10001, 1e-12);
  EXPECT_NEAR(t.comm_s[1], 0.10001, 1e-12);
  EXPECT_NEAR(t.seconds, 2.10001, 1e-12);
  EXPECT_EQ(t.critical_group, 1);
}

TEST(LinkModel, MiddleGroupPaysForBothBoundaries) {
  // 2 GB/s, no latency: boundaries cost 1 s and 2 s; group 1 has both: 1 + 3 = 4 s.
  const Link l{"x", 2, 0};
  ModeledTime t = modeled_parallel({1.0, 1.0, 1.5}, {2e9, 4e9}, l);
  EXPECT_DOUBLE_EQ(t.comm_s[0], 1.0);
  EXPECT_DOUBLE_EQ(t.comm_s[1], 3.0);
  EXPECT_DOUBLE_EQ(t.comm_s[2], 2.0);
  EXPECT_DOUBLE_EQ(t.seconds, 4.0);
  EXPECT_EQ(t.critical_group, 1);
}

TEST(LinkModel, ComputeCanDominateAndOneGroupHasNoCommunication) {
  const Link l{"x", 100, 2};
  ModeledTime t = modeled_parallel({5.0, 0.1, 0.1, 0.1}, {0, 0, 0}, l);  // latency only: 2 x 2 us per boundary
  EXPECT_NEAR(t.comm_s[0], 4e-6, 1e-15);
  EXPECT_NEAR(t.comm_s[1], 8e-6, 1e-15);
  EXPECT_NEAR(t.seconds, 5.0 + 4e-6, 1e-12);
  EXPECT_EQ(t.critical_group, 0);
  // A tie names the first of the tied groups.
  EXPECT_EQ(modeled_parallel({1.0, 1.0}, {0}, Link{"x", 1, 0}).critical_group, 0);
  ModeledTime one = modeled_parallel({0.25}, {}, l);
  EXPECT_DOUBLE_EQ(one.seconds, 0.25);
  EXPECT_DOUBLE_EQ(one.comm_s[0], 0.0);
}

TEST(LinkModel, BadInputIsAnError) {
  EXPECT_THROW(modeled_parallel({1.0, 1.0}, {}, Link{"x", 1, 0}), Error);
  EXPECT_THROW(modeled_parallel({}, {}, Link{"x", 1, 0}), Error);
  EXPECT_THROW(modeled_parallel({1.0}, {}, Link{"x", 0, 0}), Error);
}

TEST(LinkModel, PresetsAndCustomLinksParse) {
  for (const char* name : {"nvlink", "pcie4", "pcie5", "ib-hdr"}) {
    Link l = parse_link(name);
    EXPECT_EQ(l.name, name);
    EXPECT_GT(l.bandwidth_GBps, 0);
  }
  EXPECT_GT(parse_link("nvlink").bandwidth_GBps, parse_link("pcie5").bandwidth_GBps);
  // The presets behind the modeled speedups in docs/benchmarks.md (GB/s, microseconds).
  for (const auto& [name, gbps, us] : {std::tuple{"nvlink", 300.0, 3.0}, std::tuple{"pcie4", 25.0, 5.0},
                                       std::tuple{"pcie5", 50.0, 5.0}, std::tuple{"ib-hdr", 23.0, 3.0}}) {
    EXPECT_DOUBLE_EQ(parse_link(name).bandwidth_GBps, gbps) << name;
    EXPECT_DOUBLE_EQ(parse_link(name).latency_us, us) << name;
  }
  EXPECT_DOUBLE_EQ(parse_link("shm:100:0").latency_us, 0.0) << "a link without latency is valid";
  Link c = parse_link("eth100:12.5:10");
  EXPECT_EQ(c.name, "eth100");
  EXPECT_DOUBLE_EQ(c.bandwidth_GBps, 12.5);
  EXPECT_DOUBLE_EQ(c.latency_us, 10);
  EXPECT_DOUBLE_EQ(parse_link("slow:1e-9:0").bandwidth_GBps, 1e-9);
  for (const char* bad : {"nvlnk", "a:0:1", "a:x:1", "a:1:-1", ":1:1", "a:1", "a:1e-320:0", "a:1:1e308", "a:1e308:0", "a:1:nan"}) {
    try {
      parse_link(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(CountingOps, ForwardsAndCountsTwoMnkPerGemm) {
  CountingOps ops(std::make_unique<CpuOps<float>>(1), true);
  CpuOps<float> ref(1);
  // C (3x5) = Aᵀ (A stored 4x3) · B (4x5)
  std::vector<float> ha(12), hb(20), hc(15), hr(15);
  for (size_t i = 0; i < ha.size(); ++i) ha[i] = 0.5f * static_cast<float>(i) - 2;
  for (size_t i = 0; i < hb.size(); ++i) hb[i] = 0.25f * static_cast<float>(i % 7) - 1;
  Tensor<float> a = ops.alloc(4, 3), b = ops.alloc(4, 5), c = ops.alloc(3, 5);
  Tensor<float> ra = ref.alloc(4, 3), rb = ref.alloc(4, 5), rc = ref.alloc(3, 5);
  ops.upload(ha.data(), a);
  ops.upload(hb.data(), b);
  ref.upload(ha.data(), ra);
  ref.upload(hb.data(), rb);
  ops.gemm(true, false, 1.0f, a, b, 0.0f, c);
  ops.gemm(true, false, 1.0f, a, b, 1.0f, c);
  ref.gemm(true, false, 2.0f, ra, rb, 0.0f, rc);
  ops.download(c, hc.data());
  ref.download(rc, hr.data());
  for (size_t i = 0; i < hc.size(); ++i) EXPECT_FLOAT_EQ(hc[i], hr[i]);
  const OpCounters& k = ops.counters();
  EXPECT_EQ(k.gemm_calls, 2);
  EXPECT_DOUBLE_EQ(k.gemm_flops, 2 * 2.0 * 3 * 5 * 4);
  ASSERT_EQ(k.shapes.size(), 1u);
  const GemmShape& s = k.shapes.begin()->first;
  EXPECT_EQ(s.m, 3);
  EXPECT_EQ(s.n, 5);
  EXPECT_EQ(s.k, 4);
  EXPECT_TRUE(s.trans_a);
  EXPECT_FALSE(s.trans_b);
  EXPECT_GT(k.busy_s, 0);
  EXPECT_GE(k.busy_s, k.gemm_s);
}

// GEMM FLOPs of one iteration, read off steps.cpp: p step (l >= 1) Wᵀr and W g; W step direct
// r xᵀ and G x, or Gram (pᵀp unless layer 0) r K and the rank-N update r xᵀ. No refresh before
// iteration 50, and unquantized backtracking costs no GEMM (curvature is computed analytically).
// defer_first_w: layer 0's W step (on the Gram path) is r K alone; its update waits until W is read.
double hand_flops(const std::vector<int64_t>& dims, int64_t N, bool defer_first_w) {
  double f = 0;
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    const double mn = static_cast<double>(dims[l]) * static_cast<double>(dims[l + 1]), n = static_cast<double>(N);
    if (l > 0) f += 2 * 2 * mn * n;
    if (l == 0 && defer_first_w && layer_uses_gram(dims, 0, N)) {
      f += 2 * static_cast<double>(dims[1]) * n * n;
    } else if (layer_uses_gram(dims, static_cast<int>(l), N)) {
      if (l > 0) f += 2 * n * n * static_cast<double>(dims[l]);
      f += 2 * static_cast<double>(dims[l + 1]) * n * n + 2 * mn * n;
    } else {
      f += 2 * 2 * mn * n;
    }
  }
  return f;
}

// A 4-layer net small enough to count by hand: layer 0 takes the fixed-Gram path, layer 1 the
// Gram path, layers 2 and 3 the direct one.
struct SmallNet {
  std::vector<int64_t> dims = {40, 30, 12, 12, 3};
  int64_t N;
  HostMatrix<float> x, y;
  std::vector<HostMatrix<float>> W, b;
  explicit SmallNet(int64_t n = 6) : N(n), x(40, n), y(3, n) {
    for (int64_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<float>((i * 37) % 11) / 11.0f - 0.4f;
    for (int64_t j = 0; j < N; ++j) y(j % dims.back(), j) = 1;
    for (size_t l = 0; l + 1 < dims.size(); ++l) {
      W.emplace_back(dims[l + 1], dims[l]);
      b.emplace_back(dims[l + 1], 1);
      for (int64_t i = 0; i < W.back().size(); ++i) W.back().data[i] = static_cast<float>((i * 13) % 7) / 20.0f - 0.15f;
    }
  }
};

TEST(CountingOps, SolverIterationCountsTheGemmsOfTheLayerSteps) {
  const SmallNet net;
  const std::vector<int64_t>& dims = net.dims;
  const int64_t N = net.N;
  const auto &x = net.x, &y = net.y;
  const auto &W = net.W, &b = net.b;
  ASSERT_TRUE(layer_uses_gram(dims, 0, N));
  ASSERT_TRUE(layer_uses_gram(dims, 1, N));
  ASSERT_FALSE(layer_uses_gram(dims, 3, N));
  SolverSpec spec;
  spec.dims = dims;
  spec.n_cols = N;
  spec.groups = 2;
  for (bool defer : {true, false}) {
    AdmmParams prm;
    prm.defer_first_w = defer;
    std::vector<CountingOps*> ops;
    Solver<float> solver(spec, prm, x, y, W, b, [&](int) {
      auto o = std::make_unique<CountingOps>(std::make_unique<CpuOps<float>>(1), false);
      ops.push_back(o.get());
      return o;
    });
    for (int it = 0; it < 3; ++it) {
      for (CountingOps* o : ops) o->counters() = OpCounters{};
      IterationStats st = solver.iterate(false);
      double f = 0;
      for (CountingOps* o : ops) f += o->counters().gemm_flops;
      EXPECT_DOUBLE_EQ(f, hand_flops(dims, N, defer))
          << "defer " << defer << ", iteration " << it << ", backtracks W " << st.counts.w_backtracks;
      EXPECT_DOUBLE_EQ(f, plan_iteration_flops(dims, 0, 4, N, plan_options(prm))) << "what `info` prints";
    }
  }
}

// What `info` prints as each group's memory (plan_group_elements: the layers' tensors and the
// boundary copies; plan_wire_buffer_bytes: the two wire buffers) is what the solver allocates,
// counted at the Ops, for several groupings, both layer-1 modes and pdADMM-G-Q's encodings.
// A p sent backward through a lossy wire (fp16, bf16, int8) is rounded in place, so its group
// refreshes W p of its first layer (Group::exchange_p_send): one more GEMM per boundary every
// iteration, which the FLOPs `info` prints must hold too.
TEST(CountingOps, ALossyPWireAddsTheRefreshOfWpThatInfoCounts) {
  const SmallNet net;
  const std::vector<int64_t>& dims = net.dims;
  const int64_t N = net.N;
  SolverSpec spec;
  spec.dims = dims;
  spec.n_cols = N;
  spec.groups = 2;
  AdmmParams prm;
  prm.wire_p.format = WireFormat::Int8;
  std::vector<CountingOps*> ops;
  Solver<float> solver(spec, prm, net.x, net.y, net.W, net.b, [&](int) {
    auto o = std::make_unique<CountingOps>(std::make_unique<CpuOps<float>>(1), false);
    ops.push_back(o.get());
    return o;
  });
  ASSERT_EQ(solver.partition(), (std::vector<int>{2, 2}));
  const double refresh = 2.0 * static_cast<double>(dims[3] * dims[2] * N);  // W p of layer 2, group 1's first
  for (int it = 0; it < 3; ++it) {
    for (CountingOps* o : ops) o->counters() = OpCounters{};
    IterationStats st = solver.iterate(false);
    double f = 0;
    for (CountingOps* o : ops) f += o->counters().gemm_flops;
    ASSERT_EQ(st.counts.w_giveups + st.counts.p_giveups, 0);
    EXPECT_DOUBLE_EQ(f, hand_flops(dims, N, true) + refresh) << "iteration " << it;
    EXPECT_DOUBLE_EQ(f, plan_iteration_flops(dims, 0, 4, N, plan_options(prm)) +
                            plan_boundary_flops(dims, solver.partition(), N, prm, sizeof(float)))
        << "what `info` prints";
  }
}

// A solver on `net` split as `part`, each group's Ops counted (ops: the counters, group by group).
std::unique_ptr<Solver<float>> counted_solver(const SmallNet& net, const AdmmParams& prm, const std::vector<int>& part,
                                              std::vector<CountingOps*>& ops) {
  SolverSpec spec;
  spec.dims = net.dims;
  spec.n_cols = net.N;
  spec.partition = part;
  return std::make_unique<Solver<float>>(spec, prm, net.x, net.y, net.W, net.b, [&](int) {
    auto o = std::make_unique<CountingOps>(std::make_unique<CpuOps<float>>(1), false);
    ops.push_back(o.get());
    return o;
  });
}

// Each group's GEMM FLOPs of one iteration, one layer per group (so a group's count is its layer's).
std::vector<double> layer_flops(const SmallNet& net, const AdmmParams& prm, const std::vector<int>& part) {
  std::vector<CountingOps*> ops;
  const auto solver = counted_solver(net, prm, part, ops);
  solver->iterate(false);
  for (CountingOps* o : ops) o->counters() = OpCounters{};
  solver->iterate(false);
  std::vector<double> f;
  for (CountingOps* o : ops) f.push_back(o->counters().gemm_flops);
  return f;
}

// admm.gram = 0 (auto) takes, layer by layer, whichever W step the counted GEMMs of the forced
// ones (1: through pᵀp, -1: direct) show cheaper; layer 0's Gram matrix XᵀX is fixed and costs
// nothing per iteration. N = 30 is where that matters: layer 0's Gram step (2·30·30² + 2·30·40·30)
// beats the direct one (4·30·40·30), which it would not if XᵀX were counted.
TEST(CountingOps, AutoGramTakesTheCheaperWStepOfEachLayer) {
  for (int64_t N : {6, 30}) {
    const SmallNet net(N);
    std::vector<std::vector<double>> f;
    for (int gram : {1, -1, 0}) {
      AdmmParams prm;
      prm.defer_first_w = false;
      prm.gram = gram;
      f.push_back(layer_flops(net, prm, {1, 1, 1, 1}));
    }
    const std::vector<double>& gram = f[0];
    const std::vector<double>& direct = f[1];
    const std::vector<double>& automatic = f[2];
    ASSERT_EQ(automatic.size(), 4u);
    for (size_t l = 0; l < 4; ++l) {
      EXPECT_GT(gram[l], 0) << "N " << N << " layer " << l;
      EXPECT_EQ(automatic[l], std::min(gram[l], direct[l])) << "N " << N << ", layer " << l << ": Gram " << gram[l]
                                                            << ", direct " << direct[l];
    }
    if (N == 30) {
      EXPECT_LT(gram[0], direct[0]) << "the case this test is for";
      EXPECT_LT(direct[1], gram[1]) << "a hidden layer's pᵀp changes the choice";
    }
  }
}

// Under a lossy p wire each later group refreshes W p of its own first layer: what `info` adds
// (plan_boundary_flops) is that GEMM of each boundary's layer, not of a square of its width. The
// partition 1 | 2 | 1 puts boundaries at layers 1 (12 x 30) and 3 (3 x 12).
TEST(CountingOps, BoundaryFlopsAreTheRefreshOfEachLaterGroupsFirstLayer) {
  const SmallNet net;
  const std::vector<int> part = {1, 2, 1};
  AdmmParams fp32, int8;
  int8.wire_p.format = WireFormat::Int8;
  const std::vector<double> plain = layer_flops(net, fp32, part), lossy = layer_flops(net, int8, part);
  double extra = 0;
  for (size_t g = 0; g < part.size(); ++g) extra += lossy[g] - plain[g];
  EXPECT_DOUBLE_EQ(extra, 2.0 * (12 * 30 + 3 * 12) * static_cast<double>(net.N));
  EXPECT_DOUBLE_EQ(plan_boundary_flops(net.dims, part, net.N, int8, sizeof(float)), extra);
  EXPECT_EQ(plan_boundary_flops(net.dims, part, net.N, fp32, sizeof(float)), 0.0);
}

TEST(CountingOps, InfoMemoryPlanIsWhatTheSolverAllocates) {
  const SmallNet net;
  const std::vector<int64_t>& dims = net.dims;
  const int64_t N = net.N;
  const std::vector<std::vector<std::string>> variants = {
      {},
      {"admm.defer_first_w=false"},
      {"algorithm=\"pdadmm-g-q\"", "admm.quantize=\"q\"", "admm.wire.q=\"codes\"", "admm.wire.p=\"int8\""},
      {"algorithm=\"pdadmm-g-q\"", "admm.quantize=\"p\"", "admm.wire.p=\"codes\"", "admm.wire.q=\"fp16\""}};
  for (const std::vector<int>& part : {std::vector<int>{4}, {2, 2}, {1, 2, 1}, {1, 1, 1, 1}})
    for (const std::vector<std::string>& sets : variants) {
      const AdmmParams prm = parse_config(nlohmann::json::object(), sets).admm;
      const bool defer = prm.defer_first_w;
      std::vector<CountingOps*> ops;
      const auto solver = counted_solver(net, prm, part, ops);
      ASSERT_EQ(ops.size(), part.size());
      int first = 0;
      for (size_t g = 0; g < part.size(); ++g) {
        EXPECT_EQ(static_cast<double>(ops[g]->counters().alloc_elements),
                  plan_group_elements(dims, first, first + part[g], N, plan_options(prm)))
            << "group " << g << " of " << part.size() << ", defer " << defer << ", " << sets.size() << " sets";
        // Group sizes its two wire buffers with the same function; what this checks is that they are
        // all it allocates, and (fp32) that size worked out by hand: the wider boundary, N fp32 columns.
        const int64_t wire = ops[g]->counters().alloc_bytes;
        EXPECT_EQ(wire, 2 * static_cast<int64_t>(plan_wire_buffer_bytes(dims, first, first + part[g], N, prm, 4)))
            << "group " << g << " of " << part.size() << ", " << sets.size() << " sets";
        if (prm.quantize == Quantize::None) {
          int64_t widest = 0;
          if (first > 0) widest = dims[first];
          if (first + part[g] < 4) widest = std::max(widest, dims[first + part[g]]);
          EXPECT_EQ(wire, 2 * widest * N * 4) << "group " << g << " of " << part.size();
        }
        first += part[g];
      }
    }
}

Config tiny_config(const std::vector<std::string>& extra) {
  std::vector<std::string> sets = {"data.synthetic.nodes=300", "data.synthetic.val=50", "data.synthetic.test=50",
                                   "data.synthetic.features=20", "model.hidden=24", "model.layers=4", "groups=2"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return parse_config(nlohmann::json::object(), sets);
}

bool positive_finite(const nlohmann::json& v) {
  return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0;
}

void expect_complete(const nlohmann::json& j, int groups, bool roofline) {
  for (const char* k : {"median", "min", "max", "mean"})
    EXPECT_TRUE(positive_finite(j["seconds_per_iter"][k])) << k << ": " << j["seconds_per_iter"];
  EXPECT_LE(j["seconds_per_iter"]["min"].get<double>(), j["seconds_per_iter"]["median"].get<double>());
  EXPECT_TRUE(positive_finite(j["cpu_seconds_per_iter"]["median"])) << j["cpu_seconds_per_iter"];
  EXPECT_LE(j["seconds_per_iter"]["median"].get<double>(), j["seconds_per_iter"]["max"].get<double>());
  ASSERT_EQ(j["group_stats"].size(), static_cast<size_t>(groups));
  double flops = 0, max_compute = 0;
  for (const auto& g : j["group_stats"]) {
    for (const char* k : {"compute_s", "busy_s", "busy_cpu_s", "gemm_s", "gemm_flops"})
      EXPECT_TRUE(positive_finite(g[k])) << k << g;
    EXPECT_TRUE(g["wait_s"].is_number() && g["wait_s"].get<double>() >= 0) << g;
    flops += g["gemm_flops"].get<double>();
    max_compute = std::max(max_compute, j["serialize"].get<bool>() ? g["busy_s"].get<double>() : g["compute_s"].get<double>());
  }
  EXPECT_DOUBLE_EQ(j["gemm_flops_per_iter"].get<double>(), flops);
  const int64_t N = j["n_cols"];
  EXPECT_DOUBLE_EQ(flops, hand_flops(j["dims"].get<std::vector<int64_t>>(), N, true));
  ASSERT_EQ(j["boundary_bytes"].size(), static_cast<size_t>(groups - 1));
  for (const auto& b : j["boundary_bytes"]) EXPECT_EQ(b.get<int64_t>(), 2 * 24 * N * 4);  // p + q, fp32
  EXPECT_EQ(j["bytes_per_iter"].get<int64_t>(), (groups - 1) * 2 * 24 * N * 4);
  // fp32 on the wire: the yardstick is the bytes themselves.
  EXPECT_EQ(j["bytes_per_iter_fp32"], j["bytes_per_iter"]);
  // One group moves nothing: no ratio (null), where 0.0 read as infinitely more bytes than fp32.
  if (groups > 1)
    EXPECT_DOUBLE_EQ(j["bytes_ratio_fp32"].get<double>(), 1.0);
  else
    EXPECT_TRUE(j["bytes_ratio_fp32"].is_null()) << j["bytes_ratio_fp32"];
  EXPECT_EQ(j["model_compute"], j["serialize"].get<bool>() ? "busy_s" : "compute_s");
  EXPECT_TRUE(positive_finite(j["gflops"]));
  EXPECT_FALSE(j["gemm_shapes"].empty());
  // The arithmetic behind the summary fields, recomputed from the fields it starts from.
  std::vector<double> all = j["seconds_all"].get<std::vector<double>>();
  ASSERT_EQ(all.size(), j["iterations"].get<size_t>());
  std::sort(all.begin(), all.end());
  const size_t n = all.size();
  const double median = n % 2 ? all[n / 2] : 0.5 * (all[n / 2 - 1] + all[n / 2]);
  EXPECT_DOUBLE_EQ(j["seconds_per_iter"]["median"].get<double>(), median);
  EXPECT_NEAR(j["gflops"].get<double>(), flops / median / 1e9, 1e-9 * j["gflops"].get<double>()) << "GFLOP/s from the median";
  double shape_flops = 0;
  for (const auto& sh : j["gemm_shapes"]) {
    const double one = 2.0 * sh["m"].get<double>() * sh["n"].get<double>() * sh["k"].get<double>();
    EXPECT_DOUBLE_EQ(sh["calls_per_iter"].get<double>() * one, sh["flops_per_iter"].get<double>()) << sh;
    shape_flops += sh["flops_per_iter"].get<double>();
  }
  EXPECT_NEAR(shape_flops, flops, 1e-9 * flops) << "the shapes add up to the iteration's GEMM FLOPs";
  const bool serial = j["serialize"].get<bool>();
  for (const auto& [which, key] : {std::pair{"modeled", serial ? "busy_s" : "compute_s"},
                                   std::pair{"modeled_min", serial ? "busy_min_s" : "compute_min_s"}})
    for (const auto& [link, m] : j[which].items()) {
      double worst = 0;
      for (size_t g = 0; g < j["group_stats"].size(); ++g)
        worst = std::max(worst, j["group_stats"][g][key].get<double>() + m["comm_s"][g].get<double>());
      EXPECT_DOUBLE_EQ(m["seconds_per_iter"].get<double>(), worst) << which << " " << link << " from " << key;
    }
  // CPU time summed over a group's threads is not its wall time: that model needs one thread each.
  EXPECT_EQ(j.contains("modeled_cpu"), j["threads_per_group"].get<int>() == 1) << j["threads_per_group"];
  // The presets in their order, here first (the objects sort by name; sweep.py's columns follow this).
  ASSERT_GE(j["links"].size(), 4u);
  EXPECT_EQ(std::vector<std::string>(j["links"].begin(), j["links"].begin() + 4),
            (std::vector<std::string>{"nvlink", "pcie4", "pcie5", "ib-hdr"}));
  for (const char* link : {"nvlink", "pcie4", "pcie5", "ib-hdr"}) {
    ASSERT_TRUE(j["modeled"].contains(link)) << link;
    EXPECT_TRUE(positive_finite(j["modeled"][link]["seconds_per_iter"]));
    EXPECT_GE(j["modeled"][link]["seconds_per_iter"].get<double>(), max_compute);
  }
  EXPECT_TRUE(positive_finite(j["setup_seconds"]));
  // The model's tensors are allocated and written (zeroed at least): resident, so the peak covers them.
  const Config c = parse_config(j["config"]);
  EXPECT_GE(j["peak_rss_bytes"].get<double>(), planned_host_bytes(c, j["dims"].get<std::vector<int64_t>>(),
                                                                   j["training_columns"].get<int64_t>()));
  EXPECT_FALSE(j["machine"]["cpu_model"].get<std::string>().empty());
  EXPECT_GE(j["machine"]["cores"].get<int>(), 1);
  EXPECT_TRUE(j["machine"]["openblas"].contains("config"));
  EXPECT_EQ(j["machine"]["host_codecs"], host_codecs_build());
  if (roofline) {
    const auto& r = j["roofline"];
    EXPECT_TRUE(positive_finite(r["peak_gflops"]));
    EXPECT_TRUE(positive_finite(r["fraction_of_peak"]));
    EXPECT_GT(r["coverage"].get<double>(), 0.5);
    for (const auto& s : r["shapes"]) EXPECT_TRUE(positive_finite(s["peak_gflops"])) << s;
  }
}

// Every key is named in docs/benchmarks.md, at any depth; below `config` (README's table) and
// the link names the user chose there is nothing to look up.
void expect_documented(const nlohmann::json& j, const std::string& doc, const std::string& at = "") {
  if (j.is_array()) {
    for (const nlohmann::json& e : j) expect_documented(e, doc, at + "[]");
    return;
  }
  if (!j.is_object()) return;
  const bool links = at == "modeled" || at == "modeled_min" || at == "modeled_cpu";
  for (const auto& [key, value] : j.items()) {
    if (!links) {
      EXPECT_NE(doc.find("`" + key + "`"), std::string::npos) << at << "." << key << " is not in docs/benchmarks.md";
    }
    if (key != "config") expect_documented(value, doc, at.empty() ? key : at + "." + key);
  }
}

TEST(Bench, JsonHasEveryFieldWithPositiveFiniteValues) {
  BenchOptions o;
  o.iterations = 2;
  o.peak_seconds = 0.002;
  std::ostringstream log;
  nlohmann::json j = run_bench(tiny_config({}), o, log);
  expect_complete(j, 2, true);
  expect_documented(j, test::slurp(std::string(PDADMM_SOURCE_DIR) + "/docs/benchmarks.md"));
  EXPECT_NE(log.str().find("s/iteration"), std::string::npos) << log.str();
}

TEST(Bench, SerialisedGroupsReportTheirOwnBusyTime) {
  BenchOptions o;
  o.iterations = 2;
  o.serialize = true;
  o.peak = false;
  o.links = {parse_link("nvlink"), parse_link("pcie4"), parse_link("pcie5"), parse_link("ib-hdr"),
             parse_link("slow:0.001:100")};
  std::ostringstream log;
  nlohmann::json j = run_bench(tiny_config({"model.layers=3", "groups=3"}), o, log);
  expect_complete(j, 3, false);
  EXPECT_FALSE(j.contains("roofline"));
  // 1 MB/s: the 2 x 24 x N x 4 byte boundaries dominate, and the middle group pays for both.
  EXPECT_EQ(j["modeled"]["slow"]["critical_group"], 1);
  EXPECT_EQ(j["links"].back(), "slow");
  EXPECT_GT(j["modeled"]["slow"]["seconds_per_iter"].get<double>(), j["modeled"]["nvlink"]["seconds_per_iter"].get<double>());
}

TEST(Bench, TwoThreadsPerGroupHaveNoCpuTimeModel) {
  BenchOptions o;
  o.iterations = 3;
  o.peak = false;
  std::ostringstream log;
  nlohmann::json j = run_bench(tiny_config({"groups=2", "threads=4"}), o, log);
  ASSERT_EQ(j["threads_per_group"], 2);
  expect_complete(j, 2, false);
}

// A step that gave up did no update: the JSON says how many per iteration (here every layer's W).
TEST(Bench, CountsTheStepsThatGaveUp) {
  BenchOptions o;
  o.iterations = 2;
  o.peak = false;
  std::ostringstream log;
  const nlohmann::json moved = run_bench(tiny_config({}), o, log);
  EXPECT_EQ(moved["giveups_per_iter"]["W"].get<double>(), 0.0) << moved["giveups_per_iter"];
  const nlohmann::json stuck = run_bench(tiny_config({"admm.t0=1e-9", "admm.max_backtracks=0"}), o, log);
  EXPECT_EQ(stuck["giveups_per_iter"]["W"].get<double>(), stuck["dims"].size() - 1.0) << stuck["giveups_per_iter"];
}

TEST(Bench, BadOptionsAreErrors) {
  BenchOptions o;
  o.iterations = 0;
  std::ostringstream log;
  EXPECT_EQ(test::error_of([&] { run_bench(tiny_config({}), o, log); }), "bench: --iterations must be >= 1 (got 0)");
  o.iterations = 1;
  o.warmup = -1;
  EXPECT_EQ(test::error_of([&] { run_bench(tiny_config({}), o, log); }), "bench: --warmup must be >= 0 (got -1)");
  // More iterations than their timings have room for (2^31 - 1 x 64 groups: 7 TiB): named as the
  // option, before setup, not as "out of memory (try fewer nodes, a smaller model ...)" after it.
  o.warmup = 0;
  o.iterations = 2147483647;
  const std::string e = test::error_of([&] { run_bench(tiny_config({"model.layers=64", "groups=64"}), o, log); });
  EXPECT_EQ(e.rfind("bench: --iterations 2147483647: the timings of 64 group(s) per iteration need ", 0), 0u) << e;
  EXPECT_NE(e.find(" is available (time fewer iterations)"), std::string::npos) << e;
}

// `pdadmm train`'s times: summary.json's mean and median follow from the per-iteration seconds
// (metrics.jsonl, every iteration logged); an even count's median is the mean of the middle two.
TEST(TrainTimes, SummaryStatsFollowFromTheIterations) {
  for (int iterations : {4, 3}) {
    Config c = tiny_config({"admm.iterations=" + std::to_string(iterations)});
    c.output.log_every = 1;
    c.output.progress = "off";
    c.output.checkpoint = false;
    c.output.dir = ::testing::TempDir() + "/train_times_" + std::to_string(iterations);
    std::ostringstream log;
    train(c, log);
    std::vector<double> s;
    std::istringstream in(test::slurp(c.output.dir + "/metrics.jsonl"));
    for (std::string l; std::getline(in, l);) s.push_back(nlohmann::json::parse(l)["seconds"].get<double>());
    ASSERT_EQ(s.size(), static_cast<size_t>(iterations));
    const nlohmann::json sum = test::read_json(c.output.dir + "/summary.json");
    double mean = 0;
    for (double x : s) mean += x / iterations;
    std::sort(s.begin(), s.end());
    const double median = iterations % 2 ? s[iterations / 2] : 0.5 * (s[iterations / 2 - 1] + s[iterations / 2]);
    EXPECT_DOUBLE_EQ(sum["seconds_per_iter_median"].get<double>(), median) << iterations << " iterations";
    EXPECT_NEAR(sum["seconds_per_iter_mean"].get<double>(), mean, 1e-12 * mean) << iterations << " iterations";
    EXPECT_GT(sum["eval_seconds"].get<double>(), 0.0);
  }
}

// A run of no iterations still evaluates the model once: eval_seconds counts that evaluation.
TEST(TrainTimes, TheEvaluationOfARunWithoutIterationsIsTimed) {
  Config c = tiny_config({"admm.iterations=0"});
  c.output.progress = "off";
  c.output.checkpoint = false;
  c.output.dir = ::testing::TempDir() + "/train_times_0";
  std::ostringstream log;
  train(c, log);
  const nlohmann::json sum = test::read_json(c.output.dir + "/summary.json");
  EXPECT_EQ(sum["iterations"], 0);
  EXPECT_GT(sum["test"]["nodes"].get<int>(), 0);
  EXPECT_GT(sum["eval_seconds"].get<double>(), 0.0) << "the final evaluation ran but was not timed";
  EXPECT_LE(sum["eval_seconds"].get<double>(), sum["seconds_total"].get<double>());
  // The time line gives no s/iteration figure for a run of none.
  EXPECT_NE(log.str().find("\ntime: no iterations (evaluation "), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("\nbytes moved: none (no iterations run)\n"), std::string::npos) << log.str();
  // One group: nothing crosses (it said "0 per iteration across 0 boundaries").
  c.iterations = 2;
  c.groups = 1;
  c.output.dir += "_one_group";
  std::ostringstream one;
  train(c, one);
  EXPECT_NE(one.str().find("\nbytes moved: none (1 group: nothing crosses a boundary)\n"), std::string::npos) << one.str();
  EXPECT_EQ(log.str().find("s/iteration"), std::string::npos) << log.str();
}

// Building a later growth stage is outside every iteration's time: summary.json's stage_seconds
// holds it (zero without stages), and the whole run's time covers it.
TEST(TrainTimes, StageChangesAreTimedApart) {
  for (const bool staged : {false, true}) {
    Config c = tiny_config(staged ? std::vector<std::string>{"model.layers=4", "admm.iterations=4",
                                                             "model.stages=[{\"layers\":2,\"iterations\":2},"
                                                             "{\"layers\":4,\"iterations\":2}]"}
                                  : std::vector<std::string>{"admm.iterations=4"});
    c.output.progress = "off";
    c.output.checkpoint = false;
    c.output.dir = ::testing::TempDir() + "/train_times_stages_" + std::to_string(staged);
    std::ostringstream log;
    train(c, log);
    const nlohmann::json sum = test::read_json(c.output.dir + "/summary.json");
    if (!staged) {
      EXPECT_EQ(sum["stage_seconds"].get<double>(), 0.0);
      EXPECT_EQ(log.str().find("stage changes"), std::string::npos) << log.str();
      continue;
    }
    EXPECT_GT(sum["stage_seconds"].get<double>(), 0.0);
    EXPECT_LT(sum["stage_seconds"].get<double>(), sum["seconds_total"].get<double>());
    EXPECT_NE(log.str().find(", stage changes "), std::string::npos) << log.str();
  }
}

// A staged run's summary.json has each stage's median s/iteration (the whole run's median was
// the most numerous stage's), from the seconds metrics.jsonl logs; one stage, no list.
TEST(TrainTimes, EachStagesMedianFollowsFromItsIterations) {
  Config c = tiny_config({"model.layers=4", "admm.iterations=8",
                          "model.stages=[{\"layers\":2,\"iterations\":5},{\"layers\":4,\"iterations\":3}]"});
  c.output.log_every = 1;
  c.output.progress = "off";
  c.output.checkpoint = false;
  c.output.dir = ::testing::TempDir() + "/train_times_stage_medians";
  std::ostringstream log;
  train(c, log);
  std::vector<double> s;
  std::istringstream in(test::slurp(c.output.dir + "/metrics.jsonl"));
  for (std::string l; std::getline(in, l);) s.push_back(nlohmann::json::parse(l)["seconds"].get<double>());
  ASSERT_EQ(s.size(), 8u);
  std::sort(s.begin(), s.begin() + 5);
  std::sort(s.begin() + 5, s.end());
  const nlohmann::json st = test::read_json(c.output.dir + "/summary.json")["stages"];
  ASSERT_EQ(st.size(), 2u) << st.dump();
  EXPECT_EQ(st[0]["layers"], 2);
  EXPECT_EQ(st[0]["iterations"], 5);
  EXPECT_DOUBLE_EQ(st[0]["seconds_per_iter_median"].get<double>(), s[2]);
  EXPECT_EQ(st[1]["layers"], 4);
  EXPECT_EQ(st[1]["iterations"], 3);
  EXPECT_DOUBLE_EQ(st[1]["seconds_per_iter_median"].get<double>(), s[6]);
  c.model.stages.clear();
  c.output.dir += "_one";
  train(c, log);
  EXPECT_FALSE(test::read_json(c.output.dir + "/summary.json").contains("stages"));
}

using Result = pdadmm::test::CommandResult;
using test::expect_one_line_error;

Result run(const std::string& args) { return pdadmm::test::run_command(std::string(PDADMM_BINARY) + " " + args); }

const std::string kTiny =
    " --set data.synthetic.nodes=300 --set data.synthetic.val=50 --set data.synthetic.test=50"
    " --set data.synthetic.features=20 --set model.hidden=24 --set model.layers=4 --set groups=2";

TEST(BenchCli, WritesTheJson) {
  const std::string out = ::testing::TempDir() + "/bench_cli.json";
  std::remove(out.c_str());
  Result r = run("bench" + kTiny + " -n 2 --warmup 0 --no-peak --link nvlink --link eth:12.5:10 --json " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("bench: wrote"), std::string::npos) << r.out;
  std::ifstream f(out);
  ASSERT_TRUE(f.good());
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["iterations"], 2);
  EXPECT_EQ(j["modeled"].size(), 2u);
  EXPECT_TRUE(j["modeled"].contains("eth"));
}

// Without --json: the text lines alone, exit 0 ("--json is required" refused a quick look).
TEST(BenchCli, WithoutJsonPrintsTheTextLines) {
  Result r = run("bench" + kTiny + " -n 2 --warmup 0 --no-peak");
  ASSERT_EQ(r.code, 0) << r.out;
  // One group: nothing crosses (it said "0 bytes per iteration across 0 boundaries").
  const Result one = run("bench" + kTiny + " --set groups=1 -n 1 --warmup 0 --no-peak");
  ASSERT_EQ(one.code, 0) << one.out;
  EXPECT_NE(one.out.find("bench: no bytes moved (1 group: nothing crosses a boundary); modeled"), std::string::npos)
      << one.out;
  EXPECT_NE(r.out.find(" s/iteration (median of 2;"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("bench: wrote"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('{'), std::string::npos) << r.out;
}

// A staged config is timed as train runs its last stage: that stage's nu, rho, mu and step (admm.*
// timed Coauthor CS's backtracking where its last stage takes exact steps); model.stages=[] times
// admm.* at any model.layers.
TEST(BenchCli, AStagedConfigIsTimedWithItsLastStagesSettings) {
  const std::string stages = " --set 'model.stages=[{\"layers\":2,\"iterations\":2},{\"layers\":4,\"iterations\":2,"
                             "\"nu\":0.25,\"rho\":2,\"step\":\"exact\"}]'";
  const std::string json = ::testing::TempDir() + "/bench_stages.json";
  Result r = run("bench" + kTiny + stages + " -n 1 --warmup 0 --no-peak --json " + json);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("bench: the last of 2 growth stages, with its nu 0.25, rho 2, mu "), std::string::npos) << r.out;
  const nlohmann::json j = test::read_json(json);
  EXPECT_EQ(j["layers"], 4);
  EXPECT_EQ(j["config"]["admm"]["nu"], 0.25) << "the JSON's config is the one timed";
  EXPECT_EQ(j["config"]["admm"]["step"], "exact");
  EXPECT_EQ(j["config"]["model"]["stages"], nlohmann::json::array());
  Result none = run("bench" + kTiny + " --set model.layers=3 --set 'model.stages=[]' -n 1 --warmup 0 --no-peak");
  ASSERT_EQ(none.code, 0) << none.out;
  EXPECT_EQ(none.out.find("growth stages"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("bench: 3 layers x 24"), std::string::npos) << none.out;
  // The threads the timings are of, in the text too (they were only in --json).
  Result two = run("bench" + kTiny + " --set threads=2 --set groups=2 -n 1 --warmup 0 --no-peak");
  ASSERT_EQ(two.code, 0) << two.out;
  EXPECT_NE(two.out.find(", 2 group(s), backend cpu, 2 thread(s) (1 per group)\n"), std::string::npos) << two.out;
  // Dropping the stages keeps the config's own model.layers (it fell to the default 2).
  const std::string staged = ::testing::TempDir() + "/bench_staged.json";
  std::ofstream(staged) << R"({"model": {"layers": 4, "hidden": 24, "stages": [{"layers": 2, "iterations": 1},
    {"layers": 4, "iterations": 1}]}, "data": {"synthetic": {"nodes": 300, "val": 50, "test": 50, "features": 20}}})";
  Result kept = run("bench --config " + staged + " --set 'model.stages=[]' -n 1 --warmup 0 --no-peak");
  ASSERT_EQ(kept.code, 0) << kept.out;
  EXPECT_NE(kept.out.find("bench: 4 layers x 24"), std::string::npos) << kept.out;
}

// One thread's iterations: the process's CPU time is that thread's, so not above the wall time
// (other processes can only lower CPU time against wall time). OpenBLAS's server threads spin for
// ~0.1 s after the library loads; a bench this short used to count that spin (CPU up to 2x the
// wall, in most runs).
TEST(BenchCli, OneThreadsCpuTimeIsNotAboveItsWallTime) {
  const std::string out = ::testing::TempDir() + "/bench_cli_cpu.json";
  std::remove(out.c_str());
  Result r = run("bench" + kTiny + " --set groups=1 --set threads=1 -n 20 --warmup 1 --no-peak --json " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(test::slurp(out));
  const double cpu = j["cpu_seconds_per_iter"]["median"].get<double>(), wall = j["seconds_per_iter"]["median"].get<double>();
  EXPECT_LE(cpu, 1.3 * wall) << "cpu " << cpu << " s, wall " << wall << " s per iteration";
}

// A device is written to as eval's --predictions is: --json /dev/stdout passed the check before the
// run and was refused after it ("not a regular file"), the results lost.
TEST(BenchCli, ADeviceIsWrittenTo) {
  const Result r = run("bench" + kTiny + " -n 1 --warmup 0 --no-peak --link nvlink --json /dev/stdout");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"iterations\": 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bench: wrote /dev/stdout"), std::string::npos) << r.out;
  // stdout redirected to a file: /dev/stdout leads to that regular file. The JSON goes through
  // stdout, after the text lines before it and before the last (on stderr, here the same file); the
  // rename replaced /dev/stdout itself, as root, with a regular file: every later process's
  // /dev/stdout was that file.
  const std::string file = ::testing::TempDir() + "/bench_redirected.txt";
  const Result redirected = run("bench" + kTiny + " -n 1 --warmup 0 --no-peak --link nvlink --json /dev/stdout > " + file);
  ASSERT_EQ(redirected.code, 0) << redirected.out;
  EXPECT_TRUE(std::filesystem::is_symlink("/dev/stdout"));
  const std::string text = pdadmm::test::slurp(file);
  const size_t json = text.find("{\n"), end = text.find("\n}\n"), wrote = text.find("bench: wrote /dev/stdout\n");
  ASSERT_NE(json, std::string::npos) << text;
  EXPECT_LT(text.find("bench: 4 layers"), json) << text;
  EXPECT_EQ(nlohmann::json::parse(text.substr(json, end + 2 - json))["iterations"], 1);
  EXPECT_EQ(wrote, end + 3) << text;
  if (!std::filesystem::is_character_file("/dev/full")) return;
  const Result f = run("bench" + kTiny + " -n 1 --warmup 0 --no-peak --link nvlink --json /dev/full");
  EXPECT_EQ(f.code, 1) << f.out;
  EXPECT_NE(f.out.find("\nerror: bench: cannot write --json /dev/full: No space left on device\n"), std::string::npos)
      << f.out;
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));
}

// --json naming bench's own stdout: the JSON alone there (the text lines on stderr), so a pipe or a
// redirect gets JSON that parses; the text lines came before and after it. A link of this test's own
// to /proc/self/fd/1 stands for /dev/stdout with stdout a file, and stays a link.
TEST(BenchCli, JsonOnStdoutIsTheJsonAlone) {
  const std::string dir = ::testing::TempDir() + "/bench_stdout";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string link = dir + "/stdout";
  std::filesystem::create_symlink("/proc/self/fd/1", link);
  const std::string bench = std::string(PDADMM_BINARY) + " bench" + kTiny + " -n 1 --warmup 0 --no-peak --json ";
  for (const auto& [json, to] : {std::pair{std::string("/dev/stdout"), " | cat > "}, std::pair{link, " > "}}) {
    const Result r =
        pdadmm::test::run_command("(" + bench + json + " 2> " + dir + "/err.txt" + to + dir + "/out.json)");
    const std::string err = test::slurp(dir + "/err.txt");
    ASSERT_EQ(r.code, 0) << r.out << err;
    EXPECT_TRUE(std::filesystem::is_symlink(link)) << "the link was replaced";
    EXPECT_EQ(nlohmann::json::parse(test::slurp(dir + "/out.json"))["iterations"], 1) << json;
    EXPECT_NE(err.find("bench: wrote " + json), std::string::npos) << err;
  }
}

// --json - is stdout, as eval's --predictions -: it used to write a file named "-" in the current
// folder and print the text lines on stdout.
TEST(BenchCli, JsonDashIsStdout) {
  const std::string dir = ::testing::TempDir() + "/bench_dash";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const Result r = pdadmm::test::run_command("cd " + dir + " && " + std::string(PDADMM_BINARY) + " bench" + kTiny +
                                             " -n 1 --warmup 0 --no-peak --json - 2> err.txt | cat > out.json");
  const std::string err = test::slurp(dir + "/err.txt");
  ASSERT_EQ(r.code, 0) << r.out << err;
  EXPECT_EQ(nlohmann::json::parse(test::slurp(dir + "/out.json"))["iterations"], 1);
  EXPECT_NE(err.find("bench: 4 layers"), std::string::npos) << err;
  EXPECT_NE(err.find("bench: wrote the JSON to stdout"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/-"));
}

TEST(BenchCli, BadInputGivesOneClearLine) {
  const std::string out = " --json " + ::testing::TempDir() + "/bench_bad.json";
  // The reason, not only the value or key typed (any message about it held that).
  expect_one_line_error(run("bench" + kTiny + " --link warp9" + out),
                        "error: link \"warp9\": not a preset (nvlink, pcie4, pcie5, ib-hdr) nor "
                        "NAME:BANDWIDTH_GBPS:LATENCY_US");
  expect_one_line_error(run("bench" + kTiny + " -n 0" + out), "error: bench: --iterations must be >= 1 (got 0)");
  // Modeled times are keyed by link name: a second "slow" would overwrite the first's.
  expect_one_line_error(run("bench" + kTiny + " --link slow:0.001:100 --link slow:1000:0" + out), "slow is given twice");
  expect_one_line_error(run("bench" + kTiny + " --link nvlink --link nvlink:1:1" + out), "nvlink is given twice");
  expect_one_line_error(run("bench" + kTiny + " --set model.hidden=0" + out), "error: config: model.hidden: must be >= 1, got 0");
}

}  // namespace
}  // namespace pdadmm
