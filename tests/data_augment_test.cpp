// Â and the augmented features against dense computations on small graphs; the synthetic
// generator's determinism and homophily.
#include <gtest/gtest.h>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "host/data/augment.h"
#include "host/data/rng.h"
#include "host/data/synthetic.h"
#include "host/io/error.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using Dense = std::vector<std::vector<double>>;

Dense to_dense(const Csr& m) {
  Dense d(m.rows, std::vector<double>(m.cols, 0));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t e = m.indptr[r]; e < m.indptr[r + 1]; ++e) d[r][m.indices[e]] += m.values[e];
  return d;
}

Dense matmul(const Dense& a, const Dense& b) {
  Dense c(a.size(), std::vector<double>(b[0].size(), 0));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < b.size(); ++k)
      for (size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][k] * b[k][j];
  return c;
}

// The same values as CSR, with every third dropped (as if zero).
void to_sparse(Dataset& d) {
  std::vector<Triplet> t;
  for (int64_t r = 0; r < d.features.rows; ++r)
    for (int64_t c = 0; c < d.features.cols; ++c)
      if ((r + c) % 3) t.push_back({r, c, d.features.dense[r * d.features.cols + c]});
  d.features.sparse = csr_from_triplets(d.features.rows, d.features.cols, t, false);
  d.features.is_sparse = true;
  d.features.dense.clear();
}

Dataset small_graph(bool sparse) {
  SyntheticConfig s;
  s.nodes = 40;
  s.classes = 2;
  s.avg_degree = 3;
  s.features = 6;
  s.train_per_class = 3;
  s.val = 5;
  s.test = 10;
  Dataset d = make_synthetic(s, 3);
  if (sparse) to_sparse(d);
  return d;
}

Dense features_dense(const Features& h) {
  if (h.is_sparse) return to_dense(h.sparse);
  Dense d(h.rows, std::vector<double>(h.cols));
  for (int64_t r = 0; r < h.rows; ++r)
    for (int64_t c = 0; c < h.cols; ++c) d[r][c] = h.dense[r * h.cols + c];
  return d;
}

TEST(Augment, NormalizedAdjacencyIsSymmetricWithUnitRowSumsWhenRescaled) {
  Dataset d = small_graph(false);
  Csr a = normalized_adjacency(d.adj);
  Dense ad = to_dense(a);
  std::vector<double> deg(a.rows, 1.0);  // self-loop
  for (int64_t r = 0; r < d.adj.rows; ++r) deg[r] += d.adj.indptr[r + 1] - d.adj.indptr[r];
  for (int64_t i = 0; i < a.rows; ++i) {
    double row = 0;
    for (int64_t j = 0; j < a.rows; ++j) {
      EXPECT_NEAR(ad[i][j], ad[j][i], 1e-7);
      row += ad[i][j] * std::sqrt(deg[j] / deg[i]);  // D^-1/2 Â D^1/2 = D^-1 (A + I): row-stochastic
    }
    EXPECT_NEAR(row, 1.0, 1e-6);
    EXPECT_GT(ad[i][i], 0);
  }
}

