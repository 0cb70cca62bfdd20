// host/admm/run_outputs: the room check for model.bin, against the size of a file train() writes
// and the free space std::filesystem reports for the test's own folder.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "host/admm/run_outputs.h"
#include "host/admm/trainer.h"
#include "host/config/config.h"
#include "host/io/error.h"

namespace pdadmm {
namespace {

Config tiny_config(const std::string& dir) {
  Config c = parse_config(nlohmann::json::object(),
                          {"model.layers=3", "model.hidden=24", "data.synthetic.nodes=300", "data.synthetic.val=50",
                           "data.synthetic.test=100", "admm.iterations=2"});
  c.output.progress = "off";
  c.output.dir = dir;
  c.threads = 1;
  return c;
}

// The estimate is the file's size but for the framing and the layer list of its header.
TEST(RunOutputs, ModelFileBytesIsTheSizeTrainWrites) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_model_room_size";
  std::filesystem::remove_all(dir);
  const Config c = tiny_config(dir);
  std::ostringstream log;
  train(c, log);
  const uint64_t written = std::filesystem::file_size(dir + "/model.bin");
  const std::vector<int64_t> dims = {static_cast<int64_t>(c.data.synthetic.features) * (c.model.hops + 1), 24, 24,
                                     static_cast<int64_t>(c.data.synthetic.classes)};
  const uint64_t estimate = model_file_bytes(c, dims);
  EXPECT_LE(estimate, written);
  EXPECT_LT(written - estimate, 512u) << "estimate " << estimate << ", file " << written;
  std::filesystem::remove_all(dir);
}

TEST(RunOutputs, AModelLargerThanTheFreeSpaceIsOneErrorLine) {
  const std::string dir = ::testing::TempDir() + "/pdadmm_model_room_check";
  std::filesystem::create_directories(dir);
  Config c = tiny_config(dir);
  const std::filesystem::space_info room = std::filesystem::space(dir);
  if (room.capacity == 0) GTEST_SKIP() << "this file system reports no capacity";
  // One layer of 10^6 rows, wide enough that its floats alone pass what is free.
  const int64_t cols = static_cast<int64_t>(room.available / 4000000) + 10;
  const std::vector<int64_t> big = {cols, 1000000};
  ASSERT_GT(model_file_bytes(c, big), room.available);
  try {
    require_model_room(c, big);
    FAIL() << "no error for a model of " << model_file_bytes(c, big) << " bytes";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("not enough room for model.bin in " + dir + ": it will take ", 0), 0u) << msg;
    EXPECT_NE(msg.find("is free there"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(require_model_room(c, {100, 10, 3}));
  c.output.checkpoint = false;  // no model.bin: nothing to check
  EXPECT_NO_THROW(require_model_room(c, big));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pdadmm
