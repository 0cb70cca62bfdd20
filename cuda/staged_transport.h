// StagedTransport: the messages of CUDA groups carried by a host transport (MPI between the
// processes of an mpirun launch). The sender copies the encoded payload to host memory after the
// work queued on its group's stream; the receiver copies it back before later work on that
// stream. Which groups are local, and Transport::share, are the host transport's.
#pragma once
#include <memory>
#include <vector>

#include "cuda/cuda_ops.h"
#include "host/comm/transport.h"

namespace pdadmm {

class StagedTransport final : public TransportDecorator {
 public:
  // ops[g]: the CudaOps of group g where the host transport says it is local, else null.
  StagedTransport(std::unique_ptr<Transport> host, const std::vector<CudaOps<float>*>& ops);
  ~StagedTransport() override;
  Endpoint& endpoint(int group) override;

 private:
  class Ep;
  std::vector<std::unique_ptr<Ep>> eps_;  // null for groups of other processes
};

}  // namespace pdadmm
