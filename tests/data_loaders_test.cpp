// Real-data loader tests: Planetoid pickles, gnn-benchmark npz, SHA-256, splits. The data root is
// $PDADMM_DATA or <source>/../shared/data; tests skip with a message when the files are absent.
//
// Reference numbers were computed independently with Python 3.11 + numpy 2.4.6 + scipy 1.17.1:
// pickle.load(f, encoding='latin1') for the Planetoid files and GCN's load_data logic (vstack
// allx/tx, reorder by test.index, CiteSeer padding); np.load for the npz files; adjacency
// A = A + A.T, setdiag(0), eliminate_zeros, undirected edges = nnz / 2. The edge counts agree with
// the well-known values (Cora 5278, CiteSeer 4552, PubMed 44324) and with shared/data/README.md
// (Amazon Computers 245861, Photo 119081, Coauthor CS 81894). "checksum" below is
// sum over stored feature entries of (row * 7 + col), after scipy's sum_duplicates/sort_indices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "host/data/load_real.h"
#include "host/data/npz.h"
#include "host/data/pickle.h"
#include "host/data/planetoid.h"
#include "host/data/sha256.h"
#include "host/io/error.h"
#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::data_root;
using test::exists;

#define REQUIRE_DATA(rel)                                                                               \
  do {                                                                                                  \
    if (!exists(data_root() + "/" + (rel)))                                                             \
      GTEST_SKIP() << "real data not found: " << data_root() + "/" + (rel)                              \
                   << " (set PDADMM_DATA to the folder holding planetoid/ and npz/)";                   \
  } while (0)

int64_t feature_checksum(const Csr& m) {
  int64_t s = 0;
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t e = m.indptr[r]; e < m.indptr[r + 1]; ++e) s += r * 7 + m.indices[e];
  return s;
}

std::vector<int> class_counts(const Dataset& ds, const std::vector<int32_t>& ids) {
  std::vector<int> c(static_cast<size_t>(ds.num_classes), 0);
  for (int32_t v : ids) c[ds.labels[v]]++;
  return c;
}

int64_t isolated_nodes(const Csr& a) {
  int64_t k = 0;
  for (int64_t r = 0; r < a.rows; ++r) k += a.indptr[r] == a.indptr[r + 1];
  return k;
}

// Symmetric, binary, no self-loops, strictly increasing columns within each row.
void expect_clean_adjacency(const Csr& a) {
  ASSERT_EQ(a.rows, a.cols);
  std::set<std::pair<int32_t, int32_t>> entries;
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t e = a.indptr[r]; e < a.indptr[r + 1]; ++e) {
      ASSERT_NE(a.indices[e], r) << "self-loop at " << r;
      ASSERT_EQ(a.values[e], 1.0f);
      if (e > a.indptr[r]) {
        ASSERT_LT(a.indices[e - 1], a.indices[e]) << "row " << r;
      }
      entries.emplace(static_cast<int32_t>(r), a.indices[e]);
    }
  }
  for (const auto& [i, j] : entries) ASSERT_TRUE(entries.count({j, i})) << "(" << i << "," << j << ") not mirrored";
}

std::vector<int32_t> iota_ids(int32_t from, int32_t count) {
  std::vector<int32_t> v(static_cast<size_t>(count));
  std::iota(v.begin(), v.end(), from);
  return v;
}

// ---- SHA-256 ---------------------------------------------------------------------------------

