// Projection onto the grid Δ, per element; shared by CPU loops and CUDA kernels.
// Rule everywhere: nearest level, exact ties to the lower level, outside values clamp to the
// end levels, NaN to level 0. "Nearest" is decided in double: v - lo_level <= hi_level - v.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/hd.cuh"

namespace pdadmm {

// What a loop or kernel needs of Δ: its level table (host or device memory) and, for a uniform
// grid, lo and step for the O(1) guess. Trivially copyable, so it can be a kernel argument.
struct GridView {
  const double* levels = nullptr;  // sorted, distinct, m entries
  int32_t m = 0;
  bool uniform = false;  // levels[i] == lo + i * step
  double lo = 0.0;
  double step = 0.0;
  double inv_step = 0.0;  // 1 / step, for the guess (a multiply where a divide was on every element's path)
};

// Nearest level of a sorted list (binary search); ties to the lower level; NaN -> 0.
template <typename T>
PDADMM_HD int32_t list_grid_index(T x, const double* levels, int32_t m) {
  const double v = static_cast<double>(x);
  if (!(v > levels[0])) return 0;  // also catches NaN
  if (v >= levels[m - 1]) return m - 1;
  int32_t lo = 0, hi = m - 1;  // invariant: levels[lo] < v <= levels[hi]
  while (hi - lo > 1) {
    const int32_t mid = lo + (hi - lo) / 2;
    if (levels[mid] < v) lo = mid; else hi = mid;
  }
  return hi - static_cast<int32_t>(v - levels[lo] <= levels[hi] - v);  // hi == lo + 1
}

// Uniform grid, O(1): the formula gives the bracket, the table confirms it, so the result is
// exactly list_grid_index's (rounding in (v - lo) * inv_step can be one off near a level or midpoint).
// No early exit for values at or below the grid: on ReLU outputs about half the values are, and
// that data-dependent branch mispredicted half the time; the clamps (compare-selects) and the
// final choice give them index 0 too (1.5x on the -Q wire's codes, the same indices).
template <typename T>
PDADMM_HD int32_t uniform_grid_index(T x, double lo, double inv_step, const double* levels, int32_t m) {
  const double xv = static_cast<double>(x);
  const double v = xv == xv ? xv : -HUGE_VAL;  // NaN: index 0, as below the grid
  // Clamped to [0, m - 2] by select, then truncated: truncation is floor wherever the clamp does
  // not decide (floor is a libm call on baseline x86-64); the check below fixes any guess.
  const double t = (v - lo) * inv_step;
  const double top = static_cast<double>(m - 2);
  const double t0 = t > 0.0 ? t : 0.0;  // NaN (0 x an infinite inv_step: a subnormal step) too
  int32_t k = static_cast<int32_t>(top < t0 ? top : t0);
  // Invariant: levels[k] < v <= levels[k + 1], the ends open. Checked without short-circuits (a
  // branch on k == 0 mispredicts as the early exit did); walked only when the guess is off.
  if (!((k == 0) | (levels[k] < v)) | !((k == m - 2) | (v <= levels[k + 1]))) {
    while (k > 0 && !(levels[k] < v)) --k;
    while (k < m - 2 && !(v <= levels[k + 1])) ++k;
  }
  // Arithmetic, not ?:, so the data-dependent choice compiles to a flag move, not a branch that
  // mispredicts about half the time (3x on random data).
  return k + static_cast<int32_t>(!(v - levels[k] <= levels[k + 1] - v));
}

// Formula only (no table): the nearest level up to the rounding of (x - lo) / step, so it can
// differ from the table version within a few ulps of a midpoint. Prefer the overload above.
template <typename T>
PDADMM_HD int32_t uniform_grid_index(T x, double lo, double step, int32_t m) {
  const double t = (static_cast<double>(x) - lo) / step;
  if (!(t > 0.0)) return 0;  // also catches NaN
  const double k = ceil(t - 0.5);  // half-way rounds down: ties to the lower level
  if (k >= static_cast<double>(m - 1)) return m - 1;
  return static_cast<int32_t>(k);
}

template <typename T>
PDADMM_HD int32_t grid_index(const GridView& g, T x) {
  return g.uniform ? uniform_grid_index(x, g.lo, g.inv_step, g.levels, g.m) : list_grid_index(x, g.levels, g.m);
}

// x rounded to its nearest level, in x's own type.
template <typename T>
PDADMM_HD T project_value(const GridView& g, T x) {
  return static_cast<T>(g.levels[grid_index(g, x)]);
}

}  // namespace pdadmm
