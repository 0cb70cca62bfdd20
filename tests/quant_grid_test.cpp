// Grid Δ: projection against brute force, tie / clamp / NaN rules, presets, parse_grid errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/backend/avx2_clone.h"
#include "host/io/error.h"
#include "host/quant/grid.h"
#include "host/quant/grid_config.h"

namespace pdadmm {
namespace {

using nlohmann::json;

// Index of the nearest level by scanning all of Δ; the first (lowest) of equal distances wins.
int brute_index(const Grid& g, double v) {
  if (std::isnan(v)) return 0;
  // Outside Δ the rule is clamping (far out, rounded distances to all levels can tie).
  if (v <= g.levels.front()) return 0;
  if (v >= g.levels.back()) return g.size() - 1;
  int best = 0;
  double best_d = std::fabs(v - g.levels[0]);
  for (int j = 1; j < g.size(); ++j) {
    const double d = std::fabs(v - g.levels[j]);
    if (d < best_d) {
      best = j;
      best_d = d;
    }
  }
  return best;
}

// Random values inside and around Δ, plus values at and next to levels and midpoints.
template <typename T>
std::vector<T> probe_values(const Grid& g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double lo = g.levels.front(), hi = g.levels.back(), span = hi - lo;
  std::uniform_real_distribution<double> u(lo - span / 2, hi + span / 2);
  std::uniform_int_distribution<int> pick(0, g.size() - 2);
  std::vector<T> v;
  for (int i = 0; i < 20000; ++i) v.push_back(static_cast<T>(u(rng)));
  for (int i = 0; i < 2000; ++i) {
    const int k = pick(rng);
    const T level = static_cast<T>(g.levels[k]);
    const T mid = static_cast<T>((g.levels[k] + g.levels[k + 1]) / 2);
    for (T c : {level, mid}) {
      T a = c, b = c;
      for (int s = 0; s < 3; ++s) {
        v.push_back(a);
        v.push_back(b);
        a = std::nextafter(a, std::numeric_limits<T>::infinity());
        b = std::nextafter(b, -std::numeric_limits<T>::infinity());
      }
    }
  }
  for (T c : {std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(), std::numeric_limits<T>::max(),
              std::numeric_limits<T>::lowest(), T(0), -T(0), std::numeric_limits<T>::quiet_NaN(),
              -std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::denorm_min()})
    v.push_back(c);
  return v;
}

std::vector<Grid> test_grids() {
  std::vector<Grid> gs{paper_grid(), reference_grid(), make_uniform_grid(-0.37, 0.0123, 257),
                       make_uniform_grid(0.0, 1.0, 2)};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-3.0, 5.0);
  std::vector<double> r;
  for (int i = 0; i < 300; ++i) r.push_back(u(rng));
  std::sort(r.begin(), r.end());
  r.erase(std::unique(r.begin(), r.end()), r.end());
  gs.push_back(make_list_grid(r));
  std::vector<double> flickr;  // the reference's commented-out Flickr grid: two linspaces
  for (int i = 0; i < 100; ++i) flickr.push_back(1.98 * i / 99);
  for (int i = 0; i <= 100; ++i) flickr.push_back(2.0 + 8.0 * i / 100);
  gs.push_back(make_list_grid(flickr));
  gs.push_back(make_list_grid({-1.0, 2.5}));
  return gs;
}

template <typename T>
void check_against_brute_force() {
  int gi = 0;
  for (const Grid& g : test_grids()) {
    SCOPED_TRACE("grid " + std::to_string(gi) + " (" + std::to_string(g.size()) + " levels)");
    std::vector<T> x = probe_values<T>(g, 100 + gi++);
    const std::vector<T> orig = x;
    project_host(g, x.data(), static_cast<int64_t>(x.size()));
    const GridView view = g.view();
    for (size_t i = 0; i < x.size(); ++i) {
      const int want = brute_index(g, static_cast<double>(orig[i]));
      ASSERT_EQ(grid_index(view, orig[i]), want) << "x = " << orig[i];
      ASSERT_EQ(x[i], static_cast<T>(g.levels[want])) << "x = " << orig[i];
      ASSERT_EQ(list_grid_index(orig[i], g.levels.data(), g.size()), want) << "x = " << orig[i];
    }
  }
}

TEST(QuantGrid, ProjectionEqualsBruteForceFloat) { check_against_brute_force<float>(); }
// Float on a uniform grid runs in blocks (uniform_codes.h) where the CPU has AVX2: the scalar
// loop where it has not (or it is forbidden) too.
TEST(QuantGrid, ProjectionEqualsBruteForceFloatWithoutAvx2) {
  const bool before = host_ops_avx2(false);
  check_against_brute_force<float>();
  host_ops_avx2(before);
}
TEST(QuantGrid, ProjectionEqualsBruteForceDouble) { check_against_brute_force<double>(); }

TEST(QuantGrid, UniformFormulaAgreesAwayFromTies) {
  const Grid g = reference_grid();
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-2.0, 3.0);
  for (int i = 0; i < 100000; ++i) {
    const double v = u(rng);
    ASSERT_EQ(uniform_grid_index(v, g.lo, g.step, g.size()), grid_index(g.view(), v)) << v;
  }
}

