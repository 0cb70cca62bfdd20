// data.npz.train through the binary: a user's graph (test::SmallGraph, 110 of 120 nodes labelled)
// trained on a 60/20/20 class-blind split; info says which split is in force; eval and --resume
// refuse another split, and read a model or state from before data.npz.train as per class.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/io/checkpoint.h"
#include "host/io/state_file.h"
#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::expect_one_line_error;
using test::run_command;

// A folder holding graph.npz; commands run in it.
std::string graph_folder(const std::string& name) {
  const std::string dir = ::testing::TempDir() + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  test::write_zip(dir + "/graph.npz", test::SmallGraph().members("f4", true));
  return "cd " + dir + " && " + PDADMM_BINARY;
}

const std::string kNpz = " --set data.name=npz --set data.npz.file=graph.npz --set output.progress=off";
const std::string kFractions = kNpz + " --set data.npz.train=0.6 --set data.npz.val=0.2 --set data.npz.test=0.2";

TEST(CliNpzSplit, TrainsOnASixtyTwentyTwentySplitAndEvalRefusesAnother) {
  const std::string in_dir = graph_folder("cli_npz_split");
  const std::string dir = ::testing::TempDir() + "cli_npz_split";
  const test::CommandResult t =
      run_command(in_dir + " train" + kFractions + " --set model.hidden=16 --set admm.iterations=20 --out run");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find("3 classes; train/val/test 66/22/22)"), std::string::npos) << t.out;
  const nlohmann::json sum = test::read_json(dir + "/run/summary.json");
  ASSERT_TRUE(sum.is_object());
  EXPECT_GE(sum["test"]["acc"].get<double>(), 0.95) << sum.dump();  // 1.0 when written
  EXPECT_EQ(sum["test"]["nodes"], 22);
  // The values in force, and no train_per_class (not used): config.json reads back as a config.
  const nlohmann::json cfg = test::read_json(dir + "/run/config.json");
  EXPECT_EQ(cfg["data"]["npz"], nlohmann::json::parse(R"({"file": "graph.npz", "train": 0.6, "val": 0.2, "test": 0.2})"));

  const test::CommandResult i = run_command(in_dir + " info" + kFractions);
  ASSERT_EQ(i.code, 0) << i.out;
  for (const std::string line :
       {"train/val/test 66 / 22 / 22\n",
        "split         random regardless of class, the first 66 train (0.6), then 22 test (0.2), then 22 val (0.2) of "
        "a torch.randperm of the 110 labelled nodes, torch.manual_seed(100); feature values as stored\n"})
    EXPECT_NE(i.out.find(line), std::string::npos) << "expected \"" << line << "\" in\n" << i.out;
  const test::CommandResult redrawn = run_command(in_dir + " info" + kFractions + " --set data.val_split_seed=3");
  EXPECT_NE(redrawn.out.find("train/val/test 66 / 22 / 22\n"), std::string::npos) << redrawn.out;
  EXPECT_NE(redrawn.out.find("train and val redrawn outside test (val_split_seed 3)"), std::string::npos) << redrawn.out;

  const std::string eval = in_dir + " eval --model run/model.bin";
  const test::CommandResult e = run_command(eval + " --config run/config.json");
  ASSERT_EQ(e.code, 0) << e.out;
  test::expect_eval_prints_the_summary(e, sum);
  expect_one_line_error(run_command(eval + " --config run/config.json --set data.npz.train=0.5"),
                        "run/model.bin was trained with data.npz.train = 0.6, the config has 0.5");
  // Without --config, the config model.bin records, --set on it: its split, or another refused.
  test::expect_eval_prints_the_summary(run_command(eval), sum);
  expect_one_line_error(run_command(eval + kNpz + " --set data.npz.val=0.3 --set data.npz.test=0.1"),
                        "run/model.bin was trained with data.npz.test = 0.2, the config has 0.1");
  // The training run's relative path is read from the current folder: from the parent folder the
  // file is named another way, and accepted by its content (model.bin's data checksum).
  const test::CommandResult parent =
      run_command("cd " + dir + "/.. && " + PDADMM_BINARY + " eval --model cli_npz_split/run/model.bin" +
                  " --config cli_npz_split/run/config.json --set data.npz.file=cli_npz_split/graph.npz");
  ASSERT_EQ(parent.code, 0) << parent.out;
  test::expect_eval_prints_the_summary(parent, sum);

  // Errors: one line naming the key.
  expect_one_line_error(run_command(in_dir + " info" + kFractions + " --set data.npz.train_per_class=5"),
                        "config: data.npz.train_per_class: not used with data.npz.train = 0.6");
  expect_one_line_error(run_command(in_dir + " info" + kFractions + " --set data.npz.train=100"),
                        "graph.npz split: only 110 labelled nodes for 100 train + 22 test + 22 val (lower "
                        "data.npz.train, data.npz.test or data.npz.val)");
  expect_one_line_error(run_command(in_dir + " info" + kFractions + " --set data.npz.val=0.5"),
                        "config: data.npz: fractions train 0.6 + val 0.5 + test 0.2 of the labelled nodes add up to "
                        "more than 1");
}

