// The CUDA backend as host code sees it: plain C++, no CUDA headers. Implemented in cuda/*.cu
// when the build has nvcc, and by cuda/cuda_stub.cpp (clear errors) when it does not.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "host/backend/ops.h"
#include "host/comm/transport.h"

namespace pdadmm {

struct CudaDeviceInfo {
  int id = 0;
  std::string name;
  size_t total_bytes = 0;
  size_t free_bytes = 0;
  int cc_major = 0;
  int cc_minor = 0;
};

bool cuda_compiled();
// Number of usable GPUs; 0 (never an exception) when built without CUDA, no driver, or no device.
int cuda_device_count();
// Why cuda_device_count() is 0, for the one-line error a user sees.
std::string cuda_unavailable_reason();
std::vector<CudaDeviceInfo> cuda_devices();

// Ops on one device; throws Error when the device does not exist or CUDA is unavailable.
std::unique_ptr<Ops<float>> make_cuda_ops(int device);
// Transport between groups whose tensors live on `devices[g]` (NCCL when every group has its own
// GPU and NCCL is built, device-to-device copies otherwise). Throws Error when unavailable.
std::unique_ptr<Transport> make_cuda_transport(const std::vector<int>& devices);

}  // namespace pdadmm
