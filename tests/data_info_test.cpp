// `pdadmm info` on the six real data sets prints the numbers of the table (nodes,
// train/val/test, classes, features) and edge counts found another way: a python3 script
// (standard library only) read each raw file once, ind.NAME.graph with pickle.load(...,
// encoding='latin1') and the npz adj_indptr/adj_indices with zipfile + the .npy header, and
// counted the distinct pairs {i, j}, i != j (symmetrised, self-loops dropped, duplicates merged).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace {

using pdadmm::test::data_root;
using pdadmm::test::exists;
using pdadmm::test::have_python3;
using Result = pdadmm::test::CommandResult;

Result info(const std::string& name) {
  return pdadmm::test::run_command(std::string(PDADMM_BINARY) + " info --set data.name=" + name +
                                   " --set data.root=\"" + data_root() + "\" --set data.verify=true");
}

struct Row {
  const char* name;
  const char* file;  // one file of the data set, to skip when the data are absent
  long nodes, edges, features, classes, train, val;  // val: Planetoid's fixed 500, npz 1000 drawn
};

void PrintTo(const Row& r, std::ostream* os) { *os << r.name; }

class DataInfo : public ::testing::TestWithParam<Row> {};

// `pdadmm info`'s output holds row r's numbers.
void expect_table_numbers(const Row& r, const Result& res) {
  ASSERT_EQ(res.code, 0) << res.out;
  const std::string& o = res.out;
  auto has = [&](const std::string& s) { EXPECT_NE(o.find(s), std::string::npos) << "expected \"" << s << "\" in\n" << o; };
  has("nodes         " + std::to_string(r.nodes) + "\n");
  has("edges         " + std::to_string(r.edges) + " undirected\n");
  has("features      " + std::to_string(r.features) + " (");
  has("classes       " + std::to_string(r.classes) + "\n");
  has("train/val/test " + std::to_string(r.train) + " / " + std::to_string(r.val) + " / 1000\n");
  has(r.val == 500 ? "split         standard Planetoid" : "split         the reference's split_dataset, torch.manual_seed(100)");
  EXPECT_EQ(o.find("differ from the published ones"), std::string::npos) << o;
}

TEST_P(DataInfo, PrintsTheTableNumbers) {
  const Row& r = GetParam();
  if (!exists(data_root() + "/" + r.file))
    GTEST_SKIP() << "real data not found: " << data_root() << "/" << r.file
                 << " (set PDADMM_DATA to the folder holding planetoid/ and npz/)";
  expect_table_numbers(r, info(r.name));
}

const Row kPubMed{"pubmed", "planetoid/ind.pubmed.allx", 19717, 44324, 500, 3, 60, 500};

