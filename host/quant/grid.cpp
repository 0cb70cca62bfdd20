// Grid Δ construction, validation and host projection.
#include "host/quant/grid.h"

#include <cmath>
#include <string>

#include "host/io/error.h"
#include "kernels/quant.cuh"

namespace pdadmm {

int Grid::bits() const {
  int b = 1;
  while ((int64_t{1} << b) < size()) ++b;
  return b;
}

Grid make_uniform_grid(double lo, double step, int levels) {
  require(std::isfinite(lo) && std::isfinite(step), "grid: min and step must be finite");
  require(step > 0, "grid: step must be > 0");
  require(levels >= 2 && levels <= 65536, "grid: levels must be in [2, 65536], got " + std::to_string(levels));
  Grid g;
  g.uniform = true;
  g.lo = lo;
  g.step = step;
  g.levels.resize(levels);
  for (int i = 0; i < levels; ++i) g.levels[i] = lo + i * step;
  return g;
}

Grid make_list_grid(std::vector<double> values, const char* what) {
  const std::string w(what);
  require(values.size() >= 2 && values.size() <= 65536,
          w + ": needs between 2 and 65536 values, got " + std::to_string(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    require(std::isfinite(values[i]), w + ": value " + std::to_string(i) + " is not finite");
    require(i == 0 || values[i] > values[i - 1], w + ": values must be sorted and distinct (at index " +
                                                     std::to_string(i) + ")");
  }
  Grid g;
  g.levels = std::move(values);
  return g;
}

template <typename T>
static void project_impl(const Grid& g, T* x, int64_t n) {
  const int32_t m = g.size();
  if (g.uniform) {
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(g.levels[uniform_grid_index(x[i], g.lo, g.step, m)]);
  } else {
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(g.levels[list_grid_index(x[i], g.levels.data(), m)]);
  }
}

void project_host(const Grid& g, float* x, int64_t n) { project_impl(g, x, n); }
void project_host(const Grid& g, double* x, int64_t n) { project_impl(g, x, n); }

}  // namespace pdadmm
