// The pdadmm binary as a user runs it: train writes a metrics file whose lines parse and carry
// the documented fields; bad input gives one error line and a non-zero exit.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iterator>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/io/checkpoint.h"
#include "host/io/stop_signal.h"
#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace {

using Result = pdadmm::test::CommandResult;

using pdadmm::test::train_until_signal;

Result run(const std::string& args) { return pdadmm::test::run_command(std::string(PDADMM_BINARY) + " " + args); }

const std::string kTiny =
    " --set data.synthetic.nodes=400 --set data.synthetic.val=50 --set data.synthetic.test=100"
    " --set model.hidden=16 --set admm.iterations=6 --set output.log_every=2 --set output.progress=off";

using pdadmm::test::expect_one_line_error;

// Through a pipe (stdout block-buffered, progress on stderr): the warning, then the header, then
// the progress lines in order, each with validation and test accuracy, ending at ETA 0.
TEST(Cli, TrainPrintsWarningHeaderAndProgressInOrder) {
  const std::string out = ::testing::TempDir() + "/cli_progress";
  Result r = run("train --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --out " + out + kTiny +
                 " --set output.progress=lines --set admm.nu=1 --set admm.rho=1");
  ASSERT_EQ(r.code, 0) << r.out;
  const size_t warn = r.out.find("warning: rho"), head = r.out.find("pdadmm: "), first = r.out.find("iter 1/6  val "),
               last = r.out.find("iter 6/6  val "), fin = r.out.find("final: ");
  ASSERT_NE(warn, std::string::npos) << r.out;
  ASSERT_NE(last, std::string::npos) << r.out;
  EXPECT_LT(warn, head) << r.out;
  EXPECT_LT(head, first) << r.out;
  EXPECT_LT(first, last) << r.out;
  EXPECT_LT(last, fin) << r.out;
  const std::string line = r.out.substr(last, r.out.find('\n', last) - last);
  EXPECT_TRUE(std::regex_match(line, std::regex(R"(iter 6/6  val [0-9.]+  test [0-9.]+  residual \S+  rho \S+  [0-9.]+ s/it  ETA 0s)")))
      << line;
}

// A progress line between logged evaluations shows the last logged one's scores and says which
// iteration they are from ("@k", 1-based, as the lines count); a logged iteration's line has none.
TEST(Cli, ProgressLinesNameTheIterationOfOlderScores) {
  const std::string out = ::testing::TempDir() + "/cli_progress_at";
  const Result r = run("train --out " + out + kTiny + " --set output.progress=lines");  // logs 1, 2, 4, 6
  ASSERT_EQ(r.code, 0) << r.out;
  const auto line = [&](int k) {
    const size_t at = r.out.find("iter " + std::to_string(k) + "/6  val ");
    EXPECT_NE(at, std::string::npos) << r.out;
    return at == std::string::npos ? std::string() : r.out.substr(at, r.out.find('\n', at) - at);
  };
  for (int k : {1, 2, 4, 6}) EXPECT_EQ(line(k).find(" @"), std::string::npos) << line(k);
  EXPECT_TRUE(std::regex_search(line(3), std::regex(R"(test [0-9.]+ @2  residual)"))) << line(3);
  EXPECT_TRUE(std::regex_search(line(5), std::regex(R"(test [0-9.]+ @4  residual)"))) << line(5);
}

// -Q: info, train and bench say the bytes against fp32 pdADMM-G's the same way (bench said neither,
// and "1 boundaries"; info nothing of -Q); 204800 = q forward + p backward, 256 x 100 floats each.
TEST(Cli, TrainAndBenchCompareTheBytesWithFp32) {
  const std::string cfg = " --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic_q.json";
  const std::string ratio = " (5.28 x fewer than fp32 pdADMM-G, 204800 per iteration)";
  const Result b = run("bench" + cfg + " -n 1 --warmup 0 --no-peak");
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("bench: 38800 bytes per iteration across 1 boundary" + ratio + "; modeled"), std::string::npos)
      << b.out;
  // info plans the same bytes before the run, and says what -Q does.
  const Result i = run("info" + cfg);
  ASSERT_EQ(i.code, 0) << i.out;
  EXPECT_NE(i.out.find("algorithm     pdadmm-g-q: q projected on a grid of 16 levels in [0, 2] (4-bit codes)\n"),
            std::string::npos)
      << i.out;
  EXPECT_NE(i.out.find("wire          q forward codes, p backward int8: 38800 bytes per iteration across 1 boundary" +
                       ratio + "\n"),
            std::string::npos)
      << i.out;
  const Result t = run("train" + cfg + " --set admm.iterations=2 --set output.progress=off --out " +
                       ::testing::TempDir() + "/cli_q_bytes");
  ASSERT_EQ(t.code, 0) << t.out;
  // The run's first line says it is -Q (it read as a G run's).
  EXPECT_NE(t.out.find(", backend cpu, pdadmm-g-q with q on a grid of 16 levels\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("bytes moved: 38800 per iteration across 1 boundary, 77600 in all" + ratio + "\n"),
            std::string::npos)
      << t.out;
}

