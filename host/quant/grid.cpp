// Grid Δ construction, validation, presets and host projection.
#include "host/quant/grid.h"

#include <cmath>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "host/io/error.h"
#include "host/quant/uniform_codes.h"

namespace pdadmm {

namespace {

// Shortest text that reads back as the same double, for error messages.
std::string num(double v) {
  char buf[40];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// Each level, rounded to float, must project back onto itself (see grid.h).
void check_float_resolution(const Grid& g, const std::string& what) {
  // Past float's range a level would round to ±inf (and still "project onto itself").
  for (int k = 0; k < g.size(); ++k)
    require(std::fabs(g.levels[k]) <= std::numeric_limits<float>::max(),
            what + ": level " + std::to_string(k) + " (" + num(g.levels[k]) +
                ") is outside float's range (magnitude at most 3.4e38)");
  const GridView v = g.view();
  for (int k = 0; k < g.size(); ++k) {
    const float f = static_cast<float>(g.levels[k]);
    const int got = grid_index(v, f);
    if (got != k) {
      const int a = got < k ? got : k, b = got < k ? k : got;
      throw Error(what + ": levels " + std::to_string(a) + " and " + std::to_string(b) + " (" + num(g.levels[a]) +
                  ", " + num(g.levels[b]) + ") are too close to tell apart in float");
    }
  }
}

}  // namespace

int Grid::bits() const {
  int b = 1;
  while ((int64_t{1} << b) < size()) ++b;
  return b;
}

Grid make_uniform_grid(double lo, double step, int levels, const std::string& what) {
  require(std::isfinite(lo), what + ".min: must be finite, got " + num(lo));
  require(std::isfinite(step) && step > 0, what + ".step: must be finite and > 0, got " + num(step));
  require(levels >= 2 && levels <= kMaxGridLevels, what + ".levels: must be in [2, " +
                                                       std::to_string(kMaxGridLevels) + "], got " +
                                                       std::to_string(levels));
  Grid g;
  g.uniform = true;
  g.lo = lo;
  g.step = step;
  g.levels.resize(levels);
  for (int i = 0; i < levels; ++i) g.levels[i] = lo + i * step;
  require(std::isfinite(g.levels.back()), what + ": the top level lo + (levels-1) * step overflows");
  for (int i = 1; i < levels; ++i)
    require(g.levels[i] > g.levels[i - 1], what + ".step: " + num(step) + " is too small next to min " + num(lo) +
                                               " (levels " + std::to_string(i - 1) + " and " + std::to_string(i) +
                                               " coincide)");
  check_float_resolution(g, what);
  return g;
}

Grid make_list_grid(std::vector<double> values, const std::string& what) {
  require(values.size() >= 2 && values.size() <= static_cast<size_t>(kMaxGridLevels),
          what + ": needs between 2 and " + std::to_string(kMaxGridLevels) + " values, got " +
              std::to_string(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string at = what + "[" + std::to_string(i) + "]";
    require(std::isfinite(values[i]), at + ": value is not finite");
    if (i > 0 && values[i] == values[i - 1]) throw Error(at + ": duplicate value " + num(values[i]));
    if (i > 0 && values[i] < values[i - 1])
      throw Error(at + ": values must be sorted ascending (" + num(values[i]) + " after " + num(values[i - 1]) + ")");
  }
  Grid g;
  g.levels = std::move(values);
  check_float_resolution(g, what);
  return g;
}

Grid paper_grid() { return make_uniform_grid(-1.0, 1.0, 22, "paper grid"); }
Grid reference_grid() { return make_uniform_grid(-1.0, 3.0 / 999.0, 1000, "reference grid"); }

template <typename T>
static void project_impl(const Grid& g, T* x, int64_t n) {
  require(!g.empty(), "project: the grid is empty (pdADMM-G-Q needs admm.grid)");
  const GridView v = g.view();
  for (int64_t i = 0; i < n; ++i) x[i] = project_value(v, x[i]);
}

// project_value's bits on a uniform grid in blocks that vectorize: 1.9 ns an element with AVX2
// against 3 to 8 of the scalar loop (its branches predict well on some data), which the baseline
// build of the blocks (4.5) does not always beat, so it keeps the scalar loop.
PDADMM_TARGET_AVX2 static void project_uniform_float_avx2(const GridView& g, float* x, int64_t n) {
  double code[kUniformBlock];
  for (int64_t b = 0; b < n; b += kUniformBlock) {
    const int64_t count = n - b < kUniformBlock ? n - b : kUniformBlock;
    uniform_block_codes(g, x + b, count, code);
    for (int64_t i = 0; i < count; ++i) x[b + i] = static_cast<float>(g.lo + code[i] * g.step);
  }
}

void project_host(const Grid& g, float* x, int64_t n) {
  if (use_host_ops_avx2() && !g.empty() && uniform_levels_exact(g.view())) return project_uniform_float_avx2(g.view(), x, n);
  project_impl(g, x, n);
}
void project_host(const Grid& g, double* x, int64_t n) { project_impl(g, x, n); }

}  // namespace pdadmm
