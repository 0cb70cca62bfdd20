// cuda/cuda_backend.h for the host: each entry point forwards to libpdadmm_cuda.so's table
// (cuda/cuda_api.h), opened beside the executable on first use, so a CPU run never loads the
// CUDA libraries and a module that cannot load is one error line, not a binary that cannot start.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cuda/cuda_api.h"
#include "host/io/error.h"
#include "host/io/version.h"

// Defined where a binary links the CUDA objects itself (the cuda_* tests, pdadmm_gpu_bench).
extern "C" const pdadmm::CudaApi* pdadmm_cuda_api() __attribute__((weak));

namespace pdadmm {
namespace {

struct Module {
  const CudaApi* api = nullptr;
  std::string error;  // why api is null
};

std::string module_path() {
  if (const char* env = std::getenv("PDADMM_CUDA_MODULE"); env && *env) return env;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ((ec ? std::filesystem::path(".") : exe.parent_path()) / "libpdadmm_cuda.so").string();
}

Module open_module() {
  Module m;
  if (pdadmm_cuda_api) {
    m.api = pdadmm_cuda_api();
    return m;
  }
  const std::string path = module_path();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // never closed: its objects outlive callers
  if (!handle) {
    const char* why = dlerror();
    m.error = "the CUDA backend could not be loaded (" + std::string(why ? why : path) + ")";
    return m;
  }
  auto entry = reinterpret_cast<const CudaApi* (*)()>(dlsym(handle, "pdadmm_cuda_api"));
  if (!entry) {
    m.error = path + " is not pdadmm's CUDA backend (it has no pdadmm_cuda_api)";
    return m;
  }
  const CudaApi* api = entry();
  if (!api) {
    m.error = path + " is not pdadmm's CUDA backend (its pdadmm_cuda_api returned no table)";
    return m;
  }
  // The version leads every layout; the rest is read only where it is this build's.
  const bool same_layout = api->version == kCudaApiVersion && api->size == sizeof(CudaApi);
  if (!same_layout || build_commit() != api->commit) {
    const std::string theirs =
        same_layout ? "commit " + std::string(api->commit) : "interface version " + std::to_string(api->version);
    const std::string ours =
        same_layout ? build_commit() : "version " + std::to_string(kCudaApiVersion);
    m.error = path + " is from another build (" + theirs + "; this pdadmm is " + ours + "): build both again (tools/build.sh)";
    return m;
  }
  m.api = api;
  return m;
}

const Module& module() {
  static const Module m = open_module();
  return m;
}

const CudaApi& api() {
  const Module& m = module();
  if (!m.api) throw Error("backend \"cuda\": " + m.error);
  return *m.api;
}

}  // namespace

bool cuda_compiled() { return true; }

int cuda_device_count() { return module().api ? module().api->device_count() : 0; }

std::string cuda_unavailable_reason() {
  return module().api ? module().api->unavailable_reason() : module().error;
}

std::vector<CudaDeviceInfo> cuda_devices() {
  return module().api ? module().api->devices() : std::vector<CudaDeviceInfo>{};
}

std::unique_ptr<Ops<float>> make_cuda_ops(int device) { return api().make_ops(device, CudaOpsOptions{}); }

std::unique_ptr<Ops<float>> make_cuda_ops(int device, const CudaOpsOptions& options) {
  return api().make_ops(device, options);
}

std::unique_ptr<Ops<double>> make_cuda_ops_double(int device) { return api().make_ops_double(device); }

std::unique_ptr<Transport> make_cuda_transport(const std::vector<int>& devices) {
  return api().make_transport(devices);
}

std::unique_ptr<Transport> make_cuda_transport_for_ops(const std::vector<Ops<float>*>& group_ops) {
  return api().make_transport_for_ops(group_ops);
}

std::unique_ptr<Transport> make_cuda_process_transport(std::unique_ptr<Transport> host,
                                                       const std::vector<Ops<float>*>& group_ops, bool nccl) {
  return api().make_process_transport(std::move(host), group_ops, nccl);
}

std::string cuda_transport_kind(const Transport& transport) {
  return module().api ? module().api->transport_kind(transport) : "none";
}

}  // namespace pdadmm
