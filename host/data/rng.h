// Portable deterministic random numbers (same stream on every platform and standard library):
// mt19937_64 bits, our own uniform / normal / shuffle on top.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace pdadmm {

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t bits() { return g_(); }
  double uniform() { return unit(g_()); }  // [0, 1)
  uint64_t below(uint64_t n) { return n ? g_() % n : 0; }  // modulo bias < 2^-40 for our n
  double normal() {  // Box-Muller, one value per call
    const uint64_t a = g_();
    return box_muller(a, g_());
  }
  // out[i] = float(scale * normal()) for i < n, the same values as n calls in turn; the bits are
  // drawn in order, the logarithms and cosines on all threads (17M of them for Coauthor CS's W_1).
  void normals(float* out, int64_t n, double scale) {
    constexpr int64_t kChunk = int64_t{1} << 16;
    std::vector<uint64_t> bits(2 * static_cast<size_t>(std::min(n, kChunk)));
    for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
      const int64_t m = std::min(kChunk, n - i0);
      for (int64_t i = 0; i < 2 * m; ++i) bits[i] = g_();
#pragma omp parallel for if (m > 4096)
      for (int64_t i = 0; i < m; ++i) out[i0 + i] = static_cast<float>(scale * box_muller(bits[2 * i], bits[2 * i + 1]));
    }
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  static double unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }
  static double box_muller(uint64_t a, uint64_t b) {
    double u1 = unit(a);
    if (u1 <= 0) u1 = 0x1.0p-53;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * unit(b));
  }
  std::mt19937_64 g_;
};

// A seed for stream `k` derived from `seed` (splitmix64), so e.g. each layer's weights do not
// depend on how many other layers or groups exist.
inline uint64_t derive_seed(uint64_t seed, uint64_t k) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (k + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace pdadmm
