// Grid Δ of pdADMM-G-Q: a finite sorted set of values that p and/or q are projected onto.
#pragma once
#include <cstdint>
#include <vector>

namespace pdadmm {

struct Grid {
  std::vector<double> levels;  // sorted, distinct, finite; 2 <= size <= 65536
  bool uniform = false;        // levels[i] = lo + i * step exactly (O(1) projection)
  double lo = 0.0;
  double step = 0.0;

  int size() const { return static_cast<int>(levels.size()); }
  int bits() const;  // ceil(log2(size())), at least 1
  bool empty() const { return levels.empty(); }
};

// Uniform grid lo, lo+step, ..., (levels values). Throws Error on bad arguments.
Grid make_uniform_grid(double lo, double step, int levels);
// Explicit list; throws Error (naming `what`) unless sorted, distinct, finite, 2..65536 values.
Grid make_list_grid(std::vector<double> values, const char* what = "grid");

// In place: x[i] <- nearest level (ties to the lower level; outside values clamp to the ends).
void project_host(const Grid& g, float* x, int64_t n);
void project_host(const Grid& g, double* x, int64_t n);

}  // namespace pdadmm