template <typename T>
T proj(const Grid& g, T v) {
  project_host(g, &v, 1);
  return v;
}

TEST(QuantGrid, ExactMidpointsGoToTheLowerLevel) {
  const Grid paper = paper_grid();
  EXPECT_EQ(proj(paper, 0.5f), 0.0f);
  EXPECT_EQ(proj(paper, -0.5f), -1.0f);
  EXPECT_EQ(proj(paper, 19.5), 19.0);
  EXPECT_EQ(proj(paper, std::nextafter(0.5, 1.0)), 1.0);
  const Grid quarter = make_uniform_grid(-1.0, 0.25, 9);  // -1, -0.75, ..., 1
  for (int k = 0; k + 1 < quarter.size(); ++k) {
    const double mid = (quarter.levels[k] + quarter.levels[k + 1]) / 2;
    EXPECT_EQ(proj(quarter, mid), quarter.levels[k]);
    EXPECT_EQ(proj(quarter, static_cast<float>(mid)), static_cast<float>(quarter.levels[k]));
  }
  const Grid list = make_list_grid({0.0, 1.0, 3.0, 3.5});
  EXPECT_EQ(proj(list, 0.5), 0.0);
  EXPECT_EQ(proj(list, 2.0f), 1.0f);
  EXPECT_EQ(proj(list, 3.25), 3.0);
  EXPECT_EQ(proj(list, std::nextafter(2.0, 3.0)), 3.0);
}

TEST(QuantGrid, OutsideValuesClampAndNanGoesToTheLowestLevel) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const Grid& g : {paper_grid(), make_list_grid({-2.0, 0.5, 7.0})}) {
    const double lo = g.levels.front(), hi = g.levels.back();
    EXPECT_EQ(proj(g, -1e30f), static_cast<float>(lo));
    EXPECT_EQ(proj(g, 1e30f), static_cast<float>(hi));
    EXPECT_EQ(proj(g, -inf), static_cast<float>(lo));
    EXPECT_EQ(proj(g, inf), static_cast<float>(hi));
    EXPECT_EQ(proj(g, nan), static_cast<float>(lo));
    EXPECT_EQ(proj(g, static_cast<double>(nan)), lo);
    EXPECT_EQ(proj(g, -static_cast<double>(nan)), lo);
    EXPECT_EQ(grid_index(g.view(), nan), 0);
  }
}

TEST(QuantGrid, LevelsProjectOntoThemselves) {
  for (const Grid& g : test_grids()) {
    for (int k = 0; k < g.size(); ++k) {
      ASSERT_EQ(proj(g, g.levels[k]), g.levels[k]);
      const float f = static_cast<float>(g.levels[k]);
      ASSERT_EQ(proj(g, f), f);
    }
  }
}

TEST(QuantGrid, BitsIsCeilLog2) {
  const std::vector<std::pair<int, int>> cases{{2, 1},   {3, 2},    {4, 2},     {5, 3},     {22, 5},
                                               {1000, 10}, {1024, 10}, {1025, 11}, {65535, 16}, {65536, 16}};
  for (auto [m, b] : cases) EXPECT_EQ(make_uniform_grid(0, 1, m).bits(), b) << m;
}

TEST(QuantGrid, Presets) {
  const Grid p = paper_grid();
  ASSERT_EQ(p.size(), 22);
  for (int i = 0; i < 22; ++i) EXPECT_EQ(p.levels[i], i - 1.0);
  EXPECT_TRUE(p.uniform);
  EXPECT_EQ(p.bits(), 5);
  const Grid r = reference_grid();
  ASSERT_EQ(r.size(), 1000);
  EXPECT_EQ(r.levels.front(), -1.0);
  EXPECT_NEAR(r.levels.back(), 2.0, 1e-12);
  EXPECT_NEAR(r.levels[1] - r.levels[0], 3.0 / 999.0, 1e-15);
  EXPECT_EQ(r.bits(), 10);
}

