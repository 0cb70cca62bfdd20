// Device and pinned allocation with errors that name the device and the bytes requested.
#include "cuda/device_memory.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "cuda/check.h"
#include "cuda/stream.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

std::string describe_bytes(size_t bytes) {
  char mib[32];
  std::snprintf(mib, sizeof mib, "%.1f", bytes / (1024.0 * 1024.0));
  return std::to_string(bytes) + " bytes (" + mib + " MiB)";
}

}  // namespace

void* device_alloc(int device, size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  // Selecting the device can fail too (no driver, bad id): report that as this allocation's error.
  int previous = -1;
  cudaError_t e = cudaGetDevice(&previous);
  const bool switch_device = e == cudaSuccess && previous != device;
  if (switch_device) e = cudaSetDevice(device);
  void* p = nullptr;
  if (e == cudaSuccess) e = cudaMalloc(&p, bytes);
  std::string avail;
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // out-of-memory is not sticky; leave no error behind for later checks
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
      avail = ", " + std::to_string(free_b >> 20) + " of " + std::to_string(total_b >> 20) + " MiB free";
    (void)cudaGetLastError();
  }
  // Not back to a device without a context: that would create one (see device_context_active).
  if (switch_device && device_context_active(previous)) CUDA_CHECK_NOTHROW(cudaSetDevice(previous));
  if (e != cudaSuccess)
    throw Error("CUDA: cannot allocate " + describe_bytes(bytes) + " on device " + std::to_string(device) + " for " +
                what + avail + ": " + gpu_error_string(e));
  return p;
}

void device_free(int device, void* p) noexcept {
  if (!p) return;
  DeviceScopeNoThrow scope(device);
  CUDA_CHECK_NOTHROW(cudaFree(p));
}

void* pinned_alloc(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t e = cudaMallocHost(&p, bytes);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw Error("CUDA: cannot allocate " + describe_bytes(bytes) + " of pinned host memory for " + what + ": " +
                gpu_error_string(e));
  }
  return p;
}

void pinned_free(void* p) noexcept {
  if (p) CUDA_CHECK_NOTHROW(cudaFreeHost(p));
}

}  // namespace pdadmm