TEST(DataSha256, KnownVectors) {
  // FIPS 180-4 examples and block-boundary lengths; digests from Python's hashlib.
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const std::vector<std::pair<size_t, std::string>> xs = {
      {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"}};
  for (const auto& [n, hex] : xs) {
    const std::string s(n, 'x');
    EXPECT_EQ(sha256_hex(s.data(), s.size()), hex) << n << " bytes";
  }
}

TEST(DataSha256, RealFileAndSums) {
  REQUIRE_DATA("planetoid/ind.cora.y");
  EXPECT_EQ(sha256_file(data_root() + "/planetoid/ind.cora.y"),
            "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1");
  EXPECT_NO_THROW(verify_sha256sums(data_root(), real_dataset_files("cora")));
  EXPECT_NO_THROW(verify_sha256sums(data_root(), real_dataset_files("citeseer")));
}

TEST(DataSha256, MismatchMissingAndUnlisted) {
  const std::string dir = ::testing::TempDir() + "pdadmm_sha_test";
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  {
    std::ofstream(dir + "/a.bin") << "abc";
    std::ofstream(dir + "/b.bin") << "tampered";
    std::ofstream(dir + "/other.bin") << "abc";
    std::ofstream sums(dir + "/SHA256SUMS");
    sums << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.bin\n";
    sums << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b.bin\n";
    sums << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  gone.bin\n";
  }
  EXPECT_NO_THROW(verify_sha256sums(dir, {"a.bin"}));
  auto message = [&](const std::vector<std::string>& rel) {
    try {
      verify_sha256sums(dir, rel);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"b.bin"}).find(dir + "/b.bin: SHA-256 mismatch"), std::string::npos) << message({"b.bin"});
  EXPECT_NE(message({"gone.bin"}).find(dir + "/gone.bin: file not found"), std::string::npos) << message({"gone.bin"});
  EXPECT_NE(message({"other.bin"}).find("no checksum listed for other.bin"), std::string::npos);
  EXPECT_THROW(verify_sha256sums(dir + "/nowhere", {"a.bin"}), Error);
  EXPECT_THROW(sha256_file(dir + "/nowhere.bin"), Error);
}

// ---- Planetoid -------------------------------------------------------------------------------

TEST(DataPlanetoid, Cora) {
  REQUIRE_DATA("planetoid/ind.cora.graph");
  const Dataset ds = load_real_dataset("cora", data_root(), 0, /*verify=*/true);
  EXPECT_EQ(ds.num_nodes(), 2708);
  EXPECT_EQ(ds.num_edges(), 5278);
  EXPECT_EQ(ds.num_classes, 7);
  EXPECT_EQ(ds.features.cols, 1433);
  ASSERT_TRUE(ds.features.is_sparse);
  EXPECT_EQ(ds.features.sparse.nnz(), 49216);
  EXPECT_EQ(feature_checksum(ds.features.sparse), 502449799);
  EXPECT_EQ(ds.train, iota_ids(0, 140));
  EXPECT_EQ(ds.val, iota_ids(140, 500));
  EXPECT_EQ(ds.test, iota_ids(1708, 1000));
  EXPECT_EQ(std::accumulate(ds.labels.begin(), ds.labels.end(), int64_t{0}), 7781);
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 5), (std::vector<int32_t>{3, 4, 4, 0, 3}));
  EXPECT_EQ(class_counts(ds, ds.train), std::vector<int>(7, 20));
  EXPECT_EQ(class_counts(ds, ds.val), (std::vector<int>{61, 36, 78, 158, 81, 57, 29}));
  EXPECT_EQ(class_counts(ds, ds.test), (std::vector<int>{130, 91, 144, 319, 149, 103, 64}));
  // First line of test.index is 2692: it takes tx row 0 (label 3, 15 words starting 311, 314, ...).
  const Csr& f = ds.features.sparse;
  EXPECT_EQ(ds.labels[2692], 3);
  EXPECT_EQ(f.indptr[2693] - f.indptr[2692], 15);
  EXPECT_EQ(std::vector<int32_t>(f.indices.begin() + f.indptr[2692], f.indices.begin() + f.indptr[2692] + 5),
            (std::vector<int32_t>{311, 314, 353, 505, 510}));
  for (float v : f.values) ASSERT_EQ(v, 1.0f);
  EXPECT_EQ(isolated_nodes(ds.adj), 0);
  expect_clean_adjacency(ds.adj);
}

TEST(DataPlanetoid, CiteSeerPadsIsolatedTestIds) {
  REQUIRE_DATA("planetoid/ind.citeseer.graph");
  const Dataset ds = load_real_dataset("citeseer", data_root(), 0, /*verify=*/true);
  EXPECT_EQ(ds.num_nodes(), 3327);
  EXPECT_EQ(ds.num_edges(), 4552);
  EXPECT_EQ(ds.num_classes, 6);
  EXPECT_EQ(ds.features.cols, 3703);
  EXPECT_EQ(ds.features.sparse.nnz(), 105165);
  EXPECT_EQ(feature_checksum(ds.features.sparse), 1414322958);
  EXPECT_EQ(ds.train, iota_ids(0, 120));
  EXPECT_EQ(ds.val, iota_ids(120, 500));
  EXPECT_EQ(ds.test.size(), 1000u);
  EXPECT_EQ(ds.test.front(), 2312);
  EXPECT_EQ(ds.test.back(), 3326);
  EXPECT_EQ(class_counts(ds, ds.train), std::vector<int>(6, 20));
  EXPECT_EQ(class_counts(ds, ds.val), (std::vector<int>{29, 86, 116, 106, 94, 69}));
  EXPECT_EQ(class_counts(ds, ds.test), (std::vector<int>{77, 182, 181, 231, 169, 160}));
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 5), (std::vector<int32_t>{3, 1, 5, 5, 3}));
  int64_t label_sum = 0;
  std::vector<int32_t> unlabeled;
  for (int32_t v = 0; v < 3327; ++v) {
    if (ds.labels[v] < 0) unlabeled.push_back(v);
    else label_sum += ds.labels[v];
  }
  EXPECT_EQ(label_sum, 8938 + 15);  // python sum counts the 15 padded -1 labels
  const std::vector<int32_t> padded = {2407, 2489, 2553, 2682, 2781, 2953, 3042, 3063,
                                       3212, 3214, 3250, 3292, 3305, 3306, 3309};
  EXPECT_EQ(unlabeled, padded);
  for (int32_t v : padded) {
    EXPECT_EQ(ds.features.sparse.indptr[v + 1], ds.features.sparse.indptr[v]) << "padded node " << v;
    EXPECT_TRUE(std::find(ds.test.begin(), ds.test.end(), v) == ds.test.end());
  }
  EXPECT_EQ(ds.labels[2488], 2);  // first line of test.index
  EXPECT_EQ(ds.features.sparse.indptr[2489] - ds.features.sparse.indptr[2488], 41);
  EXPECT_EQ(isolated_nodes(ds.adj), 48);
  expect_clean_adjacency(ds.adj);
}

