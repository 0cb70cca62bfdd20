// SplitTransport: messages by one transport (NCCL between the GPUs of an mpirun launch), which
// groups are local and Transport::share by another (the MPI transport).
#pragma once
#include <memory>
#include <utility>

#include "host/comm/transport.h"

namespace pdadmm {

class SplitTransport final : public TransportDecorator {
 public:
  SplitTransport(std::unique_ptr<Transport> messages, std::unique_ptr<Transport> host)
      : TransportDecorator(std::move(host)), messages_(std::move(messages)) {}
  Endpoint& endpoint(int group) override { return messages_->endpoint(group); }
  void shutdown() override {
    messages_->shutdown();
    TransportDecorator::shutdown();
  }

 private:
  std::unique_ptr<Transport> messages_;
};

}  // namespace pdadmm
