// configs/cora.json end to end on the real Cora files: the 10-layer net grown 2 -> 5 -> 10,
// with shortened stages to keep ctest fast. Skips when the data are absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/admm/trainer.h"
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

}  // namespace
}  // namespace pdadmm