TEST(DataPlanetoid, PubMedPartsParse) {
  REQUIRE_DATA("planetoid/ind.pubmed.graph");
  const std::string dir = data_root() + "/planetoid/";
  auto doc = [&](const std::string& part) {
    return unpickle(load_file_bytes(dir + "ind.pubmed." + part), dir + "ind.pubmed." + part);
  };
  const Csr x = pickle_as_csr(doc("x"));
  EXPECT_EQ(x.rows, 60);
  EXPECT_EQ(x.cols, 500);
  EXPECT_EQ(x.nnz(), 2819);
  const Csr tx = pickle_as_csr(doc("tx"));
  EXPECT_EQ(tx.rows, 1000);
  EXPECT_EQ(tx.cols, 500);
  EXPECT_EQ(tx.nnz(), 50140);
  bool non_binary = false;  // PubMed holds TF-IDF values
  for (float v : tx.values) non_binary |= (v != 1.0f && v > 0.0f);
  EXPECT_TRUE(non_binary);
  for (const auto& [part, rows] : std::vector<std::pair<std::string, int64_t>>{{"y", 60}, {"ty", 1000}, {"ally", 18717}}) {
    const NumpyArray a = pickle_as_array(doc(part));
    EXPECT_EQ(a.shape, (std::vector<int64_t>{rows, 3})) << part;
    EXPECT_EQ(a.descr, "<i4");
    const std::vector<int64_t> v = a.to_int64(part);
    EXPECT_EQ(std::accumulate(v.begin(), v.end(), int64_t{0}), rows) << part << " is one-hot";
  }
  const auto lists = pickle_as_adjacency_lists(doc("graph"));
  EXPECT_EQ(lists.size(), 19717u);
  size_t total = 0;
  std::vector<std::pair<int64_t, int64_t>> edges;
  for (size_t i = 0; i < lists.size(); ++i) {
    total += lists[i].size();
    for (int64_t j : lists[i]) edges.emplace_back(static_cast<int64_t>(i), j);
  }
  EXPECT_EQ(total, 88676u);
  EXPECT_EQ(symmetrize_binary(19717, edges).nnz() / 2, 44324);
  const auto ids = parse_test_index(load_file_bytes(dir + "ind.pubmed.test.index"), "test.index");
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(*std::min_element(ids.begin(), ids.end()), 18717);
  EXPECT_EQ(*std::max_element(ids.begin(), ids.end()), 19716);
  EXPECT_EQ(ids.front(), 18747);
}

TEST(DataPlanetoid, PubMedFull) {
  REQUIRE_DATA("planetoid/ind.pubmed.graph");
  const std::string allx = data_root() + "/planetoid/ind.pubmed.allx";
  if (!exists(allx)) {
    // The loader (with and without checksum verification) must name the missing file.
    for (bool verify : {false, true}) {
      try {
        load_real_dataset("pubmed", data_root(), 0, verify);
        ADD_FAILURE() << "load_real_dataset(pubmed) without allx did not throw";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(allx + ": file not found"), std::string::npos) << e.what();
      }
    }
    GTEST_SKIP() << allx << " is missing (see shared/data/README.md); only the other PubMed files were tested";
  }
  const Dataset ds = load_real_dataset("pubmed", data_root(), 0, /*verify=*/true);
  EXPECT_EQ(ds.num_nodes(), 19717);
  EXPECT_EQ(ds.num_edges(), 44324);
  EXPECT_EQ(ds.num_classes, 3);
  EXPECT_EQ(ds.features.cols, 500);
  EXPECT_EQ(ds.train, iota_ids(0, 60));
  EXPECT_EQ(ds.val, iota_ids(60, 500));
  EXPECT_EQ(ds.test, iota_ids(18717, 1000));
  EXPECT_EQ(class_counts(ds, ds.train), std::vector<int>(3, 20));
  expect_clean_adjacency(ds.adj);
}

TEST(DataPlanetoid, MissingFileNamesPath) {
  const std::string dir = ::testing::TempDir() + "pdadmm_no_planetoid";
  try {
    load_planetoid(dir, "cora");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/ind.cora.x"), std::string::npos) << e.what();
  }
}

TEST(DataPlanetoid, TestIndexParsing) {
  EXPECT_EQ(parse_test_index("5\n3\r\n7", "t"), (std::vector<int64_t>{5, 3, 7}));
  EXPECT_THROW(parse_test_index("", "t"), Error);
  EXPECT_THROW(parse_test_index("1\n\n2\n", "t"), Error);
  EXPECT_THROW(parse_test_index("1\n-2\n", "t"), Error);
  EXPECT_THROW(parse_test_index("1\n2x\n", "t"), Error);
  EXPECT_THROW(parse_test_index("99999999999\n", "t"), Error);
}

