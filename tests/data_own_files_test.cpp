// data.name "files": a user's graph as an edge list, features and labels gives the Dataset the
// same graph gives as an npz (test::SmallGraph, written both ways; sparse features as
// scipy.sparse.save_npz writes them), bit for bit; every malformed file is one Error naming the
// file and, in text, the line (in save_npz's, the array); any truncation is read or refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "host/admm/problem.h"
#include "host/config/config.h"
#include "host/data/load_real.h"
#include "host/data/own_files.h"
#include "host/data/sha256.h"
#include "host/io/error.h"
#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

const test::SmallGraph kGraph;

// A folder with the graph as an npz (attr "f4", "f8", "sparse") and as files (features "f4", "f8",
// "csv", "sparse": scipy.sparse.save_npz's features.npz), one per test: ctest runs the tests as
// parallel processes sharing TempDir().
std::string folder(const std::string& attr) {
  const std::string dir = ::testing::TempDir() + "own_files_" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + attr;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  kGraph.write_files(dir, attr);
  test::write_zip(dir + "/graph.npz", kGraph.members(attr == "csv" ? "f4" : attr, false));
  return dir;
}

OwnFiles paths(const std::string& dir, const std::string& features = "features.npy") {
  return {dir + "/edges.txt", dir + "/" + features, dir + "/labels.txt"};
}

std::string features_file(const std::string& attr) {
  return attr == "csv" ? "features.csv" : attr == "sparse" ? "features.npz" : "features.npy";
}

TEST(OwnFiles, TheSameGraphAsFilesAndAsAnNpzIsTheSameDataset) {
  const SplitSizes per_class{5, 60, 20, "data.files"}, blind{20, 0.2, 0.2, "data.files", 0.6};
  for (const std::string attr : {"f4", "f8", "csv", "sparse"}) {
    SCOPED_TRACE(attr);
    const std::string dir = folder(attr);
    const OwnFiles p = paths(dir, features_file(attr));
    for (const bool raw : {true, false})
      for (const SplitSizes& s : {per_class, blind})
        for (const uint64_t seed : {100, 7}) {
          const Dataset files = load_own_files(p, seed, false, raw, s);
          test::expect_same_dataset(files, load_npz_file(dir + "/graph.npz", seed, false, raw, s));
          EXPECT_EQ(files.name, "edges.txt + " + std::filesystem::path(p.features).filename().string() + " + labels.txt");
        }
    const Dataset ds = load_own_files(p, 100, false, true, per_class);
    EXPECT_EQ(ds.num_edges(), kGraph.edges());  // the loop dropped, the doubled pair merged
    EXPECT_EQ(ds.features.is_sparse, attr == "sparse");
    if (ds.features.is_sparse) {  // node 0: 1.5 at its class only; node 1: 1.5, then 0.25 last
      EXPECT_EQ(ds.features.sparse.indptr[1], 1);
      EXPECT_EQ(ds.features.sparse.values[2], 0.25f);
    } else {
      EXPECT_EQ(ds.features.dense[3], 0.0f);  // node 0's last column: 0.25 * (0 % 4)
      EXPECT_EQ(ds.features.dense[7], 0.25f);  // node 1's
    }
  }
}

// save_npz's file is told by its zip magic, whatever its name; members may be stored or deflated,
// and other members (_is_array, which save_npz adds for a sparse array) are not read.
TEST(OwnFiles, SaveNpzFeaturesAreToldByTheirMagicAndReadAsAttrCsr) {
  const std::string dir = folder("sparse");
  test::NpzMembers m = kGraph.save_npz();
  for (auto& member : m) std::get<2>(member) = false;
  m.emplace_back("_is_array.npy", test::npy_shaped("|b1", "()", std::string(1, '\1')), false);
  test::write_zip(dir + "/x.bin", m);
  const SplitSizes sizes{5, 60, 20, "data.files"};
  test::expect_same_dataset(load_own_files(paths(dir, "x.bin"), 100, false, false, sizes),
              load_npz_file(dir + "/graph.npz", 100, false, false, sizes));
}

