// RAII wrappers for the cuBLAS and cuSPARSE handles of one device, bound to one stream.
#pragma once
#include <cublas_v2.h>
#include <cusparse.h>

namespace pdadmm {

class CublasHandle {
 public:
  CublasHandle() = default;
  // tf32: allow TF32 tensor cores in SGEMM (faster, ~1e-3 relative error); off = full fp32.
  CublasHandle(int device, cudaStream_t stream, bool tf32);
  ~CublasHandle() { reset(); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  CublasHandle(CublasHandle&& o) noexcept;
  CublasHandle& operator=(CublasHandle&& o) noexcept;

  cublasHandle_t get() const { return handle_; }
  void reset() noexcept;

 private:
  int device_ = 0;
  cublasHandle_t handle_ = nullptr;
};

class CusparseHandle {
 public:
  CusparseHandle() = default;
  CusparseHandle(int device, cudaStream_t stream);
  ~CusparseHandle() { reset(); }
  CusparseHandle(const CusparseHandle&) = delete;
  CusparseHandle& operator=(const CusparseHandle&) = delete;
  CusparseHandle(CusparseHandle&& o) noexcept;
  CusparseHandle& operator=(CusparseHandle&& o) noexcept;

  cusparseHandle_t get() const { return handle_; }
  void reset() noexcept;

 private:
  int device_ = 0;
  cusparseHandle_t handle_ = nullptr;
};

}  // namespace pdadmm
