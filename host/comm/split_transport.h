// SplitTransport: messages by one transport (NCCL between the GPUs of an mpirun launch), which
// groups are local and Transport::share by another (the MPI transport).
#pragma once
#include <memory>
#include <utility>

#include "host/comm/transport.h"

namespace pdadmm {

class SplitTransport final : public Transport {
 public:
  SplitTransport(std::unique_ptr<Transport> messages, std::unique_ptr<Transport> host)
      : messages_(std::move(messages)), host_(std::move(host)) {}
  int groups() const override { return host_->groups(); }
  Endpoint& endpoint(int group) override { return messages_->endpoint(group); }
  void shutdown() override {
    messages_->shutdown();
    host_->shutdown();
  }
  bool local(int group) const override { return host_->local(group); }
  void share(int group, void* data, size_t bytes) override { host_->share(group, data, bytes); }

 private:
  std::unique_ptr<Transport> messages_;
  std::unique_ptr<Transport> host_;
};

}  // namespace pdadmm