TEST(QuantGrid, ParseGridForms) {
  const Grid a = parse_grid(json::parse(R"({"min": -1, "max": 2, "levels": 1000})"), "admm.grid");
  EXPECT_EQ(a.levels, reference_grid().levels);
  EXPECT_TRUE(a.uniform);
  const Grid b = parse_grid(json::parse(R"({"min": -1, "step": 1, "levels": 22})"), "admm.grid");
  EXPECT_EQ(b.levels, paper_grid().levels);
  const Grid c = parse_grid(json::parse(R"({"values": [0, 0.5, 2]})"), "admm.grid");
  EXPECT_EQ(c.levels, (std::vector<double>{0, 0.5, 2}));
  EXPECT_FALSE(c.uniform);
  const Grid d = parse_grid(json::parse(R"([-1, 0, 4])"), "admm.grid");
  EXPECT_EQ(d.levels, (std::vector<double>{-1, 0, 4}));
  EXPECT_EQ(parse_grid(json("paper"), "admm.grid").levels, paper_grid().levels);
  EXPECT_EQ(parse_grid(json("reference"), "admm.grid").levels, reference_grid().levels);
  EXPECT_EQ(parse_grid(json::parse(R"({"min": 0, "max": 1, "levels": 65536})"), "g").bits(), 16);
}

// The call throws pdadmm::Error and its message contains `want`.
template <typename F>
void expect_error(F f, const std::string& want) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << want;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << "message: " << e.what() << "\nwanted: " << want;
  }
}

void expect_bad(const json& j, const std::string& want) {
  SCOPED_TRACE(j.dump().substr(0, 200));
  expect_error([&] { parse_grid(j, "admm.grid"); }, want);
}

TEST(QuantGrid, ParseGridRejectsBadConfigs) {
  expect_bad(json::parse(R"({"min": -1, "max": 2, "levels": 1})"), "admm.grid.levels: must be in [2, 65536], got 1");
  expect_bad(json::parse(R"({"min": -1, "max": 2, "levels": 65537})"), "admm.grid.levels: must be in [2, 65536]");
  expect_bad(json::parse(R"({"min": -1, "max": 2, "levels": -5})"), "admm.grid.levels: must be in [2, 65536], got -5");
  // Past 2^40 (the clamp that keeps the count an integer) the message still quotes what was written.
  expect_bad(json::parse(R"({"min": -1, "max": 2, "levels": 18446744073709551615})"),
             "admm.grid.levels: must be in [2, 65536], got 18446744073709551615");
  expect_bad(json::parse(R"({"min": -1, "max": 2, "levels": 10.5})"), "admm.grid.levels: expected an integer");
  expect_bad(json::parse(R"({"min": -1, "max": 2, "levels": "10"})"), "admm.grid.levels: expected an integer");
  expect_bad(json::parse(R"({"min": "a", "max": 2, "levels": 10})"), "admm.grid.min: expected a number");
  expect_bad(json::parse(R"({"min": true, "max": 2, "levels": 10})"), "admm.grid.min: expected a number");
  expect_bad(json::parse(R"({"min": -1, "max": [2], "levels": 10})"), "admm.grid.max: expected a number");
  expect_bad(json::parse(R"({"min": 2, "max": 2, "levels": 10})"), "admm.grid.max: must be greater");
  expect_bad(json::parse(R"({"min": 0, "step": 0, "levels": 10})"), "admm.grid.step: must be > 0");
  expect_bad(json::parse(R"({"min": 0, "step": -1, "levels": 10})"), "admm.grid.step");
  expect_bad(json::parse(R"({"min": 0, "step": 1, "max": 3, "levels": 4})"), "admm.grid: give exactly one of");
  expect_bad(json::parse(R"({"min": 0, "levels": 4})"), "admm.grid: give exactly one of");
  expect_bad(json::parse(R"({"max": 1, "levels": 4})"), "admm.grid.min: missing");
  expect_bad(json::parse(R"({"min": 0, "max": 1})"), "admm.grid.levels: missing");
  expect_bad(json::parse(R"({"min": 0, "max": 1, "levels": 4, "lvls": 3})"), "admm.grid.lvls: unknown key");
  expect_bad(json::parse(R"({"values": [0, 2, 1]})"), "admm.grid.values[2]: values must be sorted");
  expect_bad(json::parse(R"({"values": [0, 1, 1]})"), "admm.grid.values[2]: duplicate");
  expect_bad(json::parse(R"({"values": [0, "1"]})"), "admm.grid.values[1]: expected a number");
  expect_bad(json::parse(R"({"values": [0, null]})"), "admm.grid.values[1]: expected a number");
  expect_bad(json::parse(R"({"values": [3]})"), "admm.grid.values: needs between 2 and 65536 values, got 1");
  expect_bad(json::parse(R"({"values": []})"), "admm.grid.values: needs between 2");
  expect_bad(json::parse(R"({"values": 3})"), "admm.grid.values: expected an array");
  expect_bad(json::parse(R"({"values": [0, 1], "min": 0})"), "admm.grid.min: cannot be combined");
  expect_bad(json::parse(R"([0, 2, 1])"), "admm.grid[2]: values must be sorted");
  expect_bad(json::parse(R"([1, 1])"), "admm.grid[1]: duplicate");
  expect_bad(json::parse("5"), "admm.grid: expected");
  expect_bad(json(nullptr), "admm.grid: expected");
  expect_bad(json("fine"), "admm.grid: unknown grid preset 'fine'");
  json nan_values = json::array({0.0, std::nan(""), 2.0});
  expect_bad(nan_values, "admm.grid[1]");
  json inf_values = json::object({{"values", json::array({0.0, 1.0, HUGE_VAL})}});
  expect_bad(inf_values, "admm.grid.values[2]");
  json inf_min = json::object({{"min", -HUGE_VAL}, {"max", 1.0}, {"levels", 3}});
  expect_bad(inf_min, "admm.grid.min");
  json big = json::array();
  for (int i = 0; i <= 65536; ++i) big.push_back(i);
  expect_bad(big, "admm.grid: needs between 2 and 65536 values, got 65537");
  // Levels closer than float resolution could not survive a float tensor.
  expect_bad(json::parse(R"({"min": 1e6, "step": 1e-3, "levels": 10})"), "admm.grid: levels");
  expect_bad(json::parse(R"([1, 1.00000001])"), "too close to tell apart in float");
  // A subnormal step: 1 / step is infinite, and (0 - min) x inf is NaN, which the index's clamp
  // let through to an int cast (undefined; INT_MIN on x86-64, a read 16 GiB before the levels).
  expect_bad(json::parse(R"({"min": 0, "step": 1e-310, "levels": 2})"),
             "admm.grid: levels 0 and 1 (0, 1e-310) are too close to tell apart in float");
  // Finite in double but not in float: a level would be ±inf on the tensors; named as such, not as
  // a step of inf or levels "too close".
  expect_bad(json::parse(R"([-1e39, 1e39])"), "admm.grid: level 0 (-1e+39) is outside float's range");
  expect_bad(json::parse(R"([0, 1, 1e39])"), "admm.grid: level 2 (1e+39) is outside float's range");
  expect_bad(json::parse(R"({"min": -1e308, "max": 1e308, "levels": 3})"), "admm.grid.min: outside float's range");
  expect_bad(json::parse(R"({"min": 0, "max": 1e308, "levels": 3})"), "admm.grid.max: outside float's range");
  expect_bad(json::parse(R"({"min": 0, "step": 1e300, "levels": 65536})"), "admm.grid: level 1 (1e+300) is outside");
  EXPECT_NO_THROW(parse_grid(json::parse(R"([-3e38, 3e38])"), "admm.grid"));
}