// BLAS takes int dimensions: features x (hops + 1) past 2147483647 (40 million sparse columns,
// 65 blocks) is named before anything that wide is formed, not wrapped.
TEST(OwnFiles, AnInputWiderThanBlasTakesIsNamed) {
  const std::string dir = folder("sparse");
  const auto [fptr, fidx, fval] = kGraph.sparse_features();
  test::write_zip(dir + "/wide.npz", test::save_npz_members(kGraph.n(), 40000000, fptr, fidx, fval));
  nlohmann::json j = {{"data", {{"name", "files"}, {"files", {{"edges", dir + "/edges.txt"},
                                                               {"features", dir + "/wide.npz"},
                                                               {"labels", dir + "/labels.txt"},
                                                               {"val", 20}, {"test", 20}}}}},
                      {"model", {{"hops", 64}}}};
  EXPECT_EQ(test::error_of([&] { build_problem(parse_config(j)); }),
            "the augmented input would be 2600000000 features wide (model.hops + 1 = 65 blocks of 40000000), "
            "past BLAS's 2147483647; lower model.hops or the feature count");
}

// A save_npz file refused: one Error naming the file and the array at fault.
TEST(OwnFiles, EveryMalformedSaveNpzIsOneErrorNamingTheFileAndArray) {
  const std::string path = ::testing::TempDir() + "own_files_bad.npz";
  // A 3 x 2 matrix [[1, 0], [0, 2], [3, 4]] with one member replaced (or, bytes empty, removed).
  const auto error_with = [&](const std::string& name, const std::string& bytes) {
    test::NpzMembers m = test::save_npz_members(3, 2, {0, 1, 2, 4}, {0, 1, 0, 1}, {1, 2, 3, 4});
    for (size_t i = 0; i < m.size(); ++i)
      if (std::get<0>(m[i]) == name) {
        if (bytes.empty())
          m.erase(m.begin() + static_cast<std::ptrdiff_t>(i));
        else
          std::get<1>(m[i]) = bytes;
        break;
      }
    test::write_zip(path, m);
    const std::string file = test::slurp(path);
    return test::error_of([&] { parse_features(file, "f.npz"); });
  };
  const std::string csr_text = test::npy_shaped("|S3", "()", "csr");
  const std::pair<std::pair<const char*, std::string>, const char*> cases[] = {
      {{"", ""}, "(no error)"},
      {{"format.npy", test::npy_shaped("|S3", "()", "csc")},
       "f.npz: format \"csc\" is not supported (save the matrix as CSR: X.tocsr())"},
      {{"format.npy", test::npy_shaped("|S5", "()", std::string("coo\0\0", 5))},
       "f.npz: format \"coo\" is not supported (save the matrix as CSR: X.tocsr())"},
      {{"format.npy", test::npy_shaped("<U3", "()", std::string(12, 'c'))},
       "f.npz: format.npy: dtype '<U3' is not a byte string ('|S1' to '|S99')"},
      {{"format.npy", test::npy_shaped("|S3", "(1,)", "csr")}, "f.npz: format.npy: must be a 0-d array (one byte string)"},
      {{"format.npy", test::npy_shaped("|S4", "()", "csr")},
       "f.npz: format.npy: dtype '|S4' needs 4 data bytes but the file has 3"},
      {{"indices.npy", ""},
       "f.npz: a zip but not a scipy.sparse.save_npz file: no indices (write it with "
       "scipy.sparse.save_npz(\"features.npz\", X.tocsr()))"},
      {{"format.npy", ""},
       "f.npz: a zip but not a scipy.sparse.save_npz file: no format (write it with "
       "scipy.sparse.save_npz(\"features.npz\", X.tocsr()))"},
      {{"shape.npy", test::npy_i8({3, 2, 1})}, "f.npz: shape: must have shape (2,)"},
      {{"shape.npy", test::npy_i8({4, 2})}, "f.npz: indptr has 4 entries, expected rows+1 = 5"},
      {{"indptr.npy", test::npy_i4({0, 2, 1, 4})}, "f.npz: indptr decreases at row 1 (2 to 1)"},
      {{"indptr.npy", test::npy_i4({0, 1, 2})}, "f.npz: indptr has 3 entries, expected rows+1 = 4"},
      {{"indptr.npy", test::npy_i4({0, 1, 2, 3})}, "f.npz: indptr[-1] = 3 but indices has 4 entries"},
      {{"indices.npy", test::npy_i4({0, 1, 2, 1})}, "f.npz: indices[2] = 2 outside [0, 2) (the columns of shape 3x2)"},
      {{"indices.npy", test::npy_f4({0, 1, 0, 1})}, "f.npz: indices: expected an integer array, found dtype <f4"},
      {{"indices.npy", test::npy_shaped("<i4", "(2, 2)", test::le32({0, 1, 0, 1}))},
       "f.npz: data, indices and indptr arrays must be one-dimensional"},
      {{"data.npy", test::npy_f4({1, 2, NAN, 4})}, "f.npz: data[2] = nan is not finite"},
      {{"data.npy", test::npy_f4({1, 2, 3})}, "f.npz: indices has 4 entries, data 3"},
  };
  for (const auto& [change, error] : cases) EXPECT_EQ(error_with(change.first, change.second), error) << change.first;
  // A COO matrix as save_npz writes it (row and col, no indices or indptr) is named by its format;
  // it was "a zip but not a scipy.sparse.save_npz file: no indices, indptr".
  test::NpzMembers coo;
  for (auto& member : test::save_npz_members(3, 2, {0, 1, 2, 4}, {0, 1, 0, 1}, {1, 2, 3, 4}))
    if (std::get<0>(member) != "indices.npy" && std::get<0>(member) != "indptr.npy") coo.push_back(member);
  for (auto& member : coo)
    if (std::get<0>(member) == "format.npy") std::get<1>(member) = test::npy_shaped("|S3", "()", "coo");
  coo.emplace_back("row.npy", test::npy_i4({0, 1, 2, 2}), false);
  coo.emplace_back("col.npy", test::npy_i4({0, 1, 0, 1}), false);
  test::write_zip(path, coo);
  EXPECT_EQ(test::error_of([&] { parse_features(test::slurp(path), "f.npz"); }),
            "f.npz: format \"coo\" is not supported (save the matrix as CSR: X.tocsr())");
  // A gnn-benchmark .npz is not save_npz's file; a zip cut short is refused.
  test::write_zip(path, kGraph.members("sparse", true));
  EXPECT_EQ(test::error_of([&] { parse_features(test::slurp(path), "g.npz"); }),
            "g.npz: a gnn-benchmark graph .npz, not features (train on it whole with data.name \"npz\" and "
            "data.npz.file)");
  test::write_zip(path, kGraph.save_npz());
  const std::string whole = test::slurp(path);
  for (size_t cut = 0; cut < whole.size(); ++cut)
    EXPECT_NE(test::error_of([&] { parse_features(whole.substr(0, cut), "f.npz"); }), "(no error)") << cut;
}

