// data.name "files" through the binary: a user's graph (test::SmallGraph) as edges.txt,
// features.npy (or save_npz's features.npz) and labels.txt trains to the model its npz trains to;
// info prints its numbers; eval and --resume refuse other files; a malformed file is one error
// line naming file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::expect_one_line_error;
using test::run_command;

const std::string kSplit = " --set data.files.train_per_class=5 --set data.files.val=20 --set data.files.test=60";
const std::string kFiles = " --set data.name=files --set data.files.edges=edges.txt --set "
                           "data.files.features=features.npy --set data.files.labels=labels.txt" +
                           kSplit + " --set output.progress=off";
const std::string kNpz = " --set data.name=npz --set data.npz.file=graph.npz --set data.npz.train_per_class=5 "
                         "--set data.npz.val=20 --set data.npz.test=60 --set output.progress=off";
const std::string kModel = " --set model.hidden=16 --set admm.iterations=20";

TEST(CliOwnFiles, TrainsAsItsNpzAndEvalAndResumeRefuseOtherFiles) {
  const std::string dir = ::testing::TempDir() + "cli_own_files";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const test::SmallGraph g;
  g.write_files(dir, "f4");
  test::write_zip(dir + "/graph.npz", g.members("f4", true));
  const std::string in_dir = "cd " + dir + " && " + PDADMM_BINARY;
  const std::string edges = std::to_string(g.edges());

  const test::CommandResult t = run_command(in_dir + " train" + kFiles + kModel + " --set output.keep_state=true --out run");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find("pdadmm: edges.txt + features.npy + labels.txt (120 nodes, " + edges +
                       " edges, 4 features, 3 classes; train/val/test 15/20/60)"),
            std::string::npos)
      << t.out;
  const nlohmann::json sum = test::read_json(dir + "/run/summary.json");
  ASSERT_TRUE(sum.is_object());
  EXPECT_GE(sum["test"]["acc"].get<double>(), 0.95) << sum.dump();
  const test::CommandResult n = run_command(in_dir + " train" + kNpz + kModel + " --out run_npz");
  ASSERT_EQ(n.code, 0) << n.out;
  EXPECT_EQ(test::model_payload(dir + "/run"), test::model_payload(dir + "/run_npz"));  // the weights, bit for bit
  EXPECT_EQ(test::read_json(dir + "/run/config.json")["data"]["raw_counts"], true);

  // Sparse features as scipy.sparse.save_npz writes them train as the npz's attr_* CSR does.
  test::write_zip(dir + "/features.npz", g.save_npz());
  test::write_zip(dir + "/graph_sparse.npz", g.members("sparse", true));
  const std::string sparse = kFiles + " --set data.files.features=features.npz";
  const test::CommandResult s = run_command(in_dir + " train" + sparse + kModel + " --out run_sparse");
  ASSERT_EQ(s.code, 0) << s.out;
  const test::CommandResult ns =
      run_command(in_dir + " train" + kNpz + kModel + " --set data.npz.file=graph_sparse.npz --out run_npz_sparse");
  ASSERT_EQ(ns.code, 0) << ns.out;
  EXPECT_EQ(test::model_payload(dir + "/run_sparse"), test::model_payload(dir + "/run_npz_sparse"));
  EXPECT_NE(run_command(in_dir + " info" + sparse).out.find("features      4 (sparse, "), std::string::npos);
  // The same features in the other form are the same data set (the same bits trained): eval of the
  // dense run's model with the sparse file, and the reverse, score as trained (the data checksum
  // was the form's, and refused them).
  const std::string model = " eval --config run/config.json --model run/model.bin";
  const test::CommandResult cross = run_command(in_dir + model + " --set data.files.features=features.npz");
  EXPECT_EQ(cross.code, 0) << cross.out;
  test::expect_eval_prints_the_summary(cross, sum);
  const test::CommandResult reverse = run_command(in_dir + " eval --config run_sparse/config.json --model "
                                                  "run_sparse/model.bin --set data.files.features=features.npy");
  EXPECT_EQ(reverse.code, 0) << reverse.out;

  const test::CommandResult i = run_command(in_dir + " info" + kFiles);
  ASSERT_EQ(i.code, 0) << i.out;
  for (const std::string& line : std::vector<std::string>{
           "data set      edges.txt + features.npy + labels.txt\n", "nodes         120\n",
        "edges         " + edges + " undirected\n", "features      4 (dense, 480 stored values)\n",
        "classes       3\n", "train/val/test 15 / 20 / 60\n",
        "split         split_dataset's procedure, 5 per class, then 60 test and 20 val, torch.manual_seed(100); "
        "feature values as stored\n"})
    EXPECT_NE(i.out.find(line), std::string::npos) << "expected \"" << line << "\" in\n" << i.out;

  // Another file or split: refused by eval and --resume; a key of data.npz, not read, is not compared.
  std::filesystem::copy_file(dir + "/features.npy", dir + "/other.npy");
  const std::string eval = in_dir + " eval --config run/config.json --model run/model.bin";
  const test::CommandResult e = run_command(eval + " --set data.npz.file=x.npz");
  EXPECT_EQ(e.code, 0) << e.out;
  test::expect_eval_prints_the_summary(e, sum);
  // Files are compared by content (the data checksum model.bin records), not by name: a copy under
  // another name, the same file named another way (absolute here, relative in training), and from
  // another folder (where the training run's relative names do not resolve) are the model's input.
  const test::CommandResult copy = run_command(eval + " --set data.files.features=other.npy");
  EXPECT_EQ(copy.code, 0) << copy.out;
  test::expect_eval_prints_the_summary(copy, sum);
  const std::string abs_dir = std::filesystem::absolute(dir).string();
  const test::CommandResult abs = run_command(eval + " --set data.files.features=" + abs_dir + "/features.npy");
  EXPECT_EQ(abs.code, 0) << abs.out;
  test::expect_eval_prints_the_summary(abs, sum);
  const test::CommandResult elsewhere =
      run_command("cd / && " + std::string(PDADMM_BINARY) + " eval --model " + abs_dir + "/run/model.bin" +
                  " --set data.files.edges=" + abs_dir + "/edges.txt --set data.files.features=" + abs_dir +
                  "/features.npy --set data.files.labels=" + abs_dir + "/labels.txt");
  EXPECT_EQ(elsewhere.code, 0) << elsewhere.out;
  test::expect_eval_prints_the_summary(elsewhere, sum);
  expect_one_line_error(run_command(eval + " --set data.files.test=50"),
                        "was trained with data.files.test = 60, the config has 50");
  // --resume too compares the files by content: a copy under another name passes the config check
  // (and then finds nothing left to run at the state's iteration 20), as do absolute names from
  // another folder; other contents are refused below.
  expect_one_line_error(run_command(in_dir + " train --resume" + kFiles + kModel +
                                    " --set data.files.features=other.npy --out run"),
                        "--resume: the run in run/state.bin is at iteration 20 of 20: nothing left to run");
  expect_one_line_error(run_command("cd / && " + std::string(PDADMM_BINARY) + " train --resume" + kModel +
                                    " --set data.name=files --set data.files.edges=" + abs_dir +
                                    "/edges.txt --set data.files.features=" + abs_dir + "/features.npy" +
                                    " --set data.files.labels=" + abs_dir + "/labels.txt --out " + abs_dir + "/run"),
                        "is at iteration 20 of 20: nothing left to run");
  // A config.json naming the files so (what a resume from / killed outright leaves beside the
  // state) is not an edit: the files are compared by content.
  nlohmann::json named = test::read_json(dir + "/run/config.json");
  for (const char* k : {"edges", "features", "labels"})
    named["data"]["files"][k] = abs_dir + "/" + named["data"]["files"][k].get<std::string>();
  std::ofstream(dir + "/run/config.json", std::ios::trunc) << named.dump(2) << "\n";
  expect_one_line_error(run_command(in_dir + " train --resume" + kFiles + kModel + " --out run"),
                        "--resume: the run in run/state.bin is at iteration 20 of 20: nothing left to run");
  // The same paths with other contents (one label changed): eval, export --inputs and --resume
  // read another data set than the model's, and scored or trained on it with exit 0.
  const std::string labels = test::slurp(dir + "/labels.txt");
  std::string changed = labels;
  const size_t last = changed.find_last_of("012");  // the last node's class (0, 1 or 2)
  ASSERT_NE(last, std::string::npos);
  changed[last] = changed[last] == '0' ? '1' : '0';
  std::ofstream(dir + "/labels.txt", std::ios::trunc) << changed;
  const std::string differs = "the data set read now is not the one its run trained on (its graph, features or "
                              "labels differ: files changed since, or another copy; CRC32 ";
  expect_one_line_error(run_command(eval), "checkpoint run/model.bin: " + differs);
  // info prints the CRC of the data it reads (the error's first), the model.bin's is the one before.
  const std::string crc_now = run_command(in_dir + " info" + kFiles).out, crc_line = "data crc      ";
  const size_t at = crc_now.find(crc_line);
  ASSERT_NE(at, std::string::npos) << crc_now;
  EXPECT_NE(run_command(eval).out.find("CRC32 " + crc_now.substr(at + crc_line.size(), 8) + ", the run's "),
            std::string::npos);
  expect_one_line_error(run_command(in_dir + " export -m run --inputs --npz x.npz"), "checkpoint run/model.bin: " + differs);
  expect_one_line_error(run_command(in_dir + " train --resume" + kFiles + kModel + " --set admm.iterations=22 --out run"),
                        "--resume: run/state.bin: " + differs);
  std::ofstream(dir + "/labels.txt", std::ios::trunc) << labels;
  const test::CommandResult back = run_command(eval);
  EXPECT_EQ(back.code, 0) << back.out;
  test::expect_eval_prints_the_summary(back, sum);

  // Config and file errors: one line naming the key, or the file and line.
  expect_one_line_error(run_command(in_dir + " info --set data.name=files --set data.files.edges=edges.txt"),
                        "config: data.files.features: required with data.name \"files\"");
  expect_one_line_error(run_command(in_dir + " info" + kFiles + " --set data.files.labels=nope.txt"),
                        "nope.txt: file not found (data.files.labels, relative to the current folder " +
                            std::filesystem::canonical(dir).string() + ")");
  // --data is the named sets' folder: a user who gave it for their files is told so.
  expect_one_line_error(run_command(in_dir + " info --data /tmp" + kFiles + " --set data.files.labels=nope.txt"),
                        "nope.txt: file not found (data.files.labels, relative to the current folder " +
                            std::filesystem::canonical(dir).string() +
                            "; --data and data.root are the named data sets' folder, not this one's)");
  std::ofstream(dir + "/bad.txt") << "0 1\n# fine\n1 2 3\n";
  expect_one_line_error(run_command(in_dir + " info" + kFiles + " --set data.files.edges=bad.txt"),
                        "error: bad.txt:3: 3 fields, expected 2 (an edge is \"u v\")");
  expect_one_line_error(run_command(in_dir + " info" + kFiles + " --set data.files.labels=edges.txt"),
                        "error: edges.txt:3: 2 fields, expected 1 (one class id a line)");
  expect_one_line_error(run_command(in_dir + " info" + kFiles + " --set data.files.features=edges.txt"),
                        "error: labels.txt: 120 labels for " + std::to_string(g.stored_edges().size()) +
                            " nodes (the rows of edges.txt)");
}