// add_remaining_self_loops: a node that already has a self-loop keeps it (weight 1) and gets no
// second one. A = [[1, 1], [1, 0]] -> A + I' = [[1, 1], [1, 1]], degrees 2 and 2, every entry
// 1 / sqrt(2 * 2) = 0.5 (adding a loop to node 0 as well would give (0,0) = 2/3).
TEST(Augment, NormalizedAdjacencyAddsOnlyMissingSelfLoops) {
  const Csr adj = csr_from_triplets(2, 2, {{0, 0, 1.0f}, {0, 1, 1.0f}, {1, 0, 1.0f}}, false);
  const Csr a = normalized_adjacency(adj);
  EXPECT_EQ(a.indptr, (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(a.indices, (std::vector<int32_t>{0, 1, 0, 1}));
  for (float v : a.values) EXPECT_FLOAT_EQ(v, 0.5f);
}

// Rows sorted without duplicates (every loader's CSR) take a row-by-row path, any other CSR
// triplets; the same Â bits either way: a random graph with some self-loops of other weights,
// and the same graph with each row's entries reversed.
TEST(Augment, NormalizedAdjacencyOfSortedRowsIsTheTripletPaths) {
  Rng rng(5);
  std::vector<Triplet> t;
  for (int e = 0; e < 600; ++e) {
    const int64_t i = static_cast<int64_t>(rng.uniform() * 50), j = static_cast<int64_t>(rng.uniform() * 50);
    t.push_back({i, j, i == j ? 0.25f + static_cast<float>(i) : 1.0f});
  }
  t.push_back({49, 49, 3.0f});  // the last row's loop: the end of the stored values
  const Csr sorted = csr_from_triplets(60, 60, t, false);  // rows 50 to 59 empty
  Csr reversed = sorted;
  for (int64_t r = 0; r < reversed.rows; ++r) {
    std::reverse(reversed.indices.begin() + reversed.indptr[r], reversed.indices.begin() + reversed.indptr[r + 1]);
    std::reverse(reversed.values.begin() + reversed.indptr[r], reversed.values.begin() + reversed.indptr[r + 1]);
  }
  const Csr a = normalized_adjacency(sorted), b = normalized_adjacency(reversed);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.values, b.values);
  int64_t loops = 0;
  for (int64_t r = 0; r < sorted.rows; ++r)
    for (int64_t e = sorted.indptr[r]; e < sorted.indptr[r + 1]; ++e) loops += sorted.indices[e] == r;
  EXPECT_GT(loops, 1);
  EXPECT_EQ(a.nnz(), sorted.nnz() + sorted.rows - loops) << "one loop a row, added only where missing";
  a.validate("Â");
}

class AugmentBlocks : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(AugmentBlocks, EachBlockIsAPowerOfAHatTimesH) {
  const auto [sparse, descending] = GetParam();
  Dataset d = small_graph(sparse);
  Csr a = normalized_adjacency(d.adj);
  AugmentSpec spec;
  spec.hops = 3;
  spec.descending = descending;
  std::vector<int32_t> nodes = {0, 5, 17, 39, 22};
  HostMatrix<float> x = augment_columns(d.features, a, spec, nodes);
  const int64_t F = d.features.cols;
  ASSERT_EQ(x.rows, 4 * F);
  Dense ad = to_dense(a), ak = features_dense(d.features);
  std::vector<Dense> powers = {ak};
  for (int k = 1; k <= 3; ++k) powers.push_back(matmul(ad, powers.back()));
  for (int blk = 0; blk < 4; ++blk) {
    const Dense& pk = powers[descending ? 3 - blk : blk];  // the order by hand, not spec.power's
    for (size_t j = 0; j < nodes.size(); ++j)
      for (int64_t f = 0; f < F; ++f) EXPECT_NEAR(x(blk * F + f, j), pk[nodes[j]][f], 1e-5) << "block " << blk;
  }
  // More nodes than features: the features go through Â instead of the nodes' indicator; the same
  // blocks, in any chunking of the columns (a budget of one column at a time), to the bit.
  std::vector<int32_t> many;
  for (int32_t v = 39; v >= 0; v -= 3) many.push_back(v);
  many.push_back(5);  // a node twice
  ASSERT_TRUE(augment_features_first(F, static_cast<int64_t>(many.size())));
  ASSERT_FALSE(augment_features_first(F, static_cast<int64_t>(nodes.size())));
  const HostMatrix<float> xm = augment_columns(d.features, a, spec, many);
  for (int blk = 0; blk < 4; ++blk) {
    const Dense& pk = powers[descending ? 3 - blk : blk];  // the order by hand, not spec.power's
    for (size_t j = 0; j < many.size(); ++j)
      for (int64_t f = 0; f < F; ++f) EXPECT_NEAR(xm(blk * F + f, j), pk[many[j]][f], 1e-5) << "block " << blk;
  }
  EXPECT_EQ(augment_columns(d.features, a, spec, many, 1).data, xm.data);
  const HostMatrix<float> x1 = augment_columns(d.features, a, spec, nodes, 1);
  if (sparse) {
    EXPECT_EQ(x1.data, x.data);
  } else {  // chunks of a dense GEMM may round by where OpenBLAS's edges fall
    for (int64_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x1.data[i], x.data[i], 1e-6);
  }
  // The evaluation form Σ Â^k H B_kᵀ equals X W1ᵀ for every node.
  HostMatrix<float> w1(3, 4 * F);
  for (int64_t i = 0; i < w1.size(); ++i) w1.data[i] = static_cast<float>(std::sin(0.7 * i));
  std::vector<int32_t> all(d.num_nodes());
  for (int32_t v = 0; v < d.num_nodes(); ++v) all[v] = v;
  HostMatrix<float> xa = augment_columns(d.features, a, spec, all);
  HostMatrix<float> z = first_layer_rows(d.features, a, spec, w1, all);
  for (int64_t v = 0; v < d.num_nodes(); ++v)
    for (int64_t o = 0; o < 3; ++o) {
      double s = 0;
      for (int64_t k = 0; k < xa.rows; ++k) s += double(w1(o, k)) * xa(k, v);
      EXPECT_NEAR(z(v, o), s, 1e-4 * (1 + std::fabs(s)));
    }
  // A few rows, repeated and out of order, are those rows of the full product, to the bit.
  const std::vector<int32_t> some = {static_cast<int32_t>(d.num_nodes() - 1), 0, 2, 0};
  HostMatrix<float> zs = first_layer_rows(d.features, a, spec, w1, some);
  ASSERT_EQ(zs.rows, 4);
  for (int64_t i = 0; i < zs.rows; ++i)
    for (int64_t o = 0; o < 3; ++o) EXPECT_EQ(zs(i, o), z(some[i], o)) << "row " << some[i];
  EXPECT_THROW(first_layer_rows(d.features, a, spec, w1, {static_cast<int32_t>(d.num_nodes())}), Error);
  // No hops: H W1ᵀ alone.
  AugmentSpec none;
  none.hops = 0;
  HostMatrix<float> w0(3, F);
  for (int64_t i = 0; i < w0.size(); ++i) w0.data[i] = static_cast<float>(std::cos(0.3 * i));
  HostMatrix<float> z0 = first_layer_rows(d.features, a, none, w0, some);
  for (int64_t i = 0; i < z0.rows; ++i)
    for (int64_t o = 0; o < 3; ++o) {
      double s = 0;
      for (int64_t f = 0; f < F; ++f) s += double(w0(o, f)) * ak[some[i]][f];
      EXPECT_NEAR(z0(i, o), s, 1e-4 * (1 + std::fabs(s)));
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, AugmentBlocks, ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST(Augment, RowNormalizationSumsToOne) {
  Dataset d = small_graph(true);
  for (auto& v : d.features.sparse.values) v = std::fabs(v);
  Features n = row_normalized(d.features);
  ASSERT_TRUE(n.is_sparse);
  // The rows to check are chosen by the input's sums, not the output's: a normalisation that
  // zeroed rows would otherwise pass. Each value is the input's divided by its row sum.
  const Dense in = features_dense(d.features), nd = features_dense(n);
  ASSERT_EQ(nd.size(), in.size());
  int64_t rows = 0;
  for (size_t r = 0; r < nd.size(); ++r) {
    double s0 = 0, s = 0;
    for (double v : in[r]) s0 += v;
    for (double v : nd[r]) s += v;
    if (s0 == 0) {
      EXPECT_EQ(nd[r], in[r]) << "row " << r << " sums to 0: kept as it was";
      continue;
    }
    ++rows;
    EXPECT_NEAR(s, 1.0, 1e-5) << "row " << r;
    for (size_t c = 0; c < in[r].size(); ++c) EXPECT_NEAR(nd[r][c], in[r][c] / s0, 1e-6) << "row " << r << " col " << c;
  }
  EXPECT_GT(rows, 30) << "the rows summing to something are the ones this test checks";
}

// A row-major rows x cols matrix as dense features, and as CSR ones (its non-zeros).
Features dense_of(const std::vector<float>& dense, int64_t rows, int64_t cols) {
  Features f;
  f.rows = rows;
  f.cols = cols;
  f.dense = dense;
  return f;
}
Features csr_of(const std::vector<float>& dense, int64_t rows, int64_t cols) {
  std::vector<Triplet> t;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (dense[r * cols + c] != 0) t.push_back({r, c, dense[r * cols + c]});
  Features f;
  f.rows = rows;
  f.cols = cols;
  f.is_sparse = true;
  f.sparse = csr_from_triplets(rows, cols, t, false);
  return f;
}

// Dense features (the npz loaders' attr_matrix) are row-normalised as sparse ones are: each row
// divided by its sum, in double, then rounded to float; a row summing to 0 (all zero, or +1 and
// -1) stays as it was; the dense and the CSR form of one matrix give the same floats.
TEST(Augment, DenseRowNormalizationMatchesTheSparseOne) {
  const std::vector<float> rows = {1, 2, 1, 0,  //
                                   0, 0, 0, 0,  //
                                   -1, 3, 2, 0,  //
                                   1, -1, 0, 0,  //
                                   0, 0, 0, 3};
  const Features nd = row_normalized(dense_of(rows, 5, 4));
  ASSERT_FALSE(nd.is_sparse);
  const std::vector<float> want = {0.25f, 0.5f, 0.25f, 0,  //
                                   0, 0, 0, 0,  //
                                   -0.25f, 0.75f, 0.5f, 0,  //
                                   1, -1, 0, 0,  //
                                   0, 0, 0, 1};
  EXPECT_EQ(nd.dense, want);
  // A sum that is not a power of two: 1/3 and 2/3 rounded once from double.
  Features thirds;
  thirds.rows = 1;
  thirds.cols = 2;
  thirds.dense = {1, 2};
  EXPECT_EQ(row_normalized(thirds).dense, (std::vector<float>{static_cast<float>(1.0 / 3), static_cast<float>(2.0 / 3)}));
  EXPECT_EQ(features_dense(row_normalized(csr_of(rows, 5, 4))), features_dense(nd));
}

// "Scale each node's features to sum 1" holds for a row whose sum is negative too: it is divided
// by that sum (signs flip), dense and sparse alike; only a sum of 0 leaves a row as it was.
TEST(Augment, RowNormalizationDividesANegativeSumToo) {
  const std::vector<float> rows = {-1, -3, 0, 0,  //
                                   2, -6, 0, 1,  //
                                   1, 2, 1, 0};
  std::vector<float> want(rows.size());
  for (int64_t r = 0; r < 3; ++r) {
    const double sum = double(rows[r * 4]) + rows[r * 4 + 1] + rows[r * 4 + 2] + rows[r * 4 + 3];  // -4, -3, 4
    for (int64_t c = 0; c < 4; ++c) want[r * 4 + c] = static_cast<float>(rows[r * 4 + c] / sum);
  }
  EXPECT_EQ(want[0], 0.25f);
  EXPECT_EQ(want[5], 2.0f);
  const Features nd = row_normalized(dense_of(rows, 3, 4));
  EXPECT_EQ(nd.dense, want);
  EXPECT_EQ(features_dense(row_normalized(csr_of(rows, 3, 4))), features_dense(nd));
}

// The bytes augment_columns holds (what build_problem checks against free memory): X (blocks·F x k
// floats) and two n-row buffers as wide as the narrower side (F features when they are fewer than
// the k nodes, else k), in column chunks whose two buffers fit the budget.
TEST(Augment, ColumnsBytesAreXAndTwoBuffersOfTheNarrowerSide) {
  AugmentSpec spec;
  spec.hops = 3;
  const int64_t n = 1000;
  const double x_feat = 4.0 * 4 * 30 * 400, x_node = 4.0 * 4 * 120 * 100;
  // 30 features, 400 nodes: the features are propagated, 30 columns of 1000 floats, twice.
  EXPECT_EQ(augment_columns_bytes(n, 30, spec, 400), x_feat + 2 * 4 * n * 30);
  // 120 features, 100 nodes: the nodes' indicator, 100 columns.
  EXPECT_EQ(augment_columns_bytes(n, 120, spec, 100), x_node + 2 * 4 * n * 100);
  // A budget of 8 n · 4 bytes: chunks of 4 columns, both buffers within it.
  EXPECT_EQ(augment_columns_bytes(n, 30, spec, 400, 8 * n * 4), x_feat + 8 * n * 4);
  EXPECT_EQ(augment_columns_bytes(n, 120, spec, 100, 8 * n * 4 + 7), x_node + 8 * n * 4);
  // A budget below one column still takes one.
  EXPECT_EQ(augment_columns_bytes(n, 120, spec, 100, 100), x_node + 8 * n);
}

// Values of both signs that cancel to a sum near 0: divided by it they overflowed float, an
// infinite feature that no loader check saw (reported as "training diverged", or as the logits of
// that node). Refused in one line naming the node and the feature, dense and sparse alike.
TEST(Augment, RowNormalizationPastFloatIsNamed) {
  const std::vector<float> rows = {1, 2, 3,  //
                                   1e10f, -1e10f, 1e-30f};
  const Features dense = dense_of(rows, 2, 3), sparse = csr_of(rows, 2, 3);
  for (const Features* f : {&dense, &sparse}) {
    try {
      row_normalized(*f);
      ADD_FAILURE() << "no error (sparse " << f->is_sparse << ")";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("data.row_normalize: the features of node 1 sum to ", 0), 0u) << m;
      EXPECT_NE(m.find("feature 0 ("), std::string::npos) << m;
    }
  }
}

// Every loader ends in Dataset::validate: a NaN or infinite feature is named, dense or sparse.
TEST(Dataset, NonFiniteFeaturesAreNamed) {
  auto message = [](const Dataset& d) {
    try {
      d.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Dataset dense = small_graph(false);
  EXPECT_EQ(message(dense), "no error");
  dense.features.dense[2 * dense.features.cols + 4] = std::nanf("");
  EXPECT_NE(message(dense).find("feature 4 of node 2 is not finite"), std::string::npos) << message(dense);
  Dataset sparse = small_graph(true);
  sparse.features.sparse.values[sparse.features.sparse.indptr[3]] = -HUGE_VALF;
  const int32_t col = sparse.features.sparse.indices[sparse.features.sparse.indptr[3]];
  EXPECT_NE(message(sparse).find("features: value -inf at (3, " + std::to_string(col) + ") is not finite"),
            std::string::npos)
      << message(sparse);
}

// The message Dataset::validate throws, or "no error".
std::string validate_message(const Dataset& d) {
  try {
    d.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Each split rule of Dataset::validate on its own: a loader that produced any of these would
// train or score on wrong nodes without a word.
TEST(Dataset, InconsistentSplitsAndLabelsAreNamed) {
  const Dataset ok = small_graph(false);
  ASSERT_EQ(validate_message(ok), "no error");
  ASSERT_EQ(ok.num_classes, 2);
  const int32_t t0 = ok.train[0], v0 = ok.val[0];
  Dataset d = ok;
  d.val[0] = t0;  // a node both trained on and validated on
  EXPECT_NE(validate_message(d).find("node " + std::to_string(t0) + " is in two splits"), std::string::npos)
      << validate_message(d);
  d = ok;
  d.val.back() = 40;  // the val split is range-checked like train and test
  EXPECT_NE(validate_message(d).find("val node 40 out of range"), std::string::npos) << validate_message(d);
  d = ok;
  d.labels[v0] = 2;  // == num_classes: one past the last class
  EXPECT_NE(validate_message(d).find("label 2 outside [0, 2)"), std::string::npos) << validate_message(d);
  d = ok;
  d.labels[t0] = -1;  // allowed elsewhere, but a train node needs a label
  EXPECT_NE(validate_message(d).find("train node " + std::to_string(t0) + " has no label"), std::string::npos)
      << validate_message(d);
  d = ok;
  d.labels[v0] = -1;  // val and test nodes may be unlabelled (CiteSeer's padded ids)
  EXPECT_EQ(validate_message(d), "no error");
}

// Csr::validate bounds column indices by [0, cols): an index equal to cols is one past the end.
TEST(Csr, ValidateRejectsColumnIndexEqualToCols) {
  Csr m;
  m.rows = 2;
  m.cols = 3;
  m.indptr = {0, 1, 2};
  m.indices = {2, 0};
  m.values = {1, 1};
  EXPECT_NO_THROW(m.validate("m"));
  m.indices = {3, 0};
  try {
    m.validate("m");
    ADD_FAILURE() << "column index 3 of a 3-column matrix accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("m: column index 3 outside [0, 3)"), std::string::npos) << e.what();
  }
}

// Repeated (row, col) triplets: summed with sum_duplicates (normalized_adjacency relies on it),
// else the first is kept; either way one stored entry.
TEST(Csr, FromTripletsSumsOrKeepsFirstDuplicate) {
  const std::vector<Triplet> t = {{1, 0, 5.0f}, {0, 1, 1.0f}, {0, 1, 2.0f}};
  const Csr sum = csr_from_triplets(2, 2, t, true);
  EXPECT_EQ(sum.indptr, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(sum.indices, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(sum.values, (std::vector<float>{3.0f, 5.0f}));
  const Csr first = csr_from_triplets(2, 2, t, false);
  EXPECT_EQ(first.indices, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(first.values, (std::vector<float>{1.0f, 5.0f}));
}

// A triplet outside the shape (a loader's bad row or column) is named, not written past indptr.
TEST(Csr, FromTripletsNamesAnEntryOutsideTheShape) {
  for (const Triplet& bad : {Triplet{2, 0, 1.0f}, Triplet{0, 3, 1.0f}, Triplet{-1, 0, 1.0f}}) {
    const std::vector<Triplet> t = {{0, 0, 1.0f}, bad};
    EXPECT_EQ(test::error_of([&] { csr_from_triplets(2, 3, t, false); }),
              "sparse entry (" + std::to_string(bad.row) + ", " + std::to_string(bad.col) + ") outside shape 2x3");
  }
}

// symmetrize_binary counts edges into rows; the same CSR as the triplets of both directions,
// sorted, their duplicates dropped: repeated edges, both directions, self-loops, isolated nodes.
TEST(Csr, SymmetrizeBinaryIsTheTripletsOfBothDirections) {
  for (const int64_t n : {1, 2, 7, 300}) {
    Rng rng(derive_seed(11, static_cast<uint64_t>(n)));
    std::vector<std::pair<int64_t, int64_t>> edges;
    std::vector<Triplet> both;
    for (int e = 0; e < 4 * n; ++e) {
      const int64_t i = static_cast<int64_t>(rng.uniform() * n) % n, j = static_cast<int64_t>(rng.uniform() * 9) % n;
      edges.emplace_back(i, j);
      if (e % 5 == 0) edges.emplace_back(j, i);
    }
    for (const auto& [i, j] : edges)
      if (i != j) both.insert(both.end(), {{i, j, 1.0f}, {j, i, 1.0f}});
    const Csr got = symmetrize_binary(n, edges), want = csr_from_triplets(n, n, both, false);
    EXPECT_EQ(got.rows, n);
    EXPECT_EQ(got.cols, n);
    EXPECT_EQ(got.indptr, want.indptr) << n;
    EXPECT_EQ(got.indices, want.indices) << n;
    EXPECT_EQ(got.values, want.values) << n;
    got.validate("symmetrized");
  }
  EXPECT_EQ(test::error_of([] { symmetrize_binary(3, {{0, 1}, {2, 3}}); }),
            "edge (2, 3) names a node outside [0, 3)");
}

// Rng::normals draws what n calls of normal() would, bit for bit, across chunk edges and on any
// number of threads, and leaves the stream where those calls would.
TEST(Rng, NormalsAreTheSequentialDraws) {
  for (int64_t n : {0, 1, 7, 65536, 65537, 200001}) {
    Rng batch(42), one(42);
    std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
    batch.normals(got.data(), n, 0.1);
    for (float& v : want) v = static_cast<float>(0.1 * one.normal());
    // n = 0: no memcmp, whose arguments must not be null (an empty vector's data() may be).
    EXPECT_TRUE(n == 0 || std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0) << "n = " << n;
    EXPECT_EQ(batch.bits(), one.bits()) << "n = " << n;
  }
}

// snr so large that the class means leave float's range: the key is named, not "feature 0 is not finite".
TEST(Synthetic, AnSnrPastFloatIsNamed) {
  SyntheticConfig s;
  s.nodes = 100;
  s.train_per_class = 2;
  s.val = 10;
  s.test = 10;
  s.snr = 1e300;
  EXPECT_EQ(test::error_of([&] { make_synthetic(s, 1); }).rfind("config: data.synthetic.snr: 1e+300 puts the class means", 0),
            0u)
      << test::error_of([&] { make_synthetic(s, 1); });
  s.snr = 1e30;  // large, still float
  EXPECT_EQ(make_synthetic(s, 1).num_nodes(), 100);
}

TEST(Synthetic, DeterministicForASeedAndHomophilous) {
  SyntheticConfig s;
  Dataset a = make_synthetic(s, 11), b = make_synthetic(s, 11), c = make_synthetic(s, 12);
  EXPECT_EQ(a.adj.indices, b.adj.indices);
  EXPECT_EQ(a.features.dense, b.features.dense);
  EXPECT_EQ(a.train, b.train);
  EXPECT_NE(a.features.dense, c.features.dense);
  int64_t same = 0;
  for (int64_t r = 0; r < a.adj.rows; ++r)
    for (int64_t e = a.adj.indptr[r]; e < a.adj.indptr[r + 1]; ++e) same += a.labels[r] == a.labels[a.adj.indices[e]];
  const double h = double(same) / a.adj.nnz();
  EXPECT_NEAR(h, s.homophily, 0.03);
  EXPECT_NEAR(2.0 * a.num_edges() / a.num_nodes(), s.avg_degree, 0.5);
  EXPECT_EQ(a.train.size(), size_t(s.classes * s.train_per_class));
  EXPECT_EQ(a.val.size(), size_t(s.val));
  EXPECT_EQ(a.test.size(), size_t(s.test));
}

// The training input does not depend on OpenBLAS's thread setting: build_problem runs before the
// trainer pins BLAS to one thread, and a different k order would break bit-identical runs.
TEST(Augment, ColumnsDoNotDependOnBlasThreads) {
  SyntheticConfig s;
  s.nodes = 2000;
  s.features = 40;
  const Dataset d = make_synthetic(s, 3);
  const Csr ahat = normalized_adjacency(d.adj);
  AugmentSpec spec;
  spec.hops = 4;
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(2);
  const HostMatrix<float> a = augment_columns(d.features, ahat, spec, d.train);
  openblas_set_num_threads(1);
  const HostMatrix<float> b = augment_columns(d.features, ahat, spec, d.train);
  openblas_set_num_threads(before);
  EXPECT_EQ(a.data, b.data);
}

// Sparse features: the same bits as the plain sequential loop (every node, every stored value, all
// columns in turn) on any number of threads, although zero rows of Â^j E are skipped.
TEST(Augment, SparseColumnsAreTheSequentialSums) {
  SyntheticConfig s;
  s.nodes = 2000;
  s.features = 120;  // more features than the 100 training nodes: the nodes' indicator is propagated
  s.avg_degree = 3;
  Dataset d = make_synthetic(s, 3);
  to_sparse(d);
  const Csr ahat = normalized_adjacency(d.adj);
  AugmentSpec spec;
  spec.hops = 2;
  const int64_t n = d.num_nodes(), k = static_cast<int64_t>(d.train.size()), F = d.features.cols;
  HostMatrix<float> want(3 * F, k);
  std::vector<float> m(static_cast<size_t>(n * k), 0.0f), next(m.size());
  for (int64_t i = 0; i < k; ++i) m[static_cast<size_t>(d.train[i]) * k + i] = 1.0f;
  int64_t zero_rows = 0;
  for (int j = 0; j <= 2; ++j) {
    if (j > 0) {
      csr_spmm(ahat, m.data(), k, 1.0f, 0.0f, next.data());
      m.swap(next);
    }
    const int b = j;  // ascending order: block b holds power b
    for (int64_t v = 0; v < n; ++v) {
      zero_rows += std::all_of(&m[v * k], &m[(v + 1) * k], [](float x) { return x == 0.0f; });
      for (int64_t e = d.features.sparse.indptr[v]; e < d.features.sparse.indptr[v + 1]; ++e)
        for (int64_t i = 0; i < k; ++i)
          want(b * F + d.features.sparse.indices[e], i) += d.features.sparse.values[e] * m[v * k + i];
    }
  }
  ASSERT_GT(zero_rows, n) << "some rows of Â^j E must be zero for the skip to be exercised";
  const int before = omp_get_max_threads();
  for (int threads : {1, 2, 3})
    for (int64_t budget : {kAugmentBufferBytes, int64_t{8} * n * 7}) {  // all columns; chunks of 7
      omp_set_num_threads(threads);
      const HostMatrix<float> got = augment_columns(d.features, ahat, spec, d.train, budget);
      EXPECT_EQ(0, std::memcmp(got.data.data(), want.data.data(), want.data.size() * sizeof(float)))
          << threads << " threads, budget " << budget;
    }
  omp_set_num_threads(before);
}

// A training set larger than the feature count (a full-supervised split): block j is the rows of
// Â^j H at the nodes, the same bits as propagating H column by column, for any threads and chunks.
TEST(Augment, LargeTrainingSetsPropagateTheFeatures) {
  SyntheticConfig s;
  s.nodes = 4000;
  s.features = 30;
  s.train_per_class = 400;
  for (bool sparse : {false, true}) {
    Dataset d = make_synthetic(s, 5);
    if (sparse) to_sparse(d);
    const Csr ahat = normalized_adjacency(d.adj);
    AugmentSpec spec;
    spec.hops = 3;
    spec.descending = true;
    const int64_t n = d.num_nodes(), k = static_cast<int64_t>(d.train.size()), F = d.features.cols;
    ASSERT_TRUE(augment_features_first(F, k));
    std::vector<float> p(static_cast<size_t>(n * F), 0.0f), next(p.size());
    const Dense h = features_dense(d.features);
    for (int64_t v = 0; v < n; ++v)
      for (int64_t f = 0; f < F; ++f) p[v * F + f] = static_cast<float>(h[v][f]);
    HostMatrix<float> want(4 * F, k);
    for (int j = 0; j <= 3; ++j) {
      if (j > 0) {
        csr_spmm(ahat, p.data(), F, 1.0f, 0.0f, next.data());
        p.swap(next);
      }
      const int b = 3 - j;  // descending: block b holds power 3 - b
      for (int64_t i = 0; i < k; ++i)
        for (int64_t f = 0; f < F; ++f) want(b * F + f, i) = p[static_cast<size_t>(d.train[i]) * F + f];
    }
    const int before = omp_get_max_threads();
    for (int threads : {1, 2, 3})
      // All features; chunks of 4 and of 5 (a chunk's end off by one wrote the next node's row: with
      // to_sparse dropping (r + c) % 3 == 0, chunks of 4 ≡ 1 mod 3 hid it, that node lacking that value).
      for (int64_t budget : {kAugmentBufferBytes, int64_t{8} * n * 4, int64_t{8} * n * 5}) {
        omp_set_num_threads(threads);
        EXPECT_EQ(augment_columns(d.features, ahat, spec, d.train, budget).data, want.data)
            << (sparse ? "sparse" : "dense") << ", " << threads << " threads, budget " << budget;
      }
    omp_set_num_threads(before);
  }
}

// Csr::validate is the last check before training reads a CSR (Dataset::validate runs it on every
// loader's output). Each matrix below is consistent but for one thing, so only that thing's check
// can refuse it: an indptr not starting at 0, and an indptr[rows] short of the stored values.
TEST(Csr, ValidateRefusesAnIndptrThatMissesStoredValues) {
  Csr ok;
  ok.rows = 2;
  ok.cols = 3;
  ok.indptr = {0, 1, 2};
  ok.indices = {2, 0};
  ok.values = {1, 1};
  EXPECT_EQ(test::error_of([&] { ok.validate("m"); }), "(no error)");
  // indptr[0] = 1: the rows cover entries 1.. only; entry 0 belongs to no row.
  Csr m = ok;
  m.indptr = {1, 1, 2};
  EXPECT_EQ(test::error_of([&] { m.validate("m"); }), "m: indptr[0] must be 0");
  // indptr[rows] = 2 with 3 stored values: the last one belongs to no row.
  m = ok;
  m.indices = {2, 0, 1};
  m.values = {1, 1, 1};
  EXPECT_EQ(test::error_of([&] { m.validate("m"); }), "m: indptr[rows] = 2 but there are 3 stored values");
}

// csr_spmm's y = alpha A x + beta y takes beta = 0 as BLAS does: y is written, not read, so a
// buffer holding NaN or infinity (a reused one) leaves no trace; y * 0 kept them.
TEST(Csr, SpmmWithBetaZeroDoesNotReadY) {
  const Csr a = csr_from_triplets(2, 2, {{0, 0, 1.0f}, {1, 0, 2.0f}, {1, 1, 1.0f}}, false);
  const std::vector<float> x = {1, 2, 3, 4};  // 2 x 2
  for (const float junk : {std::nanf(""), HUGE_VALF}) {
    std::vector<float> y(4, junk);
    csr_spmm(a, x.data(), 2, 1.0f, 0.0f, y.data());
    EXPECT_EQ(y, (std::vector<float>{1, 2, 5, 8})) << junk;
  }
}

}  // namespace
}  // namespace pdadmm
