// Reading a grid Δ from JSON config (strict: every mistake is an Error naming the key).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "host/quant/grid.h"

namespace pdadmm {

// j is the grid's own value; key is its dotted path for messages (e.g. "admm.grid"). Accepted:
//   {"min": a, "max": b, "levels": m}    uniform, step = (b - a) / (m - 1)
//   {"min": a, "step": s, "levels": m}   uniform
//   {"values": [v0, v1, ...]} or [v0, v1, ...]   explicit sorted, distinct levels
//   "paper" (integers -1..20) or "reference" (linspace(-1, 2, 1000))
// 2 <= m <= 65536; unknown keys, wrong types, unsorted/duplicate/non-finite values are errors.
Grid parse_grid(const nlohmann::json& j, const std::string& key);

}  // namespace pdadmm
