// Launch geometry shared by the element-wise and reduction kernels. Grids depend only on n
// (never on the device), so a reduction sums in the same order on every GPU and every run.
#pragma once
#include <stdint.h>

namespace pdadmm {
namespace kernels {

constexpr int kBlockThreads = 256;
constexpr int kMaxReduceBlocks = 1024;  // partial sums per field; the scratch buffer holds this many
constexpr int64_t kMaxGridBlocks = int64_t{1} << 20;

// Blocks for a grid-stride loop over n elements (n > 0).
inline int elementwise_blocks(int64_t n) {
  const int64_t b = (n + kBlockThreads - 1) / kBlockThreads;
  return static_cast<int>(b < 1 ? 1 : (b > kMaxGridBlocks ? kMaxGridBlocks : b));
}

// Blocks of a two-pass reduction over n elements (n > 0): each writes one double per field.
inline int reduce_blocks(int64_t n) {
  const int64_t b = (n + kBlockThreads - 1) / kBlockThreads;
  return static_cast<int>(b < 1 ? 1 : (b > kMaxReduceBlocks ? kMaxReduceBlocks : b));
}

}  // namespace kernels
}  // namespace pdadmm

#ifdef __CUDACC__
// Grid-stride loop with 64-bit indices: any n with any grid from elementwise_blocks.
#define PDADMM_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)
#endif
