// Resuming: a solver that loads another's saved state continues its run bit for bit, and the
// trainer's --resume ends with the bytes of the uninterrupted run (the CLI side is in cli_test).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "host/admm/resume.h"
#include "host/admm/trainer.h"
#include "host/io/error.h"
#include "host/io/framed_file.h"
#include "host/io/state_file.h"
#include "tests/resume_util.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

std::string slurp_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

using resume_check::expect_resume_is_exact;
using resume_check::small_config;

TEST(Resume, OneGroupContinuesBitForBit) { expect_resume_is_exact({}, {4}); }
TEST(Resume, SeveralGroupsContinueBitForBit) { expect_resume_is_exact({}, {1, 1, 2}); }
TEST(Resume, WithoutDeferredFirstLayerOrGram) {
  expect_resume_is_exact({"admm.defer_first_w=false", "admm.gram=on"}, {2, 2});
  expect_resume_is_exact({"admm.gram=off"}, {3, 1});
}
// -Q: q on the grid sent as codes, p as int8 (lossy: the copies hold decoded values); and the mirror
// image, p on the grid as codes with q as int8 (a tensor on the grid may not travel lossily).
TEST(Resume, QuantizedWithALossyWireContinuesBitForBit) {
  expect_resume_is_exact({"algorithm=pdadmm-g-q", "admm.quantize=q", "admm.grid.min=0", "admm.grid.max=2",
                          "admm.grid.levels=16", "admm.wire.p=int8", "admm.wire.q=codes"},
                         {1, 2, 1});
  expect_resume_is_exact({"algorithm=pdadmm-g-q", "admm.quantize=p", "admm.grid.min=0", "admm.grid.max=2",
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
  auto other = make_solver(c, p, W0, b0);  // a valid model: only its load may fail
  try {
    other->load_state(st);
    FAIL() << "the state of groups 2 + 2 loaded into groups 1 + 3";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("the state ", 0), 0u) << e.what();
  }
  // The state still loads into the model it came from.
  c.partition = {2, 2};
  auto same = make_solver(c, p, W0, b0);
  // A tensor of another shape names both shapes (it said "tensor l0.W where l0.W (32 x 500) belongs").
  SolverState<float> swapped = st;
  const HostMatrix<float>& t0 = st.tensors[0];
  swapped.tensors[0] = HostMatrix<float>(t0.cols, t0.rows);
  const std::string r = std::to_string(t0.rows), k = std::to_string(t0.cols);
  EXPECT_EQ(test::error_of([&] { same->load_state(swapped); }),
            "the state does not fit the model: its tensor " + st.names[0] + " (" + k + " x " + r + ") where " +
                st.names[0] + " (" + r + " x " + k + ") belongs");
  same->load_state(st);
  EXPECT_EQ(same->iteration(), st.iteration);
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
  // A changed byte in the header's meta (here ρ 0.30000000000000004 -> 0.40000000000000004) or
  // tensor list (a name) was read as it stood: the CRC covered the tensors' bytes only, and a
  // changed ρ, iteration or loss resumed silently into another run.
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"0.30000000000000004", "0.40000000000000004"},
                                 {"\"name\":\"a\"", "\"name\":\"c\""}}) {
    std::string changed = bytes;
    const size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    changed.replace(at, from.size(), to);
    refused(changed, "header checksum mismatch");
  }
  // A changed byte in a checksum's key name: the state passed for one written before that checksum.
  std::string renamed = bytes;
  renamed.replace(renamed.find("\"header_crc32\""), 14, "\"header_crc3X\"");
  refused(renamed, "corrupt header (unknown key \"header_crc3X\")");
  // A header length past the file's end: the header is cut, whatever the bytes after it parse to.
  std::string long_header = bytes;
  const uint64_t past_end = bytes.size();
  std::memcpy(&long_header[8], &past_end, 8);
  refused(long_header, "truncated header");
  // One reaching into the tensors (a flipped bit in its length): named as damage, not as "contains a
  // NUL byte (not a text file?)", the JSON reader's words for a config that is not text.
  uint64_t into_payload = 0;
  std::memcpy(&into_payload, &bytes[8], 8);
  into_payload += 8;
  std::memcpy(&long_header[8], &into_payload, 8);
  refused(long_header, "corrupt header (binary bytes in its text: its length field or text is damaged)");
  refused(bytes.substr(0, 10), "not a pdadmm state file");
  refused("", "not a pdadmm state file");
  // The meta alone, for the note of a fresh run that removes a state: null for no state file.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(peek_state_meta(path), s.meta);
  EXPECT_FALSE(damaged_state_file(path));
  // A changed byte that still parses is damage too: read as it stood, it was another run's config.
  std::string changed = bytes;
  changed.replace(changed.find("0.30000000000000004"), 19, "0.40000000000000004");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << changed;
  EXPECT_TRUE(peek_state_meta(path).is_null());
  EXPECT_TRUE(damaged_state_file(path));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, 20);
  EXPECT_TRUE(peek_state_meta(path).is_null());
  EXPECT_TRUE(damaged_state_file(path));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a state";
  EXPECT_FALSE(damaged_state_file(path));
  EXPECT_TRUE(peek_state_meta(::testing::TempDir()).is_null());  // a folder
  EXPECT_FALSE(damaged_state_file(::testing::TempDir()));
}

// The writer a run uses: a tensor at a time, its header's room reserved and filled at the end. The
// payload's CRC is zlib's over the tensors' bytes one after another (computed here in one piece),
// the header parses with its padding, and a tensor of a shape not announced, or one missing at
// commit, is an Error that leaves the file that was there as it was.
TEST(Resume, StateFileWriterWritesATensorAtATime) {
  const std::string path = ::testing::TempDir() + "/resume_writer.bin";
  std::filesystem::remove(path);
  const HostMatrix<float> a(2, 3, 1.5f), b(4, 1, -2.0f);
  {
    StateFileWriter w(path, {{"iteration", 7}}, {"a", "b"}, {{2, 3}, {4, 1}});
    w.add(a);
    w.add(b);
    w.commit();
  }
  const std::string bytes = slurp_text(path);
  std::string payload(byte_view(a));
  payload += byte_view(b);
  ASSERT_EQ(bytes.substr(bytes.size() - payload.size()), payload);
  uint64_t n = 0;
  std::memcpy(&n, &bytes[8], 8);
  ASSERT_EQ(16 + n + payload.size(), bytes.size());
  const nlohmann::json h = nlohmann::json::parse(bytes.substr(16, n));
  EXPECT_EQ(h["crc32"].get<uint32_t>(), static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(payload.data()),
                                                                      static_cast<uInt>(payload.size()))));
  const StateFile r = load_state_file(path);
  EXPECT_EQ(r.meta["iteration"], 7);
  EXPECT_EQ(r.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.tensors[0].data, a.data);
  EXPECT_EQ(r.tensors[1].data, b.data);
  // Read back a tensor at a time, in any order; the checksum's error before the reader's own.
  StateFileReader reader(path);
  HostMatrix<float> t;
  reader.read(1, t);
  EXPECT_EQ(t.data, b.data);
  reader.read(0, t);
  EXPECT_EQ(t.data, a.data);
  std::string damaged = bytes;
  damaged.back() ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
  StateFileReader bad(path);
  EXPECT_EQ(test::error_of([&] { bad.check([](size_t, const HostMatrix<float>&) { throw Error("each"); }); }),
            "state " + path + ": checksum mismatch, the state is corrupted");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  {
    StateFileWriter w(path, {{"iteration", 8}}, {"a", "b"}, {{2, 3}, {4, 1}});
    w.add(a);
    EXPECT_EQ(test::error_of([&] { w.add(HostMatrix<float>(1, 4)); }), "state: tensor 1 is not of the shape announced");
    EXPECT_EQ(test::error_of([&] { w.commit(); }), "state: 1 tensor(s) not written");
  }
  EXPECT_EQ(slurp_text(path), bytes);
  for (const auto& e : std::filesystem::directory_iterator(::testing::TempDir()))
    EXPECT_EQ(e.path().filename().string().find("resume_writer.bin.tmp"), std::string::npos) << e.path();
}