TEST(Cli, TrainWritesMetricsWithTheDocumentedFields) {
  const std::string out = ::testing::TempDir() + "/cli_train";
  Result r = run("train --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --out " + out + kTiny +
                 " --set model.layers=3 --set groups=3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("final: test acc"), std::string::npos) << r.out;
  // fp32 on the wire: the bytes, without a "1.00 x fewer than fp32" ratio.
  EXPECT_NE(r.out.find(" per iteration across 2 boundaries, "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("x fewer than fp32"), std::string::npos) << r.out;
  std::ifstream f(out + "/metrics.jsonl");
  std::string line, last;
  int lines = 0;
  while (std::getline(f, line)) {
    last = line;
    ++lines;
  }
  EXPECT_EQ(lines, 4);  // iterations 1, 2, 4, 6
  nlohmann::json j = nlohmann::json::parse(last);
  for (const char* k : {"iter", "objective", "lagrangian", "residual", "train_acc", "val_acc", "test_acc", "seconds",
                        "terms_seconds", "bytes_sent", "groups"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_GT(j["terms_seconds"].get<double>(), 0) << "a logged iteration computes the terms";
  EXPECT_EQ(j["iter"], 6);
  ASSERT_EQ(j["groups"].size(), 3u);
  EXPECT_TRUE(j["groups"][0].contains("compute_s"));
  EXPECT_TRUE(j["groups"][0].contains("wait_s"));
  EXPECT_EQ(j["bytes_sent"].get<long>(), 2L * 2 * 16 * 100 * 4);  // 2 boundaries x (p + q) x 16 rows x N = 100 x 4 bytes
  EXPECT_EQ(j["bytes_ratio_fp32"], 1.0);
  // summary.json says which build wrote it, as --version does.
  std::ifstream sum(out + "/summary.json");
  const nlohmann::json summary = nlohmann::json::parse(sum);
  const std::string version = summary["version"];
  // The last line is the final iterate summary.json scores: each column where its name says (swapped
  // val_acc and test_acc columns passed every test, and tools/plot.py reads them).
  EXPECT_EQ(j["test_acc"], summary["test"]["acc"]);
  EXPECT_EQ(j["val_acc"], summary["val"]["acc"]);
  EXPECT_EQ(j["train_acc"], summary["train"]["acc"]);
  EXPECT_EQ(j["train_loss"], summary["train"]["loss"]);
  EXPECT_EQ(j["objective"], summary["objective"]["last"]);
  EXPECT_EQ(j["residual"], summary["residual"]["last"]);
  EXPECT_EQ(summary["bytes_ratio_fp32"], 1.0);
  EXPECT_NE(j["test_acc"], j["val_acc"]) << "the check above cannot tell the columns apart";
  // A run that went to the end is not marked interrupted, and counts every iteration.
  EXPECT_FALSE(summary["interrupted"].get<bool>()) << summary.dump();
  EXPECT_EQ(summary["iterations"], 6) << summary.dump();
  EXPECT_EQ(pdadmm::load_checkpoint(out + "/model.bin").meta["iterations"], 6);
  // Every key the two files hold is named in docs/outputs.md (nested ones by their own name).
  const std::string doc = pdadmm::test::slurp(std::string(PDADMM_SOURCE_DIR) + "/docs/outputs.md");
  for (const nlohmann::json* file : {static_cast<const nlohmann::json*>(&j), &summary})
    for (const auto& [key, value] : file->items()) {
      EXPECT_NE(doc.find("`" + key + "`"), std::string::npos) << key << " is not in docs/outputs.md";
      if (!value.is_object()) continue;
      for (const auto& [inner, v] : value.items())
        EXPECT_NE(doc.find("`" + inner + "`"), std::string::npos) << key << "." << inner << " is not in docs/outputs.md";
    }
  const Result v = run("--version");
  EXPECT_EQ(v.out, "pdadmm " + version + "\n");
  EXPECT_TRUE(std::regex_match(version, std::regex(R"(0\.1 \(git ([0-9a-f]{12}(-dirty)?|unknown)\))"))) << version;
  std::ifstream cfg(out + "/config.json");
  EXPECT_EQ(nlohmann::json::parse(cfg)["model"]["layers"], 3);
  // The saved model scores the same through `eval`.
  Result e = run("eval --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --model " + out +
                 "/model.bin" + kTiny + " --set model.layers=3");
  EXPECT_EQ(e.code, 0) << e.out;
  pdadmm::test::expect_eval_prints_the_summary(e, summary);
  // Other features or another split would score another problem: refused, naming the key.
  expect_one_line_error(run("eval --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --model " +
                            out + "/model.bin" + kTiny + " --set model.layers=3 --set model.hop_order=descending"),
                        "was trained with model.hop_order = \"ascending\", the config has \"descending\"");
  const std::string eval = "eval --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --model " + out +
                           "/model.bin" + kTiny;
  // The seed draws the synthetic graph: another one is another problem.
  expect_one_line_error(run(eval + " --set model.layers=3 --set seed=7"), "was trained with seed = 0, the config has 7");
  // A difference inside data.synthetic names its key, not the whole object.
  expect_one_line_error(run(eval + " --set model.layers=3 --set data.synthetic.nodes=500"),
                        "was trained with data.synthetic.nodes = 400, the config has 500");
  // data.verify only says whether to check the files: not a reason to refuse.
  const Result verified = run(eval + " --set model.layers=3 --set data.verify=true");
  EXPECT_EQ(verified.code, 0) << verified.out;
  pdadmm::test::expect_eval_prints_the_summary(verified, summary);
  // A model of another depth: one line, not an index past the config's layers.
  expect_one_line_error(run(eval + " --set model.layers=2"), "has 3 layers, the config describes 2");
  // Each refusal names the config the run wrote beside model.bin, the usual fix; given, it is not named.
  const std::string hint = "try --config " + out + "/config.json, the config its run wrote)\n";
  expect_one_line_error(run(eval + " --set model.layers=2"), "config describes 2 (" + hint);
  expect_one_line_error(run(eval + " --set model.layers=3 --set seed=7"), "trained on; " + hint);
  // Without --config, the config model.bin records: the run's own scores.
  const Result recorded = run("eval --model " + out + "/model.bin");
  EXPECT_EQ(recorded.code, 0) << recorded.out;
  pdadmm::test::expect_eval_prints_the_summary(recorded, summary);
  // There a mismatch is a --set's doing, not a --config's the user never gave.
  expect_one_line_error(run("eval --model " + out + "/model.bin --set model.hidden=7"),
                        ", the config expects 7x");
  expect_one_line_error(run("eval --model " + out + "/model.bin --set model.hidden=7"),
                        "(eval read the config the model records, with --set on it: leave out the --set that changes it)\n");
  const Result own = run("eval --config " + out + "/config.json --model " + out + "/model.bin --set model.layers=2");
  EXPECT_EQ(own.out.find("try --config"), std::string::npos) << own.out;
  const Result own_config = run("eval --config " + out + "/config.json --model " + out + "/model.bin");
  EXPECT_EQ(own_config.code, 0) << own_config.out;
  pdadmm::test::expect_eval_prints_the_summary(own_config, summary);
  // A later run into the folder that wrote no model.bin (killed; here output.checkpoint false) left
  // its config.json beside the earlier model: the refusal says so, and what to do.
  std::filesystem::last_write_time(out + "/model.bin",
                                   std::filesystem::last_write_time(out + "/model.bin") - std::chrono::seconds(5));
  ASSERT_EQ(run("train --out " + out + kTiny + " --set model.layers=2 --set output.checkpoint=false").code, 0);
  expect_one_line_error(run("eval --config " + out + "/config.json --model " + out + "/model.bin"),
                        "has 3 layers, the config describes 2 (" + out + "/config.json is newer than the model: a "
                        "later run wrote it and no model.bin (killed, or output.checkpoint false); without --config "
                        "eval uses the config the model records)\n");
}

TEST(Cli, InfoPrintsDataAndMemoryPerGroup) {
  Result r = run("info" + kTiny + " --set model.layers=4 --set groups=2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("nodes         400"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("group 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("training      4 layers x "), std::string::npos) << r.out;
  // data.row_normalize changes the inputs: info says so (its output was the default's).
  const Result rn = run("info" + kTiny + " --set data.row_normalize=true");
  EXPECT_NE(rn.out.find("; each feature row scaled to sum 1 (data.row_normalize)\n"), std::string::npos) << rn.out;
  Result staged = run("info" + kTiny + " --set model.layers=4 --set 'model.stages=[{\"layers\":2,\"iterations\":4},"
                      "{\"layers\":4,\"iterations\":2,\"rho\":0.5,\"rho_schedule\":{\"type\":\"reference\"}}]'");
  ASSERT_EQ(staged.code, 0) << staged.out;
  EXPECT_NE(staged.out.find("stage 1       2 layers x 4 iterations: "), std::string::npos) << staged.out;
  EXPECT_NE(staged.out.find("rho schedule none\n"), std::string::npos) << staged.out;
  EXPECT_NE(staged.out.find("stage 2       4 layers x 2 iterations: nu "), std::string::npos) << staged.out;
  EXPECT_NE(staged.out.find("rho 0.5, mu "), std::string::npos) << staged.out;
  EXPECT_NE(staged.out.find("rho schedule reference (x10 up to 1 when the loss drops < 0.001 twice)"), std::string::npos)
      << staged.out;
  EXPECT_NE(r.out.find("launch        2 groups as threads of one process, or one process each: mpirun -np 2"),
            std::string::npos)
      << r.out;
}

// The G-Q-10 driver's capped ρ schedule as `info` shows it, with the windows and caps of
// reference_algorithm.md §5.3 (×10 up to 0.01 for 20 < i < 50, up to 1e-3 for i > 50).
TEST(Cli, InfoShowsTheQ10RhoScheduleWindows) {
  const Result r = run("info" + kTiny + " --set model.layers=2 --set 'model.stages=[{\"layers\":2,\"iterations\":6,"
                       "\"rho_schedule\":{\"type\":\"reference_q10\"}}]'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("; rho schedule reference_q10 (x10 up to 0.01 for 20 < i < 50, 0.001 for i > 50, i from 0 in the "
                       "stage, when the loss rose then dropped < 0.001)\n"),
            std::string::npos)
      << r.out;
}


// ν follows ρ's schedule only where the config ties them (ν = ρ, as the reference's drivers); a ν
// set apart stays put when ρ, raised ×10, meets it and rises past it (it used to follow from there).
TEST(Cli, RhoScheduleMovesNuOnlyWhereTheConfigTiesIt) {
  const std::string out = ::testing::TempDir() + "/cli_nu_follows";
  // threshold 1e30: every loss counts as stalled, so ρ rises at iterations 5 and 6 up to the cap 1.
  const auto nu_rho = [&](const std::string& nu, const std::string& rho) {
    std::filesystem::remove_all(out);
    const Result r = run("train" + kTiny + " --set admm.iterations=7 --set output.log_every=1 --set admm.nu=" + nu +
                         " --set admm.rho=" + rho +
                         " --set admm.rho_schedule.type=reference --set admm.rho_schedule.threshold=1e30 --out " + out);
    EXPECT_EQ(r.code, 0) << r.out;
    std::vector<std::pair<double, double>> v;
    std::ifstream f(out + "/metrics.jsonl");
    for (std::string line; std::getline(f, line);) {
      const nlohmann::json j = nlohmann::json::parse(line);
      v.emplace_back(j.at("nu").get<double>(), j.at("rho").get<double>());
    }
    return v;
  };
  const auto apart = nu_rho("0.1", "0.01");
  ASSERT_EQ(apart.size(), 7u);
  EXPECT_EQ(apart[4], std::pair(0.1, 0.1)) << "rho meets nu";
  EXPECT_EQ(apart[6], std::pair(0.1, 1.0)) << "rho passes it; nu stays";
  const auto tied = nu_rho("0.01", "0.01");
  ASSERT_EQ(tied.size(), 7u);
  EXPECT_EQ(tied[6], std::pair(1.0, 1.0)) << "a tied nu follows rho to the cap";
}

// Each line names what is wrong and why (the key or file alone was any error about it).
TEST(Cli, BadInputGivesOneClearLine) {
  expect_one_line_error(run("train --set admm.rho=-1 --set output.progress=off"),
                        "error: config: admm.rho: must be in [1.2e-38, 3.4e38] (float's range");
  expect_one_line_error(run("train --set model.layers=2 --set groups=3"),
                        "error: config: groups: 3 groups for 2 layers (groups must be <= model.layers)");
  expect_one_line_error(run("train --set nonsense=1"), "error: config: unknown key \"nonsense\"");
  const std::string cmake = std::string(PDADMM_SOURCE_DIR) + "/CMakeLists.txt";
  expect_one_line_error(run("eval --model " + cmake), "error: checkpoint " + cmake + ": not a pdadmm checkpoint");
}

// Iterates that overflow stop the run with an error; no NaN model replaces the one already there.
TEST(Cli, DivergedTrainingIsAnErrorAndKeepsTheOldModel) {
  const std::string out = ::testing::TempDir() + "/cli_diverged";
  std::filesystem::remove_all(out);
  ASSERT_EQ(run("train --out " + out + kTiny + " --set admm.iterations=1").code, 0);
  const std::string earlier = pdadmm::test::slurp(out + "/model.bin");
  Result r = run("train --out " + out + kTiny + " --set model.init_std=1e30");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("error: training diverged at iteration 1: the residual is not finite"), std::string::npos)
      << r.out;
  // The likely cause is named, in the error and in a warning before the run.
  EXPECT_NE(r.out.find("warning: model.init_std 1e+30 with model.hidden"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the iterates overflowed); model.init_std 1e+30 grows the first forward pass by"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(pdadmm::test::slurp(out + "/model.bin"), earlier);
}

// info's outputs line says what train would meet: an --out that is a file (it printed the room there).
TEST(Cli, InfoSaysAnOutThatIsAFile) {
  const std::string out = ::testing::TempDir() + "/cli_out_file";
  std::filesystem::remove_all(out);
  std::ofstream(out) << "x";
  const Result r = run("info --out " + out + kTiny);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(" (a file, not a folder: train would stop)\n"), std::string::npos) << r.out;
  expect_one_line_error(run("train --out " + out + kTiny), "a file of that name exists");
  std::filesystem::remove(out);
}

// A huge value is quoted by its two ends: a 100 000-digit --set value made a 200 KB error line.
TEST(Cli, AHugeValueInAnErrorIsElided) {
  const Result r = run("info --set model.hidden=" + std::string(100000, '7'));
  expect_one_line_error(r, "error: config: --set \"model.hidden=" + std::string(200, '7'));
  EXPECT_LT(r.out.size(), 1000u) << r.out.size();
  EXPECT_NE(r.out.find("7…[99656 bytes]…" + std::string(100, '7')), std::string::npos) << r.out;
}

// A file size limit (ulimit -f) below model.bin's size is refused before the first iteration, as
// too little disk is: the run trained to its end, then failed writing model.bin ("File too large").
TEST(Cli, AFileSizeLimitBelowTheOutputsIsRefusedFirst) {
  if (pdadmm::test::file_limit_runs_crash()) GTEST_SKIP() << "a ThreadSanitizer binary cannot start under ulimit -f";
  const std::string out = ::testing::TempDir() + "/cli_ulimit";
  std::filesystem::remove_all(out);
  // 4 blocks (2 or 4 KiB: the unit is the shell's) against the tiny model's ~11 KiB.
  const Result r = pdadmm::test::run_command("(ulimit -f 4 && " + std::string(PDADMM_BINARY) + " train --out " + out + kTiny + ")");
  expect_one_line_error(r, "error: the outputs in " + out + " (model.bin ");
  EXPECT_NE(r.out.find("a file may have in this shell (ulimit -f): raise it, or set output.checkpoint to false"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/metrics.jsonl"));
  const Result info = pdadmm::test::run_command("(ulimit -f 4 && " + std::string(PDADMM_BINARY) + " info --out " + out + kTiny + ")");
  EXPECT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find(" (ulimit -f) (too small: train would stop)"), std::string::npos) << info.out;
}

// A file in --out that no run wrote (a user's own config.json or notes) is refused before the data
// loads, not replaced with "note: replacing the outputs of an earlier run".
TEST(Cli, FilesNoRunWroteInTheOutputFolderAreKept) {
  const std::string out = ::testing::TempDir() + "/cli_foreign";
  for (const auto& [name, text, why] : std::vector<std::array<std::string, 3>>{
           {"config.json", "{\"my\": \"own settings\"}\n", "it is not the config a run records"},
           {"summary.json", "my notes\n", "it is not a run's summary"},
           {"metrics.jsonl", "loss 3\n", "it is not a run's metrics"},
           {"model.bin", "weights\n", "it is not a pdadmm checkpoint"},
           {"state.bin", "", "it is not a pdadmm state file"},
           {"predictions.csv", "id,class\n", "it is not eval's predictions"}}) {
    std::filesystem::remove_all(out);
    std::filesystem::create_directories(out);
    std::ofstream(out + "/" + name) << text;
    const Result r = run("train --out " + out + kTiny);
    expect_one_line_error(r, "error: --out " + out + " holds a " + name + " no pdadmm run wrote (" + why +
                                 "); a run replaces it: move it away or choose another --out");
    EXPECT_EQ(pdadmm::test::slurp(out + "/" + name), text) << name;
    EXPECT_FALSE(std::filesystem::exists(out + "/metrics.jsonl") && name != "metrics.jsonl") << name;
  }
  // A run's own files are replaced (an empty metrics.jsonl: a run killed before its first line).
  std::filesystem::remove_all(out);
  ASSERT_EQ(run("train --out " + out + kTiny + " --set output.predictions=true").code, 0);
  std::ofstream(out + "/metrics.jsonl", std::ios::trunc).flush();
  const Result again = run("train --out " + out + kTiny + " --set output.predictions=true");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("note: replacing the outputs of an earlier run in " + out), std::string::npos) << again.out;
}

// A 3-layer pdADMM-G-Q run of kTiny with `sets` into TempDir()/name: exit 1 with `error`, and no
// model.bin.
void expect_q_divergence(const std::string& name, const std::string& sets, const std::string& error) {
  const std::string out = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(out);
  const Result r = run("train --out " + out + kTiny + " --set model.layers=3 --set algorithm=pdadmm-g-q" + sets);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(error), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/model.bin"));
}

// Inputs of a huge scale are named in the divergence they cause, with the key that made them: the
// synthetic set's snr (1e30 was accepted and the line said only "rescale the features"); a user's
// own features in CliOwnFiles.HugeFeaturesAreNamedInTheDivergence.
TEST(Cli, HugeInputsAreNamedInTheDivergence) {
  const std::string out = ::testing::TempDir() + "/cli_huge_inputs";
  std::filesystem::remove_all(out);
  const Result r = run("train --out " + out + kTiny + " --set data.synthetic.snr=1e30");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: training diverged at iteration 1: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; the inputs reach |x| = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": lower data.synthetic.snr (1e+30), or data.row_normalize; "), std::string::npos) << r.out;
}

// Duals past float with the residual and objective finite (-Q keeps p and q on the grid; u = ρ r
// with ρ 3e38): a divergence too, not exit 0 with "lagrangian": null in metrics.jsonl.
TEST(Cli, OverflowedDualsAreADivergence) {
  expect_q_divergence("cli_duals_overflow", " --set admm.quantize=both --set admm.rho=3e38 --set admm.iterations=1",
                      "error: training diverged at iteration 1: the duals u are not finite");
}

// Duals that overflow on an iteration that does not log are caught on it, by name: every
// iteration's dual update sums <u, r>. Before, the residual caught them an iteration later.
TEST(Cli, DualsOverflowingOnAnUnloggedIterationStopThatIteration) {
  expect_q_divergence("cli_duals_unlogged", " --set admm.quantize=q --set admm.rho=1e38 --set output.log_every=10",
                      "error: training diverged at iteration 2: the duals u are not finite");
}

// Weights that overflow while -Q keeps p, q and z on the grid (relu(NaN) = 0, projections): the
// residual and the duals stay finite, and the run went on to its next logged iteration. The W
// steps' ||W p + b - z||², summed every iteration, stops it there.
TEST(Cli, OverflowedWeightsStopTheRunAtOnce) {
  expect_q_divergence("cli_w_overflow",
                      " --set admm.quantize=both --set 'admm.grid={\"min\":0,\"max\":2,\"levels\":5}'"
                      " --set admm.nu=1e37 --set admm.step=\"exact\" --set output.log_every=6"
                      " --set output.convergence_warning=false",
                      "error: training diverged at iteration 3: W p + b of a layer is not finite");
}

// An output the run would replace that is not a file (a folder named model.bin) is refused before
// the data loads: the run trained, then failed writing it, its iterations lost.
TEST(Cli, AnOutputThatIsNotAFileIsRefusedFirst) {
  const std::string out = ::testing::TempDir() + "/cli_output_folder";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out + "/model.bin");
  expect_one_line_error(run("train --out " + out + kTiny), "cannot write " + out + "/model.bin: not a regular file");
  EXPECT_FALSE(std::filesystem::exists(out + "/config.json"));
}

