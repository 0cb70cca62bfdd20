// The CUDA backend's entry points, exported by libpdadmm_cuda.so as one table (cuda/cuda_api.h):
// device discovery that never throws, and the factories for CudaOps and the CUDA transports with
// one-line user errors.
#include "cuda/cuda_api.h"

#include <cuda_runtime_api.h>

#include <set>
#include <string>

#include "cuda/check.h"
#include "cuda/cuda_ops.h"
#include "cuda/device_transport.h"
#include "cuda/staged_transport.h"
#include "host/comm/split_transport.h"
#include "cuda/stream.h"
#include "host/io/error.h"
#include "pdadmm_version.h"
#if defined(PDADMM_HAVE_NCCL)
#include "cuda/nccl_transport.h"
#endif

namespace pdadmm {
namespace cuda_module {

std::string unavailable_reason();

namespace {

// cudaGetDeviceCount fails (e.g. cudaErrorInsufficientDriver) rather than reporting 0 on a
// machine without a driver: any failure means "no GPU", with the error kept as the reason.
struct DeviceCount {
  int count = 0;
  cudaError_t error = cudaSuccess;
};

DeviceCount query_device_count() {
  DeviceCount d;
  d.error = cudaGetDeviceCount(&d.count);
  if (d.error != cudaSuccess) {
    (void)cudaGetLastError();
    d.count = 0;
  }
  return d;
}

void require_device(int device) {
  const DeviceCount d = query_device_count();
  if (d.count == 0) throw Error("backend \"cuda\": no CUDA device is visible (" + unavailable_reason() + ")");
  if (device < 0 || device >= d.count)
    throw Error("backend \"cuda\": device " + std::to_string(device) + " does not exist (" +
                std::to_string(d.count) + " visible: 0.." + std::to_string(d.count - 1) + ")");
}

}  // namespace

int device_count() { return query_device_count().count; }

std::string unavailable_reason() {
  const DeviceCount d = query_device_count();
  if (d.error != cudaSuccess) return "cudaGetDeviceCount failed: " + gpu_error_string(d.error);
  if (d.count == 0) return "the CUDA driver reports no device";
  return "";
}

std::vector<CudaDeviceInfo> devices() {
  std::vector<CudaDeviceInfo> out;
  const int n = device_count();
  for (int i = 0; i < n; ++i) {
    CudaDeviceInfo info;
    info.id = i;
    // A GPU this process cannot use (exclusive-process mode, taken by another process, a driver or
    // ECC fault) is listed with no free memory and why, not an error for `info` and the benchmark's
    // machine lines.
    size_t free_b = 0, total_b = 0;
    try {
      cudaDeviceProp prop{};
      CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
      info.name = prop.name;
      info.total_bytes = prop.totalGlobalMem;
      info.cc_major = prop.major;
      info.cc_minor = prop.minor;
      DeviceScope scope(i);
      CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    } catch (const Error& e) {
      (void)cudaGetLastError();
      free_b = 0;
      info.name = (info.name.empty() ? "GPU " + std::to_string(i) : info.name) + " (unavailable: " + e.what() + ")";
    }
    info.free_bytes = free_b;
    out.push_back(info);
  }
  return out;
}

std::unique_ptr<Ops<float>> make_ops(int device, const CudaOpsOptions& options) {
  require_device(device);
  return std::make_unique<CudaOps<float>>(device, options.tf32, options.group);
}

std::unique_ptr<Ops<double>> make_ops_double(int device) {
  require_device(device);
  return std::make_unique<CudaOps<double>>(device, false);
}

namespace {

std::unique_ptr<Transport> transport_for(const std::vector<int>& devices, const std::vector<cudaStream_t>& order) {
  if (devices.empty()) throw Error("backend \"cuda\": a transport needs at least one group");
  for (int d : devices) require_device(d);
  const bool distinct = std::set<int>(devices.begin(), devices.end()).size() == devices.size();
#if defined(PDADMM_HAVE_NCCL)
  if (distinct && devices.size() >= 2) return std::make_unique<NcclTransport>(devices, order);
#else
  (void)distinct;
#endif
  return std::make_unique<DeviceTransport>(devices, order);
}

}  // namespace

std::unique_ptr<Transport> make_transport(const std::vector<int>& devices) {
  return transport_for(devices, std::vector<cudaStream_t>(devices.size(), cudaStreamLegacy));
}

std::unique_ptr<Transport> make_transport_for_ops(const std::vector<Ops<float>*>& group_ops) {
  std::vector<int> devices;
  std::vector<cudaStream_t> order;
  for (size_t g = 0; g < group_ops.size(); ++g) {
    auto* ops = dynamic_cast<CudaOps<float>*>(group_ops[g]);
    if (!ops)
      throw Error("backend \"cuda\": group " + std::to_string(g) + " does not use the CUDA backend (" +
                  (group_ops[g] ? group_ops[g]->name() : std::string("null")) + ")");
    devices.push_back(ops->device());
    order.push_back(ops->stream());
  }
  return transport_for(devices, order);
}

std::unique_ptr<Transport> make_process_transport(std::unique_ptr<Transport> host,
                                                  const std::vector<Ops<float>*>& group_ops, bool nccl) {
  std::vector<CudaOps<float>*> ops;
  int me = -1;  // this process's group; none in a growth stage with fewer groups than processes
  for (size_t g = 0; g < group_ops.size(); ++g) {
    ops.push_back(group_ops[g] ? dynamic_cast<CudaOps<float>*>(group_ops[g]) : nullptr);
    if (group_ops[g] && !ops.back())
      throw Error("backend \"cuda\": group " + std::to_string(g) + " does not use the CUDA backend (" +
                  group_ops[g]->name() + ")");
    if (host->local(static_cast<int>(g))) me = static_cast<int>(g);
  }
  if (!nccl) return std::make_unique<StagedTransport>(std::move(host), ops);
#if defined(PDADMM_HAVE_NCCL)
  ncclUniqueId id{};
  if (me == 0) NCCL_CHECK(ncclGetUniqueId(&id));
  host->share(0, &id, sizeof id);  // process 0 runs group 0 in every stage
  if (me < 0) return host;         // nothing to send: only shares reach this process
  if (!ops[me]) throw Error("backend \"cuda\": group " + std::to_string(me) + " has no CUDA Ops");
  auto messages = std::make_unique<NcclTransport>(host->groups(), me, ops[me]->device(), ops[me]->stream(), id);
  return std::make_unique<SplitTransport>(std::move(messages), std::move(host));
#else
  (void)me;
  throw Error("backend \"cuda\": this build has no NCCL; under mpirun set \"cuda\": {\"processes\": \"staged\"}");
#endif
}

std::string transport_kind(const Transport& t) {
#if defined(PDADMM_HAVE_NCCL)
  if (dynamic_cast<const NcclTransport*>(&t)) return "nccl";
#endif
  if (dynamic_cast<const DeviceTransport*>(&t)) return "device";
  if (dynamic_cast<const StagedTransport*>(&t)) return "staged";
  if (dynamic_cast<const SplitTransport*>(&t)) return "nccl-processes";
  return "other";
}

}  // namespace cuda_module
}  // namespace pdadmm

extern "C" const pdadmm::CudaApi* pdadmm_cuda_api() {
  namespace m = pdadmm::cuda_module;
  static const pdadmm::CudaApi api{pdadmm::kCudaApiVersion, sizeof(pdadmm::CudaApi), PDADMM_GIT_COMMIT,
                                   m::device_count, m::unavailable_reason, m::devices,
                                   m::make_ops, m::make_ops_double, m::make_transport,
                                   m::make_transport_for_ops, m::make_process_transport, m::transport_kind};
  return &api;
}
