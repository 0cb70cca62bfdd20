// OpenBLAS's fallback kernels are replaced by the best the CPU runs (host/backend/blas_kernels.h),
// and a user's OPENBLAS_CORETYPE is kept.
#include <gtest/gtest.h>

#include <cblas.h>

#include <cstdlib>
#include <string>

#include "host/backend/blas_kernels.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

TEST(BlasKernels, OnlyPreAvxCoresAreFallbacks) {
  EXPECT_TRUE(blas_core_is_fallback("Prescott", "SkylakeX"));
  EXPECT_TRUE(blas_core_is_fallback("Nehalem", "Haswell"));
  EXPECT_FALSE(blas_core_is_fallback("Prescott", ""));  // a CPU without AVX: nothing better
  EXPECT_FALSE(blas_core_is_fallback("SkylakeX", "Cooperlake"));
  EXPECT_FALSE(blas_core_is_fallback("Haswell", "Haswell"));
  EXPECT_FALSE(blas_core_is_fallback("Zen", "Haswell"));
}

// This binary's main chose the kernels as pdadmm's does: never a fallback where the CPU has AVX.
TEST(BlasKernels, TheTestsRunTheBestKernelsTheCpuHas) {
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  if (set && !std::getenv("PDADMM_BLAS_FALLBACK")) GTEST_SKIP() << "OPENBLAS_CORETYPE=" << set << " set by the caller";
  const std::string best = best_blas_core();
  if (best.empty()) GTEST_SKIP() << "no AVX on this CPU";
  EXPECT_FALSE(blas_core_is_fallback(openblas_get_corename(), best)) << openblas_get_corename();
}

TEST(BlasKernels, InfoNamesTheKernelsAndKeepsTheUsersChoice) {
  const std::string bin = PDADMM_BINARY;
  const test::CommandResult own = test::run_command("env -u OPENBLAS_CORETYPE -u PDADMM_BLAS_FALLBACK " + bin + " info");
  ASSERT_EQ(own.code, 0) << own.out;
  const std::string best = best_blas_core();
  if (!best.empty()) {
    for (const char* old : {"Prescott", "Core2", "Nehalem"})
      EXPECT_EQ(own.out.find(std::string("OpenBLAS ") + old + " kernels"), std::string::npos) << own.out;
  }
  EXPECT_NE(own.out.find("blas          OpenBLAS "), std::string::npos) << own.out;
  // Where pdadmm replaced a fallback, the line says it chose, and what OpenBLAS would have run.
  // (This test binary started itself again the same way, and kept the fallback's name.)
  if (const char* fallback = std::getenv("PDADMM_BLAS_FALLBACK")) {
    EXPECT_NE(own.out.find("OpenBLAS " + best + " kernels (pdadmm's choice: OpenBLAS's own detection gives its " +
                           fallback + " fallback on this CPU"),
              std::string::npos)
        << own.out;
  }
  const test::CommandResult chosen = test::run_command("env -u PDADMM_BLAS_FALLBACK OPENBLAS_CORETYPE=Prescott " + bin + " info");
  ASSERT_EQ(chosen.code, 0) << chosen.out;
  EXPECT_NE(chosen.out.find("blas          OpenBLAS Prescott kernels (OPENBLAS_CORETYPE)"), std::string::npos)
      << chosen.out;
  // A name OpenBLAS does not know is ignored by it, and a stray PDADMM_BLAS_FALLBACK (pdadmm sets it
  // for itself) is no fallback replaced.
  const test::CommandResult unknown = test::run_command("env PDADMM_BLAS_FALLBACK=garbage OPENBLAS_CORETYPE=garbage " +
                                                        bin + " info");
  ASSERT_EQ(unknown.code, 0) << unknown.out;
  EXPECT_NE(unknown.out.find(" kernels (OPENBLAS_CORETYPE=garbage is no core this OpenBLAS knows: its own detection)"),
            std::string::npos) << unknown.out;
  EXPECT_EQ(unknown.out.find("fallback"), std::string::npos) << unknown.out;
}

}  // namespace
}  // namespace pdadmm
