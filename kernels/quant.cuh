// Projection onto the grid Δ, per element; shared by CPU loops and CUDA kernels.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/hd.cuh"

namespace pdadmm {

// Index of the nearest level of a uniform grid lo + i*step, i in [0, m); ties go to the lower
// level, values outside clamp to the ends. NaN maps to index 0.
template <typename T>
PDADMM_HD int32_t uniform_grid_index(T x, double lo, double step, int32_t m) {
  double t = (static_cast<double>(x) - lo) / step;
  if (!(t > 0.0)) return 0;  // also catches NaN
  double k = ceil(t - 0.5);  // half-way rounds down: ties to the lower level
  if (k >= static_cast<double>(m - 1)) return m - 1;
  return static_cast<int32_t>(k);
}

// Nearest level of a sorted list (binary search); ties to the lower level; NaN -> 0.
template <typename T>
PDADMM_HD int32_t list_grid_index(T x, const double* levels, int32_t m) {
  double v = static_cast<double>(x);
  if (!(v > levels[0])) return 0;
  if (v >= levels[m - 1]) return m - 1;
  int32_t lo = 0, hi = m - 1;  // levels[lo] < v <= levels[hi]
  while (hi - lo > 1) {
    int32_t mid = lo + (hi - lo) / 2;
    if (levels[mid] < v) lo = mid; else hi = mid;
  }
  return (v - levels[lo] <= levels[hi] - v) ? lo : hi;
}

}  // namespace pdadmm