// ---- gnn-benchmark npz -----------------------------------------------------------------------

struct NpzExpect {
  const char* name;
  int64_t nodes, edges, isolated;
  size_t train;
  int classes;
  int64_t features, feature_nnz, checksum;
  double value_sum;
  std::vector<int32_t> first_labels;
};

void check_npz(const NpzExpect& x) {
  const Dataset ds = load_real_dataset(x.name, data_root(), 0, /*verify=*/true);
  EXPECT_EQ(ds.num_nodes(), x.nodes);
  EXPECT_EQ(ds.num_edges(), x.edges);
  EXPECT_EQ(isolated_nodes(ds.adj), x.isolated);
  EXPECT_EQ(ds.train.size(), x.train);
  EXPECT_EQ(ds.val.size(), 1000u);
  EXPECT_EQ(ds.test.size(), 1000u);
  EXPECT_EQ(ds.num_classes, x.classes);
  EXPECT_EQ(ds.features.cols, x.features);
  ASSERT_TRUE(ds.features.is_sparse);
  EXPECT_EQ(ds.features.sparse.nnz(), x.feature_nnz);
  EXPECT_EQ(feature_checksum(ds.features.sparse), x.checksum);
  double sum = 0;
  for (float v : ds.features.sparse.values) sum += v;
  EXPECT_EQ(sum, x.value_sum);
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 5), x.first_labels);
  EXPECT_EQ(class_counts(ds, ds.train), std::vector<int>(static_cast<size_t>(x.classes), 20));
  for (int32_t v : ds.val) ASSERT_GE(ds.labels[v], 0);
  for (int32_t v : ds.test) ASSERT_GE(ds.labels[v], 0);
  expect_clean_adjacency(ds.adj);
}

TEST(DataNpz, AmazonComputers) {
  REQUIRE_DATA("npz/amazon_electronics_computers.npz");
  check_npz({"amazon_computers", 13752, 245861, 281, 200, 10, 767, 3675081, 178535756255, 3675081.0, {4, 4, 8, 4, 6}});
}

TEST(DataNpz, AmazonPhoto) {
  REQUIRE_DATA("npz/amazon_electronics_photo.npz");
  check_npz({"amazon_photo", 7650, 119081, 115, 160, 8, 745, 1979909, 53634930201, 1979909.0, {6, 4, 3, 6, 5}});
}

TEST(DataNpz, CoauthorCS) {
  REQUIRE_DATA("npz/ms_academic_cs.npz");
  // Features as PyG's read_npz gives them (x > 0 -> 1): the value sum is the nnz.
  check_npz({"coauthor_cs", 18333, 81894, 0, 300, 15, 6805, 1092079, 73015624662, 1092079.0, {13, 2, 13, 2, 0}});
}

// A named npz set read as a user's own file (data.name "npz" with its sizes and PyG's binarising)
// is the same data set: same graph, features, labels and split, so the same training bits.
TEST(DataNpz, NamedSetReadAsYourOwnFileIsTheSameDataSet) {
  REQUIRE_DATA("npz/amazon_electronics_photo.npz");
  const Dataset named = load_real_dataset("amazon_photo", data_root(), 100, false);
  const Dataset own = load_npz_file(data_root() + "/npz/amazon_electronics_photo.npz", 100, false,
                                    /*raw_counts=*/false, {20, 1000, 1000, "data.npz"});
  EXPECT_EQ(own.name, "amazon_electronics_photo.npz");
  test::expect_same_dataset(own, named);
}

TEST(DataNpz, CoauthorCSRawCountsKeepsStoredValues) {
  REQUIRE_DATA("npz/ms_academic_cs.npz");
  const Dataset ds = load_real_dataset("coauthor_cs", data_root(), 100, false, /*raw_counts=*/true);
  double sum = 0;
  float max = 0;
  for (float v : ds.features.sparse.values) sum += v, max = std::max(max, v);
  EXPECT_EQ(sum, 1741991.0);  // the counts of the file (numpy: attr_data.sum())
  EXPECT_GT(max, 1.0f);
}

TEST(DataNpz, ArchiveKeysAndObjectMembers) {
  REQUIRE_DATA("npz/ms_academic_cs.npz");
  const NpzArchive z = NpzArchive::open_file(data_root() + "/npz/ms_academic_cs.npz");
  EXPECT_EQ(z.keys().size(), 12u);
  EXPECT_TRUE(z.has("labels"));
  EXPECT_FALSE(z.has("nope"));
  EXPECT_THROW(z.array("class_names"), Error);  // '|O' object array: rejected, never unpickled
  EXPECT_THROW(z.array("node_names"), Error);   // '<U8' is not a supported dtype
  const NumpyArray shape = z.array("attr_shape");
  EXPECT_EQ(shape.to_int64("attr_shape"), (std::vector<int64_t>{18333, 6805}));
}

// ---- split -----------------------------------------------------------------------------------

