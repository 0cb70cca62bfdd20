// Grid projection kernel (kernels/project_kernels.cuh).
#include "cuda/check.h"
#include "kernels/launch.cuh"
#include "kernels/project_kernels.cuh"

namespace pdadmm {
namespace kernels {

namespace {

template <typename T>
__global__ void project_kernel(GridView grid, T* __restrict__ x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    x[i] = project_value(grid, x[i]);
}

}  // namespace

template <typename T>
void project(const GridView& grid, T* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  project_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(grid, x, n);
  CUDA_LAUNCH_CHECK(stream);
}

template void project<float>(const GridView&, float*, int64_t, cudaStream_t);
template void project<double>(const GridView&, double*, int64_t, cudaStream_t);

}  // namespace kernels
}  // namespace pdadmm