// Command-line mistakes (CLI11's parse errors) follow the same one-line, exit-1 rule.
TEST(Cli, CommandLineMistakesGiveOneClearLine) {
  expect_one_line_error(run("train --bogus"), "error: unexpected argument: --bogus (see pdadmm train --help)");
  expect_one_line_error(run("train --config /nonexistent/pdadmm.json"),
                        "--config: /nonexistent/pdadmm.json: No such file or directory");
  // A folder, or a symlink loop, is named as what it is (CLI11's check said "does not exist").
  const std::string loop = ::testing::TempDir() + "/cli_config_loop";
  std::filesystem::remove(loop);
  std::filesystem::create_symlink(loop, loop);
  expect_one_line_error(run("info --config " + loop), "--config: " + loop + ": Too many levels of symbolic links");
  expect_one_line_error(run("info --config " + ::testing::TempDir()), ": a folder, not a file");
  expect_one_line_error(run("eval --model " + ::testing::TempDir()), "--model: " + ::testing::TempDir() + ": a folder");
  expect_one_line_error(run("eval"), "error: --model is required (see pdadmm eval --help)");
  expect_one_line_error(run("bench --json x.json -n abc"), "--iterations = abc (see pdadmm bench --help)");
  expect_one_line_error(run("train --set"), "--set");
  expect_one_line_error(run("bogus"), "error: unknown command \"bogus\": expected train, info, eval, bench or export");
  // A typo of a command names it.
  expect_one_line_error(run("trian -c x.json"), "unknown command \"trian\": did you mean \"train\"? expected ");
  expect_one_line_error(run("expotr"), "unknown command \"expotr\": did you mean \"export\"?");
  // ... and of an option of the command, also when it hides a required one.
  expect_one_line_error(run("train --confg x.json"),
                        "unexpected arguments: --confg x.json (--confg: did you mean --config?) (see pdadmm train --help)");
  expect_one_line_error(run("info --dat=x"), "(--dat: did you mean --data?) (see pdadmm info --help)");
  // An option after "--" (which ends the options) was "--set: did you mean --set?".
  expect_one_line_error(run("info -- --set seed=1"), "(--set comes after \"--\", which ends the options: drop the \"--\")");
  expect_one_line_error(run("eval --modle m.bin"), "--model is required (--modle: did you mean --model?)");
  expect_one_line_error(run("train --bogus"), "unexpected argument: --bogus (see pdadmm train --help)");
  // An option given twice is said so (CLI11: "At Most 1 required but received 2").
  expect_one_line_error(run("train --out a --out b"), "error: --out: given 2 times; give it once (see pdadmm train --help)");
  // An option without its value: CLI11's "1 required TEXT:FILE missing" named its parser's types.
  expect_one_line_error(run("export --npz x.npz -m"), "error: --model: needs a value (FILE) (see pdadmm export --help)");
  expect_one_line_error(run("train --set"), "error: --set: needs a value (see pdadmm train --help)");
  expect_one_line_error(run("bench -n"), "error: --iterations: needs a value (INT) (see pdadmm bench --help)");
  // A short start of one option's name is named too (the edit distance is too far for it).
  expect_one_line_error(run("train --ou x"), "error: unexpected arguments: --ou x (--ou: did you mean --out?)");
  expect_one_line_error(run("train --conf x.json"), "(--conf: did you mean --config?)");
  // Nor a value that is the next option (CLI11 took it: `--out --bogus` trained into ./--bogus).
  expect_one_line_error(run("train --out --bogus"), "error: --out: needs a value (--bogus is an option)");
  expect_one_line_error(run("bench --json --link"), "error: --json: needs a value (--link is an option)");
  // No command: the commands are named, and what came instead of one.
  expect_one_line_error(run(""), "error: a command is required first: train, info, eval, bench or export (see pdadmm --help)");
  expect_one_line_error(run("--config x.json"), "train, info, eval, bench or export (got \"--config\")");
  // The help to see is the subcommand's, and extra arguments are listed in the order given.
  expect_one_line_error(run("train --bogus"), "(see pdadmm train --help)");
  expect_one_line_error(run("info --set"), "(see pdadmm info --help)");
  expect_one_line_error(run("bench --json"), "(see pdadmm bench --help)");
  expect_one_line_error(run("eval --out /tmp/x"), "--model is required (see pdadmm eval --help)");
  expect_one_line_error(run("eval --model " + std::string(PDADMM_SOURCE_DIR) + "/CMakeLists.txt --out /tmp/x a"),
                        "error: unexpected arguments: --out /tmp/x a (see pdadmm eval --help)");
  // One extra argument: "argument", singular, and the same order-independent text.
  expect_one_line_error(run("eval --model " + std::string(PDADMM_SOURCE_DIR) + "/CMakeLists.txt a"),
                        "error: unexpected argument: a (see pdadmm eval --help)\n");
  // A config given as tools/accuracy.py takes it (positional), or after --set's values, says how
  // pdadmm takes one.
  expect_one_line_error(run("train configs/cora.json"),
                        "unexpected argument: configs/cora.json (a config file is given as --config configs/cora.json) "
                        "(see pdadmm train --help)");
  expect_one_line_error(run("info --set model.layers=3 configs/cora.json"),
                        "config: --set \"configs/cora.json\": expected key=value, e.g. --set model.layers=12 (a config "
                        "file is given as --config configs/cora.json)");
  expect_one_line_error(run("bench --no-peak --json /nonexistent_pdadmm_dir/b.json"), "cannot write --json");
  // Refused before the benchmark runs, not after it (its results lost): a folder that is a file (root's
  // access() passed it), and a name too long (an "internal:" filesystem_error line, exit 2), or too
  // long with the temporary's .tmp.XXXXXX.
  const std::string plain = std::string(PDADMM_SOURCE_DIR) + "/CMakeLists.txt";
  expect_one_line_error(run("bench --no-peak --json " + plain + "/b.json" + kTiny),
                        "bench: cannot write --json " + plain + "/b.json (its folder " + plain + " is a file)");
  const std::string too_long = ::testing::TempDir() + "/" + std::string(300, 'b') + ".json";
  expect_one_line_error(run("bench --no-peak --json " + too_long + kTiny), "(File name too long)");
  const std::string long_tmp = ::testing::TempDir() + "/" + std::string(240, 'b') + ".json";
  expect_one_line_error(run("bench --no-peak --json " + long_tmp + kTiny),
                        "characters: it is written to NAME.tmp.XXXXXX first)");
  // An empty output folder (e.g. --out "$DIR" with DIR unset) is refused, not read as output.dir.
  expect_one_line_error(run("train --out ''" + kTiny), "--out: must not be empty");
  expect_one_line_error(run("train --set output.dir=" + kTiny), "config: output.dir: must not be empty");
}

TEST(Cli, CudaBackendWithoutAGpuIsAClearError) {
  Result r = run("train" + kTiny + " --set backend=\"cuda\" --out " + ::testing::TempDir() + "/cli_cuda");
  if (r.code == 0) GTEST_SKIP() << "a GPU is visible here; the no-GPU error cannot be checked";
  expect_one_line_error(r, "backend \"cuda\"");
}

