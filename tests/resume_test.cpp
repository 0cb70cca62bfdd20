// Resuming: a solver that loads another's saved state continues its run bit for bit, and the
// trainer's --resume ends with the bytes of the uninterrupted run (the CLI side is in cli_test).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "host/admm/trainer.h"
#include "host/io/error.h"
#include "host/io/state_file.h"

namespace pdadmm {
namespace {

Config small_config(const std::vector<std::string>& sets) {
  std::vector<std::string> all = {"model.layers=4", "model.hidden=32", "data.synthetic.nodes=600",
                                  "data.synthetic.val=100", "data.synthetic.test=200", "admm.refresh_every=4"};
  all.insert(all.end(), sets.begin(), sets.end());
  Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json", all);
  c.output.progress = "off";
  c.threads = 1;
  return c;
}

// Iterations [from, to) as the trainer would run them: terms on some, layer 1 anchored at
// iteration 2, ρ raised after iteration 6 (the state must carry all three).
void run(Solver<float>& s, int from, int to) {
  for (int i = from; i < to; ++i) {
    s.iterate(i % 3 == 0);
    if (i == 2) s.anchor_first_layer();
    if (i == 6) s.params().rho *= 2;
  }
}

void expect_same_state(Solver<float>& a, Solver<float>& b) {
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
void expect_resume_is_exact(const std::vector<std::string>& sets, const std::vector<int>& partition) {
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
    first.reset();
    auto resumed = make_solver(c, p, W1, b1);
    resumed->load_state(st);
    EXPECT_EQ(resumed->iteration(), k);
    run(*resumed, k, 14);
    SCOPED_TRACE("stopped at " + std::to_string(k));
    expect_same_state(*straight, *resumed);
  }
}

TEST(Resume, OneGroupContinuesBitForBit) { expect_resume_is_exact({}, {4}); }
TEST(Resume, SeveralGroupsContinueBitForBit) { expect_resume_is_exact({}, {1, 1, 2}); }
TEST(Resume, WithoutDeferredFirstLayerOrGram) {
  expect_resume_is_exact({"admm.defer_first_w=false", "admm.gram=on"}, {2, 2});
  expect_resume_is_exact({"admm.gram=off"}, {3, 1});
}
// -Q: q on the grid sent as codes, p as int8 (lossy: the copies hold decoded values); and both.
TEST(Resume, QuantizedWithALossyWireContinuesBitForBit) {
  expect_resume_is_exact({"algorithm=pdadmm-g-q", "admm.quantize=q", "admm.grid.min=0", "admm.grid.max=2",
                          "admm.grid.levels=16", "admm.wire.p=int8", "admm.wire.q=codes"},
                         {1, 2, 1});
  expect_resume_is_exact({"algorithm=pdadmm-g-q", "admm.quantize=both", "admm.grid.min=0", "admm.grid.max=2",
                          "admm.grid.levels=16", "admm.wire.p=codes", "admm.wire.q=int8"},
                         {1, 1, 1, 1});
}

TEST(Resume, AStateOfAnotherModelIsRefused) {
  Config c = small_config({});
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  c.partition = {2, 2};
  const SolverState<float> st = make_solver(c, p, W0, b0)->save_state();
  c.partition = {1, 3};
  EXPECT_THROW(make_solver(c, p, W0, b0)->load_state(st), Error);
}

// The file: what is saved loads back; a truncated or altered file is one Error naming it.
TEST(Resume, StateFileRoundTripsAndRefusesDamage) {
  const std::string path = ::testing::TempDir() + "/resume_state.bin";
  StateFile s;
  s.meta = {{"iteration", 3}, {"rho", 0.1 + 0.2}};
  s.names = {"a", "empty", "b"};
  s.tensors = {HostMatrix<float>(2, 3, 1.5f), HostMatrix<float>(), HostMatrix<float>(4, 1, -2.0f)};
  save_state_file(path, s);
  const StateFile r = load_state_file(path);
  EXPECT_EQ(r.meta, s.meta);
  EXPECT_EQ(r.meta["rho"].get<double>(), 0.1 + 0.2);
  EXPECT_EQ(r.names, s.names);
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    EXPECT_EQ(r.tensors[i].rows, s.tensors[i].rows);
    EXPECT_EQ(r.tensors[i].data, s.tensors[i].data);
  }
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  const auto refused = [&](const std::string& damaged, const std::string& needle) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    try {
      load_state_file(path);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  refused(bytes.substr(0, bytes.size() - 3), "truncated");
  refused(bytes + "x", "trailing bytes");
  std::string flipped = bytes;
  flipped[flipped.size() - 2] ^= 1;
  refused(flipped, "checksum mismatch");
  refused(bytes.substr(0, 10), "not a pdadmm state file");
  refused("", "not a pdadmm state file");
}

}  // namespace
}  // namespace pdadmm
