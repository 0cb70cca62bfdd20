// The CUDA backend's entry table. The CUDA code and the CUDA libraries (cuBLAS alone maps ~90 MB
// and its static data takes ~85 MB more) live in libpdadmm_cuda.so, which cuda/cuda_loader.cpp
// opens on the first use of cuda/cuda_backend.h: a CPU run never loads them, and a CUDA build
// runs its CPU path on a machine without them. Test binaries that link the CUDA objects
// themselves get the same table without dlopen.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"

namespace pdadmm {

// Raised when the table's layout changes, so that an old module is refused, not misread.
constexpr int kCudaApiVersion = 1;

struct CudaApi {
  int version;
  size_t size;         // sizeof(CudaApi) where the module was built
  const char* commit;  // the module's source commit (host/io/version.h's build_commit)
  int (*device_count)();
  std::string (*unavailable_reason)();
  std::vector<CudaDeviceInfo> (*devices)();
  std::unique_ptr<Ops<float>> (*make_ops)(int device, const CudaOpsOptions& options);
  std::unique_ptr<Ops<double>> (*make_ops_double)(int device);
  std::unique_ptr<Transport> (*make_transport)(const std::vector<int>& devices);
  std::unique_ptr<Transport> (*make_transport_for_ops)(const std::vector<Ops<float>*>& group_ops);
  std::unique_ptr<Transport> (*make_process_transport)(std::unique_ptr<Transport> host,
                                                       const std::vector<Ops<float>*>& group_ops, bool nccl);
  std::string (*transport_kind)(const Transport& transport);
};

}  // namespace pdadmm

// The module's one exported symbol.
extern "C" const pdadmm::CudaApi* pdadmm_cuda_api();
