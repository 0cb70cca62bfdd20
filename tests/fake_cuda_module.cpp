// A stand-in for libpdadmm_cuda.so from another build (tests/backend_module_test.cpp): with
// PDADMM_FAKE_LAYOUT set, a table of another interface version (whose fields past the version the
// loader must not read), with PDADMM_FAKE_NULL set no table at all, else this layout with another
// commit.
#include <cstdlib>

#include "cuda/cuda_api.h"

extern "C" const pdadmm::CudaApi* pdadmm_cuda_api() {
  static pdadmm::CudaApi api{};
  if (std::getenv("PDADMM_FAKE_NULL") != nullptr) return nullptr;
  const bool other_layout = std::getenv("PDADMM_FAKE_LAYOUT") != nullptr;
  api.version = other_layout ? pdadmm::kCudaApiVersion + 98 : pdadmm::kCudaApiVersion;
  api.size = other_layout ? 16 : sizeof(pdadmm::CudaApi);
  api.commit = other_layout ? nullptr : "0123456789ab";
  return &api;
}