TEST(Cli, HelpWorksEverywhere) {
  for (const char* sub : {"", "train ", "info ", "eval ", "bench "}) {
    Result r = run(std::string(sub) + "--help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("--"), std::string::npos) << sub;
    EXPECT_NE(r.out.find("$PDADMM_DATA"), std::string::npos) << sub << r.out;  // where the data sets are read
  }
  // Outputs read as outputs: CLI11's TEXT:DIR and TEXT:FILE say "must exist", as --config's does.
  const Result train = run("train --help"), eval = run("eval --help"), bench = run("bench --help");
  EXPECT_NE(train.out.find("-o,--out DIR "), std::string::npos) << train.out;
  EXPECT_NE(eval.out.find("--predictions FILE "), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("-m,--model TEXT:FILE"), std::string::npos) << eval.out;
  EXPECT_NE(bench.out.find("for the roofline (default 0.3)"), std::string::npos) << bench.out;
  EXPECT_NE(train.out.find("read as JSON, else as a string"), std::string::npos) << train.out;
  // Every option --help lists is described in README.md or docs/.
  std::string docs = pdadmm::test::slurp(std::string(PDADMM_SOURCE_DIR) + "/README.md");
  for (const auto& page : std::filesystem::directory_iterator(std::string(PDADMM_SOURCE_DIR) + "/docs"))
    if (page.path().extension() == ".md") docs += pdadmm::test::slurp(page.path().string());
  const std::regex option("--[a-z][a-z-]+");
  for (const char* sub : {"", "train ", "info ", "eval ", "bench ", "export "}) {
    const std::string help = run(std::string(sub) + "--help").out;
    int n = 0;
    for (auto it = std::sregex_iterator(help.begin(), help.end(), option); it != std::sregex_iterator(); ++it, ++n)
      EXPECT_NE(docs.find(it->str()), std::string::npos) << "pdadmm " << sub << it->str() << " is in no doc";
    EXPECT_GT(n, 1) << sub;
  }
}

// A real data set's model is scored whatever the config says of keys that data set does not read
// (data.synthetic.*, and split_seed / raw_counts, which only the npz sets read); a missing file
// names the folder and where it came from.
TEST(Cli, EvalComparesOnlyTheKeysTheDataSetReads) {
  const std::string root = pdadmm::test::data_root();
  if (!pdadmm::test::exists(root + "/planetoid/ind.cora.x")) GTEST_SKIP() << "real data not found: " << root;
  const std::string out = ::testing::TempDir() + "/cli_cora_eval";
  const std::string cfg = " --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/cora.json --set data.root=\"" + root +
                          "\" --set model.layers=2 --set model.hidden=16 --set 'model.stages=[{\"layers\": 2, "
                          "\"iterations\": 1}]' --set output.progress=off";
  const Result t = run("train" + cfg + " --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  const std::string eval = "eval" + cfg + " --model " + out + "/model.bin";
  const Result e = run(eval + " --set data.synthetic.nodes=5000 --set data.split_seed=3 --set data.raw_counts=true");
  EXPECT_EQ(e.code, 0) << e.out;
  // Keys Cora does not read change nothing it scores: the run's own numbers.
  const nlohmann::json sum = pdadmm::test::read_json(out + "/summary.json");
  pdadmm::test::expect_eval_prints_the_summary(e, sum);
  expect_one_line_error(run(eval + " --set data.row_normalize=true"),
                        "was trained with data.row_normalize = false, the config has true");
  expect_one_line_error(run(eval + " --set data.root=\"" + out + "/nowhere\""),
                        out + "/nowhere/planetoid/ind.cora.x: file not found (data folder " + out +
                            "/nowhere, from data.root or --data;");
  // --data stands for data.root and wins over the config's (as --out over output.dir).
  const Result data_wins = run(eval + " --set data.root=\"" + out + "/nowhere\" --data " + root);
  EXPECT_EQ(data_wins.code, 0) << data_wins.out;
  pdadmm::test::expect_eval_prints_the_summary(data_wins, sum);
  expect_one_line_error(run(eval + " --data " + out + "/nowhere"),
                        out + "/nowhere/planetoid/ind.cora.x: file not found (data folder " + out + "/nowhere");
  expect_one_line_error(run(eval + " --data ''"), "--data: must not be empty");
  // A file given as the folder is named as such, not as a file missing below it.
  expect_one_line_error(run(eval + " --data " + out + "/model.bin"),
                        "error: data folder " + out + "/model.bin (from data.root or --data) is not a folder");
}

// --data given as the planetoid/ folder itself names the folder that holds it (the error said only
// ".../planetoid/planetoid/ind.cora.x: file not found").
TEST(Cli, DataGivenAsItsSubfolderNamesTheParent) {
  const std::string root = ::testing::TempDir() + "/cli_data_sub";
  std::filesystem::create_directories(root + "/planetoid");
  for (const char* part : {"x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"})
    std::ofstream(root + "/planetoid/ind.cora." + part) << "";
  for (const std::string& given : {root + "/planetoid", root + "/planetoid/"})
    expect_one_line_error(run("info --set data.name=\"cora\" --data " + given),
                          "planetoid/ind.cora.x: file not found (data folder " + given +
                              ", from data.root or --data, is the planetoid/ folder itself: give the folder that holds "
                              "it, " + std::filesystem::path(root).lexically_normal().string() + ")");
  // From inside planetoid/: "." names the folder above by its path.
  expect_one_line_error(pdadmm::test::run_command("cd " + root + "/planetoid && " + std::string(PDADMM_BINARY) +
                                                  " info --set data.name=\"cora\" --data ."),
                        "is the planetoid/ folder itself: give the folder that holds it, " +
                            std::filesystem::path(root).lexically_normal().string() + ")");
}

// --data is recorded absolute in config.json, but as given under a current folder whose name is
// no UTF-8 (config.json is JSON text: it was "error: internal: ... invalid UTF-8 byte").
TEST(Cli, DataIsRecordedAbsoluteUnlessTheFolderNameIsNoText) {
  const std::string base = ::testing::TempDir() + "/cli_data_abs", odd = base + "/caf\xe9";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(odd + "/d");
  const std::string train = std::string(PDADMM_BINARY) + " train" + kTiny + " --set admm.iterations=1 --data d --out ";
  ASSERT_EQ(pdadmm::test::run_command("cd " + base + " && mkdir -p d && " + train + "run").code, 0);
  EXPECT_EQ(pdadmm::test::read_json(base + "/run/config.json")["data"]["root"],
            std::filesystem::path(base + "/d").lexically_normal().string());
  const Result r = pdadmm::test::run_command("cd '" + odd + "' && " + train + "run");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(pdadmm::test::read_json(odd + "/run/config.json")["data"]["root"], "d");
}

// An empty PDADMM_DATA counts as unset (the default ./data), not as the file system's root.
TEST(Cli, EmptyDataVariableMeansTheDefaultFolder) {
  const std::string dir = ::testing::TempDir() + "/cli_no_data";
  std::filesystem::create_directories(dir);
  const Result r = pdadmm::test::run_command("cd " + dir + " && PDADMM_DATA= " + std::string(PDADMM_BINARY) +
                                             " info --set data.name=\"cora\"");
  expect_one_line_error(r, "data/planetoid/ind.cora.x: file not found (data folder data, from the default; set "
                           "--data, data.root or $PDADMM_DATA;");
  EXPECT_EQ(r.out.find("/planetoid"), r.out.find("data/planetoid") + 4) << r.out;
}

// Ctrl-C or SIGTERM mid-run: the iteration in progress finishes, and model.bin and summary.json
// hold that iterate (marked "interrupted", scored as `eval` scores it); the exit status is the
// shell's for a signal (128 + its number).
TEST(Cli, ASignalStopsTheRunWithItsOutputsWritten) {
  // SIGINT: the stopped iteration is not a logged one, so its scores come from the final evaluation;
  // SIGTERM: every iteration is logged, so metrics.jsonl's last line is the iteration it stopped after.
  for (const auto& [sig, log_every] : {std::pair{SIGINT, 1000}, std::pair{SIGTERM, 1}}) {
    const std::string out = ::testing::TempDir() + "/cli_signal_" + std::to_string(sig);
    const auto [code, log] = train_until_signal(
        kTiny + " --set admm.iterations=10000000 --set output.log_every=" + std::to_string(log_every), out, sig);
    EXPECT_EQ(code, 128 + sig) << log;
    EXPECT_NE(log.find(std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + " after iteration "),
              std::string::npos)
        << log;
    const nlohmann::json sum = pdadmm::test::read_json(out + "/summary.json");
    EXPECT_TRUE(sum["interrupted"].get<bool>());
    const int done = sum["iterations"];
    EXPECT_GE(done, 1);
    EXPECT_LT(done, 10000000);
    // The log line, summary.json and model.bin's meta all name the iteration the run stopped after.
    EXPECT_NE(log.find("after iteration " + std::to_string(done) + " of 10000000: "), std::string::npos)
        << done << "\n" << log;
    // How to go on, as state.bin was written with model.bin.
    EXPECT_NE(log.find("hold that iterate; the same command with --resume continues it\n"), std::string::npos) << log;
    EXPECT_EQ(pdadmm::load_checkpoint(out + "/model.bin").meta["iterations"], done);
    // Its scores are the exact evaluation of those weights (as `eval` gives), not the last logged
    // (tracked, or older) ones: to the last bits of the losses, which move every iteration.
    {
      const pdadmm::Config cfg = pdadmm::parse_config(pdadmm::test::read_json(out + "/config.json"), {});
      const pdadmm::Problem p = pdadmm::build_problem(cfg);
      const pdadmm::Checkpoint ck = pdadmm::load_checkpoint(out + "/model.bin");
      const pdadmm::Scores s = pdadmm::Evaluator(p.data, p.h, p.ahat, p.aug).evaluate(ck.W, ck.b);
      for (const auto& [split, score] : {std::pair{"train", s.train}, std::pair{"val", s.val}, std::pair{"test", s.test}}) {
        EXPECT_NEAR(sum[split]["loss"].get<double>(), score.loss, 1e-9 * score.loss) << split;
        EXPECT_EQ(sum[split]["acc"].get<double>(), score.acc) << split;
      }
    }
    // summary.json's last objective and residual are the stopped iterate's: SIGTERM's last logged
    // line; for SIGINT (not a logged iteration) those a run of exactly that many iterations ends with.
    if (log_every == 1) {
      std::ifstream metrics(out + "/metrics.jsonl");
      std::string line, last;
      while (std::getline(metrics, line)) last = line;
      ASSERT_FALSE(last.empty());
      const nlohmann::json m = nlohmann::json::parse(last);
      EXPECT_EQ(m["iter"], done) << last;
      EXPECT_EQ(m["objective"], sum["objective"]["last"]) << last;
      EXPECT_EQ(m["residual"], sum["residual"]["last"]) << last;
    } else {
      const std::string straight = out + "_straight";
      const Result r = run("train" + kTiny + " --set admm.iterations=" + std::to_string(done) +
                           " --set output.log_every=1000 --out " + straight);
      ASSERT_EQ(r.code, 0) << r.out;
      const nlohmann::json s2 = pdadmm::test::read_json(straight + "/summary.json");
      EXPECT_EQ(s2["objective"]["last"], sum["objective"]["last"]);
      EXPECT_EQ(s2["residual"]["last"], sum["residual"]["last"]);
    }
    const Result e = run("eval --model " + out + "/model.bin" + kTiny + " --set admm.iterations=10000000");
    ASSERT_EQ(e.code, 0) << e.out;
    pdadmm::test::expect_eval_prints_the_summary(e, sum);
  }
}

// Stopped during an earlier growth stage: model.bin holds that stage's (shallower) net, and eval
// with the run's own config scores it at that depth, as summary.json did.
TEST(Cli, ASignalInAnEarlierStageSavesThatStagesNet) {
  const std::string out = ::testing::TempDir() + "/cli_signal_staged";
  const auto [code, log] = train_until_signal(
      kTiny + " --set model.layers=3 --set 'model.stages=[{\"layers\": 2, \"iterations\": 10000000}, "
              "{\"layers\": 3, \"iterations\": 5}]' --set admm.iterations=10000005 --set output.log_every=1000 "
              "--set groups=2",
      out, SIGTERM);
  EXPECT_EQ(code, 128 + SIGTERM) << log;
  EXPECT_NE(log.find(" per iteration in stage 1 "), std::string::npos) << log;
  EXPECT_EQ(pdadmm::load_checkpoint(out + "/model.bin").W.size(), 2u);
  const nlohmann::json sum = pdadmm::test::read_json(out + "/summary.json");
  const Result e = run("eval --config " + out + "/config.json --model " + out + "/model.bin");
  ASSERT_EQ(e.code, 0) << e.out;
  pdadmm::test::expect_eval_prints_the_summary(e, sum);
  // A depth no stage has is still refused.
  expect_one_line_error(run("eval --config " + out + "/config.json --model " + out +
                            "/model.bin --set 'model.stages=[{\"layers\": 3, \"iterations\": 5}]' --set admm.iterations=5"),
                        "has 2 layers, the config describes 3");
}

// output.checkpoint_every: a run killed outright (no handler can run) leaves the model.bin of its
// last multiple of the period, which eval scores; no summary.json.
TEST(Cli, PeriodicCheckpointsSurviveAKill) {
  const std::string out = ::testing::TempDir() + "/cli_kill";
  const auto [code, log] = train_until_signal(
      kTiny + " --set admm.iterations=10000000 --set output.log_every=1000 --set output.checkpoint_every=10", out,
      SIGKILL);
  EXPECT_EQ(code, -1) << log;
  EXPECT_FALSE(std::filesystem::exists(out + "/summary.json"));
  const pdadmm::Checkpoint ck = pdadmm::load_checkpoint(out + "/model.bin");
  const int at = ck.meta["iterations"];
  EXPECT_GE(at, 10);
  EXPECT_EQ(at % 10, 0) << at;
  const Result e = run("eval --config " + out + "/config.json --model " + out + "/model.bin");
  EXPECT_EQ(e.code, 0) << e.out;
  // eval scores that model.bin: its printed scores are the evaluation of those weights.
  const pdadmm::Problem p = pdadmm::build_problem(pdadmm::parse_config(pdadmm::test::read_json(out + "/config.json"), {}));
  pdadmm::test::expect_eval_prints_the_summary(
      e, pdadmm::test::scores_json(pdadmm::Evaluator(p.data, p.h, p.ahat, p.aug).evaluate(ck.W, ck.b)));
  expect_one_line_error(run("train" + kTiny + " --set output.checkpoint_every=-1"), "output.checkpoint_every");
}

// A signal's stop writes state.bin first; a model.bin the run then cannot write (a full disk; here a
// folder in its place) is an error that says the state is there to resume (it said only the write).
TEST(Cli, AStoppedRunWhoseModelCannotBeWrittenSaysItsStateResumes) {
  const std::string out = ::testing::TempDir() + "/cli_stop_no_model";
  const auto [code, log] =
      train_until_signal(kTiny + " --set admm.iterations=10000000 --set output.log_every=1000", out, SIGTERM,
                         "metrics.jsonl", 0, "", [&] { std::filesystem::create_directories(out + "/model.bin"); });
  EXPECT_EQ(code, 1) << log;
  std::smatch m;
  const std::regex held("\nerror: cannot write " + out +
                        R"(/model.bin: [^\n]*\(state.bin holds iteration ([0-9]+): the same command with --resume )"
                        R"(continues it once the files can be written\)\n$)");
  ASSERT_TRUE(std::regex_search(log, m, held)) << log;
  std::filesystem::remove_all(out + "/model.bin");
  const int at = std::stoi(m[1].str());
  const Result r = run("train" + kTiny + " --resume --set admm.iterations=" + std::to_string(at + 1) + " --out " + out);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(" from its state.bin at iteration " + std::to_string(at) + " of "), std::string::npos) << r.out;
}

// One run per output folder: a second run into the folder of a running one is refused before it
// writes anything (both reported success, the folder holding the other's outputs or a mix), and a
// run killed outright leaves no lock behind (its temporaries the next run removes).
TEST(Cli, ASecondRunIntoABusyFolderIsRefused) {
  const std::string out = ::testing::TempDir() + "/cli_busy";
  Result second{0, ""};
  const auto [code, log] =
      train_until_signal(kTiny + " --set admm.iterations=10000000 --set output.log_every=1000", out, SIGTERM,
                         "metrics.jsonl", 0, "", [&] { second = run("train" + kTiny + " --set seed=5 --out " + out); });
  EXPECT_EQ(code, 128 + SIGTERM) << log;
  expect_one_line_error(second, "output folder " + out + " is in use by another pdadmm train");
  // A live run's checkpoint is not a stopped run's: the lock is named, not "--resume continues it".
  const std::string live = out + "_live";
  Result third{0, ""};
  train_until_signal(kTiny + " --set admm.iterations=10000000 --set output.log_every=1000000 "
                             "--set output.checkpoint_every=20",
                     live, SIGTERM, "state.bin", 0, "", [&] { third = run("train" + kTiny + " --out " + live); });
  expect_one_line_error(third, "output folder " + live + " is in use by another pdadmm train");
  EXPECT_EQ(pdadmm::test::read_json(out + "/config.json")["seed"], 0) << "the refused run wrote its config";
  EXPECT_TRUE(pdadmm::test::read_json(out + "/summary.json")["interrupted"].get<bool>()) << "not the first run's";
  const auto killed = train_until_signal(kTiny + " --set admm.iterations=10000000", out, SIGKILL);
  EXPECT_EQ(killed.first, -1) << killed.second;
  // What a run killed while writing left goes with the next run in the folder (and says so).
  std::ofstream(out + "/state.bin.tmp.Ab12Cd") << "half of a state";
  const Result after = run("train" + kTiny + " --out " + out);
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_NE(after.out.find("note: removed " + out + "/state.bin.tmp.Ab12Cd, left by a run killed while writing it"),
            std::string::npos)
      << after.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/state.bin.tmp.Ab12Cd"));
}

// Weights that stay finite can still overflow float in the final forward pass (-Q's grid keeps
// the iterates finite): NaN scores are an error, not accuracies; eval says the same of a model.
TEST(Cli, NonFiniteFinalScoresAreAnError) {
  const std::string out = ::testing::TempDir() + "/cli_nan_scores";
  std::filesystem::remove_all(out);
  for (const std::string& extra : {std::string(" --set admm.iterations=0"),
                                   std::string(" --set algorithm=pdadmm-g-q --set admm.iterations=1")}) {
    const Result r = run("train" + kTiny + " --set model.init_std=1e20" + extra + " --out " + out);
    EXPECT_EQ(r.code, 1) << r.out;  // after the run's header, as any divergence: the error is the last line
    EXPECT_NE(r.out.find("\nerror: training diverged: the final forward pass is not finite"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\n', r.out.find("\nerror: ") + 1), r.out.size() - 1) << r.out;
    EXPECT_FALSE(std::filesystem::exists(out + "/summary.json")) << extra;
    EXPECT_FALSE(std::filesystem::exists(out + "/model.bin")) << extra;
  }
  // The same logits under the ρ schedule: its training loss stops the run at that iteration (NaN
  // compares false, so the schedule stopped raising ρ unseen, and state.bin stored the loss as null).
  const Result sch = run("train" + kTiny + " --set model.init_std=1e20 --set algorithm=pdadmm-g-q" +
                         " --set admm.rho_schedule.type=reference --out " + out);
  EXPECT_EQ(sch.code, 1) << sch.out;
  EXPECT_NE(sch.out.find("\nerror: training diverged at iteration 1: the training loss (the ρ schedule's forward pass) "
                         "is not finite (the logits overflow float); model.bin and summary.json were not written\n"),
            std::string::npos)
      << sch.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/model.bin"));
  // An fp16 wire turns 65520 and more into infinity: the divergence says it may be the cause (fp32 trains this).
  const std::string wide = kTiny + " --set model.init_std=100 --set model.layers=3 --set groups=3 --set admm.iterations=1";
  EXPECT_EQ(run("train" + wide + " --out " + out).code, 0);
  const Result h = run("train" + wide + " --set admm.wire.q=fp16 --out " + out);
  EXPECT_NE(h.out.find("or an fp16 wire (admm.wire) met a value of 65520 or more, which fp16 rounds to infinity"),
            std::string::npos)
      << h.out;
  // A checkpoint this run wrote (checkpoint_every) is named as its own, not as an earlier run's.
  std::filesystem::remove_all(out);
  const Result mid = run("train" + kTiny + " --set model.init_std=1e20 --set algorithm=pdadmm-g-q --set admm.iterations=3" +
                        " --set output.checkpoint_every=1 --out " + out);
  EXPECT_NE(mid.out.find("; summary.json was not written; " + out + "/model.bin is this run's checkpoint of iteration 2\n"),
            std::string::npos)
      << mid.out;
  std::filesystem::remove_all(out);  // its state.bin would be resumed, not replaced
  // The fp32 run's model.bin and summary.json stay, beside this run's config.json: the line says whose.
  EXPECT_NE(h.out.find("; model.bin and summary.json were not written (" + out +
                       "/model.bin and summary.json are from before this run)\n"),
            std::string::npos)
      << h.out;
  const Result t = run("train" + kTiny + " --set admm.iterations=1 --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  pdadmm::Checkpoint ck = pdadmm::load_checkpoint(out + "/model.bin");
  for (auto& w : ck.W)  // finite weights whose product overflows float: inf - inf logits
    for (float& v : w.data) v *= 1e37f;
  pdadmm::save_checkpoint(out + "/huge.bin", ck);
  expect_one_line_error(run("eval --config " + out + "/config.json --model " + out + "/huge.bin"),
                        "huge.bin: the forward pass is not finite");
}

// Which data keys eval compares depends on the data set the config names, whatever the model
// holds: an npz set reads split_seed and raw_counts (another value is another problem), a Planetoid
// set reads neither, only synthetic data reads data.synthetic and the seed, and only "npz" reads
// data.npz (UsersOwnNpzTrainsAndEvalChecksItsKeys). A checkpoint whose
// meta says it was trained on such a set, and a data folder that does not exist: a key that is
// compared refuses the model, one that is not lets eval go on to the data (file not found).
TEST(Cli, EvalComparesTheDataKeysOfTheSetItReads) {
  const std::string out = ::testing::TempDir() + "/cli_keys";
  const Result t = run("train" + kTiny + " --set admm.iterations=1 --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  pdadmm::Checkpoint ck = pdadmm::load_checkpoint(out + "/model.bin");
  const auto model_of = [&](const std::string& name) {
    ck.meta["config"]["data"]["name"] = name;
    ck.meta["config"]["data"]["split_seed"] = 1;
    ck.meta["config"]["data"]["raw_counts"] = false;
    ck.meta["config"]["seed"] = 0;
    const std::string path = out + "/" + name + ".bin";
    pdadmm::save_checkpoint(path, ck);
    return "eval --model " + path + " --set data.name=" + name + " --set data.root=" + out + "/nowhere" +
           " --set output.progress=off";
  };
  const std::string npz = model_of("amazon_photo");
  expect_one_line_error(run(npz + " --set data.split_seed=2"),
                        "was trained with data.split_seed = 1, the config has 2");
  expect_one_line_error(run(npz + " --set data.split_seed=1 --set data.raw_counts=true"),
                        "was trained with data.raw_counts = false, the config has true");
  for (const char* set : {" --set data.split_seed=1 --set data.synthetic.nodes=5000",
                          " --set data.split_seed=1 --set seed=7",
                          " --set data.split_seed=1 --set data.npz.val=7 --set data.npz.file=x.npz"})
    expect_one_line_error(run(npz + set), out + "/nowhere/npz/amazon_electronics_photo.npz: file not found");
  // A model of another data set is named as such, not by the first other key the configs differ in.
  expect_one_line_error(run("eval --model " + out + "/model.bin --set data.name=cora --set model.hops=1"),
                        "was trained with data.name = \"synthetic\", the config has \"cora\"");
  const std::string cora = model_of("cora");
  for (const char* set : {" --set data.split_seed=2 --set data.raw_counts=true", " --set seed=7",
                          " --set data.synthetic.nodes=5000", " --set data.npz.file=x.npz --set data.npz.test=9"})
    expect_one_line_error(run(cora + set), out + "/nowhere/planetoid/ind.cora.x: file not found");
}

// data.name "npz": a user's graph (three cliques, class-coded features, test::SmallGraph) in a
// folder of its own, named relative to it. train reaches a stated accuracy floor and records the
// keys in force (raw_counts true); info prints the file's numbers and the split; eval refuses
// another data.npz.file or split size but not a data.synthetic key, which "npz" does not read.
TEST(Cli, UsersOwnNpzTrainsAndEvalChecksItsKeys) {
  const std::string dir = ::testing::TempDir() + "cli_own_npz";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const pdadmm::test::SmallGraph g;
  pdadmm::test::write_zip(dir + "/graph.npz", g.members("f4", true));
  const std::string in_dir = "cd " + dir + " && " + std::string(PDADMM_BINARY);
  const std::string data = " --set data.name=npz --set data.npz.file=graph.npz --set data.npz.train_per_class=5"
                           " --set data.npz.val=20 --set data.npz.test=60 --set output.progress=off";
  const std::string edges = std::to_string(g.edges());

  const Result t = pdadmm::test::run_command(in_dir + " train" + data +
                                             " --set model.hidden=16 --set admm.iterations=20 --out run");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find("pdadmm: graph.npz (120 nodes, " + edges +
                       " edges, 4 features, 3 classes; train/val/test 15/20/60)"),
            std::string::npos)
      << t.out;
  const nlohmann::json sum = pdadmm::test::read_json(dir + "/run/summary.json");
  ASSERT_TRUE(sum.is_object());
  EXPECT_GE(sum["test"]["acc"].get<double>(), 0.95) << sum.dump();  // 1.0 when written
  const nlohmann::json cfg = pdadmm::test::read_json(dir + "/run/config.json");
  EXPECT_EQ(cfg["data"]["raw_counts"], true);
  EXPECT_EQ(cfg["data"]["npz"]["file"], "graph.npz");

  const Result i = pdadmm::test::run_command(in_dir + " info" + data);
  ASSERT_EQ(i.code, 0) << i.out;
  const std::vector<std::string> lines = {
      "data set      graph.npz\n", "nodes         120\n", "edges         " + edges + " undirected\n",
      "features      4 (dense, 480 stored values)\n", "classes       3\n", "train/val/test 15 / 20 / 60\n",
      "split         split_dataset's procedure, 5 per class, then 60 test and 20 val, torch.manual_seed(100); "
      "feature values as stored\n"};
  for (const std::string& line : lines)
    EXPECT_NE(i.out.find(line), std::string::npos) << "expected \"" << line << "\" in\n" << i.out;
  const Result redrawn = pdadmm::test::run_command(in_dir + " info" + data + " --set data.val_split_seed=3");
  EXPECT_NE(redrawn.out.find("train/val/test 15 / 20 / 60\n"), std::string::npos) << redrawn.out;
  EXPECT_NE(redrawn.out.find("train and val redrawn outside test (val_split_seed 3)"), std::string::npos)
      << redrawn.out;

  const std::string eval = in_dir + " eval --config run/config.json --model run/model.bin";
  const Result e = pdadmm::test::run_command(eval + " --set data.synthetic.nodes=5000");
  EXPECT_EQ(e.code, 0) << e.out;
  pdadmm::test::expect_eval_prints_the_summary(e, sum);
  // Files are compared by content after the load (model.bin's data checksum), not by name.
  expect_one_line_error(pdadmm::test::run_command(eval + " --set data.npz.file=other.npz"),
                        "other.npz: file not found (data.npz.file, relative to the current folder");
  expect_one_line_error(pdadmm::test::run_command(eval + " --set data.npz.test=50"),
                        "was trained with data.npz.test = 60, the config has 50");
  expect_one_line_error(pdadmm::test::run_command(eval + " --set data.raw_counts=false"),
                        "was trained with data.raw_counts = true, the config has false");

  // Config and data errors: one line naming the key to set or change.
  expect_one_line_error(pdadmm::test::run_command(in_dir + " info --set data.name=npz"),
                        "config: data.npz.file: required with data.name \"npz\"");
  expect_one_line_error(pdadmm::test::run_command(in_dir + " info --set data.name=npz --set data.npz.file=nope.npz"),
                        "nope.npz: file not found (data.npz.file, relative to the current folder " +
                            std::filesystem::canonical(dir).string() + ")");
  expect_one_line_error(pdadmm::test::run_command(in_dir + " info" + data + " --set data.npz.train_per_class=40"),
                        "graph.npz split: class 0 has " + std::to_string(g.labelled(0)) +
                            " labelled nodes, fewer than 40 train nodes per class (lower data.npz.train_per_class)");
  expect_one_line_error(pdadmm::test::run_command(in_dir + " info" + data + " --set data.npz.val=500"),
                        "labelled nodes left for 60 test + 500 val (lower data.npz.test or data.npz.val)");
}

// A missing data file names $PDADMM_DATA when that is where its folder came from.
TEST(Cli, MissingDataNamesPdadmmDataAsItsSource) {
  const Result r = pdadmm::test::run_command("PDADMM_DATA=/nonexistent_pdadmm " + std::string(PDADMM_BINARY) +
                                             " info --set data.name=\"cora\"");
  expect_one_line_error(r, "/nonexistent_pdadmm/planetoid/ind.cora.x: file not found (data folder /nonexistent_pdadmm, "
                           "from $PDADMM_DATA;");
}

// A run that fails before writing anything leaves no empty output folder (it made runs/x/y for
// nothing); a folder that was there stays.
TEST(Cli, AFailedRunLeavesNoFolderItMade) {
  const std::string base = ::testing::TempDir() + "/cli_failed_out";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  const std::string train = std::string(PDADMM_BINARY) + " train --set data.name=cora --data /nonexistent_pdadmm --out ";
  expect_one_line_error(pdadmm::test::run_command(train + base + "/runs/x/"), "ind.cora.x: file not found");
  EXPECT_FALSE(std::filesystem::exists(base + "/runs"));
  expect_one_line_error(pdadmm::test::run_command(train + base), "ind.cora.x: file not found");
  EXPECT_TRUE(std::filesystem::is_directory(base));
}

// `threads: 0` beside processes that keep both of a run's cores busy: the run takes one and a note
// line says so; an explicit `threads` above the free cores is kept, with a note. Four spinning children on the same two CPUs
// keep them busy however noisy the machine is (the run sleeps through its 100 ms sample).
TEST(Cli, AutoThreadsLeaveTheCoresOtherProcessesKeepBusy) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  std::vector<int> cpus;
  for (int i = 0; i < CPU_SETSIZE && cpus.size() < 2; ++i)
    if (CPU_ISSET(i, &allowed)) cpus.push_back(i);
  if (cpus.size() < 2) GTEST_SKIP() << "fewer than two cores";
  cpu_set_t two;
  CPU_ZERO(&two);
  for (int c : cpus) CPU_SET(c, &two);
  std::vector<pid_t> spinners;
  for (int i = 0; i < 4; ++i) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      sched_setaffinity(0, sizeof(two), &two);
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);  // never outlives a lost parent
      volatile uint64_t x = 0;
      while (std::chrono::steady_clock::now() < end) x = x + 1;
      _exit(0);
    }
    spinners.push_back(child);
  }
  const std::string on_two = "taskset -c " + std::to_string(cpus[0]) + "," + std::to_string(cpus[1]) + " " +
                             std::string(PDADMM_BINARY) + " train" + kTiny + " --set admm.iterations=1 --out " +
                             ::testing::TempDir() + "/cli_auto_threads";
  const std::string run_on_two = "env -u OMP_NUM_THREADS " + on_two;  // it would stand for `threads`
  const Result automatic = pdadmm::test::run_command(run_on_two);
  const Result fixed = pdadmm::test::run_command(run_on_two + " --set threads=2");
  const Result from_env = pdadmm::test::run_command("env OMP_NUM_THREADS=2 " + on_two);
  const Result one = pdadmm::test::run_command(run_on_two + " --set threads=1");
  for (pid_t child : spinners) kill(child, SIGKILL);
  for (pid_t child : spinners) waitpid(child, nullptr, 0);
  ASSERT_EQ(automatic.code, 0) << automatic.out;
  EXPECT_TRUE(std::regex_search(automatic.out, std::regex(R"(\nnote: threads: 1 of 2 cores \(other processes kept )"
                                                          R"([12]\.[0-9] busy when this run started; )")))
      << automatic.out;
  // After the header line (its errors, before it, must stay the only line).
  EXPECT_LT(automatic.out.find("pdadmm: "), automatic.out.find("note: threads")) << automatic.out;
  // A count asked for is kept, with a word: on a busy machine 2 threads ran a bench 200 times slower
  // than 1, silently.
  const std::regex asked(R"(\nnote: threads 2 on 2 cores, of which other processes kept [12]\.[0-9] busy when this )"
                         R"(run started: a team sharing a core with them waits for it at every step \(often many )"
                         R"(times slower; threads 0 takes the 1 free\)\n)");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_TRUE(std::regex_search(fixed.out, asked)) << fixed.out;
  // OMP_NUM_THREADS stands for `threads` (libgomp's own reading would change nothing).
  ASSERT_EQ(from_env.code, 0) << from_env.out;
  EXPECT_TRUE(std::regex_search(from_env.out, asked)) << from_env.out;
  ASSERT_EQ(one.code, 0) << one.out;  // one thread has no team to wait for
  EXPECT_EQ(one.out.find("note: threads"), std::string::npos) << one.out;
}

