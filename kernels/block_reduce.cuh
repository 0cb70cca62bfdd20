// Device-side block sum in double (warp shuffles, then one warp over the warp sums) used by every
// reduction kernel. Fixed shapes and a fixed order: the result is deterministic.
#pragma once
#if defined(__CUDACC__)
#include "kernels/launch.cuh"

namespace pdadmm {
namespace kernels {

__device__ __forceinline__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Sum of v over the block (blockDim.x == kBlockThreads); the result is valid in thread 0.
// Safe to call several times in one kernel: it synchronises before reusing its shared memory.
__device__ __forceinline__ double block_sum(double v) {
  __shared__ double warp_sums[kBlockThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = threadIdx.x < kBlockThreads / 32 ? warp_sums[threadIdx.x] : 0.0;
  if (warp == 0) v = warp_sum(v);
  return v;
}

// The block's partial sum of one field, or of two side by side (field f of block b at
// partials[f * gridDim.x + b], as sum_partials reads them), written by thread 0.
__device__ __forceinline__ void store_partial(double s, double* partials) {
  s = block_sum(s);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}
__device__ __forceinline__ void store_partials(double s0, double s1, double* partials) {
  s0 = block_sum(s0);
  s1 = block_sum(s1);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = s0;
    partials[gridDim.x + blockIdx.x] = s1;
  }
}

}  // namespace kernels
}  // namespace pdadmm
#endif
