// The tests' main: OpenBLAS's kernels chosen as the pdadmm binary chooses them (tests compare
// in-process results with the CLI's bit for bit), then GoogleTest.
#include <gtest/gtest.h>

#include "host/backend/blas_kernels.h"

int main(int argc, char** argv) {
  pdadmm::use_best_blas_kernels(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
