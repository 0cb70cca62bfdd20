// Bounded mailboxes guarded by one mutex; payloads are copied on send and on recv.
#include "host/comm/inproc_transport.h"

#include <cstring>
#include <string>

#include "host/io/error.h"

namespace pdadmm {

class InProcTransport::Ep final : public Endpoint {
 public:
  Ep(InProcTransport* t, int g) : t_(t), g_(g) {}
  int group() const override { return g_; }
  void send(int peer, Tag tag, const void* data, size_t bytes) override { t_->send(g_, peer, tag, data, bytes); }
  void recv(int peer, Tag tag, void* data, size_t bytes) override { t_->recv(g_, peer, tag, data, bytes); }

 private:
  InProcTransport* t_;
  int g_;
};

InProcTransport::InProcTransport(int groups, size_t capacity) : capacity_(capacity) {
  require(groups >= 1, "transport: needs at least one group");
  for (int g = 0; g < groups; ++g) endpoints_.push_back(std::make_unique<Ep>(this, g));
}

InProcTransport::~InProcTransport() = default;

Endpoint& InProcTransport::endpoint(int group) {
  require(group >= 0 && group < groups(), "transport: no group " + std::to_string(group));
  return *endpoints_[group];
}

void InProcTransport::shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  down_ = true;
  cv_.notify_all();
}

void InProcTransport::send(int from, int to, Tag tag, const void* data, size_t bytes) {
  require(to >= 0 && to < groups() && to != from, "transport: bad peer " + std::to_string(to));
  std::vector<unsigned char> msg(bytes);
  if (bytes) std::memcpy(msg.data(), data, bytes);
  std::unique_lock<std::mutex> lock(mu_);
  Mailbox& box = boxes_[Key{from, to, static_cast<int>(tag)}];
  cv_.wait(lock, [&] { return down_ || box.messages.size() < capacity_; });
  if (down_) throw Error("transport: shut down while group " + std::to_string(from) + " was sending");
  box.messages.push_back(std::move(msg));
  cv_.notify_all();
}

void InProcTransport::recv(int to, int from, Tag tag, void* data, size_t bytes) {
  require(from >= 0 && from < groups() && from != to, "transport: bad peer " + std::to_string(from));
  std::unique_lock<std::mutex> lock(mu_);
  Mailbox& box = boxes_[Key{from, to, static_cast<int>(tag)}];
  cv_.wait(lock, [&] { return down_ || !box.messages.empty(); });
  if (box.messages.empty()) throw Error("transport: shut down while group " + std::to_string(to) + " was waiting");
  std::vector<unsigned char> msg = std::move(box.messages.front());
  box.messages.pop_front();
  cv_.notify_all();
  lock.unlock();
  if (msg.size() != bytes)
    throw Error("transport: group " + std::to_string(to) + " expected " + std::to_string(bytes) +
                " bytes from group " + std::to_string(from) + ", got " + std::to_string(msg.size()));
  if (bytes) std::memcpy(data, msg.data(), bytes);
}

}  // namespace pdadmm
