// configs/cora.json end to end on the real Cora files: the 10-layer net grown 2 -> 5 -> 10,
// with shortened stages to keep ctest fast; every other shipped config in full, seed 0, against a
// floor under the README's figures. Skips when the data are absent.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/admm/problem.h"
#include "host/admm/trainer.h"
#include "host/config/config.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::data_root;

TEST(DataCoraTraining, ConfigReachesTheFloor) {
  if (!std::ifstream(data_root() + "/planetoid/ind.cora.graph").good())
    GTEST_SKIP() << "real data not found: " << data_root() << "/planetoid (set PDADMM_DATA)";
  std::ifstream f(std::string(PDADMM_SOURCE_DIR) + "/configs/cora.json");
  nlohmann::json j = nlohmann::json::parse(f, nullptr, true, /*ignore_comments=*/true);
  j["model"]["stages"][0]["iterations"] = 100;  // 200 in the config
  j["model"]["stages"][2]["iterations"] = 60;  // 200 in the config
  Config c = parse_config(j, {"data.root=\"" + data_root() + "\""});
  c.output.dir = ::testing::TempDir() + "/pdadmm_cora";
  c.output.progress = "off";
  c.output.checkpoint = false;
  c.output.log_every = 1000;
  std::ostringstream log;
  const TrainSummary s = train(c, log);
  ASSERT_EQ(s.scores.test.count, 1000) << log.str();
  // Measured 0.78 with these 170 iterations (seed 0); the full config reaches 0.792 ± 0.003 over
  // the reference's five seeds, 0.789 with seed 0 (README, Accuracy; the goal is 0.786). Chance is
  // 0.32 (the largest class); 0.76 leaves room for platform rounding.
  EXPECT_GE(s.scores.test.acc, 0.76) << log.str();
}

struct Shipped {
  const char* config;
  const char* file;  // one of its data files, to skip when the data are absent
  double lowest;     // the lowest test accuracy of the five seeds in docs/bench/accuracy/NAME.json
};

void PrintTo(const Shipped& s, std::ostream* os) { *os << s.config; }

class ShippedConfig : public ::testing::TestWithParam<Shipped> {};

// The README's accuracy table, seed 0 of each row: the -Q configs, the npz loaders, the exact
// steps and the reference ρ schedules on real data were otherwise only parsed. The floor is the
// row's lowest seed less 0.02: another BLAS core's rounding moves a run like another seed does
// (OpenBLAS's SSE kernels moved Computers-Q's seed 0 by 0.015, Haswell's Cora-Q's by 0.001).
TEST_P(ShippedConfig, TrainsToItsMeasuredAccuracy) {
  const Shipped& s = GetParam();
  if (!std::ifstream(data_root() + "/" + s.file).good()) GTEST_SKIP() << "real data not found: " << data_root();
  std::ifstream f(std::string(PDADMM_SOURCE_DIR) + "/configs/" + s.config + ".json");
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, true, /*ignore_comments=*/true);
  Config c = parse_config(j, {"data.root=\"" + data_root() + "\""});
  c.output.dir = ::testing::TempDir() + "/pdadmm_shipped_" + s.config;
  c.output.progress = "off";
  c.output.checkpoint = false;
  std::ostringstream log;
  const TrainSummary sum = train(c, log);
  ASSERT_EQ(sum.scores.test.count, 1000) << log.str();
  EXPECT_GE(sum.scores.test.acc, s.lowest - 0.02) << log.str();
}

INSTANTIATE_TEST_SUITE_P(Table, ShippedConfig,
                         ::testing::Values(Shipped{"cora_q", "planetoid/ind.cora.graph", 0.780},
                                           Shipped{"citeseer", "planetoid/ind.citeseer.graph", 0.712},
                                           Shipped{"citeseer_q", "planetoid/ind.citeseer.graph", 0.717},
                                           Shipped{"amazon_computers", "npz/amazon_electronics_computers.npz", 0.759},
                                           Shipped{"amazon_computers_q", "npz/amazon_electronics_computers.npz", 0.741},
                                           Shipped{"amazon_photo", "npz/amazon_electronics_photo.npz", 0.875},
                                           Shipped{"amazon_photo_q", "npz/amazon_electronics_photo.npz", 0.870},
                                           Shipped{"coauthor_cs", "npz/ms_academic_cs.npz", 0.913},
                                           Shipped{"coauthor_cs_q", "npz/ms_academic_cs.npz", 0.913}),
                         [](const ::testing::TestParamInfo<Shipped>& i) { return std::string(i.param.config); });

// data.row_normalize reaches the features trained on (only info's text and the function itself
// were tested: a build that skipped it passed).
TEST(DataCoraTraining, RowNormalizeReachesTheTrainedFeatures) {
  if (!std::ifstream(data_root() + "/planetoid/ind.cora.graph").good()) GTEST_SKIP() << "real data not found";
  const Problem raw = build_problem(parse_config({}, {"data.name=\"cora\"", "data.root=\"" + data_root() + "\""}));
  const Problem p = build_problem(
      parse_config({}, {"data.name=\"cora\"", "data.root=\"" + data_root() + "\"", "data.row_normalize=true"}));
  ASSERT_TRUE(p.h.is_sparse);
  ASSERT_EQ(p.h.sparse.indptr, raw.h.sparse.indptr);
  int64_t rows_checked = 0;
  bool raw_not_normalized = false;
  for (int64_t r = 0; r < p.h.rows; ++r) {
    const int64_t from = p.h.sparse.indptr[r], to = p.h.sparse.indptr[r + 1];
    if (from == to) continue;
    double sum = 0, raw_sum = 0;
    for (int64_t e = from; e < to; ++e) raw_sum += raw.h.sparse.values[e];
    for (int64_t e = from; e < to; ++e) {
      sum += p.h.sparse.values[e];
      EXPECT_NEAR(p.h.sparse.values[e], raw.h.sparse.values[e] / raw_sum, 1e-6) << "row " << r;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
    raw_not_normalized = raw_not_normalized || std::fabs(raw_sum - 1.0) > 0.5;
    ++rows_checked;
  }
  EXPECT_GT(rows_checked, 2700);
  EXPECT_TRUE(raw_not_normalized) << "Cora's raw rows are 0/1 word counts, not normalised";
}

}  // namespace
}  // namespace pdadmm
