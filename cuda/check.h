// One error-check family for every GPU library: CUDA_CHECK, CUBLAS_CHECK, CUSPARSE_CHECK,
// NCCL_CHECK (throw pdadmm::Error naming expression, file:line, device and the library's
// message), *_NOTHROW twins for destructors, and CUDA_LAUNCH_CHECK after every kernel launch.
#pragma once
#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <cusparse.h>
#if defined(PDADMM_HAVE_NCCL)
#include <nccl.h>
#endif

#include <string>

namespace pdadmm {

// The one failure path: "<lib> error on device D at file:line: <expr> failed: <what>".
[[noreturn]] void gpu_check_failed(const char* lib, const char* expr, const char* file, int line,
                                   const std::string& what);
// Same message to stderr, never throws (destructors, cleanup after another error).
void gpu_check_warn(const char* lib, const char* expr, const char* file, int line, const std::string& what) noexcept;

// Status -> ok / message, one overload per library; the macros below pick by type.
inline bool gpu_ok(cudaError_t e) { return e == cudaSuccess; }
inline bool gpu_ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }
inline bool gpu_ok(cusparseStatus_t s) { return s == CUSPARSE_STATUS_SUCCESS; }
std::string gpu_error_string(cudaError_t e);
std::string gpu_error_string(cublasStatus_t s);
std::string gpu_error_string(cusparseStatus_t s);
#if defined(PDADMM_HAVE_NCCL)
inline bool gpu_ok(ncclResult_t r) { return r == ncclSuccess; }
std::string gpu_error_string(ncclResult_t r);
#endif

}  // namespace pdadmm

#define PDADMM_GPU_CHECK_WITH(lib, expr, on_fail)                                                 \
  do {                                                                                           \
    const auto pdadmm_status_ = (expr);                                                          \
    if (!::pdadmm::gpu_ok(pdadmm_status_))                                                       \
      ::pdadmm::on_fail(lib, #expr, __FILE__, __LINE__, ::pdadmm::gpu_error_string(pdadmm_status_)); \
  } while (0)

#define CUDA_CHECK(expr) PDADMM_GPU_CHECK_WITH("CUDA", expr, gpu_check_failed)
#define CUBLAS_CHECK(expr) PDADMM_GPU_CHECK_WITH("cuBLAS", expr, gpu_check_failed)
#define CUSPARSE_CHECK(expr) PDADMM_GPU_CHECK_WITH("cuSPARSE", expr, gpu_check_failed)
#define CUDA_CHECK_NOTHROW(expr) PDADMM_GPU_CHECK_WITH("CUDA", expr, gpu_check_warn)
#define CUBLAS_CHECK_NOTHROW(expr) PDADMM_GPU_CHECK_WITH("cuBLAS", expr, gpu_check_warn)
#define CUSPARSE_CHECK_NOTHROW(expr) PDADMM_GPU_CHECK_WITH("cuSPARSE", expr, gpu_check_warn)
#if defined(PDADMM_HAVE_NCCL)
#define NCCL_CHECK(expr) PDADMM_GPU_CHECK_WITH("NCCL", expr, gpu_check_failed)
#define NCCL_CHECK_NOTHROW(expr) PDADMM_GPU_CHECK_WITH("NCCL", expr, gpu_check_warn)
#endif

// After every <<<>>>: launch-configuration errors surface here. With PDADMM_CUDA_SYNC_CHECK the
// stream is also synchronised, so an asynchronous fault is reported at the kernel that caused it.
#if defined(PDADMM_CUDA_SYNC_CHECK)
#define CUDA_LAUNCH_CHECK(stream)            \
  do {                                       \
    CUDA_CHECK(cudaGetLastError());          \
    CUDA_CHECK(cudaStreamSynchronize(stream)); \
  } while (0)
#else
#define CUDA_LAUNCH_CHECK(stream) \
  do {                            \
    (void)(stream);               \
    CUDA_CHECK(cudaGetLastError()); \
  } while (0)
#endif