// The count OMP_NUM_THREADS gives is the run's (bench JSON reports it); a config's `threads` wins;
// a value libgomp could not read is an error naming it, unless `threads` is set.
TEST(Cli, OmpNumThreadsStandsForThreads) {
  const std::string json = ::testing::TempDir() + "/cli_omp_threads.json";
  const std::string bench = std::string(PDADMM_BINARY) + " bench" + kTiny + " -n 1 --warmup 0 --no-peak --json " + json;
  const Result three = pdadmm::test::run_command("OMP_NUM_THREADS=3,1 " + bench);
  ASSERT_EQ(three.code, 0) << three.out;
  EXPECT_EQ(pdadmm::test::read_json(json)["threads"], 3);
  const Result blanks = pdadmm::test::run_command("OMP_NUM_THREADS=' 3 , 1 ' " + bench);  // libgomp skips blanks too
  ASSERT_EQ(blanks.code, 0) << blanks.out;
  EXPECT_EQ(blanks.out.find("libgomp:"), std::string::npos) << blanks.out;
  EXPECT_EQ(pdadmm::test::read_json(json)["threads"], 3);
  const Result config_wins = pdadmm::test::run_command("OMP_NUM_THREADS=3 " + bench + " --set threads=1");
  ASSERT_EQ(config_wins.code, 0) << config_wins.out;
  EXPECT_EQ(pdadmm::test::read_json(json)["threads"], 1);
  // info says how many and why.
  const std::string info = std::string(PDADMM_BINARY) + " info" + kTiny;
  const Result info_env = pdadmm::test::run_command("OMP_NUM_THREADS=3 " + info);
  ASSERT_EQ(info_env.code, 0) << info_env.out;
  EXPECT_NE(info_env.out.find("\nthreads       3 (OMP_NUM_THREADS), 3 per group\n"), std::string::npos) << info_env.out;
  const Result info_set = pdadmm::test::run_command("OMP_NUM_THREADS=3 " + info + " --set threads=1 --set groups=2");
  EXPECT_NE(info_set.out.find("\nthreads       1 (`threads`), 1 per group (more groups than threads: they take turns)\n"),
            std::string::npos)
      << info_set.out;
  for (const char* bad : {"abc", "0", "2x", "5000", "2,abc", "2,"}) {
    const Result r = pdadmm::test::run_command(std::string("OMP_NUM_THREADS=") + bad + " " + bench);
    EXPECT_NE(r.code, 0) << bad;
    // One line, pdadmm's: libgomp does not see the value as it loads (host/cli/load_check.cpp).
    EXPECT_EQ(r.out.find("libgomp:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("error: OMP_NUM_THREADS=\"") + bad + "\" is not a thread count"),
              std::string::npos)
        << r.out;
    // As the line says, `threads` stands in for it.
    const Result set = pdadmm::test::run_command(std::string("OMP_NUM_THREADS=") + bad + " " + bench + " --set threads=1");
    ASSERT_EQ(set.code, 0) << bad << ": " << set.out;
    EXPECT_EQ(set.out.find("libgomp:"), std::string::npos) << set.out;
    EXPECT_EQ(pdadmm::test::read_json(json)["threads"], 1);
  }
}

