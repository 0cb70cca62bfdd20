// tools/carry_build.sh: the archive a GPU machine without the -dev packages gets (docs/cuda.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/test_util.h"

namespace pdadmm {
namespace {

const std::string kCarry = std::string(PDADMM_SOURCE_DIR) + "/tools/carry_build.sh";

std::string build_dir() {
  const std::string bin = PDADMM_BINARY;
  return bin.substr(0, bin.find_last_of('/'));
}

TEST(CarryBuild, PacksTheBinariesAndTheirLibrariesButNotCudas) {
  if (!test::exists(build_dir() + "/pdadmm_gpu_bench")) GTEST_SKIP() << "a build without the CUDA backend";
  const std::string out = ::testing::TempDir() + "/pdadmm_carry.tar.xz";
  const test::CommandResult made = test::run_command("XZ_OPT=-0 " + kCarry + " " + build_dir() + " --out " + out);
  ASSERT_EQ(made.code, 0) << made.out;
  EXPECT_NE(made.out.find("carry_build: " + out), std::string::npos) << made.out;
  const test::CommandResult list = test::run_command("tar tJf " + out);
  ASSERT_EQ(list.code, 0) << list.out;
  for (const char* want : {"build/pdadmm\n", "build/libpdadmm_cuda.so\n", "build/pdadmm_gpu_bench\n", "build/cuda_ops_test\n", "build/lib/libopenblas"})
    EXPECT_NE(list.out.find(want), std::string::npos) << want << " missing from\n" << list.out;
  // The reference vectors the GPU tests check the CUDA backend against.
  if (test::exists(test::shared_dir() + "/reference_vectors/pdadmm_reference.json")) {
    EXPECT_NE(list.out.find("shared/reference_vectors/pdadmm_reference.json\n"), std::string::npos) << list.out;
  }
  // The GPU machine's own: glibc, the driver, the CUDA runtime and its libraries.
  for (const char* not_want : {"libc.so", "libcuda.so", "libcudart", "libcublas", "libnccl", "mpi/usr/bin"})
    EXPECT_EQ(list.out.find(not_want), std::string::npos) << not_want << " packed:\n" << list.out;
}

TEST(CarryBuild, RefusesAFolderWithoutABuild) {
  const test::CommandResult r = test::run_command(kCarry + " " + ::testing::TempDir() + " --out /dev/null");
  test::expect_one_line_error(r, "error: " + ::testing::TempDir() +
                                     " has no pdadmm, libpdadmm_cuda.so and pdadmm_gpu_bench (build with nvcc "
                                     "present first: tools/build.sh)");
  test::expect_one_line_error(test::run_command(kCarry + " --bogus"), "unknown option --bogus");
}

// A CPU build (build-cpu) has pdadmm: only the CUDA files are named as missing (all three were).
TEST(CarryBuild, NamesOnlyWhatTheBuildLacks) {
  const std::string dir = ::testing::TempDir() + "/carry_cpu_build";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file("/bin/true", dir + "/pdadmm", std::filesystem::copy_options::overwrite_existing);
  test::expect_one_line_error(test::run_command(kCarry + " " + dir + " --out /dev/null"),
                              "error: " + dir + " has no libpdadmm_cuda.so and pdadmm_gpu_bench (build with nvcc");
}

}  // namespace
}  // namespace pdadmm
