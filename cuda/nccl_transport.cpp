// NcclTransport (cuda/nccl_transport.h): sends are fire-and-forget on the comm stream behind an
// event from the compute stream; receives block the host (so wait time is measured, and a
// shutdown can interrupt them) and hand the data to the compute stream through an event.
#if defined(PDADMM_HAVE_NCCL)
#include "cuda/nccl_transport.h"

#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "cuda/check.h"
#include "host/io/error.h"

namespace pdadmm {

class NcclTransport::Ep final : public Endpoint {
 public:
  Ep(NcclTransport* t, int g) : t_(t), g_(g) {}
  int group() const override { return g_; }
  void send(int peer, Tag tag, const void* data, size_t bytes) override { t_->send(g_, peer, tag, data, bytes); }
  void recv(int peer, Tag tag, void* data, size_t bytes) override { t_->recv(g_, peer, tag, data, bytes); }

 private:
  NcclTransport* t_;
  int g_;
};

namespace {

// Waits for `e` on the host: spins briefly (messages usually land within microseconds of the
// wait starting), then sleeps in short steps; returns false once `stop` is true, even if `e`
// completed: shutdown() sets `stop` before it aborts the communicators, and an abort ends the
// pending NCCL kernels, so a completed event after a shutdown does not mean the data landed.
// While sleeping it asks NCCL for asynchronous errors every ~5 ms: a peer in another process that
// died or lost its connection sets no local flag, and the kernel would wait for ever. The query
// holds st.mu: shutdown() aborts (and frees) the communicator under that lock. On such an error the
// communicator is aborted here, as NCCL prescribes, before the throw: its kernels would otherwise
// wait on the lost peer for ever, and the unwinding's stream synchronisations and cudaFree with
// them, so that under mpirun the error line (printed after the unwinding) never came. Between
// processes too, unlike a failure of this process's own (~NcclTransport): the peer that an abort
// might wait for is the one that failed, and without it the wait is certain (not run on 2 GPUs).
bool wait_event(const Event& e, const std::atomic<bool>& stop, std::mutex& mu, ncclComm_t& comm, bool& aborted) {
  for (int64_t i = 0;; ++i) {  // 64-bit: a wait of days must not overflow the count
    if (e.done()) return !stop.load();
    if (stop.load(std::memory_order_relaxed)) return false;
    if (i < 1000) {
      std::this_thread::yield();
      continue;
    }
    if (i % 100 == 0) {
      std::lock_guard<std::mutex> lock(mu);
      if (aborted || !comm) return false;
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(comm, &async) == ncclSuccess && async != ncclSuccess && async != ncclInProgress) {
        NCCL_CHECK_NOTHROW(ncclCommAbort(comm));
        aborted = true;
        comm = nullptr;
        throw Error(std::string("NCCL: a peer's communication failed: ") + ncclGetErrorString(async));
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace

NcclTransport::NcclTransport(std::vector<int> devices, std::vector<cudaStream_t> order) {
  if (order.size() != devices.size()) throw Error("NcclTransport: one order stream per group is required");
  const int g_count = static_cast<int>(devices.size());
  std::vector<ncclComm_t> comms(devices.size(), nullptr);
  NCCL_CHECK(ncclCommInitAll(comms.data(), g_count, devices.data()));  // rank g <-> devices[g]
  groups_.resize(devices.size());
  std::vector<DeviceBuffer<uint8_t>> hello;  // connect()'s bytes: freed after the catch's aborts (see connect)
  try {
    for (int g = 0; g < g_count; ++g) adopt(g, devices[g], order[g], comms[g]);
    for (int g = 0; g < g_count; ++g) open_streams(g);
    connect(hello);
  } catch (...) {  // no destructor runs for a half-built object: the communicators go here
    for (int g = 0; g < g_count; ++g) {  // abort (destroy may wait on its peers), each once:
      const bool adopted = g < static_cast<int>(groups_.size()) && groups_[g];  // connect's wait may have
      ncclComm_t c = adopted ? groups_[g]->comm : comms[g];                    // aborted one already
      if (c) ncclCommAbort(c);
    }
    throw;
  }
}

NcclTransport::NcclTransport(int groups, int group, int device, cudaStream_t order, const ncclUniqueId& id) {
  if (group < 0 || group >= groups)
    throw Error("NcclTransport: group " + std::to_string(group) + " out of range (" + std::to_string(groups) + " groups)");
  processes_ = true;
  groups_.resize(static_cast<size_t>(groups));
  ncclComm_t comm = nullptr;
  {
    DeviceScope scope(device);
    NCCL_CHECK(ncclCommInitRank(&comm, groups, id, group));  // rank = group, as in one process
  }
  // On a failure of this process's own here the communicator is left to MPI_Abort, as in
  // ~NcclTransport (an abort is collective within a machine, and the other processes wait in
  // connect for this one); a peer's failure, which NCCL reports asynchronously, wait_event aborts.
  std::vector<DeviceBuffer<uint8_t>> hello;  // connect()'s bytes (see connect)
  adopt(group, device, order, comm);
  open_streams(group);
  connect(hello);
}

void NcclTransport::adopt(int g, int device, cudaStream_t order, ncclComm_t comm) {
  auto st = std::make_unique<Group>();
  st->device = device;
  st->order = order;
  st->comm = comm;
  groups_[g] = std::move(st);
}

void NcclTransport::open_streams(int g) {
  Group& st = *groups_[g];
  // Non-blocking: a pending ncclSend must never hold up work on the legacy default stream.
  st.comm_stream = Stream(st.device, /*non_blocking=*/true);
  st.mark = Event(st.device, false);
  st.recv_done = Event(st.device, false);
  if (endpoints_.size() < groups_.size()) endpoints_.resize(groups_.size());
  endpoints_[g] = std::make_unique<Ep>(this, g);
}

// NCCL connects two ranks at their first send/recv, inside that call, which then blocks the host
// until the peer takes part: a first recv from a peer that never sends would hang where
// shutdown() cannot reach it (on the group's mutex), and the first iteration would pay for the
// setup. So each group exchanges one byte with its neighbours g - 1 and g + 1 (the only peers
// the schedule talks to) here, all in one NCCL group call. `bytes` belongs to the constructor and
// outlives its catch: if a wait here throws (a peer's asynchronous error), the NCCL kernels still
// wait on that peer until the communicators are aborted, and freeing their buffers first would
// hang in cudaFree, which waits for the device.
void NcclTransport::connect(std::vector<DeviceBuffer<uint8_t>>& bytes) {
  bytes.resize(groups_.size());  // per local group: [0] sent, [1], [2] received
  for (size_t g = 0; g < groups_.size(); ++g)
    if (groups_[g]) {
      bytes[g] = DeviceBuffer<uint8_t>(groups_[g]->device, 3, "the NCCL connection bytes");
      DeviceScope scope(groups_[g]->device);  // a memset goes to a stream of the current device
      CUDA_CHECK(cudaMemsetAsync(bytes[g].data(), 0, 3, groups_[g]->comm_stream.get()));
    }
  NCCL_CHECK(ncclGroupStart());
  // A send or recv that fails inside the group call leaves it open, and the constructor's aborts
  // would be batched into it: it is ended on the way out whatever happens.
  struct GroupEnd {
    bool open = true;
    ~GroupEnd() {
      if (open) ncclGroupEnd();
    }
  } group_end;
  for (int g = 0; g < groups(); ++g) {
    if (!groups_[g]) continue;  // a group of another process
    Group& st = *groups_[g];
    uint8_t* recv_at = bytes[g].data() + 1;
    for (int peer : {g - 1, g + 1}) {
      if (peer < 0 || peer >= groups()) continue;
      NCCL_CHECK(ncclSend(bytes[g].data(), 1, ncclUint8, peer, st.comm, st.comm_stream.get()));
      NCCL_CHECK(ncclRecv(recv_at++, 1, ncclUint8, peer, st.comm, st.comm_stream.get()));
    }
  }
  group_end.open = false;
  NCCL_CHECK(ncclGroupEnd());
  for (auto& gp : groups_) {
    if (!gp) continue;
    DeviceScope scope(gp->device);
    gp->recv_done.record(gp->comm_stream.get());
    if (!wait_event(gp->recv_done, down_, gp->mu, gp->comm, gp->aborted))
      throw Error("transport: shut down while connecting");
  }
}

NcclTransport::~NcclTransport() {
  // Between processes, destroy and abort are collective within a machine: a process failing alone
  // waited in them for peers that waited on it, and no one reached MPI_Abort, nothing said. It
  // leaves the communicator to the abort that follows the error.
  if (processes_ && (down_ || std::uncaught_exceptions() > 0)) return;
  // Newer NCCL versions finalise communicators collectively within a node, so destroying them
  // one after another from one thread could wait on a peer not being destroyed yet: each is
  // closed from its own thread, all at once.
  std::vector<std::thread> closers;
  for (auto& gp : groups_) {
    Group* g = gp.get();
    if (!g) continue;  // a group of another process
    try {
      closers.emplace_back([g] { close(*g); });
    } catch (...) {
      close(*g);  // no thread to be had: close it here
    }
  }
  for (std::thread& t : closers) t.join();
}

void NcclTransport::close(Group& st) noexcept {
  std::lock_guard<std::mutex> lock(st.mu);
  if (!st.comm || st.aborted) return;
  DeviceScopeNoThrow scope(st.device);
  // A send nobody received would block ncclCommDestroy forever: give pending work a bounded
  // time, then abort instead.
  bool idle = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const cudaError_t e = cudaStreamQuery(st.comm_stream.get());
    if (e != cudaErrorNotReady) {
      (void)cudaGetLastError();
      idle = e == cudaSuccess;
      break;
    }
    (void)cudaGetLastError();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (idle) {
    NCCL_CHECK_NOTHROW(ncclCommDestroy(st.comm));
  } else {
    NCCL_CHECK_NOTHROW(ncclCommAbort(st.comm));
  }
  st.comm = nullptr;
}

Endpoint& NcclTransport::endpoint(int group) {
  if (group < 0 || group >= groups())
    throw Error("transport: group " + std::to_string(group) + " out of range (" + std::to_string(groups()) + " groups)");
  if (!endpoints_[group]) throw Error("transport: group " + std::to_string(group) + " runs in another process");
  return *endpoints_[group];
}

void NcclTransport::shutdown() {
  if (down_.exchange(true) || processes_) return;  // no other group here to wake (see ~NcclTransport)
  for (auto& gp : groups_) {
    if (!gp) continue;
    std::lock_guard<std::mutex> lock(gp->mu);
    if (!gp->comm || gp->aborted) continue;
    DeviceScopeNoThrow scope(gp->device);
    NCCL_CHECK_NOTHROW(ncclCommAbort(gp->comm));
    gp->aborted = true;
    gp->comm = nullptr;
  }
}

void NcclTransport::check_peer(int self, int peer) const {
  if (peer < 0 || peer >= groups() || peer == self)
    throw Error("transport: group " + std::to_string(self) + " cannot talk to group " + std::to_string(peer));
}

void NcclTransport::throw_down(int group, const char* what) const {
  throw Error("transport: shut down while group " + std::to_string(group) + " was " + what);
}

void NcclTransport::send(int from, int to, Tag tag, const void* data, size_t bytes) {
  check_peer(from, to);
  if (down_) throw_down(from, "sending");
  if (bytes == 0) return;
  Group& st = *groups_[from];
  DeviceScope scope(st.device);
  // cppcheck-suppress constStatement ; a braced key, which cppcheck reads as a statement
  auto& ring_ptr = st.rings[{to, static_cast<int>(tag)}];
  if (!ring_ptr) {
    ring_ptr = std::make_unique<Ring>();
    for (Staging& s : ring_ptr->slots) {
      s.copied = Event(st.device, false);
      s.sent = Event(st.device, false);
    }
  }
  Staging& s = ring_ptr->slots[ring_ptr->next];
  ring_ptr->next ^= 1;
  if (s.buffer.size() < bytes) {
    if (s.sent_recorded && !wait_event(s.sent, down_, st.mu, st.comm, st.aborted)) throw_down(from, "sending");
    const std::string what = std::string("the NCCL staging buffer for ") + (tag == Tag::P ? "p" : "q") +
                             " from group " + std::to_string(from) + " to group " + std::to_string(to);
    s.buffer = DeviceBuffer<uint8_t>(st.device, bytes, what.c_str());
  }
  // The staging copy runs on the order stream: `data` is read after the work that produced it,
  // and later work that rewrites `data` runs after the copy. Only a slot still being sent from
  // (two messages back) makes the order stream wait.
  if (s.sent_recorded) s.sent.wait_on(st.order);
  CUDA_CHECK(cudaMemcpyAsync(s.buffer.data(), data, bytes, cudaMemcpyDeviceToDevice, st.order));
  s.copied.record(st.order);
  std::lock_guard<std::mutex> lock(st.mu);
  if (st.aborted) throw_down(from, "sending");
  s.copied.wait_on(st.comm_stream.get());
  NCCL_CHECK(ncclSend(s.buffer.data(), bytes, ncclUint8, to, st.comm, st.comm_stream.get()));
  s.sent.record(st.comm_stream.get());
  s.sent_recorded = true;
}

void NcclTransport::recv(int to, int from, Tag tag, void* data, size_t bytes) {
  check_peer(to, from);
  if (down_) throw_down(to, "receiving");
  if (bytes == 0) return;
  (void)tag;  // NCCL matches point-to-point messages by order per peer; tags only label them
  Group& st = *groups_[to];
  DeviceScope scope(st.device);
  {
    std::lock_guard<std::mutex> lock(st.mu);
    if (st.aborted) throw_down(to, "receiving");
    st.mark.record(st.order);  // whatever still reads or writes `data` finishes first
    st.mark.wait_on(st.comm_stream.get());
    NCCL_CHECK(ncclRecv(data, bytes, ncclUint8, from, st.comm, st.comm_stream.get()));
    st.recv_done.record(st.comm_stream.get());
  }
  if (!wait_event(st.recv_done, down_, st.mu, st.comm, st.aborted)) throw_down(to, "receiving");
  // Only a receive that landed orders the compute stream: one that failed would hold it, and the
  // stream's synchronisation on the way out, for ever.
  st.recv_done.wait_on(st.order);
}

}  // namespace pdadmm
#endif