// A run's state.bin, streamed from the solver a tensor at a time, holds what save_state collects.
TEST(Resume, StreamedRunStateHoldsTheSolversState) {
  Config c = small_config({});
  c.output.dir = ::testing::TempDir() + "/resume_streamed";
  std::filesystem::create_directories(c.output.dir);
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  c.partition = {1, 2, 1};
  auto s = make_solver(c, p, W0, b0);
  s->iterate(false);
  s->iterate(false);
  RunState rs;
  rs.iteration = 2;
  rs.iter_s = {0.5, 0.25};
  rs.anchor = HostMatrix<float>(3, 2, 0.25f);
  save_run_state(c, rs, *s, true);
  const SolverState<float> want = s->save_state();
  const StateFile f = load_state_file(state_path(c));
  ASSERT_EQ(f.names.size(), want.names.size() + 1);
  for (size_t i = 0; i < want.names.size(); ++i) {
    EXPECT_EQ(f.names[i], want.names[i]);
    EXPECT_EQ(f.tensors[i].rows, want.tensors[i].rows);
    EXPECT_EQ(f.tensors[i].data, want.tensors[i].data) << want.names[i];
  }
  EXPECT_EQ(f.tensors.back().data, rs.anchor.data);
  const RunState back = load_run_state(c);
  EXPECT_EQ(back.solver.iteration, want.iteration);
  EXPECT_EQ(back.solver.layers.size(), want.layers.size());
  EXPECT_EQ(back.anchor.data, rs.anchor.data);
  EXPECT_TRUE(back.solver.tensors.empty());  // left in the file, read into the solver one at a time
  auto fresh = make_solver(c, p, W0, b0);
  load_solver_state(c, back, *fresh);
  const SolverState<float> got = fresh->save_state();
  EXPECT_EQ(got.iteration, want.iteration);
  for (size_t i = 0; i < want.names.size(); ++i) EXPECT_EQ(got.tensors[i].data, want.tensors[i].data) << want.names[i];
}

