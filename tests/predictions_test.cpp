// Every node's prediction (Predictor, `pdadmm eval --predictions`, output.predictions): the rows of
// split nodes are the evaluator's bits, the chunking changes nothing, and the CSV read back has one
// row per node whose test rows give the accuracy eval prints and summary.json holds.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/admm/predictions.h"
#include "host/io/files.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

struct Row {
  int64_t node = -1;
  std::string split;
  int label = 0, predicted = 0;
  std::vector<double> probs;
};

// The CSV as a reader takes it: header checked, every field parsed.
std::vector<Row> parse_csv(const std::string& text, int classes) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::string head = "node,split,label,predicted";
  for (int c = 0; c < classes; ++c) head += ",prob_" + std::to_string(c);
  EXPECT_EQ(line, head);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream s(line);
    for (std::string x; std::getline(s, x, ',');) f.push_back(x);
    if (!line.empty() && line.back() == ',') f.push_back("");
    EXPECT_EQ(f.size(), 4u + classes) << line;
    if (f.size() != 4u + classes) break;
    Row r;
    r.node = std::stoll(f[0]);
    r.split = f[1];
    r.label = std::stoi(f[2]);
    r.predicted = std::stoi(f[3]);
    for (int c = 0; c < classes; ++c) r.probs.push_back(std::strtod(f[4 + c].c_str(), nullptr));
    rows.push_back(r);
  }
  return rows;
}

