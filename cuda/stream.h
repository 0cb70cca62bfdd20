// RAII for CUDA streams, events and the current device. All move-only; destructors never throw.
#pragma once
#include <cuda_runtime_api.h>

namespace pdadmm {

// Whether `device`'s primary context is active in this process (the driver's
// cuDevicePrimaryCtxGetState, reached through the runtime without linking libcuda). True when the
// driver cannot say. Since CUDA 12, cudaSetDevice creates the primary context of the device it
// selects, so the scopes below restore the previous device only where it has a context: a thread
// that never chose a device reports device 0, and "restoring" it would make a context on GPU 0
// (about 0.5 GiB) in every process whose groups run on other GPUs (mpirun: one per GPU).
bool device_context_active(int device) noexcept;

// Makes `device` current for the scope and restores the previous device after it (unless that
// device has no context: then `device` stays current, see device_context_active). Only calls
// cudaSetDevice when the device actually changes (cheap enough to use in every Ops call).
class DeviceScope {
 public:
  explicit DeviceScope(int device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
  bool changed_ = false;
};

// For destructors and free paths: like DeviceScope, but failures are logged, never thrown.
class DeviceScopeNoThrow {
 public:
  explicit DeviceScopeNoThrow(int device) noexcept;
  ~DeviceScopeNoThrow();
  DeviceScopeNoThrow(const DeviceScopeNoThrow&) = delete;
  DeviceScopeNoThrow& operator=(const DeviceScopeNoThrow&) = delete;

 private:
  int previous_ = -1;
  bool changed_ = false;
};

class Stream {
 public:
  Stream() = default;
  // non_blocking: no implicit synchronisation with the legacy default stream (comm streams);
  // compute streams stay blocking so work on cudaStreamLegacy orders after them.
  Stream(int device, bool non_blocking);
  ~Stream() { reset(); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;

  cudaStream_t get() const { return stream_; }
  int device() const { return device_; }
  void sync() const;
  void reset() noexcept;

 private:
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
};

class Event {
 public:
  Event() = default;
  // timing = false creates the cheaper cudaEventDisableTiming event used for ordering.
  Event(int device, bool timing);
  ~Event() { reset(); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept;
  Event& operator=(Event&& o) noexcept;

  cudaEvent_t get() const { return event_; }
  int device() const { return device_; }
  void record(cudaStream_t s);
  // Makes `s` (any device) wait for the last record of this event.
  void wait_on(cudaStream_t s) const;
  void sync() const;
  bool done() const;  // cudaEventQuery: true once the recorded work completed
  // Milliseconds between `start` and this event (both timing events, both completed).
  float elapsed_ms_since(const Event& start) const;
  void reset() noexcept;

 private:
  int device_ = 0;
  cudaEvent_t event_ = nullptr;
};

}  // namespace pdadmm
