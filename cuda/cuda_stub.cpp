// Built without nvcc (none found, or PDADMM_CUDA=OFF): the CUDA entry points exist and explain why they cannot run.
#include "cuda/cuda_backend.h"
#include "host/io/error.h"

namespace pdadmm {

bool cuda_compiled() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_unavailable_reason() {
#if defined(PDADMM_CUDA_OFF)
  return "this build has no CUDA backend (configured with -DPDADMM_CUDA=OFF)";
#else
  return "this build has no CUDA backend (nvcc was not found at configure time)";
#endif
}
std::vector<CudaDeviceInfo> cuda_devices() { return {}; }
std::unique_ptr<Ops<float>> make_cuda_ops(int) {
  throw Error("backend \"cuda\": " + cuda_unavailable_reason());
}
std::unique_ptr<Transport> make_cuda_transport(const std::vector<int>&) {
  throw Error("backend \"cuda\": " + cuda_unavailable_reason());
}
std::unique_ptr<Ops<float>> make_cuda_ops(int, const CudaOpsOptions&) {
  throw Error("backend \"cuda\": " + cuda_unavailable_reason());
}
std::unique_ptr<Ops<double>> make_cuda_ops_double(int) {
  throw Error("backend \"cuda\": " + cuda_unavailable_reason());
}
std::unique_ptr<Transport> make_cuda_transport_for_ops(const std::vector<Ops<float>*>&) {
  throw Error("backend \"cuda\": " + cuda_unavailable_reason());
}
std::unique_ptr<Transport> make_cuda_process_transport(std::unique_ptr<Transport>, const std::vector<Ops<float>*>&,
                                                       bool) {
  throw Error("backend \"cuda\": " + cuda_unavailable_reason());
}
std::string cuda_transport_kind(const Transport&) { return "none"; }

}  // namespace pdadmm