// What any CSV must satisfy for data set d: a row per node in order, its split and label, a
// predicted class whose probability is the largest, probabilities in [0, 1] summing to 1.
void expect_well_formed(const std::vector<Row>& rows, const Dataset& d) {
  ASSERT_EQ(static_cast<int64_t>(rows.size()), d.num_nodes());
  std::vector<std::string> split(rows.size());
  for (int32_t v : d.train) split[v] = "train";
  for (int32_t v : d.val) split[v] = "val";
  for (int32_t v : d.test) split[v] = "test";
  for (size_t v = 0; v < rows.size(); ++v) {
    const Row& r = rows[v];
    ASSERT_EQ(r.node, static_cast<int64_t>(v));
    EXPECT_EQ(r.split, split[v]) << "node " << v;
    EXPECT_EQ(r.label, d.labels[v]) << "node " << v;
    ASSERT_TRUE(r.predicted >= 0 && r.predicted < d.num_classes) << "node " << v;
    double sum = 0;
    for (double p : r.probs) {
      EXPECT_TRUE(p >= 0 && p <= 1) << "node " << v << ": " << p;
      EXPECT_LE(p, r.probs[r.predicted]) << "node " << v;
      sum += p;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << "node " << v;
  }
}

std::string csv_of(const Predictor& pr, int64_t chunk = 0) {
  std::string out;
  pr.write_csv([&](const std::string& s) { out += s; }, chunk);
  return out;
}

// Random weights of the config's model (init_std 0.5: probabilities far from uniform), against
// the evaluator: its scores to the bit, its argmax and softmax for every split node, whatever the
// chunk size; the nodes in no split match a direct pass over all nodes.
void expect_evaluators_bits(const Config& c) {
  const Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W, b;
  init_weights(p.dims, 0.5, 11, W, b);
  const Evaluator eval(p.data, p.h, p.ahat, p.aug);
  const Predictor pr(eval, W, b);
  const Scores want = eval.evaluate(W, b), got = pr.scores();
  for (auto [g, w] : {std::pair{got.train, want.train}, std::pair{got.val, want.val}, std::pair{got.test, want.test}}) {
    EXPECT_EQ(g.acc, w.acc);
    EXPECT_EQ(g.loss, w.loss);
    EXPECT_EQ(g.count, w.count);
  }
  const std::string csv = csv_of(pr);
  const std::vector<Row> rows = parse_csv(csv, p.data.num_classes);
  expect_well_formed(rows, p.data);
  ASSERT_EQ(static_cast<int64_t>(rows.size()), p.data.num_nodes());
  const HostMatrix<float> logits = logits_from_first(eval.first_layer(W[0]), W, b);
  const std::vector<int32_t>& scored = eval.scored_nodes();
  for (size_t i = 0; i < scored.size(); ++i) {
    const float* z = &logits(static_cast<int64_t>(i), 0);
    const int64_t arg = std::max_element(z, z + logits.cols) - z;
    const Row& r = rows[scored[i]];
    EXPECT_EQ(r.predicted, arg) << "node " << scored[i];
    double sum = 0;
    for (int64_t k = 0; k < logits.cols; ++k) sum += std::exp(double(z[k]) - z[arg]);
    for (int64_t k = 0; k < logits.cols; ++k) {
      const double want_p = std::exp(double(z[k]) - z[arg]) / sum;
      EXPECT_LE(std::fabs(r.probs[k] - want_p), 5e-6 * want_p) << "node " << scored[i] << " class " << k;
    }
  }
  // Other chunk sizes: the split nodes' rows are the same text; the others the same up to float
  // rounding (OpenBLAS rounds by where a call's edges fall, and the chunk sets the calls).
  for (int64_t chunk : {1, 7}) {
    const std::vector<Row> other = parse_csv(csv_of(pr, chunk), p.data.num_classes);
    ASSERT_EQ(other.size(), rows.size());
    for (size_t v = 0; v < rows.size(); ++v)
      for (int64_t k = 0; k < p.data.num_classes; ++k) {
        if (rows[v].split.empty())
          EXPECT_NEAR(other[v].probs[k], rows[v].probs[k], 1e-5) << "chunk " << chunk << ", node " << v;
        else
          EXPECT_EQ(other[v].probs[k], rows[v].probs[k]) << "chunk " << chunk << ", node " << v;
      }
  }
  std::vector<int32_t> all(static_cast<size_t>(p.data.num_nodes()));
  for (size_t v = 0; v < all.size(); ++v) all[v] = static_cast<int32_t>(v);
  const HostMatrix<float> every = logits_from_first(eval.first_layer_product(W[0]).rows(all), W, b);
  int64_t outside = 0;
  for (size_t v = 0; v < all.size(); ++v) {
    if (!rows[v].split.empty()) continue;
    ++outside;
    const float* z = &every(static_cast<int64_t>(v), 0);
    const float top = *std::max_element(z, z + every.cols);
    double sum = 0;
    for (int64_t k = 0; k < every.cols; ++k) sum += std::exp(double(z[k]) - top);
    for (int64_t k = 0; k < every.cols; ++k)
      EXPECT_NEAR(rows[v].probs[k], std::exp(double(z[k]) - top) / sum, 1e-5) << "node " << v;
  }
  EXPECT_GT(outside, 0) << "the data set has no node outside the splits: the chunked pass went untested";
}

const std::vector<std::string> kTinySets = {"data.synthetic.nodes=400", "data.synthetic.val=50",
                                            "data.synthetic.test=100", "model.hidden=16"};

TEST(Predictions, SplitNodesAreTheEvaluatorsBits) {
  for (const char* extra : {"model.layers=3", "model.hops=0", "model.hop_order=\"descending\""}) {
    SCOPED_TRACE(extra);
    std::vector<std::string> sets = kTinySets;
    sets.push_back(extra);
    expect_evaluators_bits(parse_config(nlohmann::json::object(), sets));
  }
}

// Sparse features (the Planetoid bag of words) and unlabelled nodes outside the splits.
TEST(Predictions, CoraSplitNodesAreTheEvaluatorsBits) {
  const std::string root = test::data_root();
  if (!test::exists(root + "/planetoid/ind.cora.x")) GTEST_SKIP() << "real data not found: " << root;
  expect_evaluators_bits(parse_config(nlohmann::json::object(),
                                      {"data.name=\"cora\"", "data.root=\"" + root + "\"", "model.hidden=16"}));
}

TEST(Predictions, NonFiniteLogitsAreAnError) {
  const Problem p = build_problem(parse_config(nlohmann::json::object(), kTinySets));
  std::vector<HostMatrix<float>> W, b;
  init_weights(p.dims, 0.5, 11, W, b);
  for (float& v : W.back().data) v *= 1e38f;  // the last layer overflows float
  const Evaluator eval(p.data, p.h, p.ahat, p.aug);
  const Predictor pr(eval, W, b);
  try {
    csv_of(pr);
    FAIL() << "wrote non-finite logits";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("are not finite"), std::string::npos) << e.what();
  }
}

// ---- the binary ----

using test::CommandResult;
using test::expect_one_line_error;
CommandResult run(const std::string& args) { return test::run_command(std::string(PDADMM_BINARY) + " " + args); }

std::string read_text(const std::string& path) { return test::exists(path) ? read_file(path) : std::string(); }