// A checkpoint of a diverged iterate (a W step that overflowed on an iteration the residual had
// not seen yet) is an error naming the tensor and leaves the last state.bin: --resume refuses a
// state holding NaN, so replacing it lost the last good one.
TEST(Resume, ADivergedStateDoesNotReplaceTheLastOne) {
  Config c = small_config({});
  c.output.dir = ::testing::TempDir() + "/resume_diverged";
  std::filesystem::remove_all(c.output.dir);
  std::filesystem::create_directories(c.output.dir);
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  auto s = make_solver(c, p, W0, b0);
  s->iterate(false);
  RunState rs;
  rs.iteration = 1;
  rs.iter_s = {0.5};
  save_run_state(c, rs, *s, true);
  const std::string good = test::slurp(state_path(c));
  HostMatrix<float> w = s->download(2, "W");
  w.data[3] = std::numeric_limits<float>::infinity();
  s->upload(2, "W", w);
  rs.iteration = 2;
  rs.iter_s = {0.5, 0.5};
  try {
    save_run_state(c, rs, *s, true);
    ADD_FAILURE() << "a state holding infinity was saved";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "training diverged: layer 3's W (state tensor l2.W) holds NaN or infinite values; " +
                                         state_path(c) + " was not written (the last one, if any, stays)");
  }
  EXPECT_EQ(test::slurp(state_path(c)), good);
  for (const auto& e : std::filesystem::directory_iterator(c.output.dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

// A state as a run writes it after `iteration` iterations (one time per iteration, ρ and ν > 0).
RunState state_at(int iteration) {
  RunState rs;
  rs.iteration = iteration;
  rs.iter_s.assign(static_cast<size_t>(iteration), 0.01);
  rs.solver.rho = rs.solver.nu = 1e-3;
  return rs;
}

// A state written before "shown" (the progress line's accuracies) was saved, by the first
// --resume binary: it was refused as "corrupt header (key 'shown' not found)"; it holds every
// number the run needs, so it resumes (the progress line shows 0 until the next evaluation).
TEST(Resume, AStateWithoutTheShownAccuraciesLoads) {
  Config c = small_config({});
  c.output.dir = ::testing::TempDir() + "/resume_no_shown";
  std::filesystem::create_directories(c.output.dir);
  RunState rs = state_at(3);
  rs.val_acc = 0.5;
  rs.train_cost = {1.25};
  save_run_state(c, rs);
  StateFile f = load_state_file(state_path(c));
  ASSERT_TRUE(f.meta.contains("shown"));
  EXPECT_EQ(load_run_state(c).val_acc, 0.5);
  f.meta.erase("shown");
  save_state_file(state_path(c), f);
  const RunState back = load_run_state(c);
  EXPECT_EQ(back.iteration, 3);
  EXPECT_EQ(back.train_cost, rs.train_cost);
  EXPECT_EQ(back.val_acc, 0.0);
  // A key the run needs stays an error naming the file.
  f.meta.erase("train_cost");
  save_state_file(state_path(c), f);
  try {
    load_run_state(c);
    FAIL() << "a state without train_cost loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(state_path(c) + ": corrupt header"), std::string::npos) << e.what();
  }
}

// A state at the run's last iteration has nothing to resume (a finished run removes its own; one
// copied in, or from a run with more iterations, is refused with one line).
TEST(Resume, AStateAtTheLastIterationIsRefused) {
  Config c = small_config({"admm.iterations=8"});
  c.output.dir = ::testing::TempDir() + "/resume_at_end";
  std::filesystem::create_directories(c.output.dir);
  RunState rs = state_at(7);
  save_run_state(c, rs);
  EXPECT_EQ(load_run_state(c).iteration, 7);
  rs = state_at(8);
  rs.solver.names = {"t"};
  rs.solver.tensors = {HostMatrix<float>(2, 2, 1.0f)};
  save_run_state(c, rs);
  try {
    load_run_state(c);
    FAIL() << "a state at the last iteration loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is at iteration 8 of 8: nothing left to run"), std::string::npos) << e.what();
  }
  // Damage is named first, before what its header says (a corrupted state at the end read "nothing
  // left to run", and only the longer run then said "checksum mismatch").
  std::string bytes = slurp_text(state_path(c));
  bytes.back() ^= 1;
  std::ofstream(state_path(c), std::ios::binary | std::ios::trunc) << bytes;
  // It says what to do: the same command without --resume refuses to start over it.
  EXPECT_EQ(test::error_of([&] { load_run_state(c); }),
            "state " + state_path(c) + ": checksum mismatch, the state is corrupted; it cannot be resumed: remove it "
            "(or choose another --out) to start afresh");
  bytes.resize(bytes.size() / 2);
  std::ofstream(state_path(c), std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_NE(test::error_of([&] { load_run_state(c); })
                .find("; it cannot be resumed: remove it (or choose another --out) to start afresh"),
            std::string::npos);
}

// The checksums catch damage; a header edited by hand and re-summed with values no run writes is
// refused too, naming what is wrong (an iteration of -5 and a ρ of -1 resumed before).
TEST(Resume, ImpossibleValuesInAStateAreRefused) {
  Config c = small_config({"admm.iterations=8"});
  c.output.dir = ::testing::TempDir() + "/resume_impossible";
  std::filesystem::create_directories(c.output.dir);
  const auto error = [&](RunState rs) {
    save_run_state(c, std::move(rs));
    try {
      load_run_state(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(loaded)");
  };
  const std::string at = "state " + state_path(c) + ": corrupt header (";
  EXPECT_EQ(error(state_at(4)), "(loaded)");
  RunState negative = state_at(0);
  negative.iteration = -5;
  EXPECT_EQ(error(negative), at + "iteration -5 with 0 iteration times)");
  RunState short_times = state_at(4);
  short_times.iter_s.pop_back();
  EXPECT_EQ(error(short_times), at + "iteration 4 with 3 iteration times)");
  RunState rho = state_at(4);
  rho.solver.rho = -1;
  EXPECT_EQ(error(rho), at + "rho, nu or mu is not a positive finite number)");
  // A stage the run does not have failed only after the data loaded ("stage 0 does not exist" for -1).
  for (const int stage : {1, -1}) {
    RunState st = state_at(4);
    st.stage = stage;
    EXPECT_EQ(error(st), at + "growth stage " + std::to_string(stage + 1) + " of a run of 1, counted from 1)");
  }
  // An iteration past int was read as 0 ("iteration 0 with 4 iteration times").
  save_run_state(c, state_at(4));
  StateFile f = load_state_file(state_path(c));
  f.meta["iteration"] = int64_t{1} << 62;
  save_state_file(state_path(c), f);
  EXPECT_EQ(test::error_of([&] { load_run_state(c); }), at + "iteration 4611686018427387904 with 4 iteration times)");
  // A NaN or an infinity in a tensor, re-summed: it failed iterations later as "training
  // diverged"; refused at load, naming the tensor.
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    RunState t = state_at(4);
    t.solver.names = {"W1", "u2"};
    t.solver.tensors = {HostMatrix<float>(2, 3), HostMatrix<float>(3, 1)};
    EXPECT_EQ(error(t), "(loaded)");
    t.solver.tensors[1].data[2] = bad;
    EXPECT_EQ(error(t), "state " + state_path(c) +
                            ": tensor u2 holds NaN or infinite values (a diverged or altered state); remove it to "
                            "start over");
  }
}

// metrics.jsonl keeps the lines of iterations <= k and stops at the first line after k or one a
// kill cut short.
TEST(Resume, TrimMetricsKeepsTheLinesUpToTheState) {
  const std::string path = ::testing::TempDir() + "/resume_trim.jsonl";
  const std::string lines = "{\"iter\":1}\n{\"iter\":5}\n{\"iter\":10}\n{\"iter\":15}\n{\"it";
  for (const auto& [k, kept] : std::vector<std::pair<int, std::string>>{
           {0, ""}, {1, "{\"iter\":1}\n"}, {9, "{\"iter\":1}\n{\"iter\":5}\n"},
           {10, "{\"iter\":1}\n{\"iter\":5}\n{\"iter\":10}\n"},
           {99, "{\"iter\":1}\n{\"iter\":5}\n{\"iter\":10}\n{\"iter\":15}\n"}}) {
    std::ofstream(path, std::ios::trunc) << lines;
    EXPECT_EQ(trim_metrics(path, k), 0) << "a torn last line is what a kill leaves";
    EXPECT_EQ(slurp_text(path), kept) << "k = " << k;
  }
  // A damaged line before the state: the lines from it up to the state are dropped and counted.
  std::ofstream(path, std::ios::trunc) << "{\"iter\":1}\n{\"i#er\":5}\n{\"iter\":10}\n{\"iter\":15}\n{\"iter\":20}\n";
  EXPECT_EQ(trim_metrics(path, 15), 3);
  EXPECT_EQ(slurp_text(path), "{\"iter\":1}\n");
  std::ofstream(path, std::ios::trunc) << "{\"iter\":1}\n{\"i#er\":5}\n{\"iter\":10}\n";
  EXPECT_EQ(trim_metrics(path, 5), 1) << "a damaged line a valid one follows may have been iteration 5's";
  EXPECT_EQ(slurp_text(path), "{\"iter\":1}\n");
  // A file it cannot read is an error naming it, and is not replaced (it was rewritten as empty;
  // /proc/self/mem opens and fails to read, EIO, even for root).
  EXPECT_EQ(test::error_of([] { trim_metrics("/proc/self/mem", 5); }),
            std::string("cannot read /proc/self/mem: ") + std::strerror(EIO));
  const std::string dir = ::testing::TempDir() + "/resume_trim_dir";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(test::error_of([&] { trim_metrics(dir, 5); }), dir + ": not a regular file");
  if (geteuid() != 0) {  // root reads it anyway
    std::ofstream(path, std::ios::trunc) << "{\"iter\":1}\n";
    ASSERT_EQ(chmod(path.c_str(), 0), 0);
    EXPECT_EQ(test::error_of([&] { trim_metrics(path, 5); }), "cannot open " + path + ": " + std::strerror(EACCES));
    ASSERT_EQ(chmod(path.c_str(), 0644), 0);
    EXPECT_EQ(slurp_text(path), "{\"iter\":1}\n");
  }
}

// ---- the command line: a run stopped at k and resumed ends with the uninterrupted run's bytes ----

using test::run_command;
using test::model_payload;
using test::slurp;
using test::timeless_metrics;
using test::train_until_signal;
using test::expect_one_line_error;

// 4 layers in 2 groups, slow enough (a few seconds) that a signal lands mid-run.
const std::string kRun =
    " --config " + std::string(PDADMM_SOURCE_DIR) +
    "/configs/synthetic.json --set model.layers=4 --set groups=2 --set model.hidden=256 --set output.progress=off";

void expect_same_run(const std::string& straight, const std::string& resumed, int k) {
  const std::string w = model_payload(straight);
  EXPECT_GT(w.size(), 100000u);
  EXPECT_TRUE(w == model_payload(resumed)) << "model.bin weights differ";
  const nlohmann::json a = test::read_json(straight + "/summary.json"), b = test::read_json(resumed + "/summary.json");
  for (const char* key : {"iterations", "train", "val", "test", "objective", "residual", "bytes_total", "evaluations"})
    EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(b["resumed_from"], k);
  EXPECT_FALSE(b["interrupted"].get<bool>());
  EXPECT_EQ(timeless_metrics(straight + "/metrics.jsonl"), timeless_metrics(resumed + "/metrics.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(resumed + "/state.bin"));  // a finished run has nothing to resume
}


int state_iteration(const std::string& dir) { return load_state_file(dir + "/state.bin").meta["iteration"]; }

// SIGTERM (the run finishes the iteration and writes model.bin and state.bin), then --resume with
// other threads: the same bytes, tracked evaluations in the metrics included. Damaged states and
// other configs are refused with one line first.
TEST(ResumeCli, ASignalStoppedRunResumesToTheSameBytes) {
  const std::string args = kRun + " --set admm.iterations=2500 --set output.log_every=7";
  const std::string straight = ::testing::TempDir() + "/resume_straight", stopped = ::testing::TempDir() + "/resume_stopped";
  std::filesystem::remove_all(straight);
  const auto s = run_command(std::string(PDADMM_BINARY) + " train" + args + " --out " + straight);
  ASSERT_EQ(s.code, 0) << s.out;
  const auto [code, log] = train_until_signal(args, stopped, SIGTERM, "metrics.jsonl", 1000000);
  ASSERT_EQ(code, 128 + SIGTERM) << log;
  const int k = state_iteration(stopped);
  EXPECT_EQ(test::read_json(stopped + "/summary.json")["iterations"], k);
  // A signal's stop writes state.bin first (mpirun kills the processes soon after Ctrl-C: a run
  // kept model.bin and summary.json, and no state.bin to resume).
  EXPECT_LE(std::filesystem::last_write_time(stopped + "/state.bin"),
            std::filesystem::last_write_time(stopped + "/model.bin"));
  // The resumed run's progress line starts from the stopped iterate's scores, not from zeros.
  const nlohmann::json shown = load_state_file(stopped + "/state.bin").meta["shown"];
  EXPECT_EQ(shown[0], test::read_json(stopped + "/summary.json")["val"]["acc"]);
  EXPECT_EQ(shown[1], test::read_json(stopped + "/summary.json")["test"]["acc"]);
  // And the line marks them as the stopped iterate's, "@k", until its next logged evaluation.
  EXPECT_EQ(load_state_file(stopped + "/state.bin").meta["shown_at"], k);
  // The same command without --resume would drop the state: refused, the state kept.
  const std::string again = std::string(PDADMM_BINARY) + " train --out " + stopped + args;
  expect_one_line_error(run_command(again), stopped + "/state.bin holds this config's run, stopped at iteration " +
                                                std::to_string(k) + " of 2500: --resume continues it");
  EXPECT_EQ(state_iteration(stopped), k);
  // Nor does another config's fresh run (a key changed, --config forgotten): it removed the state
  // with a note. The line names the first key that differs, the data set's before its admm.*.
  const std::string metrics = slurp(stopped + "/metrics.jsonl");
  expect_one_line_error(run_command(again + " --set admm.rho=0.7"),
                        stopped + "/state.bin holds the run of another config (admm.rho = ");
  expect_one_line_error(run_command(std::string(PDADMM_BINARY) + " train --out " + stopped + " --set output.progress=off"),
                        "holds the run of another config (groups = 2 there, 1 here)");
  expect_one_line_error(run_command(again + " --set data.name=\"cora\" --set admm.nu=0.5"),
                        "(data.name = \"synthetic\" there, \"cora\" here), stopped at iteration " + std::to_string(k) +
                            " of 2500: train --out " + stopped + " --resume (no --config: the state records its own)");
  EXPECT_EQ(state_iteration(stopped), k);
  EXPECT_EQ(slurp(stopped + "/metrics.jsonl"), metrics);
  const std::string resume = std::string(PDADMM_BINARY) + " train --resume --out " + stopped + args;
  expect_one_line_error(run_command(resume + " --set admm.rho=0.7"), "admm.rho");
  expect_one_line_error(run_command(resume + " --set model.layers=3"), "model.layers");
  const std::string state = slurp(stopped + "/state.bin");
  for (const std::string& bad : {state.substr(0, state.size() / 2), state.substr(0, state.size() - 1) + "x"}) {
    std::ofstream(stopped + "/state.bin", std::ios::binary | std::ios::trunc) << bad;
    expect_one_line_error(run_command(resume), stopped + "/state.bin");
  }
  // Re-summed with a tensor of another shape (a state of another model or pdadmm version): the
  // line names the file, as the checks before the data loads do.
  std::ofstream(stopped + "/state.bin", std::ios::binary | std::ios::trunc) << state;
  StateFile other = load_state_file(stopped + "/state.bin");
  std::swap(other.tensors[0].rows, other.tensors[0].cols);
  save_state_file(stopped + "/state.bin", other);
  expect_one_line_error(run_command(resume),
                        "state " + stopped + "/state.bin: the state does not fit the model: its tensor " +
                            other.names[0]);
  std::ofstream(stopped + "/state.bin", std::ios::binary | std::ios::trunc) << state;
  const auto r = run_command(resume + " --set threads=1");
  ASSERT_EQ(r.code, 0) << r.out;
  // It says so (it printed a fresh run's lines only).
  EXPECT_NE(r.out.find("resuming " + stopped + " from its state.bin at iteration " + std::to_string(k) + " of 2500\n"),
            std::string::npos)
      << r.out;
  expect_same_run(straight, stopped, k);
  // A finished run removed its state: --resume says the run finished (it said "state.bin not found").
  expect_one_line_error(run_command(resume),
                        "--resume: the run in " + stopped + " finished (summary.json: 2500 iterations)");
}

// A fresh run into a folder with a state that could resume says it drops it (it did so silently),
// and a later --resume names the fresh run as finished; a fresh run killed before its end leaves
// the older summary.json, which is not taken for its own.
TEST(ResumeCli, AFreshRunSaysItDropsAState) {
  const std::string dir = ::testing::TempDir() + "/resume_fresh";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --set admm.iterations=30 --out " + dir;
  ASSERT_EQ(run_command(train + " --set output.keep_state=true").code, 0);
  const auto fresh = run_command(train);
  ASSERT_EQ(fresh.code, 0) << fresh.out;
  EXPECT_NE(fresh.out.find("note: replacing the outputs of an earlier run in " + dir + "\n"),
            std::string::npos)
      << fresh.out;
  EXPECT_NE(fresh.out.find("note: removed " + dir + "/state.bin, which an earlier run left at iteration 30 for train "
                           "--resume (this run starts afresh)"),
            std::string::npos) << fresh.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.bin"));
  // The notes (stdout) come before the first progress line (stderr) in one log: they waited in
  // stdout's buffer, after the whole run, and a run killed mid-way lost them.
  ASSERT_EQ(run_command(train + " --set output.keep_state=true").code, 0);
  const auto lines = run_command(train + " --set output.progress=lines");
  ASSERT_EQ(lines.code, 0) << lines.out;
  const size_t removed = lines.out.find("note: removed " + dir + "/state.bin"), first = lines.out.find("\niter ");
  ASSERT_NE(removed, std::string::npos) << lines.out;
  ASSERT_NE(first, std::string::npos) << lines.out;
  EXPECT_LT(removed, first) << lines.out;
  expect_one_line_error(run_command(train + " --resume"),
                        "the run in " + dir + " finished (summary.json: 30 iterations)");
  // What a run killed during setup leaves: its config.json, newer than the summary.
  std::filesystem::last_write_time(dir + "/summary.json",
                                   std::filesystem::last_write_time(dir + "/config.json") - std::chrono::seconds(5));
  expect_one_line_error(run_command(train + " --resume"), dir + "/state.bin not found");
}

// The state's header with `edit` applied to it, its header checksum made whole again.
void edit_state_header(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  const std::string bytes = slurp_text(path);
  uint64_t n = 0;
  std::memcpy(&n, &bytes[8], 8);
  nlohmann::json h = nlohmann::json::parse(bytes.substr(16, n));
  edit(h);
  h["header_crc32"] = header_keys_crc(h, {"meta", "tensors"});
  const std::string text = h.dump();
  const uint64_t m = text.size();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes.substr(0, 8);
  f.write(reinterpret_cast<const char*>(&m), 8);
  f << text << bytes.substr(16 + n);
}

// train --resume without --config reads the config its state.bin records: a damaged byte there was
// blamed on that config ("config: admm.rho_schedule.type: \"oone\" is not one of …"), and a fresh
// run removed the damaged state without a word.
TEST(ResumeCli, ADamagedStateHeaderIsNamedAsDamage) {
  const std::string dir = ::testing::TempDir() + "/resume_damaged_header";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --set admm.iterations=30 --out " + dir;
  ASSERT_EQ(run_command(train + " --set output.keep_state=true").code, 0);
  std::string bytes = slurp_text(dir + "/state.bin");
  const size_t at = bytes.find("\"cross_entropy\":\"stable\"");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 19] = 'X';  // "stXble": still JSON
  std::ofstream(dir + "/state.bin", std::ios::binary | std::ios::trunc) << bytes;
  expect_one_line_error(run_command(std::string(PDADMM_BINARY) + " train --out " + dir + " --resume"),
                        "state " + dir + "/state.bin: header checksum mismatch, the state is corrupted; it cannot be "
                        "resumed: remove it (or choose another --out) to start afresh");
  const auto fresh = run_command(train);
  ASSERT_EQ(fresh.code, 0) << fresh.out;
  EXPECT_NE(fresh.out.find("note: removed " + dir + "/state.bin, a state file whose header is damaged"),
            std::string::npos) << fresh.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.bin"));
}

// The bytes of a resumed run equal an uninterrupted one's only with the same binary: a state of
// another build says so.
TEST(ResumeCli, AStateOfAnotherBuildIsNoted) {
  const std::string dir = ::testing::TempDir() + "/resume_other_build";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=20 --set output.keep_state=true").code, 0);
  const auto same = run_command(train + " --set admm.iterations=25 --set output.keep_state=true --resume");
  ASSERT_EQ(same.code, 0) << same.out;
  EXPECT_EQ(same.out.find("was written by pdadmm"), std::string::npos) << same.out;
  edit_state_header(dir + "/state.bin", [](nlohmann::json& h) { h["meta"]["version"] = "0.1 (git 000000000000)"; });
  const auto other = run_command(train + " --set admm.iterations=30 --resume");
  ASSERT_EQ(other.code, 0) << other.out;
  EXPECT_NE(other.out.find("note: " + dir + "/state.bin was written by pdadmm 0.1 (git 000000000000), this is 0.1 (git "),
            std::string::npos) << other.out;
}

// model.stage_duals' default changed to "reset" (2026-12-07): an unstaged run's state recorded
// "keep", and --resume with the same --config was refused over a key that does nothing without
// stages. A staged run's is a real difference: the line says why and what gives the stopped run's.
TEST(ResumeCli, GrowthKeysOfAnUnstagedRunDoNotBlockItsResume) {
  const std::string dir = ::testing::TempDir() + "/resume_old_default";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=10 --set output.keep_state=true --set model.stage_duals=\"keep\"")
                .code,
            0);
  const auto r = run_command(train + " --set admm.iterations=20 --resume");
  EXPECT_EQ(r.code, 0) << r.out;
  const std::string staged = " --set 'model.stages=[{\"layers\":2,\"iterations\":5},{\"layers\":4,\"iterations\":5}]'";
  std::filesystem::remove_all(dir);
  ASSERT_EQ(run_command(train + staged + " --set output.keep_state=true --set model.stage_duals=\"keep\"").code, 0);
  expect_one_line_error(run_command(train + staged + " --set model.stages[1].iterations=9 --resume"),
                        "the config has model.stage_duals = \"reset\", the run in " + dir + "/state.bin has \"keep\" (its "
                        "default became \"reset\" on 2026-12-07: --set model.stage_duals=\"keep\" gives the saved run's)");
  // The hint goes one way only: a run saved with "reset" resumed with "keep" is the user's change.
  std::filesystem::remove_all(dir);
  ASSERT_EQ(run_command(train + staged + " --set output.keep_state=true").code, 0);
  // A staged run against an unstaged config: the stages are named, not growth's keys (which were
  // dropped from the unstaged side alone, and named though equal).
  const auto unstaged = run_command(train + " --set admm.iterations=20 --resume");
  expect_one_line_error(unstaged, "the config has model.stages = ");
  EXPECT_EQ(unstaged.out.find("stage_duals"), std::string::npos) << unstaged.out;
  const auto other = run_command(train + staged + " --set model.stages[1].iterations=9 --set model.stage_duals=\"keep\" --resume");
  expect_one_line_error(other, "the config has model.stage_duals = \"keep\", the run in " + dir + "/state.bin has \"reset\"");
  EXPECT_EQ(other.out.find("default became"), std::string::npos) << other.out;
}

// A --resume replaces the folder's summary.json, config.json, model.bin and predictions.csv as a
// fresh run does, so it refuses the same files no run wrote (it overwrote them, exit 0), and a
// config.json edited since the run stopped.
TEST(ResumeCli, AResumeKeepsFilesNoRunWrote) {
  const std::string dir = ::testing::TempDir() + "/resume_foreign";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=10 --set output.keep_state=true").code, 0);
  const std::string summary = slurp(dir + "/summary.json");
  std::ofstream(dir + "/summary.json", std::ios::trunc) << "my notes\n";
  expect_one_line_error(run_command(train + " --set admm.iterations=20 --resume"),
                        "--out " + dir + " holds a summary.json no pdadmm run wrote (it is not a run's summary)");
  EXPECT_EQ(slurp(dir + "/summary.json"), "my notes\n");
  std::ofstream(dir + "/summary.json", std::ios::trunc) << summary;
  EXPECT_EQ(run_command(train + " --set admm.iterations=20 --resume").code, 0);
  // A config.json edited since the stop: --resume without --config continues the config state.bin
  // records and rewrote the file from it, the edit (rho here) lost and never used.
  ASSERT_EQ(run_command(train + " --set admm.iterations=10 --set output.keep_state=true").code, 0);
  const std::string config = slurp(dir + "/config.json");
  nlohmann::json edited = nlohmann::json::parse(config);
  edited["admm"]["rho"] = 0.9;
  std::ofstream(dir + "/config.json", std::ios::trunc) << edited.dump(2) << "\n";
  const std::string resume = std::string(PDADMM_BINARY) + " train --resume --set admm.iterations=20 --out " + dir;
  expect_one_line_error(run_command(resume), "--resume: " + dir + "/config.json differs from the config " + dir +
                                                 "/state.bin records at admm.rho (0.9 there, " +
                                                 nlohmann::json::parse(config)["admm"]["rho"].dump() + " recorded)");
  EXPECT_EQ(slurp(dir + "/config.json"), edited.dump(2) + "\n");
  // What a resume may change differs without a word: a resumed run killed outright (kill -9, a
  // batch queue's limit) left config.json with its raised iterations beside the older state.bin.
  nlohmann::json longer = nlohmann::json::parse(config);
  longer["admm"]["iterations"] = 40;
  longer["output"]["log_every"] = 3;
  std::ofstream(dir + "/config.json", std::ios::trunc) << longer.dump(2) << "\n";
  const auto resumed = run_command(resume);
  EXPECT_EQ(resumed.code, 0) << resumed.out;
}

// --resume with nothing to resume: a missing output folder is not created (it was, and left empty),
// and a FIFO named state.bin is refused, not opened (the open waited for a writer for ever).
TEST(ResumeCli, NothingToResumeLeavesNothingBehind) {
  const std::string dir = ::testing::TempDir() + "/resume_nothing";
  std::filesystem::remove_all(dir);
  const std::string resume = std::string(PDADMM_BINARY) + " train --resume" + kRun + " --set admm.iterations=5 --out ";
  expect_one_line_error(run_command(resume + dir + "/sub"), dir + "/sub/state.bin not found");
  EXPECT_FALSE(std::filesystem::exists(dir));
  // A mistyped --out where no folder can be made: still "not found", not "cannot create".
  expect_one_line_error(run_command(resume + "/proc/pdadmm_nowhere"), "/proc/pdadmm_nowhere/state.bin not found");
  std::filesystem::create_directories(dir);
  ASSERT_EQ(::mkfifo((dir + "/state.bin").c_str(), 0644), 0);
  expect_one_line_error(run_command("timeout 20 " + resume + dir), dir + "/state.bin: not a regular file");
}

// output.keep_state keeps a finished run's state; --resume with a longer run (admm.iterations, or
// the last stage's iterations), with its config or the one state.bin records, then ends with the
// weights and scores of a run that long from the start. Other stages' lengths still may not change.
TEST(ResumeCli, AFinishedRunKeptItsStateAndRunsLonger) {
  const std::string args = kRun + " --set output.log_every=50";
  const std::string straight = ::testing::TempDir() + "/resume_long", kept = ::testing::TempDir() + "/resume_kept";
  std::filesystem::remove_all(straight);
  std::filesystem::remove_all(kept);
  const std::string train = std::string(PDADMM_BINARY) + " train" + args;
  ASSERT_EQ(run_command(train + " --set admm.iterations=300 --out " + straight).code, 0);
  const auto r = run_command(train + " --set admm.iterations=180 --set output.keep_state=true --out " + kept);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(state_iteration(kept), 180);
  // The closing line lists every file the run left, the kept state too.
  EXPECT_NE(r.out.find("outputs: " + kept + "/{metrics.jsonl,summary.json,config.json,model.bin,state.bin}"),
            std::string::npos) << r.out;
  expect_one_line_error(run_command(train + " --set admm.iterations=180 --resume --out " + kept), "nothing left to run");
  // Without --config: the config state.bin records (the defaults were refused as another run's),
  // output.keep_state = true included.
  const auto longer = run_command(std::string(PDADMM_BINARY) +
                                  " train --resume --set admm.iterations=300 --set output.keep_state=false --out " + kept);
  ASSERT_EQ(longer.code, 0) << longer.out;
  EXPECT_NE(longer.out.find("outputs: " + kept + "/{metrics.jsonl,summary.json,config.json,model.bin}"),
            std::string::npos) << longer.out;
  EXPECT_TRUE(model_payload(straight) == model_payload(kept)) << "model.bin weights differ";
  const nlohmann::json a = test::read_json(straight + "/summary.json"), b = test::read_json(kept + "/summary.json");
  for (const char* key : {"iterations", "train", "val", "test", "objective", "residual"}) EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(b["resumed_from"], 180);
  EXPECT_FALSE(std::filesystem::exists(kept + "/state.bin"));  // this run did not ask to keep it

  const std::string staged = std::string(PDADMM_BINARY) + " train" + kRun +
                             " --set 'model.stages=[{\"layers\": 2, \"iterations\": 40}, {\"layers\": 4, \"iterations\": 40}]'" +
                             " --set admm.iterations=80 --out " + kept;
  ASSERT_EQ(run_command(staged + " --set output.keep_state=true").code, 0);
  // The key within the list, not the whole list (both lists were printed in full).
  expect_one_line_error(run_command(staged + " --set model.stages[0].iterations=50 --set admm.iterations=90 --resume"),
                        "--resume: the config has model.stages[0].iterations = 50, the run in " + kept +
                            "/state.bin has 40 (");
  // Without --config, and with the last stage's iterations alone: the config state.bin records
  // takes the indexed --set (the defaults, which have no stages, refused it), and its recorded
  // admm.iterations follows the stages.
  const auto grown = run_command(std::string(PDADMM_BINARY) + " train --resume --set model.stages[1].iterations=50 --out " +
                                 kept + " --set output.progress=off");
  EXPECT_EQ(grown.code, 0) << grown.out;
  // The weights and scores of the 40 + 50 iterations run from the start.
  const std::string staged_straight = straight + "_staged";
  std::filesystem::remove_all(staged_straight);
  ASSERT_EQ(run_command(std::string(PDADMM_BINARY) + " train" + kRun +
                        " --set 'model.stages=[{\"layers\": 2, \"iterations\": 40}, {\"layers\": 4, \"iterations\": 50}]'"
                        " --set admm.iterations=90 --out " + staged_straight)
                .code,
            0);
  EXPECT_TRUE(model_payload(staged_straight) == model_payload(kept)) << "model.bin weights differ";
  const nlohmann::json s = test::read_json(staged_straight + "/summary.json"), g = test::read_json(kept + "/summary.json");
  for (const char* key : {"iterations", "train", "val", "test", "objective", "residual"}) EXPECT_EQ(s[key], g[key]) << key;
  EXPECT_EQ(g["resumed_from"], 80);
  // A stage's key edited in config.json since: refused, the key spelt as --set spells it.
  nlohmann::json edited = test::read_json(kept + "/config.json");
  edited["model"]["stages"][1]["mu"] = 7;
  std::ofstream(kept + "/config.json", std::ios::trunc) << edited.dump(2) << "\n";
  expect_one_line_error(
      run_command(std::string(PDADMM_BINARY) + " train --resume --set model.stages[1].iterations=60 --out " + kept),
      "--resume: " + kept + "/config.json differs from the config " + kept +
          "/state.bin records at model.stages[1].mu (7 there, ");
}

// A resume that writes no model.bin (output.checkpoint false) says the one in the folder is the
// stopped run's: summary.json and model.bin disagreed with no note.
TEST(ResumeCli, AResumeWithoutCheckpointSaysModelBinIsTheEarlierRuns) {
  const std::string dir = ::testing::TempDir() + "/resume_no_checkpoint";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=4 --set output.keep_state=true").code, 0);
  // The key the user changed, not one under `admm` it implies (admm.grid, which sorts first).
  expect_one_line_error(run_command(train + " --set admm.iterations=6 --set algorithm=pdadmm-g-q --resume"),
                        "--resume: the config has algorithm = \"pdadmm-g-q\"");
  const auto r = run_command(train + " --set admm.iterations=6 --set output.checkpoint=false --resume");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("note: " + dir + "/model.bin is an earlier run's (output.checkpoint is false: this run writes none)"),
            std::string::npos)
      << r.out;
}

