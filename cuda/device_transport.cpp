// DeviceTransport (cuda/device_transport.h): host-side mailboxes of device slots. The host only
// waits for slot availability; the data dependencies are CUDA events between the two streams.
#include "cuda/device_transport.h"

#include <string>

#include "cuda/check.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

const char* tag_name(Tag t) { return t == Tag::P ? "p" : "q"; }

}  // namespace

class DeviceTransport::Ep final : public Endpoint {
 public:
  Ep(DeviceTransport* t, int g) : t_(t), g_(g) {}
  int group() const override { return g_; }
  void send(int peer, Tag tag, const void* data, size_t bytes) override { t_->send(g_, peer, tag, data, bytes); }
  void recv(int peer, Tag tag, void* data, size_t bytes) override { t_->recv(g_, peer, tag, data, bytes); }

 private:
  DeviceTransport* t_;
  int g_;
};

DeviceTransport::DeviceTransport(std::vector<int> devices, std::vector<cudaStream_t> order, size_t capacity)
    : devices_(std::move(devices)), order_(std::move(order)), capacity_(capacity < 1 ? 1 : capacity) {
  if (order_.size() != devices_.size()) throw Error("DeviceTransport: one order stream per group is required");
  for (int g = 0; g < groups(); ++g) endpoints_.push_back(std::make_unique<Ep>(this, g));
  // Direct peer copies where the hardware allows; cudaMemcpyPeerAsync stages through the host
  // otherwise, so a refusal here is not an error.
  for (int a : devices_)
    for (int b : devices_) {
      if (a == b) continue;
      int can = 0;
      if (cudaDeviceCanAccessPeer(&can, a, b) != cudaSuccess || !can) {
        (void)cudaGetLastError();
        continue;
      }
      DeviceScope scope(a);
      const cudaError_t e = cudaDeviceEnablePeerAccess(b, 0);
      if (e != cudaSuccess) (void)cudaGetLastError();  // cudaErrorPeerAccessAlreadyEnabled is fine
    }
}

DeviceTransport::~DeviceTransport() {
  shutdown();
  // Slots free their buffers with cudaFree, which waits for queued copies that still use them.
}

Endpoint& DeviceTransport::endpoint(int group) {
  if (group < 0 || group >= groups())
    throw Error("transport: group " + std::to_string(group) + " out of range (" + std::to_string(groups()) + " groups)");
  return *endpoints_[group];
}

void DeviceTransport::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = true;
  }
  cv_.notify_all();
}

void DeviceTransport::check_peer(int self, int peer) const {
  if (peer < 0 || peer >= groups() || peer == self)
    throw Error("transport: group " + std::to_string(self) + " cannot talk to group " + std::to_string(peer));
}

DeviceTransport::Mailbox& DeviceTransport::mailbox(int from, int to, Tag tag) {
  auto& box = boxes_[Key{from, to, static_cast<int>(tag)}];
  if (!box) {
    auto fresh = std::make_unique<Mailbox>();
    for (size_t i = 0; i < capacity_; ++i) {
      Slot s;
      s.ready = Event(devices_[from], false);
      s.freed = Event(devices_[to], false);
      fresh->slots.push_back(std::move(s));
      fresh->empty.push_back(static_cast<int>(i));
    }
    box = std::move(fresh);
  }
  return *box;
}

void DeviceTransport::send(int from, int to, Tag tag, const void* data, size_t bytes) {
  check_peer(from, to);
  Mailbox* box = nullptr;
  int idx = -1;
  {
    std::unique_lock<std::mutex> lock(mu_);
    box = &mailbox(from, to, tag);
    cv_.wait(lock, [&] { return down_ || !box->empty.empty(); });
    if (down_) throw Error("transport: shut down while group " + std::to_string(from) + " was sending");
    idx = box->empty.front();
    box->empty.pop_front();
  }
  Slot& s = box->slots[idx];
  try {
    DeviceScope scope(devices_[from]);
    const cudaStream_t stream = order_[from];
    if (s.buffer.size() < bytes) {
      if (s.freed_recorded) s.freed.sync();  // the old buffer may still be read by the receiver's copy
      const std::string what = std::string("the transport slot for ") + tag_name(tag) + " from group " +
                               std::to_string(from) + " to group " + std::to_string(to);
      s.buffer = DeviceBuffer<uint8_t>(devices_[to], bytes, what.c_str());
    }
    if (s.freed_recorded) s.freed.wait_on(stream);
    if (bytes)
      CUDA_CHECK(cudaMemcpyPeerAsync(s.buffer.data(), devices_[to], data, devices_[from], bytes, stream));
    s.ready.record(stream);
    s.bytes = bytes;
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    box->empty.push_front(idx);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    box->full.push_back(idx);
  }
  cv_.notify_all();
}

void DeviceTransport::recv(int to, int from, Tag tag, void* data, size_t bytes) {
  check_peer(to, from);
  Mailbox* box = nullptr;
  int idx = -1;
  {
    std::unique_lock<std::mutex> lock(mu_);
    box = &mailbox(from, to, tag);
    cv_.wait(lock, [&] { return down_ || !box->full.empty(); });
    if (down_) throw Error("transport: shut down while group " + std::to_string(to) + " was receiving");
    idx = box->full.front();
    const size_t got = box->slots[idx].bytes;
    if (got != bytes)  // leave the message queued: the schedule is broken, nothing should go on
      throw Error("transport: group " + std::to_string(to) + " expected " + std::to_string(bytes) + " bytes of " +
                  tag_name(tag) + " from group " + std::to_string(from) + ", got " + std::to_string(got));
    box->full.pop_front();
  }
  Slot& s = box->slots[idx];
  try {
    DeviceScope scope(devices_[to]);
    const cudaStream_t stream = order_[to];
    s.ready.wait_on(stream);
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(data, s.buffer.data(), bytes, cudaMemcpyDeviceToDevice, stream));
    s.freed.record(stream);
    s.freed_recorded = true;
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    box->full.push_front(idx);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    box->empty.push_back(idx);
  }
  cv_.notify_all();
}

}  // namespace pdadmm
