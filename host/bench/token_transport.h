// TokenTransport: a Transport decorator for `pdadmm bench --serialize`. Before a group sends or
// waits for a message it gives up the compute token of its CountingOps, so a group blocked on a
// peer never holds the token the peer needs.
#pragma once
#include <memory>
#include <vector>

#include "host/bench/counting_ops.h"
#include "host/comm/transport.h"

namespace pdadmm {

class TokenTransport final : public TransportDecorator {
 public:
  // ops: the groups' CountingOps, filled in by the time the first message moves.
  TokenTransport(std::unique_ptr<Transport> inner, const std::vector<CountingOps*>* ops);
  ~TokenTransport() override;
  Endpoint& endpoint(int group) override;

 private:
  class Ep;
  std::vector<std::unique_ptr<Ep>> eps_;
};

}  // namespace pdadmm
