// Error type for everything a user can get wrong (config, data, shapes, resources).
// The CLI catches it and prints one line; library code never calls exit().
#pragma once
#include <stdexcept>
#include <string>

namespace pdadmm {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws Error(msg) when cond is false. Use for input validation, not for internal invariants.
inline void require(bool cond, const std::string& msg) {
  if (!cond) throw Error(msg);
}

}  // namespace pdadmm