// The test rows' right answers in the CSV, against eval's printed accuracy and summary.json's.
void expect_test_accuracy(const std::vector<Row>& rows, const std::string& eval_out, const nlohmann::json& summary) {
  int64_t right = 0, test = 0;
  for (const Row& r : rows)
    if (r.split == "test" && r.label >= 0) {
      ++test;
      right += r.predicted == r.label;
    }
  ASSERT_EQ(test, summary["test"]["nodes"].get<int64_t>());
  EXPECT_EQ(static_cast<double>(right) / test, summary["test"]["acc"].get<double>()) << right << " of " << test;
  char printed[64];
  std::snprintf(printed, sizeof printed, "test  acc %.4f", static_cast<double>(right) / test);
  EXPECT_NE(eval_out.find(printed), std::string::npos) << printed << "\n" << eval_out;
}

const std::string kConfig = " --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json";
const std::string kTiny =
    " --set data.synthetic.nodes=400 --set data.synthetic.val=50 --set data.synthetic.test=100"
    " --set model.hidden=16 --set model.layers=3 --set admm.iterations=6 --set output.progress=off";

TEST(PredictionsCli, EvalWritesEveryNodeAndTrainTheSameFile) {
  const std::string out = ::testing::TempDir() + "/predictions_cli";
  std::filesystem::remove_all(out);
  const CommandResult t = run("train" + kConfig + kTiny + " --set output.predictions=true --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find(",model.bin,predictions.csv}"), std::string::npos) << t.out;
  const std::string eval = "eval" + kConfig + kTiny + " --model " + out + "/model.bin";
  const CommandResult e = run(eval + " --predictions " + out + "/eval.csv");
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("predictions: wrote " + out + "/eval.csv (400 nodes, 5 classes)"), std::string::npos) << e.out;
  const std::string csv = read_text(out + "/eval.csv");
  EXPECT_EQ(read_text(out + "/predictions.csv"), csv) << "train's predictions.csv differs from eval's";

  const Problem p = build_problem(parse_config(test::read_json(out + "/config.json")));
  const std::vector<Row> rows = parse_csv(csv, p.data.num_classes);
  expect_well_formed(rows, p.data);
  int64_t in_split[3] = {0, 0, 0};
  for (const Row& r : rows) {
    in_split[0] += r.split == "train";
    in_split[1] += r.split == "val";
    in_split[2] += r.split == "test";
  }
  EXPECT_EQ(in_split[0], 100);
  EXPECT_EQ(in_split[1], 50);
  EXPECT_EQ(in_split[2], 100);
  expect_test_accuracy(rows, e.out, test::read_json(out + "/summary.json"));

  // "-": the CSV alone on stdout, the scores on stderr.
  const CommandResult s =
      test::run_command("(" + std::string(PDADMM_BINARY) + " " + eval + " --predictions - > " + out + "/stdout.csv)");
  EXPECT_EQ(s.code, 0) << s.out;
  EXPECT_EQ(read_text(out + "/stdout.csv"), csv);
  EXPECT_NE(s.out.find("test  acc"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("node,"), std::string::npos) << s.out;
  // A reader that leaves early (`| head`, here `| true`): eval ends quietly with a SIGPIPE death's
  // status, as `yes | head` does; an error line used to follow the README's example.
  const std::string script = out + "/pipe.sh";
  std::ofstream(script) << "#!/bin/bash\n" << PDADMM_BINARY << " " << eval << " --predictions - 2>" << out
                        << "/pipe.err | true\nexit ${PIPESTATUS[0]}\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  const CommandResult gone = test::run_command(script);
  EXPECT_EQ(gone.code, 141) << gone.out;
  const std::string err = read_text(out + "/pipe.err");
  EXPECT_NE(err.find("test  acc"), std::string::npos) << err;
  EXPECT_EQ(err.find("error"), std::string::npos) << err;
  // A name of eval's stdout (/dev/stdout, here a link of the test's own) with stdout a file: as "-",
  // the CSV alone there; it came between the score lines.
  const std::string link = out + "/stdout_link";
  std::filesystem::create_symlink("/proc/self/fd/1", link);
  const CommandResult l =
      test::run_command("(" + std::string(PDADMM_BINARY) + " " + eval + " --predictions " + link + " > " + out + "/link.csv)");
  EXPECT_EQ(l.code, 0) << l.out;
  EXPECT_TRUE(std::filesystem::is_symlink(link)) << "the link was replaced";
  EXPECT_EQ(read_text(out + "/link.csv"), csv);
  EXPECT_NE(l.out.find("test  acc"), std::string::npos) << l.out;
}