// Binaries before data.npz.train saved no such key: their per-class model.bin and state.bin are
// read as train 0, so they evaluate and resume under a per-class config, and not under another.
TEST(CliNpzSplit, ModelAndStateFromBeforeNpzTrainArePerClass) {
  const std::string in_dir = graph_folder("cli_npz_split_old");
  const std::string dir = ::testing::TempDir() + "cli_npz_split_old";
  const std::string per_class = kNpz + " --set data.npz.train_per_class=5 --set data.npz.val=20 --set data.npz.test=60"
                                       " --set model.hidden=8";
  const test::CommandResult t =
      run_command(in_dir + " train" + per_class + " --set admm.iterations=2 --set output.keep_state=true --out run");
  ASSERT_EQ(t.code, 0) << t.out;
  Checkpoint ck = load_checkpoint(dir + "/run/model.bin");
  ASSERT_EQ(ck.meta["config"]["data"]["npz"]["train"], 0);
  ck.meta["config"]["data"]["npz"].erase("train");
  save_checkpoint(dir + "/run/model.bin", ck);
  StateFile st = load_state_file(dir + "/run/state.bin");
  st.meta["config"]["data"]["npz"].erase("train");
  save_state_file(dir + "/run/state.bin", st);
  nlohmann::json saved = test::read_json(dir + "/run/config.json");  // that build's config.json: the same
  saved["data"]["npz"].erase("train");
  std::ofstream(dir + "/run/config.json") << saved.dump(2) << "\n";

  const std::string eval = in_dir + " eval --model run/model.bin";
  const test::CommandResult e = run_command(eval + per_class);
  EXPECT_EQ(e.code, 0) << e.out;
  test::expect_eval_prints_the_summary(e, test::read_json(dir + "/run/summary.json"));
  const std::string class_blind = kNpz + " --set data.npz.train=0.6 --set data.npz.val=20 --set data.npz.test=60";
  expect_one_line_error(run_command(eval + class_blind),
                        "not used with data.npz.train = 0.6 (training nodes drawn regardless of class); remove one of "
                        "the two (in the config run/model.bin was trained with, with --set on it; --config gives another)");
  std::ofstream(dir + "/defaults.json") << "{}";
  expect_one_line_error(run_command(eval + " --config defaults.json" + class_blind),
                        "run/model.bin was trained with data.npz.train = 0, the config has 0.6");
  // (With --config: without it, the config state.bin records is the base, train_per_class in it.)
  expect_one_line_error(run_command(in_dir + " train --resume --config defaults.json" + class_blind +
                                    " --set model.hidden=8 --set admm.iterations=4 --out run"),
                        "--resume: the config has data.npz.train = 0.6, the run in run/state.bin has 0");
  const test::CommandResult r =
      run_command(in_dir + " train --resume" + per_class + " --set admm.iterations=3 --out run");
  EXPECT_EQ(r.code, 0) << r.out;
  const nlohmann::json resumed = test::read_json(dir + "/run/summary.json");
  EXPECT_EQ(resumed["resumed_from"], 2) << resumed.dump();
  EXPECT_EQ(resumed["iterations"], 3) << resumed.dump();
}

// Another graph's file under a named set's name: its split failed first ("only 0 labelled nodes
// left for 1000 test + 1000 val"), never saying the file is not that data set.
TEST(CliNpzSplit, ASmallGraphUnderANamedSetsNameIsNamedAsSuch) {
  const std::string dir = ::testing::TempDir() + "npz_wrong_named";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/npz");
  test::write_zip(dir + "/npz/amazon_electronics_photo.npz", test::SmallGraph().members("f4", true));
  const test::CommandResult r =
      run_command(std::string(PDADMM_BINARY) + " info --set data.name=amazon_photo --data " + dir);
  expect_one_line_error(r, "error: " + dir + "/npz/amazon_electronics_photo.npz holds ");
  EXPECT_NE(r.out.find(" nodes; amazon_photo has 7650 (another data set's file, or an altered one"), std::string::npos)
      << r.out;
}

// X (blocks·F x N) too large for the memory: one line before anything is allocated for it, not the
// OOM killer (a graph declaring 4·10^8 sparse feature columns: 2·10^9 x 66 floats, 528 GB; wider
// than 2^31 - 1 is refused before, as past BLAS's int dimensions).
TEST(CliNpzSplit, AnAugmentedInputPastTheMemoryIsOneError) {
  const std::string dir = ::testing::TempDir() + "cli_npz_wide";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const test::SmallGraph g;
  test::NpzMembers m = g.members("sparse", false);
  for (auto& [name, bytes, deflate] : m)
    if (name == "attr_shape.npy") bytes = test::npy_i8({g.n(), 400000000});
  test::write_zip(dir + "/graph.npz", m);
  expect_one_line_error(run_command("cd " + dir + " && " + PDADMM_BINARY + " train" + kFractions + " --out run"),
                        "out of host memory: the augmented training input (2000000000 features x 66 training nodes) "
                        "needs");
}

}  // namespace
}  // namespace pdadmm