// Labels as a .npy of integers read as the text file.
TEST(OwnFiles, LabelsAsNpyReadAsText) {
  std::vector<int64_t> y;
  for (int v = 0; v < kGraph.n(); ++v) y.push_back(kGraph.label(v));
  const std::string text = test::slurp(folder("f4") + "/labels.txt");
  EXPECT_EQ(parse_labels(test::npy_i8(y), "labels.npy"), y);
  EXPECT_EQ(parse_labels(text, "labels.txt"), y);
  // uint64 2^64 - 1 (numpy's -1 cast to uint64) is a label out of range, not -1 (unlabelled: the
  // node was dropped from the split without a word).
  const std::string u8 = test::npy_shaped("<u8", "(2,)", std::string(8, '\x01') + std::string(8, '\xff'));
  const std::vector<int64_t> got = parse_labels(u8, "labels.npy");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], 0x0101010101010101LL);
  EXPECT_EQ(got[1], INT64_MAX);
  // Named as what it is, not as the INT64_MAX it is held at.
  const std::string dir = folder("f4");
  std::string bytes;
  for (int v = 0; v < kGraph.n(); ++v) {
    const uint64_t yv = v == 0 ? ~uint64_t{0} : static_cast<uint64_t>(kGraph.label(v));
    bytes.append(reinterpret_cast<const char*>(&yv), 8);
  }
  std::ofstream(dir + "/labels.npy", std::ios::binary) << test::npy_shaped("<u8", "(" + std::to_string(kGraph.n()) + ",)", bytes);
  EXPECT_EQ(test::error_of([&] {
              load_own_files({dir + "/edges.txt", dir + "/features.npy", dir + "/labels.npy"}, 100, false, true,
                             SplitSizes{5, 60, 20, "data.files"});
            }),
            dir + "/labels.npy: label of 2^63 or more of node 0 out of range (-1 for unlabelled, 0 to 2^20 - 1)");
}