void expect_split_invariants(const Dataset& ds, int per_class) {
  std::set<int32_t> all;
  for (const auto* ids : {&ds.train, &ds.val, &ds.test})
    for (int32_t v : *ids) EXPECT_TRUE(all.insert(v).second) << "node " << v << " in two splits";
  EXPECT_EQ(all.size(), ds.train.size() + ds.val.size() + ds.test.size());
  EXPECT_EQ(class_counts(ds, ds.train), std::vector<int>(static_cast<size_t>(ds.num_classes), per_class));
  EXPECT_TRUE(std::is_sorted(ds.train.begin(), ds.train.end()));
}

TEST(DataSplit, SyntheticDeterministicAndSeedDependent) {
  Dataset ds;
  ds.name = "synthetic";
  ds.num_classes = 4;
  for (int v = 0; v < 3000; ++v) ds.labels.push_back(v % 7 == 0 ? -1 : (v * 31 % 97) % 4);
  Dataset a = ds, b = ds, c = ds;
  draw_gnn_benchmark_split(a, 42);
  draw_gnn_benchmark_split(b, 42);
  draw_gnn_benchmark_split(c, 43);
  expect_split_invariants(a, 20);
  expect_split_invariants(c, 20);
  EXPECT_EQ(a.train.size(), 80u);
  EXPECT_EQ(a.val.size(), 1000u);
  EXPECT_EQ(a.test.size(), 1000u);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, c.train);
  EXPECT_NE(a.test, c.test);
  for (const auto* ids : {&a.train, &a.val, &a.test})
    for (int32_t v : *ids) EXPECT_GE(a.labels[v], 0) << "unlabelled node " << v << " drawn";
  Dataset tiny = ds;
  tiny.labels.resize(100);
  EXPECT_THROW(draw_gnn_benchmark_split(tiny, 1), Error);  // not enough nodes for 1000 + 1000
}

TEST(DataSplit, RealDataDeterministicPerSeed) {
  REQUIRE_DATA("npz/amazon_electronics_photo.npz");
  const Dataset a = load_real_dataset("amazon_photo", data_root(), 7, false);
  const Dataset b = load_real_dataset("amazon_photo", data_root(), 7, false);
  const Dataset c = load_real_dataset("amazon_photo", data_root(), 8, false);
  expect_split_invariants(a, 20);
  expect_split_invariants(c, 20);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, c.train);
  EXPECT_NE(a.val, c.val);
  EXPECT_NE(a.test, c.test);
}

// ---- a user's own .npz (data.name "npz") --------------------------------------------------

// The split procedure written out once more from its description, per class the first
// per_class of torch_randperm of the class's labelled ids, then test and val from torch_randperm
// of the labelled rest (ascending ids): so the loader's sizes cannot be swapped unnoticed.
void expect_split_dataset_procedure(const Dataset& ds, uint64_t seed, int per_class, int num_test, int num_val) {
  std::vector<int32_t> train, rest;
  std::vector<char> taken(ds.labels.size(), 0);
  for (int c = 0; c < ds.num_classes; ++c) {
    std::vector<int32_t> ids;
    for (int32_t v = 0; v < static_cast<int32_t>(ds.labels.size()); ++v)
      if (ds.labels[v] == c) ids.push_back(v);
    const std::vector<int64_t> perm = torch_randperm(static_cast<int64_t>(ids.size()), seed);
    for (int i = 0; i < per_class; ++i) train.push_back(ids[perm[i]]), taken[ids[perm[i]]] = 1;
  }
  for (int32_t v = 0; v < static_cast<int32_t>(ds.labels.size()); ++v)
    if (!taken[v] && ds.labels[v] >= 0) rest.push_back(v);
  const std::vector<int64_t> perm = torch_randperm(static_cast<int64_t>(rest.size()), seed);
  std::vector<int32_t> test, val;
  for (int i = 0; i < num_test + num_val; ++i) (i < num_test ? test : val).push_back(rest[perm[i]]);
  for (auto* ids : {&train, &test, &val}) std::sort(ids->begin(), ids->end());
  EXPECT_EQ(ds.train, train);
  EXPECT_EQ(ds.test, test);
  EXPECT_EQ(ds.val, val);
}

