// The single failure path of the GPU check macros (cuda/check.h): one message format for CUDA,
// cuBLAS, cuSPARSE and NCCL errors, thrown as pdadmm::Error or printed from destructors.
#include "cuda/check.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "host/io/error.h"

namespace pdadmm {

namespace {

std::string format_failure(const char* lib, const char* expr, const char* file, int line,
                           const std::string& what) {
  int device = -1;
  // The query may itself fail (no driver, broken context): then the device is unknown.
  const std::string dev = cudaGetDevice(&device) == cudaSuccess ? std::to_string(device) : std::string("?");
  (void)cudaGetLastError();
  return std::string(lib) + " error on device " + dev + " at " + file + ":" + std::to_string(line) + ": " +
         expr + " failed: " + what;
}

}  // namespace

void gpu_check_failed(const char* lib, const char* expr, const char* file, int line, const std::string& what) {
  throw Error(format_failure(lib, expr, file, line, what));
}

// After a sticky error (an illegal address, a failed launch) every later free, sync and destroy
// of the teardown fails the same way: a 10-layer run printed ~150 lines under the one error. A
// call site warns once per error; the same failure from it again is not shown.
void gpu_check_warn(const char* lib, const char* expr, const char* file, int line,
                    const std::string& what) noexcept {
  // Never destroyed: static objects' destructors may warn after this function's statics are gone.
  static auto* mu = new std::mutex;
  static auto* warned = new std::set<std::tuple<std::string, int, std::string>>;
  try {
    std::lock_guard<std::mutex> hold(*mu);
    if (!warned->emplace(file, line, what).second) return;  // a shared helper's other error still shows
  } catch (...) {
  }
  try {
    std::fprintf(stderr, "pdadmm: warning: %s\n", format_failure(lib, expr, file, line, what).c_str());
  } catch (...) {
    std::fprintf(stderr, "pdadmm: warning: %s error at %s:%d\n", lib, file, line);
  }
}

std::string gpu_error_string(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

std::string gpu_error_string(cublasStatus_t s) {
  return std::string(cublasGetStatusName(s)) + " (" + cublasGetStatusString(s) + ")";
}

std::string gpu_error_string(cusparseStatus_t s) {
  return std::string(cusparseGetErrorName(s)) + " (" + cusparseGetErrorString(s) + ")";
}

#if defined(PDADMM_HAVE_NCCL)
std::string gpu_error_string(ncclResult_t r) { return ncclGetErrorString(r); }
#endif

}  // namespace pdadmm
