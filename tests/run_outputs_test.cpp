// host/admm/run_outputs: the room check for model.bin and state.bin, against the sizes of files
// train() writes and the free space std::filesystem reports for the test's own folder.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>
#include <sstream>
#include <string>
#include <vector>

#include "host/admm/plan.h"
#include "host/admm/problem.h"
#include "host/admm/run_outputs.h"
#include "host/admm/trainer.h"
#include "host/config/config.h"
#include "host/io/error.h"

namespace pdadmm {
namespace {

volatile sig_atomic_t g_test_signals = 0;

Config tiny_config(const std::string& dir) {
  Config c = parse_config(nlohmann::json::object(),
                          {"model.layers=3", "model.hidden=24", "data.synthetic.nodes=300", "data.synthetic.val=50",
                           "data.synthetic.test=100", "admm.iterations=2"});
  c.output.progress = "off";
  c.output.dir = dir;
  c.threads = 1;
  return c;
}

// The estimate is the file's size but for the framing and the layer list of its header.
TEST(RunOutputs, ModelFileBytesIsTheSizeTrainWrites) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_model_room_size";
  std::filesystem::remove_all(dir);
  const Config c = tiny_config(dir);
  std::ostringstream log;
  train(c, log);
  const uint64_t written = std::filesystem::file_size(dir + "/model.bin");
  const std::vector<int64_t> dims = {static_cast<int64_t>(c.data.synthetic.features) * (c.model.hops + 1), 24, 24,
                                     static_cast<int64_t>(c.data.synthetic.classes)};
  const uint64_t estimate = model_file_bytes(c, dims);
  EXPECT_LE(estimate, written);
  EXPECT_LT(written - estimate, 512u) << "estimate " << estimate << ", file " << written;
  std::filesystem::remove_all(dir);
}

// The estimate bounds the file from above by at most its header's allowance: a tensor missed or
// counted twice (the tracked evaluations' anchor, a group's boundary copies) is off by more.
TEST(RunOutputs, StateFileBytesBoundsTheStateTrainWrites) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_state_room_size";
  const std::vector<std::vector<std::string>> variants = {
      {},
      {"groups=2"},
      {"output.log_every=1", "admm.iterations=4"},  // the tracked evaluations' anchor
      {"output.log_every=3", "admm.iterations=4"},  // anchored at iteration 0 for iteration 2's evaluation
      {"output.log_every=1", "admm.iterations=4", "output.tracked_eval=false"},
      {"model.stages=[{\"layers\":2,\"iterations\":1},{\"layers\":3,\"iterations\":1}]", "groups=2"},
      // Many small tensors: their headers outgrow the fixed allowance.
      {"model.layers=32", "model.hidden=4", "groups=4"},
  };
  for (const std::vector<std::string>& sets : variants) {
    std::filesystem::remove_all(dir);
    Config c = tiny_config(dir);
    std::vector<std::string> all = {"model.layers=3",         "model.hidden=24",   "data.synthetic.nodes=300",
                                    "data.synthetic.val=50",  "data.synthetic.test=100", "admm.iterations=2",
                                    "output.keep_state=true"};
    all.insert(all.end(), sets.begin(), sets.end());
    c = parse_config(nlohmann::json::object(), all);
    c.output.progress = "off";
    c.output.dir = dir;
    c.threads = 1;
    std::ostringstream log;
    train(c, log);
    const uint64_t written = std::filesystem::file_size(dir + "/state.bin");
    const uint64_t estimate = state_file_bytes(c, shape_of(build_problem(c)));
    EXPECT_GE(estimate, written) << ::testing::PrintToString(sets);
    EXPECT_LT(estimate - written, 16384u) << ::testing::PrintToString(sets) << " estimate " << estimate << ", file "
                                          << written;
  }
  std::filesystem::remove_all(dir);
}

