// DeviceTransport: groups whose tensors live on GPUs of this process, without NCCL (several
// groups on one GPU, or a build without NCCL). One bounded mailbox of device slots per
// (sender, receiver, tag); payloads move with cudaMemcpyPeerAsync, ordered by CUDA events.
#pragma once
#include <cuda_runtime_api.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "cuda/device_memory.h"
#include "cuda/stream.h"
#include "host/comm/transport.h"

namespace pdadmm {

class DeviceTransport final : public Transport {
 public:
  // devices[g]: GPU of group g. order[g]: the stream group g's sends and receives are ordered
  // with: its compute stream, or cudaStreamLegacy, which orders after all blocking streams of the
  // device. capacity: slots per mailbox before send blocks (the schedule needs 1).
  DeviceTransport(std::vector<int> devices, std::vector<cudaStream_t> order, size_t capacity = 2);
  ~DeviceTransport() override;
  int groups() const override { return static_cast<int>(devices_.size()); }
  Endpoint& endpoint(int group) override;
  void shutdown() override;

  // send: waits (host) for a free slot, queues the peer copy on order[from] and returns; `data`
  // may be rewritten by later work on order[from]. recv: waits (host) for a message, queues the
  // copy into `data` on order[to] and returns; later work on order[to] sees the data.
  void send(int from, int to, Tag tag, const void* data, size_t bytes);
  void recv(int to, int from, Tag tag, void* data, size_t bytes);

 private:
  struct Slot {
    DeviceBuffer<uint8_t> buffer;  // on the receiver's device
    size_t bytes = 0;
    Event ready;  // sender's device: the payload is in `buffer`
    Event freed;  // receiver's device: the payload was copied out
    bool freed_recorded = false;
  };
  struct Mailbox {
    std::vector<Slot> slots;
    std::deque<int> full, empty;
  };
  using Key = std::tuple<int, int, int>;  // from, to, tag
  class Ep;

  Mailbox& mailbox(int from, int to, Tag tag);  // caller holds mu_
  void check_peer(int self, int peer) const;

  std::vector<int> devices_;
  std::vector<cudaStream_t> order_;
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, std::unique_ptr<Mailbox>> boxes_;
  bool down_ = false;
  std::vector<std::unique_ptr<Ep>> endpoints_;
};

}  // namespace pdadmm