// --resume may change output.*: with tracked_eval false the resumed iterations evaluate exactly,
// though the state was saved while layer 1 was tracked (they went on tracking).
TEST(ResumeCli, ResumedWithoutTrackedEvaluationsEvaluatesExactly) {
  const std::string dir = ::testing::TempDir() + "/resume_untracked";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + kRun + " --set output.log_every=1 --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=4 --set output.keep_state=true").code, 0);
  const nlohmann::json first = test::read_json(dir + "/summary.json")["evaluations"];
  EXPECT_EQ(first, (nlohmann::json{{"exact", 2}, {"tracked", 2}})) << "the first and the last exact";
  const auto r = run_command(train + " --set admm.iterations=8 --set output.tracked_eval=false --resume");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(test::read_json(dir + "/summary.json")["evaluations"], (nlohmann::json{{"exact", 6}, {"tracked", 2}}));
}

// A run that fails while it writes its last files (killed, a full disk; here summary.json's folder
// is gone) keeps its state.bin: it was removed before summary.json was written, and such a run left
// a final model.bin with nothing to resume.
TEST(ResumeCli, ARunThatFailsWritingItsLastFilesCanStillResume) {
  const std::string args = kRun + " --set admm.iterations=60 --set output.log_every=10 --set output.checkpoint_every=25";
  const std::string straight = ::testing::TempDir() + "/resume_end_straight", dir = ::testing::TempDir() + "/resume_end";
  std::filesystem::remove_all(straight);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(run_command(std::string(PDADMM_BINARY) + " train" + args + " --out " + straight).code, 0);
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink(dir + "/gone/summary.json", dir + "/summary.json");
  const auto r = run_command(std::string(PDADMM_BINARY) + " train" + args + " --out " + dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: cannot write " + dir + "/summary.json"), std::string::npos) << r.out;
  ASSERT_EQ(state_iteration(dir), 50);
  std::filesystem::remove(dir + "/summary.json");
  const std::string resume = std::string(PDADMM_BINARY) + " train --resume" + args + " --out " + dir;
  const auto resumed = run_command(resume);
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  expect_same_run(straight, dir, 50);
  // Without metrics.jsonl the resumed log starts after the state, and the run says so (it said nothing).
  std::filesystem::remove(dir + "/metrics.jsonl");
  const std::string kept = " train --set output.keep_state=true" + args + " --set admm.iterations=50 --out " + dir;
  ASSERT_EQ(run_command(std::string(PDADMM_BINARY) + kept).code, 0);
  std::filesystem::remove(dir + "/metrics.jsonl");
  const auto gap = run_command(resume);
  ASSERT_EQ(gap.code, 0) << gap.out;
  EXPECT_NE(gap.out.find("note: " + dir + "/metrics.jsonl is missing: the log starts after iteration 50"),
            std::string::npos) << gap.out;
  EXPECT_EQ(test::read_json(dir + "/summary.json")["iterations"], 60);
}

// A metrics.jsonl line damaged before the state (a disk error, a hand edit): --resume drops it and
// the lines after it up to the state (their order cannot be trusted), keeps the lines before it
// byte for byte, says how many it dropped in one note, and logs on after the state.
TEST(ResumeCli, ADamagedMetricsLineBeforeTheStateIsDroppedAndNamed) {
  const std::string args = kRun + " --set output.log_every=10";
  const std::string dir = ::testing::TempDir() + "/resume_damaged_log";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + args + " --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=50 --set output.keep_state=true").code, 0);
  ASSERT_EQ(state_iteration(dir), 50);
  const std::string path = dir + "/metrics.jsonl";
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  in.close();
  // The line of iteration 20 damaged; `before` the bytes kept, `dropped` the lines after it up to 50.
  std::string damaged, before;
  int dropped = 0;
  for (const std::string& line : lines) {
    const int it = nlohmann::json::parse(line)["iter"].get<int>();
    if (it < 20) before += line + "\n";
    if (it == 20) {
      damaged += "#" + line.substr(1) + "\n";
    } else {
      damaged += line + "\n";
      dropped += it > 20 && it <= 50;
    }
  }
  ASSERT_GE(dropped, 3) << "expected lines of iterations 30, 40 and 50 in\n" << slurp(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
  const auto r = run_command(std::string(PDADMM_BINARY) + " train --resume" + args + " --set admm.iterations=60 --out " + dir);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("note: " + path + " had a damaged line (not a torn last line, which a kill leaves): it and the " +
                       std::to_string(dropped) + " line(s) after it up to iteration 50 are dropped, so the log may have a "
                       "gap\n"),
            std::string::npos)
      << r.out;
  const std::string after = slurp(path);
  EXPECT_EQ(after.substr(0, before.size()), before);
  std::ifstream resumed(path);
  std::vector<int> its;
  for (std::string line; std::getline(resumed, line);) its.push_back(nlohmann::json::parse(line)["iter"].get<int>());
  ASSERT_FALSE(its.empty());
  for (int it : its) EXPECT_TRUE(it < 20 || it > 50) << "iteration " << it << " in\n" << after;
  EXPECT_EQ(its.back(), 60);
}