// data.verify: each file against SHA256SUMS in its own folder, which must list all three.
TEST(OwnFiles, VerifyChecksEachFileAgainstItsFolder) {
  const std::string dir = folder("f4");
  const SplitSizes sizes{5, 60, 20, "data.files"};
  std::string sums;
  for (const std::string name : {"edges.txt", "features.npy"}) sums += sha256_file(dir + "/" + name) + "  " + name + "\n";
  std::ofstream(dir + "/SHA256SUMS") << sums;
  EXPECT_NE(test::error_of([&] { load_own_files(paths(dir), 100, true, true, sizes); }).find("labels.txt"),
            std::string::npos);
  std::ofstream(dir + "/SHA256SUMS") << sums << sha256_file(dir + "/labels.txt") << "  labels.txt\n";
  EXPECT_EQ(test::error_of([&] { load_own_files(paths(dir), 100, true, true, sizes); }), "(no error)");
  std::ofstream(dir + "/labels.txt", std::ios::app) << "# changed\n";
  EXPECT_NE(test::error_of([&] { load_own_files(paths(dir), 100, true, true, sizes); }).find("labels.txt"),
            std::string::npos);
}

struct Bad {
  const char* file;  // "edges", "features" (CSV), "labels"
  std::string text;
  const char* error;  // the whole message
};

std::string error_with(const Bad& b) {
  std::string edges = "0 1\n1 2\n", features = "1,0\n0,1\n1,1\n0,0\n1,0\n", labels = "0\n1\n0\n1\n0\n";
  (std::string(b.file) == "edges" ? edges : std::string(b.file) == "features" ? features : labels) = b.text;
  return test::error_of([&] {
    own_files_dataset({"e.txt", "f.csv", "l.txt"}, edges, features, labels, 100, true, {1, 1, 1, "data.files"});
  });
}