// The handler (host/io/stop_signal.h) in this process: a signal is recorded rather than ending it
// (the second of a kind takes the default action: StopOnSignal.ASecondSignalEndsTheProcess...); an
// ignored SIGINT (a background job) stays ignored; the previous handlers come back afterwards.
void record_signal(int) {}

TEST(StopOnSignal, RecordsTheFirstSignalAndRestoresTheHandlers) {
  struct sigaction mine = {}, old_int = {}, old_term = {}, old_usr1 = {}, old_hup = {}, now = {};
  mine.sa_handler = record_signal;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGINT, &mine, &old_int), 0);
  ASSERT_EQ(sigaction(SIGTERM, &mine, &old_term), 0);
  ASSERT_EQ(sigaction(SIGUSR1, &mine, &old_usr1), 0);
  ASSERT_EQ(sigaction(SIGHUP, &mine, &old_hup), 0);
  {
    pdadmm::StopOnSignal stop;
    EXPECT_EQ(pdadmm::StopOnSignal::received(), 0);
    raise(SIGTERM);
    EXPECT_EQ(pdadmm::StopOnSignal::received(), SIGTERM);
    sigaction(SIGINT, nullptr, &now);
    EXPECT_NE(now.sa_handler, record_signal) << "SIGINT is not handled";
    EXPECT_NE(now.sa_handler, SIG_DFL);
  }
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) {
    sigaction(sig, nullptr, &now);
    EXPECT_EQ(now.sa_handler, record_signal) << pdadmm::signal_name(sig);
  }
  // SIGINT from a terminal; SIGUSR1, which mpirun forwards to every process (it kills them on SIGINT);
  // SIGHUP from a terminal or ssh session that closed (it ended the run with nothing written).
  for (int sig : {SIGINT, SIGUSR1, SIGHUP}) {
    pdadmm::StopOnSignal stop;
    EXPECT_EQ(pdadmm::StopOnSignal::received(), 0) << "an earlier run's signal stops this one";
    raise(sig);
    EXPECT_EQ(pdadmm::StopOnSignal::received(), sig);
  }
  // Ignored SIGINT: left ignored, and not recorded.
  signal(SIGINT, SIG_IGN);
  {
    pdadmm::StopOnSignal stop;
    sigaction(SIGINT, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_IGN);
    raise(SIGINT);
    EXPECT_EQ(pdadmm::StopOnSignal::received(), 0);
  }
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  // Ignored SIGHUP (nohup): left ignored, the run goes on.
  signal(SIGHUP, SIG_IGN);
  {
    pdadmm::StopOnSignal stop;
    raise(SIGHUP);
    EXPECT_EQ(pdadmm::StopOnSignal::received(), 0);
  }
  sigaction(SIGHUP, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  EXPECT_STREQ(pdadmm::signal_name(SIGINT), "SIGINT");
  EXPECT_STREQ(pdadmm::signal_name(SIGTERM), "SIGTERM");
  EXPECT_STREQ(pdadmm::signal_name(SIGUSR1), "SIGUSR1");
  EXPECT_STREQ(pdadmm::signal_name(SIGHUP), "SIGHUP");
  EXPECT_STREQ(pdadmm::signal_name(SIGUSR2), "signal 12");
}