TEST(QuantGrid, MakeGridErrorsNameWhat) {
  expect_error([] { make_uniform_grid(0, 1, 1, "admm.grid"); }, "admm.grid.levels: must be in [2, 65536], got 1");
  expect_error([] { make_uniform_grid(0, 0, 5, "admm.grid"); }, "admm.grid.step");
  expect_error([] { make_uniform_grid(NAN, 1, 5, "admm.grid"); }, "admm.grid.min");
  expect_error([] { make_uniform_grid(1e308, 1e307, 100, "admm.grid"); }, "admm.grid: the top level");
  expect_error([] { make_list_grid({0.0}, "x.grid"); }, "x.grid: needs between 2");
}

TEST(QuantGrid, ProjectOnEmptyGridIsAnError) {
  float x = 1.0f;
  expect_error([&] { project_host(Grid{}, &x, 1); }, "grid is empty");
}

// make_uniform_grid is the API parse_grid and the presets build on: it bounds the level count
// itself (a 65537-level grid needs 17-bit codes; the wire packs at most 16 a value).
TEST(QuantGrid, MakeUniformGridRefusesMoreLevelsThanCodesHold) {
  EXPECT_EQ(make_uniform_grid(0, 1, 65536, "admm.grid").bits(), 16);
  expect_error([] { make_uniform_grid(0, 1, 65537, "admm.grid"); }, "admm.grid.levels: must be in [2, 65536], got 65537");
}

// Levels that coincide in double (a step below min's resolution) are named as that, with the
// step and min to change, not as the float check's "too close to tell apart".
TEST(QuantGrid, CoincidingLevelsNameTheStep) {
  expect_error([] { make_uniform_grid(1e20, 1, 3, "admm.grid"); },
               "admm.grid.step: 1 is too small next to min 1e+20 (levels 0 and 1 coincide)");
}

}  // namespace
}  // namespace pdadmm
