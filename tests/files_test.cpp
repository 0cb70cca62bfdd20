// Atomic output writes: a planted symlink is not followed, concurrent writers of one file do not
// break each other, and no temporary is left behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Files, AtomicWriteNeverFollowsAPlantedTemporary) {
  const std::string dir = fresh_dir("files_symlink");
  std::ofstream(dir + "/victim") << "precious";
  fs::create_symlink(dir + "/victim", dir + "/model.bin.tmp");  // the name the writer once used
  write_file_atomic(dir + "/model.bin", "weights");
  EXPECT_EQ(read_file(dir + "/victim"), "precious");
  EXPECT_EQ(read_file(dir + "/model.bin"), "weights");
  EXPECT_FALSE(fs::is_symlink(dir + "/model.bin"));
}

// mkstemp creates 0600 files; results and checkpoints are for others on the machine to read too,
// so the writer sets 0644 whatever the umask.
TEST(Files, AtomicWriteLeavesAReadableFile) {
  const std::string dir = fresh_dir("files_mode"), path = dir + "/summary.json";
  write_file_atomic(path, "{}");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

TEST(Files, ConcurrentWritersOfOneFileAllSucceed) {
  const std::string dir = fresh_dir("files_concurrent"), path = dir + "/summary.json";
  std::vector<std::string> contents;
  for (int t = 0; t < 4; ++t) contents.push_back(std::string(100000, static_cast<char>('a' + t)));
  std::vector<std::thread> writers;
  std::vector<int> failed(4, 0);
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) try {
          write_file_atomic(path, contents[t]);
        } catch (const Error&) {
          failed[t]++;
        }
    });
  for (std::thread& w : writers) w.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failed[t], 0) << "writer " << t;
  const std::string last = read_file(path);
  EXPECT_TRUE(std::find(contents.begin(), contents.end(), last) != contents.end()) << "a torn file";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "temporaries left behind";
}

TEST(Files, UnwritableFolderIsNamed) {
  try {
    write_file_atomic("/nonexistent_pdadmm_dir/model.bin", "x");
    FAIL() << "wrote into a missing folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent_pdadmm_dir/model.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pdadmm