// The room at the worst moment: new files whole, a replaced file's growth, and one new copy beside
// its old one where checkpoints rewrite the files or a file replaces an earlier run's.
TEST(RunOutputs, OutputRoomCountsTheCopiesBesideTheOld) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_room_need";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Config c = tiny_config(dir);
  c.iterations = 100;
  EXPECT_EQ(output_room_need(c, 1000, 3000).need, 1000u);  // model.bin once, no state.bin
  c.output.keep_state = true;
  EXPECT_EQ(output_room_need(c, 1000, 3000).need, 4000u);  // both once
  c.output.keep_state = false;
  c.output.checkpoint_every = 10;
  OutputRoom r = output_room_need(c, 1000, 3000);
  EXPECT_EQ(r.need, 7000u);  // both, then state.bin's next copy beside it
  EXPECT_EQ(r.every, 10);
  c.output.state = false;
  EXPECT_EQ(output_room_need(c, 1000, 3000).need, 2000u);
  c.output.state = true;
  c.output.checkpoint_every = 100;  // not before the end: model.bin once, no state.bin
  EXPECT_EQ(output_room_need(c, 1000, 3000).need, 1000u);
  // An earlier run's files: replaced, so their bytes come back; the new copy still needs room.
  c.output.checkpoint_every = 10;
  for (const auto& [name, bytes] : {std::pair<const char*, uint64_t>{"model.bin", 1000}, {"state.bin", 2500}}) {
    std::ofstream(dir + "/" + name).close();
    std::filesystem::resize_file(dir + "/" + name, bytes);
  }
  EXPECT_EQ(output_room_need(c, 1000, 3000).need, 500u + 3000u);
  c.output.checkpoint_every = 0;
  EXPECT_EQ(output_room_need(c, 1000, 3000).need, 1000u);  // model.bin's new copy beside the old
  std::filesystem::remove_all(dir);
}

