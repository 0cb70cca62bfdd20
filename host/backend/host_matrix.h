// HostMatrix<T>: a plain row-major matrix in host memory (inputs, checkpoints, evaluation).
#pragma once
#include <cstddef>
#include <cstdint>
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

}  // namespace pdadmm
