// cuBLAS / cuSPARSE handle wrappers (cuda/handles.h).
#include "cuda/handles.h"

#include <utility>

#include "cuda/check.h"
#include "cuda/stream.h"

namespace pdadmm {

CublasHandle::CublasHandle(int device, cudaStream_t stream, bool tf32) : device_(device) {
  DeviceScope scope(device);
  CUBLAS_CHECK(cublasCreate(&handle_));
  try {
    CUBLAS_CHECK(cublasSetStream(handle_, stream));
    CUBLAS_CHECK(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST));
    // Default math keeps SGEMM in full fp32, which the CPU-parity tests rely on.
    CUBLAS_CHECK(cublasSetMathMode(handle_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  } catch (...) {
    reset();
    throw;
  }
}

CublasHandle::CublasHandle(CublasHandle&& o) noexcept : device_(o.device_), handle_(std::exchange(o.handle_, nullptr)) {}

CublasHandle& CublasHandle::operator=(CublasHandle&& o) noexcept {
  if (this != &o) {
    reset();
    device_ = o.device_;
    handle_ = std::exchange(o.handle_, nullptr);
  }
  return *this;
}

void CublasHandle::reset() noexcept {
  if (!handle_) return;
  DeviceScopeNoThrow scope(device_);
  CUBLAS_CHECK_NOTHROW(cublasDestroy(handle_));
  handle_ = nullptr;
}

CusparseHandle::CusparseHandle(int device, cudaStream_t stream) : device_(device) {
  DeviceScope scope(device);
  CUSPARSE_CHECK(cusparseCreate(&handle_));
  try {
    CUSPARSE_CHECK(cusparseSetStream(handle_, stream));
  } catch (...) {
    reset();
    throw;
  }
}

CusparseHandle::CusparseHandle(CusparseHandle&& o) noexcept
    : device_(o.device_), handle_(std::exchange(o.handle_, nullptr)) {}

CusparseHandle& CusparseHandle::operator=(CusparseHandle&& o) noexcept {
  if (this != &o) {
    reset();
    device_ = o.device_;
    handle_ = std::exchange(o.handle_, nullptr);
  }
  return *this;
}

void CusparseHandle::reset() noexcept {
  if (!handle_) return;
  DeviceScopeNoThrow scope(device_);
  CUSPARSE_CHECK_NOTHROW(cusparseDestroy(handle_));
  handle_ = nullptr;
}

}  // namespace pdadmm