TEST(OwnFiles, EveryMalformedFileIsOneErrorNamingTheFileAndLine) {
  const std::string long_line(5000, '1');
  const Bad cases[] = {
      {"edges", "0 1\n1 x\n", "e.txt:2: \"x\" is not a node id (an integer)"},
      {"edges", "# c\n0 1.5\n", "e.txt:2: \"1.5\" is not a node id (an integer)"},
      {"edges", "0 1\n\n2 5\n", "e.txt:3: node id 5 outside [0, 5) (the features have 5 rows)"},
      {"edges", "0 -1\n", "e.txt:1: node id -1 outside [0, 5) (the features have 5 rows)"},
      {"edges", "0 99999999999999999999\n", "e.txt:1: \"99999999999999999999\" is out of range for a node id (an integer)"},
      // A header line (text tools write one) is named as a likely one; a word later in the file is not.
      {"edges", "src dst\n0 1\n", "e.txt:1: \"src\" is not a node id (an integer) (a header line? lines starting with # "
                                  "are skipped)"},
      {"labels", "label\n0\n1\n0\n1\n0\n", "l.txt:1: \"label\" is not a class id (an integer) (a header line? lines "
                                            "starting with # are skipped)"},
      {"features", "inf,0\n0,1\n1,1\n0,0\n1,0\n", "f.csv:1: value \"inf\" is not finite"},
      {"edges", "0 1 1\n", "e.txt:1: 3 fields, expected 2 (an edge is \"u v\")"},
      {"edges", "0\n", "e.txt:1: 1 fields, expected 2 (an edge is \"u v\")"},
      // A decimal-comma locale's CSV separates fields by ';': named.
      {"edges", "0;1\n", "e.txt:1: 1 fields, expected 2 (an edge is \"u v\") (fields are separated by spaces, tabs or "
                        "commas, not ';')"},
      {"features", "1;0\n0;1\n1;1\n0;0\n1;0\n", "f.csv:1: \"1;0\" is not a number (fields are separated by spaces, "
                                                 "tabs or commas, not ';')"},
      // Decimal commas between spaces: "0,5 1" read as three values, a file of them as more columns.
      {"features", "0,5 1\n0 1,5\n", "f.csv:1: fields 2 and 3 are separated by spaces, others by commas: decimal "
                                       "commas (\"0,5\")? Write decimals with '.' and separate fields one way"},
      {"edges", "0 1,2\n", "e.txt:1: fields 1 and 2 are separated by spaces, others by commas: decimal commas "
                          "(\"0,5\")? Write decimals with '.' and separate fields one way"},
      // Words stay a header line's error; ", " is one separator.
      {"features", "feature a, feature b\n1, 0\n", "f.csv:1: \"feature\" is not a number (a header line? lines "
                                                    "starting with # are skipped)"},
      {"edges", "", "e.txt: no edges (empty file)"},
      {"edges", "# only\n\n", "e.txt: no edges (empty file)"},
      {"edges", "0 0\n3 3\n", "e.txt: no edges between two nodes: its 2 lines are all self-loops (u u), which are "
                              "dropped (the augmentation adds each node's own)"},
      {"edges", "0 1\n" + long_line + "\n", "e.txt:2: line of 5000 bytes, longer than 4096 (not a text file?)"},
      {"edges", std::string("0 \0\n", 4), "e.txt:1: \"?\" is not a node id (an integer)"},
      {"features", "1,0\n0\n1,1\n", "f.csv:2: 1 values, the first row has 2"},
      {"features", "1,0\n0,a\n1,1\n", "f.csv:2: \"a\" is not a number"},
      {"features", "1,0\n0,nan\n1,1\n", "f.csv:2: value \"nan\" is not finite"},
      {"features", "1,0\n0,1e39\n1,1\n", "f.csv:2: value \"1e39\" is not finite in float32"},
      {"features", "1,0\n0,inf\n1,1\n", "f.csv:2: value \"inf\" is not finite"},
      {"features", "\n#\n", "f.csv: no feature rows (empty file)"},
      {"features", "1,0\n0,1\n", "l.txt: 5 labels for 2 nodes (the rows of f.csv)"},
      // Saved as X.T: the labels were blamed; the columns match them, so the error asks.
      {"features", "1,0,1,0,1\n0,1,0,1,0\n", "l.txt: 5 labels for 2 nodes (the rows of f.csv); f.csv is 2 x 5, one "
                                             "row per feature: transposed? (one row per node is expected)"},
      {"labels", "0\n1\n", "l.txt: 2 labels for 5 nodes (the rows of f.csv)"},
      // One more label than nodes: pandas' Series.to_csv writes the column name ("0") as line 1.
      {"labels", "0\n1\n0\n1\n0\n1\n", "l.txt: 6 labels for 5 nodes (the rows of f.csv); one more: is line 1 a "
                                        "column name (pandas' to_csv writes one unless header=False)?"},
      // pandas' to_csv(index=False) writes the column names 0 … d−1: read as node 0, every row
      // shifted by one against the edge ids (with labels shifted too, it trained without a word).
      {"features", "0,1,2\n1,0,1\n0,1,1\n1,1,0\n0,0,1\n1,0,0\n",
       "f.csv:1: the first row is 0, 1, …, 2: pandas' column names? (write the file with to_csv(f, header=False, "
       "index=False); a first node whose values are these, write as 0.0, 1.0, …)"},
      {"labels", "0\nb\n0\n", "l.txt:2: \"b\" is not a class id (an integer)"},
      // numpy's savetxt writes floats by default; a NaN is a missing label.
      {"edges", "0.000000000000000000e+00 1.000000000000000000e+00\n", "e.txt:1: \"0.000000000000000000e+00\" is not "
                "a node id (an integer) (written as a float: numpy's savetxt writes floats unless given fmt=\"%d\")"},
      {"labels", "0\nnan\n0\n", "l.txt:2: \"nan\" is not a class id (an integer) (-1 labels an unlabelled node)"},
      {"labels", "-1\n-1\n-1\n-1\n-1\n", "e.txt + f.csv + l.txt split: no labelled node (every label is -1, unlabelled)"},
      {"labels", "0\n1 1\n0\n", "l.txt:2: 2 fields, expected 1 (one class id a line)"},
      {"labels", "0\n-2\n0\n", "l.txt:2: class id -2 out of range (-1 for unlabelled, 0 to 2^20 - 1)"},
      {"labels", "0\n2\n0\n2\n0\n", "e.txt + f.csv + l.txt split: class 1 has no labelled nodes (the labels go up to 2: "
                              "classes must be numbered 0..2 without gaps, -1 for unlabelled nodes)"},
      // One node alone with a label far past the rest: named (it read as a gap in the classes).
      {"labels", "0\n1\n0\n7\n1\n", "e.txt + f.csv + l.txt split: class 2 has no labelled nodes (the labels go up "
                                    "to 7, which node 3 alone has: a typo?; classes must be numbered 0..7 without "
                                    "gaps, -1 for unlabelled nodes)"},
      {"labels", "", "l.txt: no labels (empty file)"},
      // Row k is node k: a blank line between rows is a missing one (it shifted the nodes after it,
      // and the count error blamed the other file); before the first row or after the last it is not.
      {"labels", "0\n1\n\n0\n1\n0\n1\n", "l.txt:3: a blank line between rows, in a file of one row per node: a "
                                         "missing row? (-1 labels an unlabelled node; lines starting with # are comments)"},
      {"features", "1,0\n0,1\n\n# x\n1,1\n0,0\n1,0\n", "f.csv:3: a blank line between rows, in a file of one row "
                                                      "per node: a missing row? (-1 labels an unlabelled node; lines "
                                                      "starting with # are comments)"},
      // An empty field between commas is a missing value: "0,,1" read as "0 1", and a column left
      // empty in every row shifted the ones after it.
      {"features", "1,0\n0,,1\n1,1\n", "f.csv:2: field 2 is empty (two commas in a row, or one at either end of "
                                       "the line: a missing value?)"},
      {"features", "1,0,\n0,1,\n", "f.csv:1: field 3 is empty (two commas in a row, or one at either end of the "
                                  "line: a missing value?)"},
      // pandas' default df.to_csv(f): an empty index name, then the column names.
      {"features", ",0,1\n0,1,0\n1,0,1\n", "f.csv:1: field 1 is empty (two commas in a row, or one at either end of "
                                           "the line: a missing value?); with 0, 1, … after it, pandas' index and "
                                           "column names? (write the file with to_csv(f, header=False, index=False))"},
      {"edges", "0 1\n,1 2\n", "e.txt:2: field 1 is empty (two commas in a row, or one at either end of the line: "
                              "a missing value?)"},
      {"labels", "0\n1\n , \n", "l.txt:3: field 1 is empty (two commas in a row, or one at either end of the line: "
                                 "a missing value?)"},
      // A zip (an .npz given as the wrong file) is named as one, not read as a text line.
      {"edges", std::string("PK\3\4\24\0\0\0", 8), "e.txt: a zip (.npz) file, not a text edge list (\"u v\" a line)"},
      {"labels", std::string("PK\3\4\24\0\0\0", 8),
       "l.txt: a zip (.npz) file, not labels (a text file, one class id a line, or a .npy of integers)"},
  };
  for (const Bad& b : cases) EXPECT_EQ(error_with(b), b.error) << b.file << ": " << b.text;
  // A .npy is refused by its own parser, naming the file.
  // Integer features (counts) are read as their values (they were refused, after the parser's list
  // of dtypes had offered them).
  const Features ints = parse_features(test::npy_shaped("<i4", "(3, 1)", test::le32({1, 2, 3})), "f.npy");
  EXPECT_EQ(ints.dense, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(test::error_of([&] { parse_features(test::npy_shaped("<f2", "(1, 1)", std::string(2, '\0')), "f.npy"); }),
            "f.npy: dtype '<f2' is not supported (float32/64, int8/16/32/64, uint8/16/32/64 or bool: features any of "
            "them, labels and indices the integers or bool)");
  EXPECT_EQ(test::error_of([&] { parse_labels(test::npy_f4({1.5f}), "l.npy"); }).rfind("l.npy", 0), 0u);
  EXPECT_EQ(test::error_of([&] { parse_edge_list(test::npy_i4({0, 1}), 2, "e.npy"); }),
            "e.npy: a .npy file, not a text edge list (\"u v\" a line)");
  EXPECT_EQ(test::error_of([&] { parse_features(test::npy_f4({1.5f}), "f.npy"); }),
            "f.npy: must be two-dimensional (nodes x features), has shape (1,)");
}

// Text saved by Windows tools: a UTF-8 byte-order mark and CRLF line ends read as the plain text.
// The mark made the first field unreadable ("\"???0\" is not a node id").
TEST(OwnFiles, AByteOrderMarkAndCrlfReadAsPlainText) {
  const std::string edges = "0 1\n1 2\n3 4\n", features = "1,0\n0,1\n1,1\n0,0\n1,0\n", labels = "0\n1\n0\n1\n0\n";
  const auto windows = [](std::string t) {
    std::string out = "\xef\xbb\xbf";
    for (char c : t) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return out;
  };
  const SplitSizes sizes{1, 1, 1, "data.files"};
  const OwnFiles names{"e.txt", "f.csv", "l.txt"};
  const Dataset plain = own_files_dataset(names, edges, features, labels, 100, true, sizes);
  test::expect_same_dataset(
      own_files_dataset(names, windows(edges), windows(features), windows(labels), 100, true, sizes), plain);
  // CR alone ends a line where no LF does (classic Mac OS): it read as one line, "5 labels for 1 nodes".
  const auto mac = [](std::string t) {
    std::replace(t.begin(), t.end(), '\n', '\r');
    return t;
  };
  test::expect_same_dataset(own_files_dataset(names, mac(edges), mac(features), mac(labels), 100, true, sizes), plain);
  // A leading '+' (some tools write one) is the number; two signs are not.
  test::expect_same_dataset(own_files_dataset(names, "+0 +1\n1 2\n3 +4\n", "+1,0\n0,+1\n1,1\n0,0\n1,+0e0\n",
                                              "+0\n+1\n0\n1\n0\n", 100, true, sizes),
                            plain);
  EXPECT_EQ(error_with({"edges", "0 ++1\n", ""}), "e.txt:1: \"++1\" is not a node id (an integer)");
  EXPECT_EQ(error_with({"edges", "0 +-1\n", ""}), "e.txt:1: \"+-1\" is not a node id (an integer)");
  // Spaces or tabs around a comma are no empty field.
  test::expect_same_dataset(
      own_files_dataset(names, "0 , 1\n1\t,2\n3,\t4\n", " 1 , 0\n0,1\n1,1\n0,0\n1,0\n", labels, 100, true, sizes), plain);
  // Only at the start: inside a file it is still a field that is not a number.
  EXPECT_EQ(error_with({"edges", "0 1\n\xef\xbb\xbf" "1 2\n", ""}), "e.txt:2: \"???1\" is not a node id (an integer)");
  // Blank and comment lines before the first row or after the last move no node; comments between
  // rows neither, and blank lines between edges (no row per node there) are skipped.
  test::expect_same_dataset(own_files_dataset(names, "\n0 1\n\n1 2\n3 4\n", "# f\n\n1,0\n0,1\n# x\n1,1\n0,0\n1,0\n\n\n",
                                              "\n0\n1\n0\n1\n0\n\n", 100, true, sizes),
                            plain);
}

// Cut at every byte, each file is read (a shorter file that still makes a graph) or refused with
// an Error; nothing else escapes.
TEST(OwnFiles, EveryTruncationIsReadOrRefused) {
  const std::string dir = folder("csv");
  const std::string edges = test::slurp(dir + "/edges.txt"), features = test::slurp(dir + "/features.csv"),
                    labels = test::slurp(dir + "/labels.txt");
  const SplitSizes sizes{1, 1, 1, "data.files"};
  int read = 0, refused = 0;
  for (int which = 0; which < 3; ++which) {
    const std::string& whole = which == 0 ? edges : which == 1 ? features : labels;
    for (size_t cut = 0; cut <= whole.size(); ++cut) {
      std::string part[3] = {edges, features, labels};
      part[which] = whole.substr(0, cut);
      try {
        own_files_dataset({"e.txt", "f.csv", "l.txt"}, part[0], part[1], part[2], 100, true, sizes);
        ++read;
      } catch (const Error&) {
        ++refused;
      }
    }
  }
  EXPECT_GT(read, 1000);
  EXPECT_GT(refused, 100);
}

// A features .npy with no rows is no graph: refused at the features, in the words of the node
// count (a text file's own check says "empty file"), not passed on as a 0-node dataset.
TEST(OwnFiles, FeaturesWithNoRowsAreRefusedAsZeroNodes) {
  EXPECT_EQ(test::error_of([] { parse_features(test::npy_shaped("<f4", "(0, 3)", ""), "x.npy"); }),
            "x.npy: 0 nodes (rows), 1 to 2^31 - 1 supported");
}

// Every row of a text features file has the first row's count of values: a longer row is refused
// too, not appended (its extra values became the next node's first features, shifting every node
// after it by a column).
TEST(OwnFiles, AFeatureRowLongerThanTheFirstIsNamed) {
  EXPECT_EQ(test::error_of([] { parse_features("1 2\n3 4 5\n6 7\n", "x.csv"); }),
            "x.csv:2: 3 values, the first row has 2");
}

// Labels as a .npy are one class id a node: a 2-d array (n x 1, or one-hot n x C) is refused as
// such, not flattened and then counted against the nodes.
TEST(OwnFiles, TwoDimensionalNpyLabelsAreRefused) {
  for (const char* shape : {"(3, 1)", "(1, 3)"})
    EXPECT_EQ(test::error_of([&] { parse_labels(test::npy_shaped("<i8", shape, std::string(24, '\0')), "y.npy"); }),
              "y.npy: labels must be one-dimensional (one per node)")
        << shape;
}

}  // namespace
}  // namespace pdadmm
