// StagedTransport (cuda/staged_transport.h): synchronous staging through pinned host buffers.
#include "cuda/staged_transport.h"

#include <cuda_runtime_api.h>

#include <string>

#include "cuda/check.h"
#include "cuda/device_memory.h"
#include "cuda/stream.h"
#include "host/io/error.h"

namespace pdadmm {

class StagedTransport::Ep final : public Endpoint {
 public:
  Ep(Endpoint& inner, const CudaOps<float>& ops) : inner_(inner), device_(ops.device()), stream_(ops.stream()) {}
  int group() const override { return inner_.group(); }
  void send(int peer, Tag tag, const void* data, size_t bytes) override {
    void* h = staging(bytes);
    if (bytes) {
      DeviceScope scope(device_);
      CUDA_CHECK(cudaMemcpyAsync(h, data, bytes, cudaMemcpyDeviceToHost, stream_));
      CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    inner_.send(peer, tag, h, bytes);  // the host transport keeps its own copy
  }
  void recv(int peer, Tag tag, void* data, size_t bytes) override {
    void* h = staging(bytes);
    inner_.recv(peer, tag, h, bytes);
    if (!bytes) return;
    DeviceScope scope(device_);
    CUDA_CHECK(cudaMemcpyAsync(data, h, bytes, cudaMemcpyHostToDevice, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));  // before the staging buffer is reused
  }

 private:
  void* staging(size_t bytes) {
    if (bytes > host_.size()) {
      host_.reset();  // before the larger one: both at once may not fit
      DeviceScope scope(device_);
      host_ = PinnedBuffer<unsigned char>(bytes, "the staged transport's host buffer");  // a failure names the bytes
    }
    return host_.data();
  }
  Endpoint& inner_;
  int device_;
  cudaStream_t stream_;
  PinnedBuffer<unsigned char> host_;
};

StagedTransport::StagedTransport(std::unique_ptr<Transport> host, const std::vector<CudaOps<float>*>& ops)
    : TransportDecorator(std::move(host)) {
  require(static_cast<int>(ops.size()) == groups(), "staged transport: one Ops entry per group expected");
  for (int g = 0; g < groups(); ++g) {
    if (!local(g)) {
      eps_.push_back(nullptr);
      continue;
    }
    require(ops[g] != nullptr, "staged transport: group " + std::to_string(g) + " has no CUDA Ops");
    eps_.push_back(std::make_unique<Ep>(inner().endpoint(g), *ops[g]));
  }
}

StagedTransport::~StagedTransport() = default;

Endpoint& StagedTransport::endpoint(int group) {
  require(group >= 0 && group < groups() && eps_[group], "transport: group " + std::to_string(group) +
                                                            " runs in another process");
  return *eps_[group];
}

}  // namespace pdadmm
