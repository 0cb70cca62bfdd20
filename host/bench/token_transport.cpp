// TokenTransport: release the compute token, then communicate.
#include "host/bench/token_transport.h"

namespace pdadmm {

class TokenTransport::Ep final : public Endpoint {
 public:
  Ep(Endpoint* inner, const std::vector<CountingOps*>* ops) : inner_(inner), ops_(ops) {}
  int group() const override { return inner_->group(); }
  void send(int peer, Tag tag, const void* data, size_t bytes) override {
    release();
    inner_->send(peer, tag, data, bytes);
  }
  void recv(int peer, Tag tag, void* data, size_t bytes) override {
    release();
    inner_->recv(peer, tag, data, bytes);
  }

 private:
  void release() {
    const int g = inner_->group();
    if (g < static_cast<int>(ops_->size()) && (*ops_)[g]) (*ops_)[g]->release_token();
  }
  Endpoint* inner_;
  const std::vector<CountingOps*>* ops_;
};

TokenTransport::TokenTransport(std::unique_ptr<Transport> inner, const std::vector<CountingOps*>* ops)
    : TransportDecorator(std::move(inner)) {
  for (int g = 0; g < groups(); ++g) eps_.push_back(std::make_unique<Ep>(&this->inner().endpoint(g), ops));
}

TokenTransport::~TokenTransport() = default;

Endpoint& TokenTransport::endpoint(int group) { return *eps_.at(static_cast<size_t>(group)); }

}  // namespace pdadmm
