// Transport: moves encoded boundary tensors between layer groups. One Endpoint per group;
// a group talks only to its neighbours, by peer group index and tag. The buffers live where
// the group's backend keeps its tensors (host memory for the CPU backend).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace pdadmm {

enum class Tag : int { P = 1, Q = 2 };

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual int group() const = 0;
  // Posts a send; returns once the buffer may be reused (the in-process transport copies it).
  virtual void send(int peer, Tag tag, const void* data, size_t bytes) = 0;
  // Blocks until the matching message from `peer` arrives and copies it into data. Throws Error
  // if the message length differs from `bytes` or the transport was shut down.
  virtual void recv(int peer, Tag tag, void* data, size_t bytes) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int groups() const = 0;
  virtual Endpoint& endpoint(int group) = 0;
  // Wakes every blocked recv with an error (used when one group fails).
  virtual void shutdown() = 0;
  // Whether this process runs `group`: every group in-process, one per rank under mpirun.
  virtual bool local(int group) const { return true; }
  // Copies `bytes` at `data` from the process that runs `group` to every process. Every process
  // calls it, in the same order (the solver's downloads between iterations); a no-op in-process.
  virtual void share(int group, void* data, size_t bytes) {}
  // Copies `bytes` at `data` from the process that runs group `from` to the one that runs `to`;
  // the others, and a process that runs both, do nothing. Every process calls it, in the same
  // order, as share (a tensor handed to its owner in the next stage, which no other process needs).
  virtual void give(int from, int to, void* data, size_t bytes) {}
};

// A transport around another: groups, shutdown, locality, shares and gives are the inner one's;
// subclasses change how messages move (endpoint).
class TransportDecorator : public Transport {
 public:
  explicit TransportDecorator(std::unique_ptr<Transport> inner) : inner_(std::move(inner)) {}
  int groups() const override { return inner_->groups(); }
  void shutdown() override { inner_->shutdown(); }
  bool local(int group) const override { return inner_->local(group); }
  void share(int group, void* data, size_t bytes) override { inner_->share(group, data, bytes); }
  void give(int from, int to, void* data, size_t bytes) override { inner_->give(from, to, data, bytes); }

 protected:
  Transport& inner() { return *inner_; }

 private:
  std::unique_ptr<Transport> inner_;
};

}  // namespace pdadmm