// A fresh folder TempDir()/NAME with a 30-node ring: e.txt, f.csv (node i's row: i % 3, (i * 7) % 5
// and 1, the first two times `scale`) and l.txt (node i's label).
std::string ring_files(const std::string& name, double scale, const std::function<int(int)>& label) {
  const std::string dir = ::testing::TempDir() + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream e(dir + "/e.txt"), f(dir + "/f.csv"), l(dir + "/l.txt");
  for (int i = 0; i < 30; ++i) {
    e << i << " " << (i + 1) % 30 << "\n";
    f << scale * (i % 3) << "," << scale * ((i * 7) % 5) << ",1\n";
    l << label(i) << "\n";
  }
  return dir;
}

// Training nodes drawn as a count, regardless of class, can miss a class (here the one node of
// class 2): the model cannot learn it, and info and train said nothing of it. Nor of a features
// CSV whose first column is pandas' row index.
TEST(CliOwnFiles, AClassWithoutATrainingNodeIsWarned) {
  const std::string dir = ring_files("cli_own_files_class", 1, [](int i) { return i < 29 ? i % 2 : 2; });
  const std::string data = " --set data.name=files --set data.files.edges=e.txt --set data.files.features=f.csv "
                           "--set data.files.labels=l.txt --set data.files.val=5 --set data.files.test=5";
  const std::string in_dir = "cd " + dir + " && " + PDADMM_BINARY;
  const std::string warning = "warning: class 2 of 3 has no training node (data.files.train draws the training nodes "
                              "regardless of class): the model cannot learn it; data.files.train_per_class draws "
                              "some of every class\n";
  const test::CommandResult i = run_command(in_dir + " info" + data + " --set data.files.train=4 --set data.split_seed=1");
  EXPECT_EQ(i.code, 0) << i.out;
  EXPECT_NE(i.out.find(warning), std::string::npos) << i.out;
  const test::CommandResult t = run_command(in_dir + " train" + data + " --set data.files.train=4 --set data.split_seed=1"
                                            " --set admm.iterations=2 --set output.progress=off --out run");
  EXPECT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find(warning), std::string::npos) << t.out;
  // One of each class: no such warning (class 2's lone node is named as a possible typo, below).
  const test::CommandResult pc = run_command(in_dir + " info" + data + " --set data.files.train_per_class=1");
  EXPECT_EQ(pc.code, 0) << pc.out;
  EXPECT_EQ(pc.out.find("no training node"), std::string::npos) << pc.out;
  EXPECT_NE(pc.out.find("warning: class 2 has 1 labelled node (node 29) where another has 15"), std::string::npos)
      << pc.out;
  // A mistyped class id makes a class of one node (the model gets an output for it): named.
  std::ofstream lt(dir + "/lt.txt");
  for (int k = 0; k < 30; ++k) lt << (k == 7 ? 2 : k % 2) << "\n";
  lt.close();
  const test::CommandResult typo = run_command(in_dir + " info" + data +
                                               " --set data.files.train=0.5 --set data.files.val=0.2 --set data.files.test=0.2"
                                               " --set data.files.labels=lt.txt");
  EXPECT_EQ(typo.code, 0) << typo.out;
  EXPECT_NE(typo.out.find("warning: class 2 has 1 labelled node (node 7) where another has 15: a mistyped class id? "
                          "(the model has an output for every id up to 2; -1 marks an unlabelled node)\n"),
            std::string::npos)
      << typo.out;
  const test::CommandResult typo_pc =
      run_command(in_dir + " info" + data + " --set data.files.train_per_class=2 --set data.files.labels=lt.txt");
  test::expect_one_line_error(typo_pc, "lt.txt split: class 2 has 1 labelled node (node 7), fewer than 2 train nodes "
                                       "per class (lower data.files.train_per_class, or check that node's label)");
  // pandas' to_csv without index=False writes the row number first: read as a feature, named.
  std::ofstream fi(dir + "/fi.csv");
  for (int k = 0; k < 30; ++k) fi << k << "," << k % 3 << "," << (k * 7) % 5 << ",1\n";
  fi.close();
  const test::CommandResult ix =
      run_command(in_dir + " info" + data + " --set data.files.train_per_class=1 --set data.files.features=fi.csv");
  EXPECT_EQ(ix.code, 0) << ix.out;
  EXPECT_NE(ix.out.find("warning: the first feature column is the row number 0, 1, …, 29: an index column? (pandas' "
                        "to_csv and reset_index write one; save with index=False)\n"),
            std::string::npos)
      << ix.out;
  // Numbered from 1 (R, a spreadsheet's id column): the same.
  std::ofstream fi1(dir + "/fi1.csv");
  for (int k = 0; k < 30; ++k) fi1 << k + 1 << "," << k % 3 << "," << (k * 7) % 5 << ",1\n";
  fi1.close();
  const test::CommandResult ix1 =
      run_command(in_dir + " info" + data + " --set data.files.train_per_class=1 --set data.files.features=fi1.csv");
  EXPECT_EQ(ix1.code, 0) << ix1.out;
  EXPECT_NE(ix1.out.find("warning: the first feature column is the row number 1, 2, …, 30: an index column?"),
            std::string::npos)
      << ix1.out;
  EXPECT_EQ(ix1.out.find("every feature is 0"), std::string::npos) << ix1.out;
  // Features all zero (a file of the wrong columns, a failed export) trained without a word.
  std::ofstream fz(dir + "/fz.csv");
  for (int k = 0; k < 30; ++k) fz << "0,0,0\n";
  fz.close();
  const test::CommandResult zf =
      run_command(in_dir + " info" + data + " --set data.files.train_per_class=1 --set data.files.features=fz.csv");
  EXPECT_EQ(zf.code, 0) << zf.out;
  EXPECT_NE(zf.out.find("warning: every feature is 0: the model cannot tell the nodes apart"), std::string::npos) << zf.out;
  // Signed features under data.row_normalize: rows whose values cancel are scaled many times over.
  std::ofstream fn(dir + "/fn.csv");
  for (int k = 0; k < 30; ++k) fn << (k % 2 ? -1 : 2) << "," << k % 3 + 1 << "," << (k * 7) % 5 + 1 << "\n";
  fn.close();
  const std::string signed_info = in_dir + " info" + data + " --set data.files.train_per_class=1 --set data.files.features=fn.csv";
  const test::CommandResult rn = run_command(signed_info + " --set data.row_normalize=true");
  EXPECT_EQ(rn.code, 0) << rn.out;
  EXPECT_NE(rn.out.find("warning: data.row_normalize divides each feature row by its sum, and the features hold "
                        "values of both signs (15 negative after the scaling): a row whose values cancel is scaled "
                        "many times over; leave it off for signed features (it suits counts, as bag-of-words)\n"),
            std::string::npos)
      << rn.out;
  EXPECT_EQ(run_command(signed_info).out.find("data.row_normalize divides"), std::string::npos);
}

