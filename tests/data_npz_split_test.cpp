// data.npz.train: a user's graph split regardless of class, and split sizes as fractions of the
// labelled nodes, on a small written graph (test::SmallGraph: 120 nodes, 110 of them labelled).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "host/data/dataset.h"
#include "host/data/load_real.h"
#include "host/data/npz.h"
#include "host/io/error.h"
#include "tests/npz_writer.h"

namespace pdadmm {
namespace {

const test::SmallGraph kGraph;

std::string written_graph() {
  const std::string path = ::testing::TempDir() + "pdadmm_split_graph.npz";
  test::write_zip(path, kGraph.members("sparse", false));
  return path;
}

Dataset load(const SplitSizes& sizes, uint64_t seed = 100) {
  static const std::string path = written_graph();
  return load_npz_file(path, seed, false, true, sizes);
}

std::string error_of(const SplitSizes& sizes) {
  try {
    load(sizes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<int32_t> sorted(std::vector<int32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The procedure as docs/data.md states it, written out again: torch.randperm of the labelled nodes
// in ascending id order, the first `train` train, the next `test` test, the next `val` val.
void expect_class_blind_procedure(const Dataset& ds, uint64_t seed, int train, int test, int val) {
  std::vector<int32_t> labelled;
  for (int v = 0; v < kGraph.n(); ++v)
    if (kGraph.label(v) >= 0) labelled.push_back(v);
  ASSERT_EQ(labelled.size(), 110u);
  const std::vector<int64_t> perm = torch_randperm(static_cast<int64_t>(labelled.size()), seed);
  std::vector<int32_t> want[3];
  for (int i = 0; i < train + test + val; ++i) want[i < train ? 0 : i < train + test ? 1 : 2].push_back(labelled[perm[i]]);
  EXPECT_EQ(ds.train, sorted(want[0]));
  EXPECT_EQ(ds.test, sorted(want[1]));
  EXPECT_EQ(ds.val, sorted(want[2]));
}

void expect_disjoint_and_labelled(const Dataset& ds) {
  std::set<int32_t> all;
  for (const auto* ids : {&ds.train, &ds.val, &ds.test})
    for (int32_t v : *ids) {
      EXPECT_TRUE(all.insert(v).second) << "node " << v << " in two sets";
      EXPECT_GE(ds.labels[v], 0) << "unlabelled node " << v << " drawn";
    }
  EXPECT_NO_THROW(ds.validate());
}

TEST(DataNpzSplit, ClassBlindSplitIsOneRandpermOfTheLabelledNodes) {
  for (uint64_t seed : {100u, 7u}) {
    SCOPED_TRACE(seed);
    const Dataset ds = load({20, 30, 15, "data.npz", 50}, seed);
    ASSERT_EQ(ds.train.size(), 50u);
    ASSERT_EQ(ds.test.size(), 30u);
    ASSERT_EQ(ds.val.size(), 15u);
    expect_disjoint_and_labelled(ds);
    expect_class_blind_procedure(ds, seed, 50, 30, 15);
  }
  EXPECT_NE(load({20, 30, 15, "data.npz", 50}, 100).train, load({20, 30, 15, "data.npz", 50}, 7).train);
  // Every labelled node in a set: 110 = 66 + 22 + 22.
  const Dataset all = load({20, 22, 22, "data.npz", 66});
  expect_disjoint_and_labelled(all);
  EXPECT_EQ(all.train.size() + all.val.size() + all.test.size(), 110u);
}

// floor(fraction * 110): 0.6 -> 66, 0.2 -> 22, 0.25 -> 27 (27.5), 0.1 -> 11; counts and fractions
// mix, and a fraction draws the same nodes as its count.
TEST(DataNpzSplit, FractionsAreRoundedDownShareOfTheLabelledNodes) {
  const Dataset f = load({20, 0.2, 0.2, "data.npz", 0.6});
  EXPECT_EQ(f.train.size(), 66u);
  EXPECT_EQ(f.test.size(), 22u);
  EXPECT_EQ(f.val.size(), 22u);
  expect_class_blind_procedure(f, 100, 66, 22, 22);
  const Dataset counts = load({20, 22, 22, "data.npz", 66});
  EXPECT_EQ(f.train, counts.train);
  EXPECT_EQ(f.test, counts.test);
  EXPECT_EQ(f.val, counts.val);
  const Dataset mixed = load({20, 30, 0.1, "data.npz", 0.25});
  EXPECT_EQ(mixed.train.size(), 27u);
  EXPECT_EQ(mixed.test.size(), 30u);
  EXPECT_EQ(mixed.val.size(), 11u);
  expect_class_blind_procedure(mixed, 100, 27, 30, 11);
  // Per class (train 0), test and val fractions are of all labelled nodes too: 0.2 -> 22, 0.1 -> 11.
  const Dataset per_class = load({5, 0.2, 0.1, "data.npz"});
  const Dataset per_class_counts = load({5, 22, 11, "data.npz"});
  EXPECT_EQ(per_class.test.size(), 22u);
  EXPECT_EQ(per_class.val.size(), 11u);
  EXPECT_EQ(per_class.train, per_class_counts.train);
  EXPECT_EQ(per_class.test, per_class_counts.test);
  EXPECT_EQ(per_class.val, per_class_counts.val);
}

// The class-blind draw ignores classes: 48 training nodes are not 16 per class.
TEST(DataNpzSplit, ClassBlindTrainingCountsFollowTheDraw) {
  const Dataset ds = load({16, 30, 15, "data.npz", 48});
  std::vector<int> per_class(3, 0);
  for (int32_t v : ds.train) ++per_class[ds.labels[v]];
  EXPECT_EQ(per_class[0] + per_class[1] + per_class[2], 48);
  EXPECT_NE(per_class, std::vector<int>(3, 16));
  // data.val_split_seed redraws train and val outside test, keeping each class's drawn count.
  Dataset redrawn = ds;
  redraw_train_val(redrawn, 3);
  EXPECT_EQ(redrawn.test, ds.test);
  EXPECT_EQ(redrawn.val.size(), ds.val.size());
  EXPECT_NE(redrawn.train, ds.train);
  std::vector<int> again(3, 0);
  for (int32_t v : redrawn.train) ++again[redrawn.labels[v]];
  EXPECT_EQ(again, per_class);
  expect_disjoint_and_labelled(redrawn);
}

TEST(DataNpzSplit, SizesPastTheLabelledNodesNameTheKeyToChange) {
  const std::string file = "pdadmm_split_graph.npz split: ";
  EXPECT_EQ(error_of({20, 30, 20, "data.npz", 61}),
            file + "only 110 labelled nodes for 61 train + 30 test + 20 val (lower data.npz.train, data.npz.test or "
                   "data.npz.val)");
  EXPECT_EQ(error_of({20, 0.5, 20, "data.npz", 0.5}),
            file + "only 110 labelled nodes for 55 train + 55 test + 20 val (lower data.npz.train, data.npz.test or "
                   "data.npz.val)");
  EXPECT_EQ(error_of({20, 30, 0.005, "data.npz", 0.6}),
            file + "data.npz.val = 0.005 of 110 labelled nodes is no node (raise data.npz.val)");
  EXPECT_EQ(error_of({20, 30, 20, "data.npz", 0.009}),
            file + "data.npz.train = 0.009 of 110 labelled nodes is no node (raise data.npz.train)");
  // Per class, fractions of all labelled nodes that the per-class draw left too few for.
  EXPECT_EQ(error_of({5, 0.8, 0.1, "data.npz"}),
            file + "only 95 labelled nodes left for 88 test + 11 val (lower data.npz.test or data.npz.val)");
  for (const std::string& e : {error_of({20, 30, 20, "data.npz", 61}), error_of({20, 30, 0.005, "data.npz", 0.6})})
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

// Per class, test and val may take every labelled node the per-class draw left: 5 per class train
// 15 of the 110, and 80 test + 15 val are the other 95; one more is named as too many.
TEST(DataNpzSplit, PerClassTestAndValMayTakeEveryNodeLeft) {
  const Dataset ds = load({5, 80, 15, "data.npz"});
  EXPECT_EQ(ds.train.size(), 15u);
  EXPECT_EQ(ds.test.size(), 80u);
  EXPECT_EQ(ds.val.size(), 15u);
  expect_disjoint_and_labelled(ds);
  EXPECT_EQ(error_of({5, 81, 15, "data.npz"}),
            "pdadmm_split_graph.npz split: only 95 labelled nodes left for 81 test + 15 val (lower data.npz.test or "
            "data.npz.val)");
}

// train_per_class is not used by a class-blind split: 20 per class would not fit these classes.
TEST(DataNpzSplit, ClassBlindSplitIgnoresTrainPerClass) {
  Dataset ds;
  ds.name = "small.npz";
  ds.labels = {0, 1, 0, 1, 0, 1, -1, 0, 1, 0, 1};
  ds.num_classes = 2;
  draw_gnn_benchmark_split(ds, 100, {20, 1, 1, "data.npz", 2});
  EXPECT_EQ(ds.train.size(), 2u);
  EXPECT_THROW(draw_gnn_benchmark_split(ds, 100, {20, 1, 1, "data.npz"}), Error);
}

}  // namespace
}  // namespace pdadmm