// In a child process: the same signal again ends it at once (raise: not a kill(2) of a process, as
// a terminal's Ctrl-C is not), unless the process that sent the first sends it again within 0.1 s
// (GNU timeout signals the run, then its process group: one expiry ended the run without its
// outputs about half the time); from another process, or later, it ends it too. A second SIGHUP
// (a closing terminal sends two, the shell's and the kernel's) never does.
TEST(StopOnSignal, ASecondSignalEndsTheProcessUnlessTheSameSenderRepeatsIt) {
  const auto child = [](const std::function<void()>& signals) {
    const pid_t pid = fork();
    if (pid == 0) {
      pdadmm::StopOnSignal stop;
      signals();
      _exit(pdadmm::StopOnSignal::received() == SIGTERM ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  };
  const int raised = child([] { raise(SIGTERM); raise(SIGTERM); });
  EXPECT_TRUE(WIFSIGNALED(raised) && WTERMSIG(raised) == SIGTERM) << raised;
  const int repeated = child([] { kill(getpid(), SIGTERM); kill(getpid(), SIGTERM); });
  EXPECT_TRUE(WIFEXITED(repeated) && WEXITSTATUS(repeated) == 0) << repeated;
  const int other = child([] {
    kill(getpid(), SIGTERM);
    const pid_t helper = fork();  // another sender
    if (helper == 0) {
      kill(getppid(), SIGTERM);
      _exit(0);
    }
    waitpid(helper, nullptr, 0);
    for (int i = 0; i < 100; ++i) usleep(1000);  // delivered before the child exits
  });
  EXPECT_TRUE(WIFSIGNALED(other) && WTERMSIG(other) == SIGTERM) << other;
  const int later = child([] {
    kill(getpid(), SIGTERM);
    usleep(200000);
    kill(getpid(), SIGTERM);
  });
  EXPECT_TRUE(WIFSIGNALED(later) && WTERMSIG(later) == SIGTERM) << later;
  const int hangups = child([] {
    raise(SIGTERM);  // the stop
    raise(SIGHUP);
    raise(SIGHUP);
  });
  EXPECT_TRUE(WIFEXITED(hangups) && WEXITSTATUS(hangups) == 0) << hangups;
}

// A signal handled on another thread (a group's worker) while the main thread polls: no data
// race (the flag was a volatile sig_atomic_t; a PDADMM_SANITIZE=thread build reported it here).
TEST(StopOnSignal, SeesASignalHandledOnAnotherThread) {
  pdadmm::StopOnSignal stop;
  std::thread worker([] { raise(SIGTERM); });  // raise: to the calling thread
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pdadmm::StopOnSignal::received() == 0 && std::chrono::steady_clock::now() < until) {
  }
  worker.join();
  EXPECT_EQ(pdadmm::StopOnSignal::received(), SIGTERM);
}

// More threads than the cores the process is bound to (mpirun's default --bind-to core, taskset):
// said, with how to give it more; within them, nothing.
TEST(Cli, ThreadsPastTheBoundCoresAreNoted) {
  if (std::system("taskset -c 0 true > /dev/null 2>&1") != 0) GTEST_SKIP() << "no taskset";
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: a process is bound to all of them";
  const std::string out = " --out " + ::testing::TempDir() + "/cli_bound";
  const Result r = pdadmm::test::run_command("taskset -c 0 " + std::string(PDADMM_BINARY) + " train" + kTiny +
                                             " --set threads=3" + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("note: threads 3 on the 1 core(s) this process is bound to: a team sharing a core waits for it "
                       "at every step (taskset or the cpuset set that; `threads` 1 matches it)\n"),
            std::string::npos) << r.out;
  const Result one = pdadmm::test::run_command("taskset -c 0 " + std::string(PDADMM_BINARY) + " train" + kTiny + out);
  ASSERT_EQ(one.code, 0) << one.out;
  EXPECT_EQ(one.out.find("note: threads"), std::string::npos) << one.out;
}

// A CPU model larger than the memory left stops before allocating, in one line (Linux would let
// the allocations through and its OOM killer end the run later, silently); info says so first.
TEST(Cli, AModelLargerThanMemoryIsOneLine) {
  const std::string big = kTiny + " --set model.hidden=2000000000";
  expect_one_line_error(run("train" + big + " --out " + ::testing::TempDir() + "/cli_oom"),
                        "out of host memory: the layer groups' tensors, the host's copy of the weights and an evaluation's buffers need ");
  expect_one_line_error(run("bench --no-peak --json " + ::testing::TempDir() + "/cli_oom.json" + big),
                        "out of host memory");
  const Result i = run("info" + big);
  EXPECT_EQ(i.code, 0) << i.out;
  EXPECT_NE(i.out.find(" available (too little: train would stop)\n"), std::string::npos) << i.out;
  const Result fits = run("info" + kTiny);
  EXPECT_NE(fits.out.find("host          "), std::string::npos) << fits.out;
  EXPECT_EQ(fits.out.find("too little"), std::string::npos) << fits.out;
}

// A staged run whose first stage fits and whose last does not stops before the first stage's
// iterations, naming the stage: it stopped at the stage change, the earlier stages' hours lost.
TEST(Cli, AStageLargerThanMemoryStopsBeforeTheFirst) {
  const std::string out = ::testing::TempDir() + "/cli_oom_stage";
  const Result r = run("train" + kTiny +
                       " --set model.hidden=200000 --set 'model.stages=[{\"layers\": 2, \"iterations\": 3}, "
                       "{\"layers\": 10, \"iterations\": 3}]' --out " + out);
  expect_one_line_error(r, "out of host memory: stage 2 of 2 (10 layers, from iteration 4) will need for its layer "
                           "groups' tensors, what it keeps of stage 1, the host's copy of the weights and an "
                           "evaluation's buffers ");
  // Its weights alone (8 x 200000^2 floats) exceed any machine's memory here: mpirun would not help.
  EXPECT_NE(r.out.find("which process 0 holds (it scores the evaluations and writes model.bin), so more processes do "
                       "not help"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(out)) << "the run's folder is left behind";
}

// A config that draws a warning (rho = nu, as every shipped real-data config) and then fails its
// setup: the error is the only line (the warning came first, for train, info and bench alike).
TEST(Cli, AWarningDoesNotPrecedeASetupError) {
  const std::string bad = kTiny + " --set admm.nu=1 --set admm.rho=1 --set data.name=cora --data /nonexistent_pdadmm";
  expect_one_line_error(run("train" + bad + " --out " + ::testing::TempDir() + "/cli_warn_err"), "file not found");
  expect_one_line_error(run("info" + bad), "file not found");
  expect_one_line_error(run("bench --no-peak --json " + ::testing::TempDir() + "/cli_warn_err.json" + bad),
                        "file not found");
  const Result ok = run("info" + kTiny + " --set admm.nu=1 --set admm.rho=1");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("warning: rho = 1 <= max(4 nu"), std::string::npos) << ok.out;
}

// A staged run's time line gives each stage's median: one median over stages of 2 and 10 layers
// was the most numerous stage's.
TEST(Cli, AStagedRunsTimeLineHasAMedianPerStage) {
  const Result r = run("train" + kTiny + " --out " + ::testing::TempDir() + "/cli_stage_times --set model.layers=3 " +
                       "--set 'model.stages=[{\"layers\":2,\"iterations\":3},{\"layers\":3,\"iterations\":3}]'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::regex line(R"(time: mean \S+ s/iteration \(median per stage of 2, 3 layers: [0-9.e-]+, [0-9.e-]+; ADMM updates only;)");
  EXPECT_TRUE(std::regex_search(r.out, line)) << r.out;
}

// info --print-config: the effective config (every key, --set applied) as JSON on stdout, which
// reads back as the same config; no data is read (a missing data folder does not matter).
TEST(Cli, InfoPrintsTheEffectiveConfig) {
  const Result r = pdadmm::test::run_command(std::string(PDADMM_BINARY) +
                                             " info --print-config --set model.layers=3 --set data.name=\"cora\" "
                                             "--data /nonexistent_pdadmm 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["layers"], 3);
  EXPECT_EQ(j["data"]["name"], "cora");
  EXPECT_EQ(j["admm"]["iterations"], 100);
  EXPECT_EQ(pdadmm::parse_config(j, {}).effective, j) << "it reads back as itself";
  expect_one_line_error(run("info --print-config --set model.bogus=1"), "unknown key \"model.bogus\"");
}

// info's model line names a run of one shape once, with its count (1000 layers printed 998 shapes).
TEST(Cli, InfoCountsRunsOfOneLayerShape) {
  const Result deep = run("info" + kTiny + " --set model.layers=1000");
  EXPECT_NE(deep.out.find("model         1000 layers: 16x500 16x16 (998 layers) 5x16\n"), std::string::npos) << deep.out;
  const Result four = run("info" + kTiny + " --set model.layers=4");
  EXPECT_NE(four.out.find("model         4 layers: 16x500 16x16 16x16 5x16\n"), std::string::npos) << four.out;
  // Layers from 1, as the errors name them (group 1's "layers 2..3" read as layers 3 and 4 there).
  const Result two = run("info" + kTiny + " --set model.layers=4 --set groups=2");
  EXPECT_NE(two.out.find("\ngroup 0       layers 1..2, "), std::string::npos) << two.out;
  EXPECT_NE(two.out.find("\ngroup 1       layers 3..4, "), std::string::npos) << two.out;
}

// info's outputs line: model.bin's size (the bytes train then writes, but for the header's layer
// list and framing), the room in --out's nearest existing folder, and never a folder made.
TEST(Cli, InfoSaysWhetherTheOutputsFitTheOutputFolder) {
  const std::string out = ::testing::TempDir() + "/cli_info_room/not/made";
  std::filesystem::remove_all(::testing::TempDir() + "/cli_info_room");
  const Result i = run("info" + kTiny + " --out " + out);
  ASSERT_EQ(i.code, 0) << i.out;
  EXPECT_NE(i.out.find("outputs       " + out + ": model.bin "), std::string::npos) << i.out;
  EXPECT_NE(i.out.find(" free there\n"), std::string::npos) << i.out;
  EXPECT_FALSE(std::filesystem::exists(::testing::TempDir() + "/cli_info_room"));
  const Result big = run("info" + kTiny + " --set model.hidden=2000000000 --out " + out);
  EXPECT_NE(big.out.find(" free there (too little: train would stop)\n"), std::string::npos) << big.out;
  const Result off = run("info" + kTiny + " --set output.checkpoint=false --out " + out);
  EXPECT_NE(off.out.find("outputs       " + out + ": no model.bin (output.checkpoint false): metrics.jsonl, "
                         "summary.json, config.json\n"),
            std::string::npos) << off.out;
  // Checkpoints during the run write state.bin too, and rewrite both.
  const Result every = run("info" + kTiny + " --set output.checkpoint_every=1 --out " + out);
  EXPECT_NE(every.out.find(": model.bin "), std::string::npos) << every.out;
  EXPECT_NE(every.out.find(", state.bin "), std::string::npos) << every.out;
  EXPECT_NE(every.out.find(" (every iteration), "), std::string::npos) << every.out;
  EXPECT_NE(every.out.find(" at once with a new copy beside the old, "), std::string::npos) << every.out;
}

// -m takes a run's folder for its model.bin; the state.bin beside it is named as what it is (it
// was "not a pdadmm checkpoint").
TEST(Cli, EvalTakesARunsFolderAndNamesAStateBin) {
  const std::string out = ::testing::TempDir() + "/cli_eval_folder";
  std::filesystem::remove_all(out);
  ASSERT_EQ(run("train" + kTiny + " --set output.keep_state=true --out " + out).code, 0);
  const Result file = run("eval -m " + out + "/model.bin");
  ASSERT_EQ(file.code, 0) << file.out;
  const Result folder = run("eval -m " + out + "/");
  ASSERT_EQ(folder.code, 0) << folder.out;
  EXPECT_EQ(folder.out, file.out);
  expect_one_line_error(run("eval -m " + out + "/state.bin"),
                        "checkpoint " + out + "/state.bin: a state.bin, which train --resume continues; the model is "
                        "the model.bin beside it");
  std::filesystem::remove(out + "/model.bin");
  expect_one_line_error(run("eval -m " + out), "--model: " + out + ": a folder without a model.bin");
}

// A folder given for a data file names the key (it was "FOLDER: not a regular file"); bench's
// --peak-seconds beside --no-peak, a time for a skipped measurement, is refused, as is export's
// --data without --inputs (no data is read: it was silently unused).
TEST(Cli, AFolderForADataFileAndAnUnusedPeakTimeAreNamed) {
  const std::string dir = ::testing::TempDir() + "/cli_folder_data";
  std::filesystem::create_directories(dir);
  expect_one_line_error(run("info --set data.name=files --set data.files.edges=" + dir + " --set data.files.features=" +
                            dir + "/f.csv --set data.files.labels=" + dir + "/l.txt"),
                        dir + ": a folder, not a file (data.files.");
  // A FIFO too (it was "FIFO: not a regular file", without the key); /dev/null as a device.
  const std::string fifo = dir + "/fifo";
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& odd : {fifo, std::string("/dev/null")})
    expect_one_line_error(run("info --set data.name=files --set data.files.edges=" + odd + " --set data.files.features=" +
                              dir + "/f.csv --set data.files.labels=" + dir + "/l.txt"),
                          odd + ": not a regular file (data.files.edges)");
  expect_one_line_error(run("bench" + kTiny + " --no-peak --peak-seconds 1"), "--no-peak excludes --peak-seconds");
  std::ofstream(dir + "/model.bin") << "not read";
  expect_one_line_error(run("export -m " + dir + "/model.bin --npz " + dir + "/x.npz --data " + dir),
                        "--data requires --inputs");
}

// An output folder reused by a run that writes no model.bin (or predictions.csv) keeps the earlier
// run's beside this run's summary.json: the run says so rather than let it pass for its own.
TEST(Cli, AnEarlierRunsModelLeftInTheFolderIsNamed) {
  const std::string out = " --out " + ::testing::TempDir() + "/cli_earlier_model";
  ASSERT_EQ(run("train" + kTiny + out).code, 0);
  const Result off = run("train" + kTiny + " --set output.checkpoint=false" + out);
  EXPECT_EQ(off.code, 0) << off.out;
  EXPECT_NE(off.out.find("/cli_earlier_model/model.bin is an earlier run's (output.checkpoint is false: this run "
                         "writes none)"),
            std::string::npos)
      << off.out;
  const Result on = run("train" + kTiny + out);
  EXPECT_EQ(on.out.find("model.bin is an earlier run's"), std::string::npos) << on.out;
  EXPECT_NE(on.out.find("note: replacing the outputs of an earlier run in "), std::string::npos) << on.out;
}

// Started with stdout and stderr closed (`>&- 2>&-`): the files the run opened took their
// numbers, and the progress lines were written into metrics.jsonl between its JSON lines.
TEST(Cli, ClosedStandardStreamsWriteNothingIntoTheOutputs) {
  const std::string out = ::testing::TempDir() + "/cli_closed_fds";
  std::filesystem::remove_all(out);
  const Result r = pdadmm::test::run_command("(" + std::string(PDADMM_BINARY) + " train --out " + out + kTiny +
                                             " --set output.progress=lines >&- 2>&-)");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(out + "/metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(f, line)) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 4);  // iterations 1, 2, 4, 6
}

// Under ulimit -v (a batch queue's h_vmem) a run ends or says why in one line; OpenBLAS, refused
// its 128 MiB buffer, retried for ever and the run hung with nothing said (250 to 500 MiB here).
// The limit sweeps 200 MiB to 1.2 GiB so that whatever the loader maps, some limits fall short and
// some do not (near the edge a run may stop at its allocation check: thread arenas vary).
TEST(Cli, AnAddressSpaceLimitEndsTheRunOrNamesItself) {
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory cannot live under ulimit -v";
  int refused = 0, ran = 0;
  for (int mib = 200; mib <= 1200; mib += 50) {
    const std::string out = ::testing::TempDir() + "/cli_ulimit_v" + std::to_string(mib);
    const Result r = pdadmm::test::run_command(
        "timeout -s KILL 30 sh -c 'ulimit -v " + std::to_string(mib * 1024) + " && exec " +
        std::string(PDADMM_BINARY) + " train --config " + std::string(PDADMM_SOURCE_DIR) +
        "/configs/synthetic.json --out " + out + kTiny + " --set threads=2'");
    ASSERT_NE(r.code, 128 + 9) << "ulimit -v of " << mib << " MiB: killed after 30 s (hung)\n" << r.out;
    if (r.code == 0) {
      ++ran;
      continue;
    }
    ++refused;
    EXPECT_EQ(r.code, 1) << mib << " MiB\n" << r.out;
    EXPECT_EQ(pdadmm::test::error_lines(r.out), 1) << mib << " MiB\n" << r.out;
    EXPECT_NE(r.out.find("ulimit -v"), std::string::npos) << mib << " MiB\n" << r.out;
  }
  EXPECT_GT(refused, 0) << "no limit was small enough to test the refusal";
  EXPECT_GT(ran, 0) << "no limit was large enough for the run";
}

// Memory no process count takes off process 0 (the evaluations' buffers over 200 000 nodes; the
// weights are 36 MB) is named as such, not answered with "run the groups as processes (mpirun)".
TEST(Cli, MemoryThatMoreProcessesDoNotSplitIsNamed) {
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory cannot live under ulimit -v";
  const Result r = pdadmm::test::run_command(
      "timeout -s KILL 60 sh -c 'ulimit -v 2000000 && OPENBLAS_NUM_THREADS=1 exec " + std::string(PDADMM_BINARY) +
      " train --set data.synthetic.nodes=200000 --set model.hidden=1500 --set model.layers=4 --set output.progress=off"
      " --out " + ::testing::TempDir() + "/cli_oom_side'");
  expect_one_line_error(r, "use fewer layers, hidden units or nodes: with one layer per process this one would still "
                           "need 3.4 GiB (layer 1, which process 0 runs, 10.5 MiB, and 3.4 GiB for the weights' "
                           "host copy and the evaluations' buffers), so more processes do not help\n");
}

// OpenBLAS 0.3.29 (Debian 13) maps a 128 MiB buffer per thread as it loads and, refused, retries for
// ever: `pdadmm --version` under ulimit -v 300 MiB hung before main. A check that runs before the
// libraries' constructors (.preinit_array) names the limit, counting the threads OpenBLAS will start.
TEST(Cli, AnAddressSpaceTooSmallForOpenBlasIsNamedBeforeItLoads) {
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory cannot live under ulimit -v";
  const Result r = pdadmm::test::run_command("timeout -s KILL 30 sh -c 'ulimit -v 150000 && OPENBLAS_NUM_THREADS=1 exec " +
                                             std::string(PDADMM_BINARY) + " --version'");
  ASSERT_NE(r.code, 128 + 9) << "killed after 30 s (hung)\n" << r.out;
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(pdadmm::test::error_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("error: out of address space: ulimit -v leaves "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("for each of its 1 thread(s)"), std::string::npos) << r.out;
  // With the room, the same command runs.
  const Result ok = pdadmm::test::run_command("sh -c 'ulimit -v 2000000 && exec " + std::string(PDADMM_BINARY) +
                                              " --version'");
  EXPECT_EQ(ok.code, 0) << ok.out;
}

// stdout on a pipe whose reader is gone (`pdadmm train | head -1` once head has left): SIGPIPE
// ended the run at its next line, with no model written and no error line.
TEST(Cli, AClosedPipeOnStdoutDoesNotEndTheRun) {
  const std::string out = ::testing::TempDir() + "/cli_closed_pipe";
  std::filesystem::remove_all(out);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(fds[1], 1);
    const std::string cmd = "exec " + std::string(PDADMM_BINARY) + " train --out " + out + kTiny + " 2>" + out + ".err";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status);
  expect_one_line_error({WEXITSTATUS(status), pdadmm::test::slurp(out + ".err")}, "cannot write to stdout");
  EXPECT_TRUE(std::filesystem::exists(out + "/model.bin"));
  EXPECT_TRUE(std::filesystem::exists(out + "/summary.json"));
  // What info prints is all it writes: a full disk there was exit 0.
  expect_one_line_error(pdadmm::test::run_command("(" + std::string(PDADMM_BINARY) + " info" + kTiny + " >/dev/full)"),
                        "error: cannot write to stdout (a closed pipe or a full disk)");
  // Nor was --help's text: exit 0.
  expect_one_line_error(pdadmm::test::run_command("(" + std::string(PDADMM_BINARY) + " train --help >/dev/full)"),
                        "error: cannot write to stdout (a closed pipe or a full disk)");
}

// A config kept in its output folder as config.json: the run replaced it with its full config
// (every key, comments gone). A person's file is refused and kept; one a run wrote may be re-run.
TEST(Cli, AHandWrittenConfigInTheOutputFolderIsKept) {
  const std::string dir = ::testing::TempDir() + "/cli_config_in_out", cfg = dir + "/config.json";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string mine = "{\"_comment\": \"mine\", \"model\": {\"hidden\": 16}}\n";
  std::ofstream(cfg) << mine;
  expect_one_line_error(run("train -c " + cfg + " --out " + dir + kTiny),
                        "--config " + cfg + " is the config.json this run writes in " + dir);
  EXPECT_EQ(pdadmm::test::slurp(cfg), mine);
  // A run's own config.json, trained again in its folder: allowed, the file is the run's again.
  const std::string run_dir = dir + "/run";
  ASSERT_EQ(run("train -c " + cfg + " --out " + run_dir + kTiny).code, 0);
  const Result again = run("train -c " + run_dir + "/config.json --out " + run_dir + kTiny);
  EXPECT_EQ(again.code, 0) << again.out;
}

// bench --json naming its own --config replaced the config with the results (eval's --predictions
// is refused so already).
TEST(Cli, ABenchJsonThatIsTheConfigIsRefused) {
  const std::string dir = ::testing::TempDir() + "/cli_bench_config", cfg = dir + "/c.json";
  std::filesystem::create_directories(dir);
  std::ofstream(cfg) << R"({"model": {"hidden": 16}})";
  expect_one_line_error(run("bench --no-peak -c " + cfg + " --json " + dir + "/./c.json" + kTiny),
                        "bench: --json " + dir + "/./c.json is the --config file; it would be overwritten");
  EXPECT_EQ(pdadmm::test::slurp(cfg), R"({"model": {"hidden": 16}})");
  // Nor any other file that is not an earlier bench JSON (another config, a data file); its own is replaced.
  std::ofstream(dir + "/other.json") << R"({"model": {"hidden": 8}})";
  expect_one_line_error(run("bench --no-peak -c " + cfg + " --json " + dir + "/other.json" + kTiny + " --iterations 1"),
                        "bench: --json " + dir + "/other.json is not bench's JSON (a data file, or another program's)");
  EXPECT_EQ(pdadmm::test::slurp(dir + "/other.json"), R"({"model": {"hidden": 8}})");
  // A run's own summary.json is named as such, not as another program's.
  std::ofstream(dir + "/metrics.jsonl") << "{}\n";
  std::ofstream(dir + "/summary.json") << R"({"iterations": 3})";
  expect_one_line_error(run("bench --no-peak -c " + cfg + " --json " + dir + "/summary.json" + kTiny + " --iterations 1"),
                        "bench: --json " + dir + "/summary.json is the summary.json of a pdadmm run; it would be overwritten");
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(run("bench --no-peak -c " + cfg + " --json " + dir + "/b.json" + kTiny + " --iterations 1").code, 0) << i;
}

// --out and --data go into config.json (and bench's JSON) as the config's strings do: a name that
// is not UTF-8 ended the run after training with "internal: [json.exception.type_error.316] ...".
TEST(Cli, AnOutOrDataPathThatIsNotUtf8IsNamed) {
  const std::string out = ::testing::TempDir() + "/cli_not_utf8_\xff";
  expect_one_line_error(run("train --out '" + out + "'" + kTiny),
                        "error: --out: not valid UTF-8 (its bytes are kept in config.json and model.bin");
  EXPECT_FALSE(std::filesystem::exists(out));
  expect_one_line_error(run("bench --no-peak --json " + ::testing::TempDir() + "/cli_not_utf8.json --data '" + out +
                            "'" + kTiny),
                        "error: --data: not valid UTF-8");
}

}  // namespace
