// HostMatrix<T>: a plain row-major matrix in host memory (inputs, checkpoints, evaluation).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pdadmm {

template <typename T>
struct HostMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<T> data;

  HostMatrix() = default;
  HostMatrix(int64_t r, int64_t c, T value = T(0)) : rows(r), cols(c), data(static_cast<size_t>(r * c), value) {}
  T& operator()(int64_t r, int64_t c) { return data[static_cast<size_t>(r * cols + c)]; }
  const T& operator()(int64_t r, int64_t c) const { return data[static_cast<size_t>(r * cols + c)]; }
  int64_t size() const { return rows * cols; }
};

// The elements' bytes where they are (files written in pieces: framed_file.h).
template <typename T>
std::string_view byte_view(const HostMatrix<T>& m) {
  return {reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(T)};
}

// mᵀ, in tiles of 64 rows so that both sides stay in cache (X of Coauthor CS is 34025 rows).
template <typename T>
HostMatrix<T> transposed(const HostMatrix<T>& m) {
  HostMatrix<T> t(m.cols, m.rows);
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < m.rows; r0 += kTile)
    for (int64_t c = 0; c < m.cols; ++c)
      for (int64_t r = r0; r < std::min(m.rows, r0 + kTile); ++r) t(c, r) = m(r, c);
  return t;
}

}  // namespace pdadmm
