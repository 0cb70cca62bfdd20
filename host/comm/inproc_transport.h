// In-process transport: one bounded mailbox per (sender, receiver, tag); groups are threads of
// one process and share nothing else. send copies the payload, so the sender may reuse its buffer.
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "host/comm/transport.h"

namespace pdadmm {

class InProcTransport final : public Transport {
 public:
  // capacity: messages a mailbox holds before send blocks (the schedule needs at most 1).
  explicit InProcTransport(int groups, size_t capacity = 2);
  ~InProcTransport() override;
  int groups() const override { return static_cast<int>(endpoints_.size()); }
  Endpoint& endpoint(int group) override;
  void shutdown() override;

 private:
  struct Mailbox {
    std::deque<std::vector<unsigned char>> messages;
  };
  class Ep;
  using Key = std::tuple<int, int, int>;  // from, to, tag
  void send(int from, int to, Tag tag, const void* data, size_t bytes);
  void recv(int to, int from, Tag tag, void* data, size_t bytes);

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Mailbox> boxes_;
  size_t capacity_;
  bool down_ = false;
  std::vector<std::unique_ptr<Ep>> endpoints_;
};

}  // namespace pdadmm
