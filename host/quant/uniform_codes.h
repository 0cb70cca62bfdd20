// Grid indices of a float block on a uniform grid, in arithmetic that vectorizes: shared by the
// -Q wire's codes (wire.cpp) and the projection onto the grid (grid.cpp), both the bits of
// uniform_grid_index (kernels/quant.cuh, which the GPU runs).
#pragma once
#include <math.h>
#include <stdint.h>

#include "host/backend/avx2_clone.h"
#include "kernels/quant.cuh"

namespace pdadmm {

constexpr int64_t kUniformBlock = 256;  // elements a call of uniform_block_codes takes at most

// Whether g is uniform with levels exactly lo + k * step, the table's own formula
// (make_uniform_grid), which uniform_block_codes computes instead of reading the table.
inline bool uniform_levels_exact(const GridView& g) {
  if (!g.uniform || g.m < 2) return false;
  for (int32_t k = 0; k < g.m; ++k)
    if (!(g.levels[k] == g.lo + static_cast<double>(k) * g.step)) return false;
  return true;
}

// code[i] = uniform_grid_index(x[i]) for i < count <= kUniformBlock, g as uniform_levels_exact
// accepts. All in double, as there: the guess floors by the 2^52 trick (values in [0, m - 2]), and
// an element whose guess fails the invariant is redone by uniform_grid_index. (GCC 12 vectorizes
// none of it with bools or int32 in the chain; scalar: 5.5 ns an element.)
PDADMM_ALWAYS_INLINE void uniform_block_codes(const GridView& g, const float* x, int64_t count, double* code) {
  const double lo = g.lo, step = g.step, inv = g.inv_step, top = static_cast<double>(g.m - 2);
  constexpr double kFloor = 4503599627370496.0;  // 2^52
  for (int64_t i = 0; i < count; ++i) {
    const double xv = static_cast<double>(x[i]);
    const double v = xv == xv ? xv : -HUGE_VAL;
    const double t = (v - lo) * inv;
    const double t0 = t < 0.0 ? 0.0 : t;
    const double c = top < t0 ? top : t0;
    const double r = (c + kFloor) - kFloor;
    const double k = r > c ? r - 1.0 : r;
    const double lk = lo + k * step, lk1 = lo + (k + 1.0) * step;
    const double bad = (lk < v ? 0.0 : 1.0) * (k == 0.0 ? 0.0 : 1.0) + (v <= lk1 ? 0.0 : 1.0) * (k == top ? 0.0 : 1.0);
    code[i] = bad == 0.0 ? k + (v - lk <= lk1 - v ? 0.0 : 1.0) : -1.0;
  }
  for (int64_t i = 0; i < count; ++i)
    if (code[i] < 0.0) code[i] = uniform_grid_index(x[i], lo, inv, g.levels, g.m);
}

}  // namespace pdadmm