// A small graph (three cliques, test::SmallGraph) as CSR features or a dense float32 / float64
// attr_matrix, stored and deflated: the exact nodes, edges, feature values (kept as stored),
// labels and split sizes, the same split from every layout, disjoint, train_per_class per class.
TEST(DataCustomNpz, LoadsExactlyWhatTheFileHolds) {
  const test::SmallGraph g;
  const SplitSizes sizes{5, 30, 20, "data.npz"};
  std::vector<int32_t> first_train;
  for (const char* attr : {"sparse", "f4", "f8"}) {
    for (bool deflate : {false, true}) {
      SCOPED_TRACE(std::string(attr) + (deflate ? " deflated" : " stored"));
      const std::string path = ::testing::TempDir() + "pdadmm_custom_" + attr + (deflate ? "_z" : "") + ".npz";
      test::write_zip(path, g.members(attr, deflate));
      const Dataset ds = load_npz_file(path, 100, false, /*raw_counts=*/true, sizes);
      EXPECT_EQ(ds.name, std::filesystem::path(path).filename().string());
      EXPECT_EQ(ds.num_nodes(), g.n());
      EXPECT_EQ(ds.num_edges(), g.edges());
      EXPECT_EQ(ds.num_classes, 3);
      ASSERT_EQ(ds.features.cols, 4);
      EXPECT_EQ(ds.features.is_sparse, std::string(attr) == "sparse");
      const Features& f = ds.features;
      auto value = [&](int v, int j) {
        if (!f.is_sparse) return f.dense[v * 4 + j];
        for (int64_t e = f.sparse.indptr[v]; e < f.sparse.indptr[v + 1]; ++e)
          if (f.sparse.indices[e] == j) return f.sparse.values[e];
        return 0.0f;
      };
      int64_t nonzero = 0;
      for (int v = 0; v < g.n(); ++v) {
        EXPECT_EQ(ds.labels[v], g.label(v)) << v;
        for (int j = 0; j < 4; ++j) {
          EXPECT_EQ(value(v, j), static_cast<float>(g.feature(v, j))) << "node " << v << ", feature " << j;
          nonzero += g.feature(v, j) != 0;
        }
      }
      EXPECT_EQ(f.stored(), f.is_sparse ? nonzero : g.n() * 4);
      EXPECT_EQ(ds.adj.indptr[1] - ds.adj.indptr[0], g.per_class);  // node 0: its clique and node 1, no loop
      EXPECT_EQ(ds.train.size(), 15u);
      EXPECT_EQ(ds.test.size(), 30u);
      EXPECT_EQ(ds.val.size(), 20u);
      expect_split_invariants(ds, 5);
      for (const auto* ids : {&ds.train, &ds.val, &ds.test})
        for (int32_t v : *ids) EXPECT_GE(ds.labels[v], 0) << "unlabelled node " << v << " drawn";
      expect_split_dataset_procedure(ds, 100, 5, 30, 20);
      if (first_train.empty()) first_train = ds.train;
      EXPECT_EQ(ds.train, first_train);
    }
  }
  // Another split_seed, another split; without raw_counts, x > 0 -> 1 as for the named sets.
  const std::string path = ::testing::TempDir() + "pdadmm_custom_f4.npz";
  const Dataset other = load_npz_file(path, 7, false, true, sizes);
  EXPECT_NE(other.train, first_train);
  expect_split_dataset_procedure(other, 7, 5, 30, 20);
  const Dataset binary = load_npz_file(path, 100, false, /*raw_counts=*/false, sizes);
  EXPECT_EQ(binary.features.dense[3], 0.0f);   // node 0: 0.25 * 0
  EXPECT_EQ(binary.features.dense[7], 1.0f);   // node 1: 0.25
  EXPECT_EQ(binary.features.dense[4], 0.0f);   // node 1, class 0's column
  EXPECT_EQ(binary.features.dense[5], 1.0f);   // node 1, its class: 1.5
}

// A class or a labelled remainder too small for the sizes names the key to change.
TEST(DataCustomNpz, SplitErrorsNameTheConfigKeys) {
  const test::SmallGraph g;
  const std::string path = ::testing::TempDir() + "pdadmm_custom_small.npz";
  test::write_zip(path, g.members("f4", false));
  auto error_of = [&](const SplitSizes& sizes) {
    try {
      load_npz_file(path, 100, false, true, sizes);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of({40, 1, 1, "data.npz"}), "pdadmm_custom_small.npz split: class 0 has " +
                                                  std::to_string(g.labelled(0)) +
                                                  " labelled nodes, fewer than 40 train nodes per class (lower "
                                                  "data.npz.train_per_class)");
  const int left = g.labelled(0) + g.labelled(1) + g.labelled(2) - 15;
  EXPECT_EQ(error_of({5, 1000, 20, "data.npz"}), "pdadmm_custom_small.npz split: only " + std::to_string(left) +
                                                     " labelled nodes left for 1000 test + 20 val (lower "
                                                     "data.npz.test or data.npz.val)");
  // The named sets' sizes are fixed: no key to name.
  EXPECT_EQ(error_of({5, 1000, 1000, ""}).find("(lower"), std::string::npos);
}

// Classes numbered with a gap (labels 0 and 2, no 1): the error said "class 1 has 0 nodes, fewer
// than 1 train nodes per class (lower data.npz.train_per_class)", a key that cannot go below 1.
// A gap is a labelling mistake whichever way the training nodes are drawn (data.npz.train).
TEST(DataCustomNpz, AClassWithoutLabelledNodesIsAGapInTheNumbering) {
  Dataset ds;
  ds.name = "gaps.npz";
  ds.labels = {0, 2, 0, 2, 0, 2, -1, 0, 2, 0, 2};
  ds.num_classes = 3;
  for (const SplitSizes& sizes : {SplitSizes{1, 1, 1, "data.npz"}, SplitSizes{20, 1, 1, "data.npz", 2}}) {
    try {
      draw_gnn_benchmark_split(ds, 100, sizes);
      ADD_FAILURE() << "a class without nodes was accepted, train " << sizes.train;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "gaps.npz split: class 1 has no labelled nodes (the labels go up to 2: "
                                       "classes must be numbered 0..2 without gaps, -1 for unlabelled nodes)");
    }
  }
}

