// The CUDA backend lives in libpdadmm_cuda.so, opened on first use (cuda/cuda_api.h): a CPU run
// maps none of the CUDA libraries, and a module that cannot be opened is one error line.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <zlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cuda/cuda_backend.h"
#include "host/config/config.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(name) != std::string::npos) return true;
  return false;
}

std::string cli() { return std::string(PDADMM_BINARY); }

TEST(BackendModule, ACpuRunLoadsNoCudaLibrary) {
  Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json",
                         {"admm.iterations=3", "output.progress=\"off\"", "output.checkpoint=false", "threads=1"});
  c.output.dir = ::testing::TempDir() + "/pdadmm_module_cpu";
  std::ostringstream log;
  const TrainSummary s = train(c, log);
  EXPECT_EQ(s.iterations, 3);
  for (const char* lib : {"libpdadmm_cuda", "libcudart", "libcublas", "libcusparse", "libnccl"})
    EXPECT_FALSE(mapped(lib)) << lib << " is mapped after a CPU run";
}

TEST(BackendModule, OpensBesideTheBinaryOnFirstUse) {
  if (!cuda_compiled()) GTEST_SKIP() << "a build without the CUDA backend";
  EXPECT_FALSE(mapped("libpdadmm_cuda.so"));
  (void)cuda_device_count();  // no GPU here is fine: the module still opens and says why
  EXPECT_TRUE(mapped("libpdadmm_cuda.so"));
  EXPECT_TRUE(mapped("libcudart"));
  EXPECT_EQ(cuda_unavailable_reason().find("could not be loaded"), std::string::npos) << cuda_unavailable_reason();
}

TEST(BackendModule, AModuleThatCannotOpenIsOneErrorLine) {
  if (!cuda_compiled()) GTEST_SKIP() << "a build without the CUDA backend";
  const std::string train = " train --set 'backend=\"cuda\"' --set admm.iterations=1 --set output.progress=off --out " +
                            ::testing::TempDir() + "/pdadmm_module_missing";
  const std::string nowhere = "PDADMM_CUDA_MODULE=/nonexistent/libpdadmm_cuda.so ";
  const test::CommandResult missing = test::run_command(nowhere + cli() + train);
  test::expect_one_line_error(missing,
                              "the CUDA backend could not be loaded (/nonexistent/libpdadmm_cuda.so: cannot open");
  // A shared library that is not the backend: zlib, which this test links.
  Dl_info zlib{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&crc32), &zlib), 0);
  const test::CommandResult other =
      test::run_command("PDADMM_CUDA_MODULE=" + std::string(zlib.dli_fname) + " " + cli() + train);
  test::expect_one_line_error(other, "is not pdadmm's CUDA backend (it has no pdadmm_cuda_api)");
  // A module of another build: another commit, or another interface version whose table past
  // the version is not this build's to read (its commit is null here).
  const std::string fake = "PDADMM_CUDA_MODULE=" + std::string(PDADMM_FAKE_MODULE) + " ";
  test::expect_one_line_error(test::run_command(fake + cli() + train),
                              "is from another build (commit 0123456789ab; this pdadmm is ");
  test::expect_one_line_error(
      test::run_command("PDADMM_FAKE_LAYOUT=1 " + fake + cli() + train),
      "is from another build (interface version 99; this pdadmm is version 1): build both again (tools/build.sh)");
  // A table that is not there (a null read as a table crashed).
  test::expect_one_line_error(test::run_command("PDADMM_FAKE_NULL=1 " + fake + cli() + train),
                              "is not pdadmm's CUDA backend (its pdadmm_cuda_api returned no table)");
  // info reports it instead of failing.
  const test::CommandResult info = test::run_command(nowhere + cli() + " info --set 'backend=\"cuda\"'");
  EXPECT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("backend       cuda (the CUDA backend could not be loaded"), std::string::npos) << info.out;
}

}  // namespace
}  // namespace pdadmm
