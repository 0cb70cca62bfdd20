// Grid Δ from JSON: uniform (min/max/levels or min/step/levels), explicit list, or a preset.
#include "host/quant/grid_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <vector>

#include "host/config/json_reader.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

using nlohmann::json;

const char* kForms =
    "{\"min\", \"max\", \"levels\"}, {\"min\", \"step\", \"levels\"}, {\"values\": [...]}, an array of levels, "
    "\"paper\" or \"reference\"";


double get_number(const json& v, const std::string& at) {
  if (!v.is_number()) throw Error(at + ": expected a number, got " + describe_value(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw Error(at + ": must be finite");
  return d;
}

int get_levels(const json& v, const std::string& at) {
  if (!v.is_number_integer()) throw Error(at + ": expected an integer, got " + describe_value(v));
  // Unsigned values above int64 range read as a huge positive; negative ones stay negative.
  const long long m = v.is_number_unsigned() ? static_cast<long long>(std::min<uint64_t>(v.get<uint64_t>(), 1ull << 40))
                                             : v.get<long long>();
  // The message quotes the value as written, not the clamped m.
  if (m < 2 || m > kMaxGridLevels)
    throw Error(at + ": must be in [2, " + std::to_string(kMaxGridLevels) + "], got " + v.dump());
  return static_cast<int>(m);
}

Grid parse_values(const json& a, const std::string& at) {
  if (!a.is_array()) throw Error(at + ": expected an array of numbers, got " + describe_value(a));
  std::vector<double> v;
  v.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) v.push_back(get_number(a[i], at + "[" + std::to_string(i) + "]"));
  return make_list_grid(std::move(v), at);
}

}  // namespace

Grid parse_grid(const json& j, const std::string& key) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "paper") return paper_grid();
    if (s == "reference") return reference_grid();
    throw Error(key + ": unknown grid preset '" + s + "' (expected \"paper\" or \"reference\")");
  }
  if (j.is_array()) return parse_values(j, key);
  if (!j.is_object()) throw Error(key + ": expected " + kForms + ", got " + describe_value(j));

  for (const auto& kv : j.items()) {
    const std::string& k = kv.key();
    if (k != "min" && k != "max" && k != "step" && k != "levels" && k != "values" && k.rfind('_', 0) != 0)
      throw Error(key + "." + k + ": unknown key (expected min, max, step, levels or values)");
  }
  if (j.contains("values")) {
    for (const char* k : {"min", "max", "step", "levels"})
      if (j.contains(k)) throw Error(key + "." + k + ": cannot be combined with " + key + ".values");
    return parse_values(j.at("values"), key + ".values");
  }
  for (const char* k : {"min", "levels"})
    if (!j.contains(k)) throw Error(key + "." + k + ": missing (expected " + kForms + ")");
  const bool has_max = j.contains("max"), has_step = j.contains("step");
  if (has_max == has_step)
    throw Error(key + ": give exactly one of " + key + ".max and " + key + ".step (got " +
                (has_max ? "both" : "neither") + ")");

  const double lo = get_number(j.at("min"), key + ".min");
  const int m = get_levels(j.at("levels"), key + ".levels");
  double step;
  if (has_max) {
    const double hi = get_number(j.at("max"), key + ".max");
    if (!(hi > lo)) throw Error(key + ".max: must be greater than " + key + ".min");
    for (const auto& [k, v] : {std::pair{".min", lo}, std::pair{".max", hi}})
      if (std::fabs(v) > std::numeric_limits<float>::max())  // else max − min may overflow: "step: inf"
        throw Error(key + k + ": outside float's range (magnitude at most 3.4e38)");
    step = (hi - lo) / (m - 1);
  } else {
    step = get_number(j.at("step"), key + ".step");
    if (!(step > 0)) throw Error(key + ".step: must be > 0");
  }
  return make_uniform_grid(lo, step, m, key);
}

}  // namespace pdadmm