// data.verify for a user's file: SHA256SUMS in the file's own folder, which must list it.
TEST(DataCustomNpz, VerifyChecksTheFilesOwnFolder) {
  const std::string dir = ::testing::TempDir() + "pdadmm_custom_verify";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/graph.npz";
  test::write_zip(path, test::SmallGraph().members("sparse", true));
  const SplitSizes sizes{5, 30, 20, "data.npz"};
  auto error_of = [&] {
    try {
      load_npz_file(path, 100, true, true, sizes);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(), dir + "/SHA256SUMS: cannot open checksum list (No such file or directory; data.verify checks the "
                        "files against it)");
  std::ofstream(dir + "/SHA256SUMS") << std::string(64, 'a') << "  other.npz\n";
  EXPECT_EQ(error_of(), dir + "/SHA256SUMS: no checksum listed for graph.npz");
  std::ofstream(dir + "/SHA256SUMS", std::ios::app) << std::string(64, 'b') << "  graph.npz\n";
  EXPECT_EQ(error_of().rfind(path + ": SHA-256 mismatch", 0), 0u) << error_of();
  std::ofstream(dir + "/SHA256SUMS") << sha256_file(path) << "  graph.npz\n";
  EXPECT_EQ(error_of(), "no error");
  // `sha256sum ./graph.npz > SHA256SUMS` lists "./graph.npz", which sha256sum -c accepts: it was
  // "no checksum listed for graph.npz".
  std::ofstream(dir + "/SHA256SUMS") << sha256_file(path) << "  ./graph.npz\n";
  EXPECT_EQ(error_of(), "no error");
}

// torch.manual_seed(seed); torch.randperm(n) printed by PyTorch 2.15 (CPU); PyTorch keeps this
// algorithm for n < 2^32 / 20, so 1.8.1 (the reference's) gives the same.
TEST(DataSplit, TorchRandpermMatchesPyTorch) {
  EXPECT_EQ(torch_randperm(10, 100), (std::vector<int64_t>{0, 8, 5, 2, 3, 6, 4, 1, 7, 9}));
  EXPECT_EQ(torch_randperm(7, 0), (std::vector<int64_t>{4, 0, 5, 3, 2, 6, 1}));
  const std::vector<int64_t> p = torch_randperm(1000, 100);
  EXPECT_EQ(std::vector<int64_t>(p.begin(), p.begin() + 12),
            (std::vector<int64_t>{440, 989, 363, 952, 623, 256, 994, 209, 806, 618, 494, 22}));
  int64_t weighted = 0;  // sum of p[i] * i, from PyTorch
  for (int64_t i = 0; i < 1000; ++i) weighted += p[i] * i;
  EXPECT_EQ(weighted, 246454116);
  const std::vector<int64_t> q = torch_randperm(50, 123456);
  EXPECT_EQ(std::vector<int64_t>(q.begin(), q.begin() + 6), (std::vector<int64_t>{15, 24, 36, 19, 16, 32}));
  EXPECT_TRUE(torch_randperm(0, 1).empty());
  EXPECT_EQ(torch_randperm(1, 1), std::vector<int64_t>{0});
}

// The reference's split_dataset (torch.manual_seed(100), PyG labels) run in Python with PyTorch
// 2.15 on the files of shared/data: sizes, first five ids, sum of ids, sum of squares mod 1000003.
struct SplitExpect {
  size_t size;
  std::vector<int32_t> first;
  int64_t sum, squares;
};

void expect_split(const std::vector<int32_t>& ids, const SplitExpect& x, const char* what) {
  ASSERT_EQ(ids.size(), x.size) << what;
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + 5), x.first) << what;
  int64_t sum = 0, squares = 0;
  for (int64_t v : ids) sum += v, squares = (squares + v * v) % 1000003;
  EXPECT_EQ(sum, x.sum) << what;
  EXPECT_EQ(squares, x.squares) << what;
}

