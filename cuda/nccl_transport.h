// NcclTransport: one process, G GPUs (one per group), a communicator per group from
// ncclCommInitAll and ncclSend/ncclRecv on a per-group communication stream; or, under mpirun,
// this process's one group in a communicator from ncclCommInitRank (groups of other processes null).
// Bytes on the wire: a message of `bytes` bytes is one ncclSend of count = bytes, ncclUint8 —
// exactly the encoded payload, no header. NCCL cannot check lengths, so both sides must ask for
// the same size (the schedule derives it from the shape and WireSpec on both sides); zero-byte
// messages are skipped on both sides.
#pragma once
#if defined(PDADMM_HAVE_NCCL)
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "cuda/device_memory.h"
#include "cuda/stream.h"
#include "host/comm/transport.h"

namespace pdadmm {

class NcclTransport final : public Transport {
 public:
  // devices[g]: the GPU of group g, all distinct. order[g]: the stream group g orders its
  // messages with (its compute stream, or cudaStreamLegacy = all blocking streams of the device).
  NcclTransport(std::vector<int> devices, std::vector<cudaStream_t> order);
  // One group of an mpirun launch: this process runs `group` of `groups` on `device`, in a
  // communicator of one rank per group made from `id` (process 0's ncclGetUniqueId, broadcast).
  NcclTransport(int groups, int group, int device, cudaStream_t order, const ncclUniqueId& id);
  ~NcclTransport() override;
  int groups() const override { return static_cast<int>(groups_.size()); }
  Endpoint& endpoint(int group) override;
  // Aborts every communicator, so a recv blocked on a failed peer returns with an Error. Between
  // processes it leaves the communicator alone (see ~NcclTransport).
  void shutdown() override;

  // send: copies `data` into a staging slot on order[from] (so `data` may be rewritten right
  // after, in stream order), then posts ncclSend on the comm stream and returns without waiting:
  // the transfer overlaps whatever the group computes next. recv: posts ncclRecv into `data` on
  // the comm stream after the work queued on order[to], and waits (host) until it has landed.
  void send(int from, int to, Tag tag, const void* data, size_t bytes);
  void recv(int to, int from, Tag tag, void* data, size_t bytes);

 private:
  struct Staging {
    DeviceBuffer<uint8_t> buffer;
    Event copied;  // the payload is in `buffer`
    Event sent;    // ncclSend finished reading `buffer`
    bool sent_recorded = false;
  };
  struct Ring {
    std::array<Staging, 2> slots;  // two in flight per (peer, tag) before the compute stream waits
    int next = 0;
  };
  struct Group {
    int device = 0;
    cudaStream_t order = nullptr;
    Stream comm_stream;
    ncclComm_t comm = nullptr;
    std::mutex mu;  // NCCL calls on `comm` vs shutdown's abort
    bool aborted = false;
    Event mark;       // on order: work queued before a recv
    Event recv_done;  // on comm_stream
    std::map<std::pair<int, int>, std::unique_ptr<Ring>> rings;  // (peer, tag), touched by its own thread only
  };
  class Ep;

  void adopt(int g, int device, cudaStream_t order, ncclComm_t comm);
  void open_streams(int g);
  // Connects every local group to its neighbours now, not at the first message (see the .cpp);
  // `bytes` holds the bytes exchanged and must outlive any abort of the communicators.
  void connect(std::vector<DeviceBuffer<uint8_t>>& bytes);
  void check_peer(int self, int peer) const;
  // Destroys st's communicator (aborts it if its stream still has work after 10 s).
  static void close(Group& st) noexcept;
  [[noreturn]] void throw_down(int group, const char* what) const;

  std::vector<std::unique_ptr<Group>> groups_;  // null: a group of another process
  std::vector<std::unique_ptr<Ep>> endpoints_;
  std::atomic<bool> down_{false};
  bool processes_ = false;  // one group of an mpirun launch
};

}  // namespace pdadmm
#endif
