// Tensor<T>: an owning, move-only row-major matrix in the memory of one backend
// (host RAM for the CPU backend, device memory for CUDA). Only an Ops object allocates one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace pdadmm {

template <typename T>
class Tensor {
 public:
  using Deleter = std::function<void(T*)>;
  Tensor() = default;
  Tensor(T* data, int64_t rows, int64_t cols, Deleter del)
      : data_(data, std::move(del)), rows_(rows), cols_(cols) {}

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t size() const { return rows_ * cols_; }
  size_t bytes() const { return static_cast<size_t>(size()) * sizeof(T); }
  bool empty() const { return size() == 0; }
  bool same_shape(const Tensor& o) const { return rows_ == o.rows_ && cols_ == o.cols_; }

 private:
  std::unique_ptr<T, Deleter> data_;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

}  // namespace pdadmm