// The first line damaged: --resume drops it as any other, and is not refused as if no run had
// written the file (the check that keeps a user's own files from a fresh run); nor is a fresh run,
// whose folder's other lines are a run's.
TEST(ResumeCli, ADamagedFirstMetricsLineDoesNotBlockTheResume) {
  const std::string args = kRun + " --set output.log_every=10";
  const std::string dir = ::testing::TempDir() + "/resume_damaged_first";
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + args + " --out " + dir;
  ASSERT_EQ(run_command(train + " --set admm.iterations=20 --set output.keep_state=true").code, 0);
  const std::string path = dir + "/metrics.jsonl";
  std::string text = slurp(path);
  text[0] = '#';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  const auto r = run_command(train + " --resume --set admm.iterations=30");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("had a damaged line (not a torn last line, which a kill leaves): it and the 2 line(s) after it "
                       "up to iteration 20 are"),
            std::string::npos)
      << r.out;
  text = "{\"iter\": 1, torn\n" + slurp(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  const auto fresh = run_command(train + " --set admm.iterations=5");
  EXPECT_EQ(fresh.code, 0) << fresh.out;
}

// An output that cannot grow mid-run (a full disk; here a file size limit, which killed the run
// with SIGXFSZ, no error line and a torn model.bin.tmp.* left): a periodic checkpoint fails with
// one error line naming model.bin, the earlier model.bin and state.bin stay as they were, no
// temporary is left, and --resume once there is room ends as a straight run. The limit is lowered
// (prlimit) once the run is past its up-front check, which refuses a limit below its files.
TEST(ResumeCli, AnOutputThatCannotGrowMidRunKeepsTheLastCheckpoint) {
  if (test::file_limit_runs_crash())
    GTEST_SKIP() << "a ThreadSanitizer binary cannot start under ulimit -f (test_util.h)";
  if (run_command("command -v prlimit").code != 0) GTEST_SKIP() << "no prlimit (util-linux)";
  const std::string args = kRun + " --set output.log_every=5 --set output.checkpoint_every=300";
  const std::string straight = ::testing::TempDir() + "/resume_full_straight", dir = ::testing::TempDir() + "/resume_full";
  std::filesystem::remove_all(straight);
  std::filesystem::remove_all(dir);
  const std::string train = std::string(PDADMM_BINARY) + " train" + args;
  ASSERT_EQ(run_command(train + " --set admm.iterations=600 --out " + straight).code, 0);
  ASSERT_EQ(run_command(train + " --set admm.iterations=100 --set output.keep_state=true --out " + dir).code, 0);
  const std::string model = slurp(dir + "/model.bin"), state = slurp(dir + "/state.bin");
  // 200 KiB: room for config.json and metrics.jsonl, not model.bin.
  ASSERT_GT(model.size(), 410000u);
  const std::string resume = train + " --set admm.iterations=600 --resume --out " + dir;
  // The "resuming" line comes after the check; the first checkpoint, 200 iterations later (a wide
  // window for the lowered limit to land in, the run niced).
  const std::string log = dir + ".log";
  std::filesystem::remove(log);  // an earlier run's "resuming" line let the limit land before the check
  const auto r = run_command("(exec nice -n 19 " + resume + " > " + log + " 2>&1) & pid=$!; "
                             "while ! grep -q '^resuming ' " + log + " 2>/dev/null && kill -0 $pid 2>/dev/null; do "
                             "sleep 0.005; done; prlimit --pid $pid --fsize=204800: ; wait $pid; rc=$?; cat " + log +
                             "; exit $rc");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("resuming " + dir + " from its state.bin at iteration 100 of 600\n"), std::string::npos) << r.out;
  // The line says what is left and what to do (it said only "cannot write").
  EXPECT_NE(r.out.find("\nerror: cannot write " + dir + "/model.bin: " + std::strerror(EFBIG) +
                       " (the checkpoint of iteration 300; --resume goes on from the state.bin of iteration 100, the "
                       "last checkpoint, once the files can be written)\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(test::error_lines(r.out), 1) << "one error line: " << r.out;
  EXPECT_TRUE(slurp(dir + "/model.bin") == model) << "the earlier model.bin changed";
  EXPECT_TRUE(slurp(dir + "/state.bin") == state) << "the earlier state.bin changed";
  for (const auto& f : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(f.path().filename().string().find(".tmp."), std::string::npos) << f.path();
  const auto resumed = run_command(resume);
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_TRUE(model_payload(straight) == model_payload(dir)) << "model.bin weights differ";
  const nlohmann::json a = test::read_json(straight + "/summary.json"), b = test::read_json(dir + "/summary.json");
  for (const char* key : {"iterations", "train", "val", "test", "objective", "residual"}) EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(b["resumed_from"], 100);
  // The failed run's lines past the state are dropped and logged again, once (the line at 100 is the
  // shorter run's final one, scored exactly: see Running longer).
  const auto iters = [](const std::string& path) {
    std::vector<int> its;
    std::ifstream in(path);
    for (std::string l; std::getline(in, l);) its.push_back(nlohmann::json::parse(l)["iter"]);
    return its;
  };
  EXPECT_EQ(iters(straight + "/metrics.jsonl"), iters(dir + "/metrics.jsonl"));
}

// Killed outright (SIGKILL) inside stage 2 of a grown net under the reference ρ schedule: the
// periodic state resumes; metrics lines logged after it are dropped and logged again.
TEST(ResumeCli, AKilledRunResumesInsideAGrowthStage) {
  const std::string args =
      kRun + " --set 'model.stages=[{\"layers\": 2, \"iterations\": 300}, {\"layers\": 4, \"iterations\": 1700}]'" +
      " --set admm.iterations=2000 --set admm.rho_schedule.type=reference --set admm.nu=0.01 --set admm.rho=0.01" +
      " --set output.log_every=20 --set output.checkpoint_every=350";
  const std::string straight = ::testing::TempDir() + "/resume_grown", killed = ::testing::TempDir() + "/resume_killed";
  std::filesystem::remove_all(straight);
  const auto s = run_command(std::string(PDADMM_BINARY) + " train" + args + " --out " + straight);
  ASSERT_EQ(s.code, 0) << s.out;
  const auto [code, log] = train_until_signal(args, killed, SIGKILL, "state.bin", 200000);
  ASSERT_EQ(code, -1) << log;
  const StateFile st = load_state_file(killed + "/state.bin");
  const int k = st.meta["iteration"];
  EXPECT_EQ(k % 350, 0);
  EXPECT_EQ(st.meta["stage"], 1);  // the second stage
  const auto r = run_command(std::string(PDADMM_BINARY) + " train --resume --out " + killed + args);
  ASSERT_EQ(r.code, 0) << r.out;
  expect_same_run(straight, killed, k);
  // The schedule raised ρ in the run; it sits at its cap by the state, so no loss is read after the
  // resume (the loss history's carry-over is AResumeInsideAGrowthStageKeepsTheRhoSchedulesLosses's).
  std::ifstream m(straight + "/metrics.jsonl");
  std::string line;
  double rho_max = 0;
  while (std::getline(m, line)) rho_max = std::max(rho_max, nlohmann::json::parse(line)["rho"].get<double>());
  EXPECT_GT(rho_max, 0.01);
}

// The rho of each line of DIR/metrics.jsonl, by iteration.
std::map<int, double> logged_rho(const std::string& dir) {
  std::map<int, double> rho;
  std::ifstream m(dir + "/metrics.jsonl");
  for (std::string line; std::getline(m, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    rho[j["iter"].get<int>()] = j["rho"].get<double>();
  }
  return rho;
}

// The first iteration after k whose line shows another rho than the line at k (0: none).
int first_rho_change_after(const std::map<int, double>& rho, int k) {
  const auto at = rho.find(k);
  if (at == rho.end()) return -1;
  for (auto it = std::next(at); it != rho.end(); ++it)
    if (it->second != at->second) return it->first;
  return 0;
}

// The ρ schedule's loss history carries over a resume: the state is saved 2 iterations into stage 2,
// ρ far below its cap, and the rule (the loss stalled twice in a row, from the stage's fourth loss
// on) raises ρ right after the stage's fourth iteration, reading the 2 losses the state holds (the
// line of iteration k + 3 shows it). A resumed run that lost them could raise it only after 4
// losses of its own, 2 iterations late. (The killed run above is saved with ρ at its cap, where no
// loss is read.) The state is a finished run's, kept and run longer: no signal to time, and the
// same state.bin a checkpoint writes.
TEST(ResumeCli, AResumeInsideAGrowthStageKeepsTheRhoSchedulesLosses) {
  const auto args = [](int second) {
    return kRun + " --set 'model.stages=[{\"layers\": 2, \"iterations\": 30}, {\"layers\": 4, \"iterations\": " +
           std::to_string(second) + "}]' --set admm.iterations=" + std::to_string(30 + second) +
           " --set admm.rho_schedule.type=reference --set admm.nu=1e-4 --set admm.rho=1e-4" +
           " --set output.log_every=1 --set output.tracked_eval=false";
  };
  const std::string straight = ::testing::TempDir() + "/resume_rho_straight", kept = ::testing::TempDir() + "/resume_rho_kept";
  std::filesystem::remove_all(straight);
  std::filesystem::remove_all(kept);
  const std::string train = std::string(PDADMM_BINARY) + " train";
  const auto s = run_command(train + args(20) + " --out " + straight);
  ASSERT_EQ(s.code, 0) << s.out;
  const auto r = run_command(train + args(2) + " --set output.keep_state=true --out " + kept);
  ASSERT_EQ(r.code, 0) << r.out;
  const int k = state_iteration(kept);
  ASSERT_EQ(k, 32);
  const StateFile st = load_state_file(kept + "/state.bin");
  EXPECT_EQ(st.meta["stage"], 1);  // the second stage
  const auto longer = run_command(train + " --resume" + args(20) + " --set output.keep_state=false --out " + kept);
  ASSERT_EQ(longer.code, 0) << longer.out;
  expect_same_run(straight, kept, k);
  const std::map<int, double> a = logged_rho(straight), b = logged_rho(kept);
  ASSERT_EQ(a.size(), 50u);
  // Not capped when saved (the schedule still reads losses), raised after the stage's fourth loss.
  EXPECT_EQ(a.at(k), 1e-4);
  EXPECT_EQ(first_rho_change_after(a, k), k + 3) << "the uninterrupted run";
  EXPECT_EQ(first_rho_change_after(b, k), k + 3) << "the resumed run";
}

// A tensor's rows and cols are each below 2^31 (HostMatrix's), checked before the sizes are added
// up: a dimension of 2^62 made rows x cols x 4 bytes wrap to 0 in uint64, so a file with no payload
// "held" a 2^62-float tensor, and a 2^31 x 0 one loaded as a 0-byte tensor of a shape no run has.
// The header checksums are right: only the shape check can refuse these.
TEST(Resume, AStateTensorDimensionPast2To31IsRefused) {
  const std::string path = ::testing::TempDir() + "/resume_big_shape.bin";
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{int64_t{1} << 31, 0}, {int64_t{1} << 62, 1}, {1, int64_t{1} << 62}}) {
    nlohmann::json h = {{"meta", nlohmann::json::object()},
                        {"tensors", nlohmann::json::array({{{"name", "big"}, {"rows", rows}, {"cols", cols}}})}};
    h["header_crc32"] = header_keys_crc(h, {"meta", "tensors"});
    h["crc32"] = 0;  // the CRC32 of no bytes
    write_framed_file(path, kStateMagic, h, {});
    EXPECT_EQ(test::error_of([&] { load_state_file(path); }), "state " + path + ": bad tensor shape in the header")
        << rows << " x " << cols;
  }
}

// The magic's last byte is the format's version: a "PDADMMS2" file is another format, refused as
// not a state file rather than read as this one's layout.
TEST(Resume, AStateOfAnotherFormatVersionIsRefused) {
  const std::string path = ::testing::TempDir() + "/resume_version.bin";
  StateFile s;
  s.meta = {{"iteration", 1}};
  s.names = {"a"};
  s.tensors = {HostMatrix<float>(2, 2, 1.0f)};
  save_state_file(path, s);
  std::string bytes = slurp_text(path);
  ASSERT_EQ(bytes.substr(0, 8), "PDADMMS1");
  bytes[7] = '2';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(test::error_of([&] { load_state_file(path); }), "state " + path + ": not a pdadmm state file");
}

// peek_state_meta reads state files only: a framed file of another magic (a checkpoint from before
// headers had their own checksum) is no state, whatever its header holds; load_checkpoint's error
// for a damaged model.bin asked for it to be taken as a state.bin.
TEST(Resume, PeekingAtAFileOfAnotherMagicGivesNoMeta) {
  const std::string path = ::testing::TempDir() + "/resume_peek_magic.bin";
  const nlohmann::json h = {{"meta", {{"iteration", 3}}}, {"tensors", nlohmann::json::array()}, {"crc32", 0}};
  write_framed_file(path, kStateMagic, h, {});
  EXPECT_EQ(peek_state_meta(path), h["meta"]);
  write_framed_file(path, "PDADMM01", h, {});
  EXPECT_TRUE(peek_state_meta(path).is_null());
  EXPECT_FALSE(damaged_state_file(path));
}

// StateFileReader::check hands each tensor on until the first one `each` refuses, and that error
// is the one thrown (after the checksum's verdict): not the last tensor's.
TEST(Resume, ACheckReportsTheFirstRefusedTensor) {
  const std::string path = ::testing::TempDir() + "/resume_check_first.bin";
  StateFile s;
  s.meta = {{"iteration", 1}};
  s.names = {"a", "b", "c"};
  s.tensors = {HostMatrix<float>(1, 2, 1.0f), HostMatrix<float>(2, 1, 2.0f), HostMatrix<float>(1, 1, 3.0f)};
  save_state_file(path, s);
  StateFileReader r(path);
  std::vector<size_t> seen;
  EXPECT_EQ(test::error_of([&] {
              r.check([&](size_t i, const HostMatrix<float>&) {
                seen.push_back(i);
                if (i >= 1) throw Error("refused tensor " + std::to_string(i));
              });
            }),
            "refused tensor 1");
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1}));
}

// A state whose meta is not an object (its checksums right) cannot be resumed: the peek gives no
// meta, so the file counts as a damaged state, as load_state_file's refusal says.
TEST(Resume, AStateWithAMetaThatIsNoObjectIsDamaged) {
  const std::string path = ::testing::TempDir() + "/resume_meta_string.bin";
  nlohmann::json h = {{"meta", "iteration 3"}, {"tensors", nlohmann::json::array()}};
  h["header_crc32"] = header_keys_crc(h, {"meta", "tensors"});
  h["crc32"] = 0;
  write_framed_file(path, kStateMagic, h, {});
  EXPECT_EQ(test::error_of([&] { load_state_file(path); }), "state " + path + ": corrupt header");
  EXPECT_TRUE(peek_state_meta(path).is_null());
  EXPECT_TRUE(damaged_state_file(path));
}

}  // namespace
}  // namespace pdadmm
