// Grid Δ of pdADMM-G-Q: a finite sorted set of values that p and/or q are projected onto.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/quant.cuh"

namespace pdadmm {

struct Grid {
  std::vector<double> levels;  // sorted, distinct, finite; 2 <= size <= 65536
  bool uniform = false;        // levels[i] = lo + i * step exactly (O(1) projection)
  double lo = 0.0;
  double step = 0.0;

  int size() const { return static_cast<int>(levels.size()); }
  int bits() const;  // ceil(log2(size())), at least 1: the width of one packed code
  bool empty() const { return levels.empty(); }
  // Kernel-side description with the host level table; a CUDA backend swaps in its device copy.
  GridView view() const { return GridView{levels.data(), size(), uniform, lo, step, uniform ? 1.0 / step : 0.0}; }
};

constexpr int kMaxGridLevels = 65536;  // codes are at most 16 bits

// Uniform grid lo, lo+step, ..., (`levels` values). Throws Error naming `what` (e.g. the config
// key "admm.grid": "admm.grid.levels: must be in [2, 65536], got 1") on bad arguments.
Grid make_uniform_grid(double lo, double step, int levels, const std::string& what = "grid");
// Explicit list; throws Error (naming `what`) unless sorted, distinct, finite, 2..65536 values.
Grid make_list_grid(std::vector<double> values, const std::string& what = "grid");
// Both also reject levels too close to tell apart once rounded to float, so that projecting
// float(level k) gives k again: grid codes are then lossless for float tensors on the grid.

// Presets. paper_grid: the paper's Δ = {-1, 0, 1, ..., 20} (22 levels, 5-bit codes).
// reference_grid: the reference code's linspace(-1, 2, 1000) (10-bit codes).
Grid paper_grid();
Grid reference_grid();

// In place: x[i] <- nearest level (ties to the lower level; outside values clamp to the ends;
// NaN to the lowest level).
void project_host(const Grid& g, float* x, int64_t n);
void project_host(const Grid& g, double* x, int64_t n);

}  // namespace pdadmm
