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
// Every visible GPU; one this process cannot use (another process holds it in exclusive-process
// mode) with 0 bytes free and " (unavailable: why)" after its name.
std::vector<CudaDeviceInfo> cuda_devices();

// Ops on one device; throws Error when the device does not exist or CUDA is unavailable.
std::unique_ptr<Ops<float>> make_cuda_ops(int device);
// Transport between groups whose tensors live on `devices[g]` (NCCL when every group has its own
// GPU and NCCL is built, device-to-device copies otherwise). Throws Error when unavailable.
std::unique_ptr<Transport> make_cuda_transport(const std::vector<int>& devices);

struct CudaOpsOptions {
  bool tf32 = false;  // SGEMM on TF32 tensor cores: faster, ~1e-3 relative error instead of ~1e-6
  int group = -1;     // layer group these Ops serve (>= 0): named in allocation errors
};
std::unique_ptr<Ops<float>> make_cuda_ops(int device, const CudaOpsOptions& options);
// Double-precision CudaOps (reference-parity tests).
std::unique_ptr<Ops<double>> make_cuda_ops_double(int device);
// Like make_cuda_transport, but each group's messages are ordered with the compute stream of
// group_ops[g] (which must come from make_cuda_ops) instead of the device's legacy default
// stream: no implicit synchronisation with other groups sharing the GPU. Throws Error otherwise.
std::unique_ptr<Transport> make_cuda_transport_for_ops(const std::vector<Ops<float>*>& group_ops);
// Under mpirun: the messages of this process's CUDA group (group_ops[g] non-null where `host`,
// the MPI transport, says g is local). nccl: ncclSend/ncclRecv in a communicator of one rank per
// group (process 0 makes the id, `host` broadcasts it; every process needs a GPU of its own);
// else staged through pinned host memory and carried by `host`. Every process calls this.
std::unique_ptr<Transport> make_cuda_process_transport(std::unique_ptr<Transport> host,
                                                       const std::vector<Ops<float>*>& group_ops, bool nccl);
// "nccl", "device", "staged" or "nccl-processes" for a transport from the functions above.
std::string cuda_transport_kind(const Transport& transport);

// The GPU of each of `groups` layer groups (config "devices"): the list in order when it names
// one device per group; a shorter list, or none (= GPUs 0..visible-1), is spread in contiguous
// blocks, so neighbouring groups share a GPU and only block edges cross between GPUs.
// Plain host logic (no CUDA calls), so `pdadmm info` can show the mapping without a GPU.
inline std::vector<int> cuda_group_devices(const std::vector<int>& configured, int groups, int visible) {
  std::vector<int> pool = configured;
  if (pool.empty())
    for (int d = 0; d < (visible > 0 ? visible : 1); ++d) pool.push_back(d);
  std::vector<int> out;
  if (groups > 0) out.reserve(groups);
  const int n = static_cast<int>(pool.size());
  for (int g = 0; g < groups; ++g)
    out.push_back(n >= groups ? pool[g] : pool[static_cast<int>(static_cast<long long>(g) * n / groups)]);
  return out;
}

// Under mpirun with NCCL between the processes, no "devices" list and no CUDA_VISIBLE_DEVICES: the error line when the
// `local` processes of a machine outnumber its `visible` GPUs, else empty. NCCL refuses two ranks
// of a communicator on one GPU with "invalid usage", its reason logged only under NCCL_DEBUG.
inline std::string nccl_placement_problem(int local, int visible) {
  if (local <= visible) return "";
  return "cuda.processes \"nccl\": mpirun put " + std::to_string(local) + " processes on this machine, which has " +
         std::to_string(visible) + " GPU(s), and NCCL needs a GPU for each; run at most " + std::to_string(visible) +
         " per machine, or set cuda.processes to \"staged\" (through host memory: GPUs may be shared)";
}

}  // namespace pdadmm