// Many classes of one node: ten warnings and a count (each named its nodes in a pass over every
// label, so 320 000 such nodes took 22 s), and the classes without a training node listed up to 20.
TEST(CliOwnFiles, ManyRareClassesAreWarnedInFewLines) {
  const std::string dir = ring_files("cli_own_files_rare", 1, [](int i) { return i < 14 ? 0 : i - 13; });
  const std::string in_dir = "cd " + dir + " && " + PDADMM_BINARY;
  const std::string data = " --set data.name=files --set data.files.edges=e.txt --set data.files.features=f.csv "
                           "--set data.files.labels=l.txt --set data.files.val=5 --set data.files.test=5";
  const test::CommandResult r = run_command(in_dir + " info" + data + " --set data.files.train=2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: class 10 has 1 labelled node (node 23) where another has 14"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("warning: class 11 has"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: 6 more classes have one or two labelled nodes where another has 14 (the 10 above are "
                       "the first)\n"),
            std::string::npos)
      << r.out;
  // Two training nodes leave at least 15 of the 17 classes out; 20 are listed at most.
  std::ofstream many(dir + "/many.txt");
  for (int k = 0; k < 30; ++k) many << (k < 8 ? 0 : k - 7) << "\n";
  many.close();
  const test::CommandResult m =
      run_command(in_dir + " info" + data + " --set data.files.train=2 --set data.files.labels=many.txt");
  EXPECT_EQ(m.code, 0) << m.out;
  EXPECT_TRUE(std::regex_search(m.out, std::regex("warning: classes (\\d+, ){19}\\d+ and [12] more of 23 have no "
                                                  "training node")))
      << m.out;
}

// A 20 MB unknown key: the typo hint filled a (20M + 1) x (len + 1) edit table per known key (a
// 10 MB key took 1.37 GB); keys whose lengths differ by more than two are not near. One error line
// under 1.2 GB of address space.
TEST(CliOwnFiles, ALongUnknownConfigKeyIsNamedCheaply) {
  const std::string path = ::testing::TempDir() + "cli_long_key.json";
  std::ofstream(path) << "{\"model\": {\"" << std::string(size_t{20} << 20, 'a') << "\": 1}}";
  const test::CommandResult r =
      run_command("(ulimit -v 1200000 && " + std::string(PDADMM_BINARY) + " info -c " + path + ")");
  expect_one_line_error(r, "error: config: " + path + ": unknown key \"model.aaaa");
  std::filesystem::remove(path);
}

// Each pair of 64 000 nodes its own class: one-hot labels of 32 000 classes x 32 000 training
// nodes (3.8 GiB) were allocated before any memory check ("out of memory" under a limit, gigabytes
// written without one); now measured against the room first and named.
TEST(CliOwnFiles, OneHotLabelsAreCheckedAgainstTheRoomFirst) {
  const std::string dir = ::testing::TempDir() + "cli_own_files_classes";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream e(dir + "/e.txt"), f(dir + "/f.csv"), l(dir + "/l.txt");
  for (int i = 0; i < 64000; ++i) {
    if (i + 1 < 64000) e << i << " " << i + 1 << "\n";
    f << "1\n";
    l << i / 2 << "\n";
  }
  e.close();
  f.close();
  l.close();
  const test::CommandResult r = run_command(
      "cd " + dir + " && (ulimit -v 2000000 && " + PDADMM_BINARY +
      " info --set data.name=files --set data.files.edges=e.txt --set data.files.features=f.csv --set "
      "data.files.labels=l.txt --set data.files.train_per_class=1 --set data.files.val=10 --set data.files.test=10)");
  expect_one_line_error(r, "error: out of host memory: the one-hot training labels (32000 classes x 32000 training "
                           "nodes) need 3.8 GiB and ");
  EXPECT_NE(r.out.find("check the labels file's class ids, or use fewer training nodes"), std::string::npos) << r.out;
}

// Features of a huge scale (nanosecond timestamps, say) are named in the divergence they cause.
TEST(CliOwnFiles, HugeFeaturesAreNamedInTheDivergence) {
  const std::string dir = ring_files("cli_own_files_huge", 1e15, [](int i) { return i % 2; });
  const test::CommandResult r =
      run_command("cd " + dir + " && " + PDADMM_BINARY + " train --out run --set data.name=files"
                  " --set data.files.edges=e.txt --set data.files.features=f.csv --set data.files.labels=l.txt"
                  " --set data.files.train_per_class=1 --set data.files.val=5 --set data.files.test=5"
                  " --set admm.iterations=5 --set output.progress=off");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("; the inputs reach |x| = 2e+15: rescale the features, or data.row_normalize; "),
            std::string::npos) << r.out;
}

// Sparse features 2^31 - 1 columns wide: the data's checksum as dense rows (which a dense copy of
// the same data would give) cost rows x columns: an 8.6 GB row buffer and 40 s before the width was
// refused. Zero runs are now checksummed without their bytes: the width's error, under 2 GB of
// address space.
TEST(CliOwnFiles, WideSparseFeaturesAreRefusedWithoutTheirDenseForm) {
  const std::string dir = ::testing::TempDir() + "cli_own_files_wide";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const test::SmallGraph g;
  test::NpzMembers m = g.members("sparse", true);
  for (auto& [name, bytes, deflate] : m)
    if (name == "attr_shape.npy") bytes = test::npy_i8({g.n(), 2147483647});
  test::write_zip(dir + "/graph.npz", m);
  const test::CommandResult r =
      run_command("cd " + dir + " && (ulimit -v 2000000 && " + PDADMM_BINARY + " info" + kNpz + ")");
  expect_one_line_error(r, "error: the augmented input would be 10737418235 features wide (model.hops + 1 = 5 blocks of "
                           "2147483647), past BLAS's 2147483647; lower model.hops or the feature count");
}

}  // namespace
}  // namespace pdadmm