TEST(PredictionsCli, ErrorsAreOneLineAndWriteNothing) {
  const std::string out = ::testing::TempDir() + "/predictions_errors";
  std::filesystem::remove_all(out);
  const CommandResult t = run("train" + kConfig + kTiny + " --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  const std::string eval = "eval" + kConfig + kTiny + " --model " + out + "/model.bin";
  expect_one_line_error(run(eval + " --predictions /nonexistent_pdadmm_dir/p.csv"),
                        "error: eval: cannot write --predictions /nonexistent_pdadmm_dir/p.csv (its folder is missing");
  expect_one_line_error(run(eval + " --predictions " + out), "cannot write --predictions " + out + " (");
  // A symlink into a missing folder: its target's folder is what counts (the link's passed, and the
  // error came after the forward pass; bench's after the whole run).
  std::filesystem::create_symlink("/nonexistent_pdadmm_dir/p.csv", out + "/dangling.csv");
  expect_one_line_error(run(eval + " --predictions " + out + "/dangling.csv"),
                        "cannot write --predictions " + out +
                            "/dangling.csv (a symlink to /nonexistent_pdadmm_dir/p.csv: its folder is missing)");
  expect_one_line_error(run("bench" + kConfig + kTiny + " -n 1 --no-peak --json " + out + "/dangling.csv"),
                        "error: bench: cannot write --json " + out + "/dangling.csv (a symlink to ");
  // A chain whose middle link dangles: followed link by link (one read_symlink deep, the write
  // replaced the middle link with a file); a long target name behind a short link is its name.
  std::filesystem::create_directories(out + "/sub");
  std::filesystem::create_symlink("../nowhere/c.csv", out + "/sub/b.csv");
  std::filesystem::create_symlink("sub/b.csv", out + "/chain.csv");
  expect_one_line_error(run(eval + " --predictions " + out + "/chain.csv"),
                        "predictions_errors/nowhere/c.csv: its folder is missing)");
  EXPECT_TRUE(std::filesystem::is_symlink(out + "/sub/b.csv"));
  std::filesystem::create_symlink(std::string(246, 'q') + ".csv", out + "/short.csv");  // 250: fits alone
  expect_one_line_error(run(eval + " --predictions " + out + "/short.csv"), ": a name of at most ");
  expect_one_line_error(run(eval + " --predictions ''"), "--predictions: must not be empty");
  // /dev/tty without a terminal (setsid: no controlling one): the open's reason, which a write cleared.
  // (A stream is written after the scores are printed, as to stdout.)
  if (test::run_command("command -v setsid").code == 0) {
    const CommandResult tty =
        test::run_command("setsid " + std::string(PDADMM_BINARY) + " " + eval + " --predictions /dev/tty < /dev/null");
    EXPECT_EQ(tty.code, 1) << tty.out;
    EXPECT_NE(tty.out.find("\nerror: eval: cannot write the predictions to /dev/tty: No such device or address\n"),
              std::string::npos)
        << tty.out;
  }
  // A newline in the path: written as \n, the error still one line.
  expect_one_line_error(run(eval + " --predictions \"$(printf 'nodir\\n/p.csv')\""),
                        "error: eval: cannot write --predictions nodir\\n/p.csv (its folder is missing)");
  // A folder that is a file, and a name too long: refused before the forward pass (a filesystem_error
  // was an "internal:" line with exit 2).
  expect_one_line_error(run(eval + " --predictions " + out + "/config.json/p.csv"),
                        "(its folder " + out + "/config.json is a file)");
  expect_one_line_error(run(eval + " --predictions " + out + "/" + std::string(300, 'p') + ".csv"),
                        "(File name too long)");
  // No room for the file (a full disk; here a file size limit, whose SIGXFSZ killed eval with no
  // error line and a torn temporary left): one line naming it, the earlier file kept, no temporary.
  if (!test::file_limit_runs_crash()) {  // a TSan binary cannot start under ulimit -f (test_util.h)
    write_file_atomic(out + "/p.csv", "node,split,label,predicted (an earlier one)");
    const CommandResult full = test::run_command("ulimit -f 1 && exec " + std::string(PDADMM_BINARY) + " " + eval +
                                                 " --predictions " + out + "/p.csv");
    EXPECT_EQ(full.code, 1) << full.out;
    EXPECT_NE(full.out.find("\nerror: cannot write " + out + "/p.csv: " + std::strerror(EFBIG) + "\n"),
              std::string::npos)
        << full.out;
    EXPECT_EQ(test::error_lines(full.out), 1) << full.out;
    EXPECT_EQ(read_text(out + "/p.csv"), "node,split,label,predicted (an earlier one)");
    for (const auto& f : std::filesystem::directory_iterator(out))
      EXPECT_EQ(f.path().filename().string().find(".tmp."), std::string::npos) << f.path();
    std::filesystem::remove(out + "/p.csv");
  }
  // The model itself (a slip of the tab key): it was replaced by the CSV, the trained weights lost.
  const std::string model = read_text(out + "/model.bin");
  expect_one_line_error(run(eval + " --predictions " + out + "/./model.bin"),
                        "eval: --predictions " + out + "/./model.bin is the --model file; it would be overwritten");
  EXPECT_EQ(read_text(out + "/model.bin"), model);
  // A run's other files: a stopped run's state.bin (by its first bytes, under any name; replaced,
  // the run could not resume), another checkpoint, the run's own config.json beside --model.
  write_file_atomic(out + "/state.bin", std::string("PDADMMS1") + std::string(24, '\0'));
  write_file_atomic(out + "/old.bin", model);
  for (const auto& [name, is] : std::vector<std::pair<std::string, std::string>>{
           {"state.bin", "a run's state (--resume reads it)"},
           {"old.bin", "a pdadmm checkpoint"},
           {"config.json", "the config.json of the run beside --model"}}) {
    const std::string before = read_text(out + "/" + name);
    expect_one_line_error(run(eval + " --predictions " + out + "/" + name),
                          "eval: --predictions " + out + "/" + name + " is " + is + "; it would be overwritten");
    EXPECT_EQ(read_text(out + "/" + name), before) << name;
  }
  std::filesystem::remove(out + "/state.bin");
  std::filesystem::remove(out + "/old.bin");
  // Any file that is not an earlier CSV of eval's: a data file the model was trained on (it was
  // replaced, exit 0). An empty file may go.
  write_file_atomic(out + "/labels.txt", "0\n1\n");
  expect_one_line_error(run(eval + " --predictions " + out + "/labels.txt"),
                        "eval: --predictions " + out + "/labels.txt is not eval's predictions CSV (a data file, or "
                        "another program's): it would be overwritten; remove it first if it may go, or choose another name");
  EXPECT_EQ(read_text(out + "/labels.txt"), "0\n1\n");
  std::filesystem::remove(out + "/labels.txt");
  // A stream into a file that holds something else (a log) is written to, not replaced: allowed.
  const CommandResult fd3 = test::run_command("exec 3>>" + out + "/log.txt && echo earlier >&3 && " +
                                              std::string(PDADMM_BINARY) + " " + eval + " --predictions /dev/fd/3");
  EXPECT_EQ(fd3.code, 0) << fd3.out;
  EXPECT_EQ(read_text(out + "/log.txt").rfind("earlier\nnode,split,label,predicted", 0), 0u);
  std::filesystem::remove(out + "/log.txt");
  write_file_atomic(out + "/empty.csv", "");
  EXPECT_EQ(run(eval + " --predictions " + out + "/empty.csv").code, 0);
  EXPECT_EQ(run(eval + " --predictions " + out + "/empty.csv").code, 0) << "its own CSV is replaced";
  std::filesystem::remove(out + "/empty.csv");
  // A model of another problem: the usual refusal, and no file (nor temporary) appears.
  expect_one_line_error(run(eval + " --set model.hop_order=descending --predictions " + out + "/p.csv"),
                        "was trained with model.hop_order = \"ascending\", the config has \"descending\"");
  expect_one_line_error(run(eval + " --set model.layers=2 --predictions " + out + "/p.csv"),
                        "has 3 layers, the config describes 2");
  for (const auto& f : std::filesystem::directory_iterator(out))
    EXPECT_EQ(f.path().filename().string().rfind("p.csv", 0), std::string::npos) << f.path();
}

// train's predictions.csv that cannot be written (a full disk; here ulimit -f) is the run's error
// once summary.json and state.bin are written: it came before them and lost the run its state.
TEST(PredictionsCli, ATrainRunsPredictionsFailingKeepsItsState) {
  if (test::file_limit_runs_crash()) GTEST_SKIP() << "a ThreadSanitizer binary cannot start under ulimit -f";
  const std::string out = ::testing::TempDir() + "/predictions_full";
  std::filesystem::remove_all(out);
  const std::string train = std::string(PDADMM_BINARY) +
                            " train --set data.synthetic.nodes=20000 --set model.hidden=8 --set admm.iterations=3"
                            " --set output.keep_state=true --set output.predictions=true --set output.progress=off --out " +
                            out;
  ASSERT_EQ(test::run_command(train + " --set seed=5").code, 0);  // an earlier run's predictions.csv
  // 400 blocks: room for the state (145 KB), not for 20 000 nodes' predictions.
  const CommandResult r = test::run_command("ulimit -f 400 && exec " + train);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("\nerror: cannot write " + out + "/predictions.csv: " + std::strerror(EFBIG) +
                       " (the earlier run's predictions.csv is removed; model.bin and summary.json hold iteration 3)\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(test::error_lines(r.out), 1) << r.out;
  for (const char* f : {"model.bin", "summary.json", "state.bin"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f << "\n" << r.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/predictions.csv"));
}

// A path that is not a regular file (a FIFO here; /dev/stdout, /dev/null, a shell's >(…) alike) is
// written to as it is: it was replaced by a regular file (the temporary renamed over it, leaving the
// reader waiting), and eval said it wrote /dev/full.
TEST(PredictionsCli, AFifoOrDeviceIsWrittenToNotReplaced) {
  const std::string out = ::testing::TempDir() + "/predictions_fifo";
  std::filesystem::remove_all(out);
  const CommandResult t = run("train" + kConfig + kTiny + " --set output.predictions=true --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  const std::string fifo = out + "/fifo.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const std::string eval = "eval" + kConfig + kTiny + " --model " + out + "/model.bin";
  const CommandResult e = test::run_command("(timeout 20 cat " + fifo + " > " + out + "/read.csv & " +
                                            PDADMM_BINARY + " " + eval + " --predictions " + fifo + "; wait)");
  EXPECT_EQ(e.code, 0) << e.out;
  EXPECT_TRUE(std::filesystem::is_fifo(fifo)) << "the FIFO was replaced";
  EXPECT_EQ(read_text(out + "/read.csv"), read_text(out + "/predictions.csv"));
  // A device that refuses the bytes is an error, not "wrote" (tried only where the FIFO was kept:
  // the old code renamed its temporary over the device).
  if (std::filesystem::is_fifo(fifo) && std::filesystem::is_character_file("/dev/full")) {
    const CommandResult f = run(eval + " --predictions /dev/full");
    EXPECT_EQ(f.code, 1) << f.out;
    EXPECT_NE(f.out.find("\nerror: eval: cannot write the predictions to /dev/full: No space left on device\n"),
              std::string::npos)
        << f.out;
    EXPECT_EQ(f.out.find("wrote"), std::string::npos) << f.out;
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));
  }
}

// Cora: 2708 nodes, 1068 of them in no split; train's file, eval's and summary.json agree.
TEST(PredictionsCli, CoraEveryNodeAndTheTestAccuracy) {
  const std::string root = test::data_root();
  if (!test::exists(root + "/planetoid/ind.cora.x")) GTEST_SKIP() << "real data not found: " << root;
  const std::string out = ::testing::TempDir() + "/predictions_cora";
  std::filesystem::remove_all(out);
  const std::string cfg = " --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/cora.json --set data.root=\"" +
                          root + "\" --set model.layers=2 --set model.hidden=16 --set 'model.stages=[{\"layers\": 2, "
                          "\"iterations\": 3}]' --set output.progress=off";
  const CommandResult t = run("train" + cfg + " --set output.predictions=true --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  const CommandResult e = run("eval" + cfg + " --model " + out + "/model.bin --predictions " + out + "/eval.csv");
  ASSERT_EQ(e.code, 0) << e.out;
  const std::string csv = read_text(out + "/eval.csv");
  EXPECT_EQ(read_text(out + "/predictions.csv"), csv);
  const Problem p = build_problem(parse_config(test::read_json(out + "/config.json")));
  const std::vector<Row> rows = parse_csv(csv, 7);
  expect_well_formed(rows, p.data);
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.split.empty(); }), 1068);
  expect_test_accuracy(rows, e.out, test::read_json(out + "/summary.json"));
}

}  // namespace
}  // namespace pdadmm