INSTANTIATE_TEST_SUITE_P(
    Table, DataInfo,
    ::testing::Values(Row{"cora", "planetoid/ind.cora.graph", 2708, 5278, 1433, 7, 140, 500},
                      Row{"citeseer", "planetoid/ind.citeseer.graph", 3327, 4552, 3703, 6, 120, 500},
                      // Needs ind.pubmed.allx, absent from shared/data: skipped there (PubMedWithoutAllx).
                      kPubMed),
    [](const ::testing::TestParamInfo<Row>& i) { return std::string(i.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Npz, DataInfo,
    ::testing::Values(Row{"amazon_computers", "npz/amazon_electronics_computers.npz", 13752, 245861, 767, 10, 200, 1000},
                      Row{"amazon_photo", "npz/amazon_electronics_photo.npz", 7650, 119081, 745, 8, 160, 1000},
                      Row{"coauthor_cs", "npz/ms_academic_cs.npz", 18333, 81894, 6805, 15, 300, 1000}),
    [](const ::testing::TestParamInfo<Row>& i) { return std::string(i.param.name); });

// data.val_split_seed: the same sizes, the split line says the train/val nodes were redrawn.
TEST(DataInfo, RedrawnSplitKeepsTheSizesAndSaysSo) {
  if (!exists(data_root() + "/planetoid/ind.cora.graph")) GTEST_SKIP() << "real data not found: " << data_root();
  const Result res = pdadmm::test::run_command(std::string(PDADMM_BINARY) + " info --set data.name=cora --set data.root=\"" +
                                               data_root() + "\" --set data.val_split_seed=5");
  ASSERT_EQ(res.code, 0) << res.out;
  EXPECT_NE(res.out.find("train/val/test 140 / 500 / 1000\n"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("train and val redrawn outside test (val_split_seed 5)"), std::string::npos) << res.out;
}

TEST(DataInfo, PubMedWithoutAllxNamesTheFile) {
  if (!exists(data_root() + "/planetoid/ind.pubmed.graph"))
    GTEST_SKIP() << "real data not found: " << data_root() << "/planetoid";
  if (exists(data_root() + "/planetoid/ind.pubmed.allx")) GTEST_SKIP() << "ind.pubmed.allx is present (tested above)";
  // One line naming the missing file, not another of PubMed's files or its checksum.
  const auto r = info("pubmed");
  pdadmm::test::expect_one_line_error(r, "error: " + data_root() + "/planetoid/ind.pubmed.allx: file not found (");
  // The stand-in is named where the rest of PubMed is there (no internet to fetch allx).
  EXPECT_NE(r.out.find("without internet, tools/pubmed_standin.py writes a stand-in allx for smoke tests and timings, "
                       "not accuracy: docs/data.md#pubmed-without-allx)"),
            std::string::npos)
      << r.out;
}

// A data folder DIR (made afresh) whose planetoid/ holds links to the real Cora files but `except`.
std::string cora_links(const std::string& name, const std::string& except = "") {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir + "/planetoid");
  for (const std::string part : {"x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"})
    if (part != except)
      fs::create_symlink(fs::absolute(data_root() + "/planetoid/ind.cora." + part), dir + "/planetoid/ind.cora." + part);
  return dir;
}

// A FIFO where a data file or the checksum list should be: the loader opened it before it checked
// it was a file, and opening a FIFO waits for a writer, so `info` hung without a word.
TEST(DataInfo, AFifoForADataFileIsRefusedNotWaitedOn) {
  if (!exists(data_root() + "/planetoid/ind.cora.x")) GTEST_SKIP() << "real data not found: " << data_root();
  namespace fs = std::filesystem;
  const std::string dir = cora_links("data_fifo");
  ASSERT_EQ(::mkfifo((dir + "/SHA256SUMS").c_str(), 0644), 0);
  const std::string cmd = "timeout 60 " + std::string(PDADMM_BINARY) + " info --set data.name=cora --data " + dir;
  pdadmm::test::expect_one_line_error(pdadmm::test::run_command(cmd + " --set data.verify=true"),
                                      "error: " + dir + "/SHA256SUMS: not a regular file (data.verify checks");
  fs::remove(dir + "/planetoid/ind.cora.ty");
  ASSERT_EQ(::mkfifo((dir + "/planetoid/ind.cora.ty").c_str(), 0644), 0);
  pdadmm::test::expect_one_line_error(pdadmm::test::run_command(cmd),
                                      "error: " + dir + "/planetoid/ind.cora.ty: not a regular file (data folder " + dir);
  fs::remove_all(dir);
}

// A byte changed in a data file where it still parses (here an edge of ind.cora.graph) trained
// without a word; the data crc of the files read is compared with the published files'.
TEST(DataInfo, AChangedDataFileIsWarnedOf) {
  if (!exists(data_root() + "/planetoid/ind.cora.x")) GTEST_SKIP() << "real data not found: " << data_root();
  namespace fs = std::filesystem;
  const std::string dir = cora_links("data_changed", "graph");
  std::string graph = pdadmm::test::slurp(data_root() + "/planetoid/ind.cora.graph");
  ASSERT_GT(graph.size(), 30000u);
  graph[30000] = '\0';
  std::ofstream(dir + "/planetoid/ind.cora.graph", std::ios::binary) << graph;
  const Result r = pdadmm::test::run_command(std::string(PDADMM_BINARY) + " info --set data.name=cora --data " + dir);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: the cora files in " + dir + " differ from the published ones (data crc "),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", theirs 2e9dd87d): data.verify: true names the changed file"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// Without ind.pubmed.allx, tools/pubmed_standin.py's stand-in (x's rows, then tx's repeated, in
// allx's shape) gives the rest of PubMed's numbers from its real files: graph, labels, split, feature
// count. configs/pubmed.json and pubmed_q.json then train to the end there; the test nodes keep
// their real features (tx), so a test accuracy well above the largest class's share (about 0.4)
// says the test.index rows reached their nodes. Not an accuracy measurement.
TEST(DataInfo, PubMedStandInGivesTheTableNumbersAndTrainsTheConfigs) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  if (!exists(data_root() + "/planetoid/ind.pubmed.graph"))
    GTEST_SKIP() << "real data not found: " << data_root() << "/planetoid";
  if (exists(data_root() + "/planetoid/ind.pubmed.allx")) GTEST_SKIP() << "ind.pubmed.allx is present (tested above)";
  const std::string src = PDADMM_SOURCE_DIR, dir = ::testing::TempDir() + "/pubmed_standin";
  std::filesystem::remove_all(dir);
  const Result made = pdadmm::test::run_command("python3 " + src + "/tools/pubmed_standin.py --data \"" + data_root() +
                                                "\" --out " + dir);
  ASSERT_EQ(made.code, 0) << made.out;
  EXPECT_NE(made.out.find("STAND-IN (18717 x 500"), std::string::npos) << made.out;
  // A folder with a real allx (or any real PubMed file) is never written over.
  const std::string real = dir + "/real", real_allx = real + "/planetoid/ind.pubmed.allx";
  std::filesystem::create_directories(real + "/planetoid");
  std::ofstream(real_allx) << "real";
  pdadmm::test::expect_one_line_error(
      pdadmm::test::run_command("python3 " + src + "/tools/pubmed_standin.py --data \"" + data_root() + "\" --out " + real),
      real_allx + " exists and is not this tool's");
  EXPECT_EQ(std::filesystem::file_size(real_allx), 4u);
  expect_table_numbers(kPubMed, pdadmm::test::run_command(std::string(PDADMM_BINARY) +
                                                          " info --set data.name=pubmed --set data.root=" + dir));
  for (const char* config : {"pubmed", "pubmed_q"}) {
    const std::string out = dir + "/run_" + config;
    const Result r = pdadmm::test::run_command(std::string(PDADMM_BINARY) + " train -c " + src + "/configs/" + config +
                                               ".json --data " + dir + " --out " + out + " --set output.progress=off");
    ASSERT_EQ(r.code, 0) << config << "\n" << r.out;
    std::ifstream f(out + "/summary.json");
    const nlohmann::json s = nlohmann::json::parse(f);
    EXPECT_EQ(s["iterations"], 410) << config;
    EXPECT_EQ(s["train"]["acc"], 1.0) << config;
    EXPECT_GT(s["test"]["acc"].get<double>(), 0.6) << config;
  }
}

}  // namespace
