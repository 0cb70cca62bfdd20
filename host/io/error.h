// Error type for everything a user can get wrong (config, data, shapes, resources).
// The CLI catches it and prints one line; library code never calls exit().
#pragma once
#include <stdexcept>
#include <string>
#include <type_traits>

namespace pdadmm {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws Error(msg) when cond is false. Use for input validation, not for internal invariants.
inline void require(bool cond, const std::string& msg) {
  if (!cond) throw Error(msg);
}

// The same with the message built only on failure, require(cond, [&] { return ...; }): for checks
// inside loops over large inputs, where a string per element costs more than the check.
template <typename Msg, typename = std::enable_if_t<std::is_invocable_v<Msg>>>
inline void require(bool cond, Msg&& msg) {
  if (!cond) throw Error(msg());
}

}  // namespace pdadmm