TEST(RunOutputs, OutputsLargerThanTheFreeSpaceAreOneErrorLine) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_model_room_check";
  std::filesystem::create_directories(dir);
  Config c = tiny_config(dir);
  const std::filesystem::space_info room = std::filesystem::space(dir);
  if (room.capacity == 0) GTEST_SKIP() << "this file system reports no capacity";
  const uint64_t big = room.available + 1000000;
  const auto message = [&](const OutputRoom& r) {
    try {
      require_output_room(c, r);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string msg = message(output_room_need(c, big, 10));
  EXPECT_EQ(msg.rfind("not enough room for the outputs in " + dir + ": model.bin ", 0), 0u) << msg;
  EXPECT_NE(msg.find("is free there (choose another --out, free some space, or set output.checkpoint to false)"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(msg.find("state.bin"), std::string::npos) << msg;  // not written without a signal
  // Checkpoints write state.bin during the run: its size and the fix name the checkpoints.
  c.iterations = 4;
  c.output.checkpoint_every = 2;
  msg = message(output_room_need(c, 10, big));
  EXPECT_NE(msg.find("model.bin 10 B, state.bin "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" (every 2 iterations), "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" at once with a new copy beside the old, and "), std::string::npos) << msg;
  EXPECT_NE(msg.find("set output.checkpoint_every to 0)"), std::string::npos) << msg;
  EXPECT_NO_THROW(require_output_room(c, output_room_need(c, 1000, 1000)));
  c.output.checkpoint = false;
  c.output.state = false;  // nothing written before a signal: nothing to check
  EXPECT_NO_THROW(require_output_room(c, output_room_need(c, big, big)));
  std::filesystem::remove_all(dir);
}

// A log that raises SIGTERM once it has been told `text`: "final: " (the final scores, after the
// last iteration, as a Ctrl-C during a long final evaluation would come) or "stage 2/2" (mid-run).
class SignalOn : public std::stringbuf {
 public:
  explicit SignalOn(std::string text, std::function<void()> before = {})
      : text_(std::move(text)), before_(std::move(before)) {}

 protected:
  int sync() override {
    if (!raised_ && str().find(text_) != std::string::npos) {
      raised_ = true;
      if (before_) before_();
      raise(SIGTERM);
    }
    return 0;
  }

 private:
  std::string text_;
  std::function<void()> before_;  // run just before the signal
  bool raised_ = false;
};

void note_signal(int) { ++g_test_signals; }

// Trains `c` with SIGTERM raised as `line` is logged; the log's text goes to `text`. A SIGTERM
// pdadmm's handler misses lands in note_signal (g_test_signals) rather than ending the test.
TrainSummary train_signalled_at(const Config& c, const std::string& line, std::string& text) {
  struct sigaction mine = {}, old = {};
  mine.sa_handler = note_signal;
  sigemptyset(&mine.sa_mask);
  EXPECT_EQ(sigaction(SIGTERM, &mine, &old), 0);
  g_test_signals = 0;
  SignalOn buf(line);
  std::ostream log(&buf);
  log << std::unitbuf;
  const TrainSummary sum = train(c, log);
  sigaction(SIGTERM, &old, nullptr);
  text = buf.str();
  return sum;
}

// The handler stays until the outputs are written: a signal after the last iteration ended the
// process with none of them (and an earlier run's summary.json left in the folder).
TEST(RunOutputs, ASignalAfterTheLastIterationLetsTheRunFinish) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_late_signal";
  std::filesystem::remove_all(dir);
  std::string text;
  const TrainSummary sum = train_signalled_at(tiny_config(dir), "final: ", text);
  EXPECT_EQ(g_test_signals, 0) << "pdadmm's handler was not installed after the last iteration";
  EXPECT_EQ(sum.signal, 0) << "a run that finished reports no interruption";
  EXPECT_NE(text.find("note: SIGTERM arrived in or after the last iteration: the run finished and its outputs are "
                      "written\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(std::filesystem::exists(dir + "/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/model.bin"));
  std::filesystem::remove_all(dir);
}

// A signal as the run starts replacing an earlier run's outputs (config.json written, its
// metrics.jsonl and state.bin not yet touched) stops the run after an iteration with all of them
// written: the handler went in only after them, so the signal ended the process there and left
// the old summary.json and model.bin beside the new config.json and an emptied metrics.jsonl.
TEST(RunOutputs, ASignalAsAnEarlierRunsOutputsAreReplacedStopsAfterAnIteration) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_signal_replacing";
  std::filesystem::remove_all(dir);
  const Config c = tiny_config(dir);
  std::ostringstream first;
  train(c, first);  // the earlier run
  ASSERT_TRUE(std::filesystem::exists(dir + "/summary.json"));
  std::string text;
  const TrainSummary sum = train_signalled_at(c, "note: replacing the outputs of an earlier run", text);
  EXPECT_EQ(g_test_signals, 0) << "pdadmm's handler was not installed while the earlier outputs were replaced";
  EXPECT_EQ(sum.signal, SIGTERM) << text;
  EXPECT_EQ(sum.iterations, 1) << text;
  std::ifstream summary(dir + "/summary.json");
  const nlohmann::json j = nlohmann::json::parse(summary);
  EXPECT_EQ(j["iterations"], 1);
  EXPECT_EQ(j["interrupted"], true);
  EXPECT_TRUE(std::filesystem::exists(dir + "/state.bin"));
  EXPECT_GT(std::filesystem::file_size(dir + "/metrics.jsonl"), 0u);
  std::filesystem::remove_all(dir);
}

// A signal's state.bin is not in the room check before the first iteration: where it does not fit
// (here a file size limit between model.bin's and state.bin's), model.bin and summary.json are
// written first and the error says so; it said "summary.json holds that iterate" before writing it.
// Where a checkpoint wrote a state.bin before the limit (set as stage 2 starts), --resume takes
// that one, and the error says so rather than "cannot continue".
TEST(RunOutputs, AStateTheDiskCannotHoldLosesOnlyTheResume) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_state_no_room";
  for (const bool checkpoint : {false, true}) {
    std::filesystem::remove_all(dir);
    Config c = parse_config(nlohmann::json::object(),
                            {"model.stages=[{\"layers\":2,\"iterations\":2},{\"layers\":3,\"iterations\":4}]",
                             "model.hidden=24", "data.synthetic.nodes=300", "data.synthetic.val=50",
                             "data.synthetic.test=100", checkpoint ? "output.checkpoint_every=2" : "output.checkpoint_every=0"});
    c.output.progress = "off";
    c.output.dir = dir;
    c.threads = 1;
    const Problem problem = build_problem(c);
    const uint64_t model = model_file_bytes(c, problem.dims), state = state_file_bytes(c, shape_of(problem));
    ASSERT_GT(state, 2 * model + 65536) << "the limit must fall between the two files";
    struct rlimit old_limit = {};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    struct rlimit limit = old_limit;
    limit.rlim_cur = static_cast<rlim_t>(model + (state - model) / 2);
    void (*old_xfsz)(int) = signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG
    const auto set_limit = [&] { ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0); };
    if (!checkpoint) set_limit();
    // The second stage starts: a stop in the middle of the run, after the checkpoint at 2.
    SignalOn buf("stage 2/2", checkpoint ? std::function<void()>(set_limit) : std::function<void()>());
    std::ostream log(&buf);
    log << std::unitbuf;
    std::string error = "(no error)";
    try {
      train(c, log);
    } catch (const Error& e) {
      error = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_xfsz);
    const std::string head = "cannot write " + dir + "/state.bin: File too large (model.bin and summary.json hold "
                             "iteration ",
                      tail = checkpoint ? "; --resume goes on from the state.bin of iteration 2, the last checkpoint)"
                                        : ", but --resume cannot continue it)";
    EXPECT_EQ(error.rfind(head, 0), 0u) << error;
    EXPECT_EQ(error.size() - error.rfind(tail), tail.size()) << error;
    EXPECT_TRUE(std::filesystem::exists(dir + "/model.bin"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/summary.json"));
    EXPECT_EQ(std::filesystem::exists(dir + "/state.bin"), checkpoint);
    EXPECT_EQ(buf.str().find("interrupted by"), std::string::npos) << "claimed before the files were written:\n"
                                                                     << buf.str();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pdadmm
