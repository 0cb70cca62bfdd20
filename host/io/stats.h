// Timings and their summary statistics, shared by `pdadmm train` (summary.json) and `pdadmm bench`.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace pdadmm {

// Seconds of the steady clock since t0.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The middle value; for an even count the mean of the two middle ones (0 for none).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace pdadmm