TEST(DataSplit, ReferenceSplitOfRealData) {
  struct Case {
    const char* name;
    const char* file;
    SplitExpect train, val, test;
  };
  const Case cases[] = {
      {"amazon_computers", "npz/amazon_electronics_computers.npz", {200, {74, 102, 181, 241, 375}, 1394342, 914128},
       {1000, {1, 18, 49, 55, 58}, 6845160, 254975}, {1000, {35, 56, 63, 81, 103}, 6820958, 457369}},
      {"amazon_photo", "npz/amazon_electronics_photo.npz", {160, {44, 180, 229, 262, 285}, 640478, 572230},
       {1000, {28, 35, 38, 49, 50}, 3854311, 957610}, {1000, {3, 7, 9, 12, 13}, 3958958, 83767}},
      {"coauthor_cs", "npz/ms_academic_cs.npz", {300, {3, 7, 10, 50, 79}, 2802875, 711620},
       {1000, {4, 34, 41, 61, 63}, 9420345, 193497}, {1000, {12, 32, 40, 58, 64}, 9094377, 622626}},
  };
  for (const Case& c : cases) {
    REQUIRE_DATA(c.file);
    const Dataset ds = load_real_dataset(c.name, data_root(), 100, false);
    expect_split(ds.train, c.train, c.name);
    expect_split(ds.val, c.val, c.name);
    expect_split(ds.test, c.test, c.name);
  }
}

// A redrawn train/val split of CiteSeer: the standard test set untouched, the train class counts
// and the val size kept, every drawn node labelled and outside test, deterministic per seed.
TEST(DataSplit, RedrawTrainValKeepsTheTestSet) {
  REQUIRE_DATA("planetoid/ind.citeseer.graph");
  const Dataset ds = load_real_dataset("citeseer", data_root(), 0, false);
  Dataset a = ds, b = ds, c = ds;
  redraw_train_val(a, 3);
  redraw_train_val(b, 3);
  redraw_train_val(c, 4);
  for (const Dataset* d : {&a, &c}) {
    expect_split_invariants(*d, 20);
    EXPECT_EQ(d->test, ds.test);
    EXPECT_EQ(d->val.size(), ds.val.size());
    // Sorted like every loader's splits (the val ids come out of a shuffle).
    EXPECT_TRUE(std::is_sorted(d->val.begin(), d->val.end()));
    for (const auto* ids : {&d->train, &d->val})
      for (int32_t v : *ids) EXPECT_GE(d->labels[v], 0) << "unlabelled node " << v << " drawn";
    EXPECT_NO_THROW(d->validate());
  }
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_NE(a.train, c.train);
  EXPECT_NE(a.val, c.val);
  EXPECT_NE(a.train, ds.train);
  // The draw reaches past the standard train/val ids (0..619): it samples the whole labelled pool.
  EXPECT_GT(std::max(a.train.back(), a.val.back()), 1000);
}

TEST(DataSplit, RedrawTrainValNamesTheShortClass) {
  Dataset ds;
  ds.name = "tiny";
  ds.num_classes = 2;
  ds.labels = {0, 0, 0, 1, 1, 1, 0, 1, -1};
  ds.train = {0, 3};
  ds.val = {1, 4};
  ds.test = {2, 5, 6};  // class 0 keeps nodes 0, 1 outside test: enough for 1 train + val
  Dataset ok = ds;
  redraw_train_val(ok, 1);
  EXPECT_EQ(ok.train.size(), 2u);
  EXPECT_EQ(ok.val.size(), 2u);
  EXPECT_EQ(ok.test, ds.test);
  ds.train = {0, 1, 3};  // 2 + 1 to train leaves 4 and 5 (8 has no label) for 3 validation nodes
  ds.val = {4, 5, 8};
  ds.test = {2, 6, 7};
  try {
    redraw_train_val(ds, 1);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labelled nodes left for 3 validation nodes"), std::string::npos) << e.what();
  }
  ds.test = {1, 2, 6};  // class 0 has only node 0 outside test, 2 needed
  try {
    redraw_train_val(ds, 1);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("class 0 has 1 labelled nodes outside the test set, 2 needed"),
              std::string::npos) << e.what();
  }
}

// ---- dispatch --------------------------------------------------------------------------------

TEST(DataLoadReal, UnknownNameListsValidNames) {
  try {
    load_real_dataset("reddit", data_root(), 0, false);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("reddit"), std::string::npos) << m;
    for (const std::string& n : real_dataset_names()) EXPECT_NE(m.find(n), std::string::npos) << m;
    // The six sets by name (the loop above passes over an empty list).
    EXPECT_EQ(m, "unknown data set 'reddit' (valid: cora, citeseer, pubmed, amazon_computers, amazon_photo, coauthor_cs)");
  }
}

TEST(DataLoadReal, MissingRootNamesFile) {
  const std::string root = ::testing::TempDir() + "pdadmm_no_data_root";
  for (const auto& [name, first] :
       {std::pair{"cora", "/planetoid/ind.cora.x"}, std::pair{"coauthor_cs", "/npz/ms_academic_cs.npz"}}) {
    const char* dataset = name;  // C++17 lambdas cannot capture a structured binding (clang refuses)
    try {
      load_real_dataset(name, root, 0, false);
      FAIL() << "no error for " << name;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(root + first + ": ", 0), 0u) << e.what();
    }
    // SHA256SUMS missing, named before any data file is read.
    EXPECT_EQ(test::error_of([&] { load_real_dataset(dataset, root, 0, true); }).rfind(root + "/SHA256SUMS: ", 0), 0u)
        << test::error_of([&] { load_real_dataset(dataset, root, 0, true); });
  }
}

}  // namespace
}  // namespace pdadmm
