// Launcher for pdADMM-G-Q's projection onto the grid Δ on the device: the same project_value
// (kernels/quant.cuh) that project_host loops over, so both give the same bits.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

#include "kernels/quant.cuh"

namespace pdadmm {
namespace kernels {

// x[i] <- project_value(grid, x[i]); grid.levels must point to the level table on the device.
template <typename T>
void project(const GridView& grid, T* x, int64_t n, cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
