// Stream, Event and DeviceScope (cuda/stream.h).
#include "cuda/stream.h"

#include <cuda.h>  // CUresult, CUdevice only: the driver function is looked up at run time

#include <utility>

#include "cuda/check.h"

namespace pdadmm {

namespace {

using PrimaryCtxGetState = CUresult (*)(CUdevice, unsigned int*, int*);

PrimaryCtxGetState primary_ctx_get_state() noexcept {
  static const PrimaryCtxGetState fn = []() noexcept -> PrimaryCtxGetState {
#if CUDART_VERSION < 12050
    return nullptr;  // no cudaGetDriverEntryPointByVersion before CUDA 12.5: unknown, the old restore
#else
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuDevicePrimaryCtxGetState", &p, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return reinterpret_cast<PrimaryCtxGetState>(p);
#endif
  }();
  return fn;
}

}  // namespace

bool device_context_active(int device) noexcept {
  const PrimaryCtxGetState fn = primary_ctx_get_state();
  if (!fn) return true;  // unknown: restore as CUDA 11 code would
  unsigned int flags = 0;
  int active = 0;
  // A runtime device ordinal is the driver's CUdevice (both count the visible devices).
  if (fn(static_cast<CUdevice>(device), &flags, &active) != CUDA_SUCCESS) return true;
  return active != 0;
}

DeviceScope::DeviceScope(int device) {
  CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) {
    CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceScope::~DeviceScope() {
  if (changed_ && device_context_active(previous_)) CUDA_CHECK_NOTHROW(cudaSetDevice(previous_));
}

DeviceScopeNoThrow::DeviceScopeNoThrow(int device) noexcept {
  if (cudaGetDevice(&previous_) != cudaSuccess) {
    (void)cudaGetLastError();
    return;
  }
  if (previous_ != device) {
    CUDA_CHECK_NOTHROW(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceScopeNoThrow::~DeviceScopeNoThrow() {
  if (changed_ && device_context_active(previous_)) CUDA_CHECK_NOTHROW(cudaSetDevice(previous_));
}

Stream::Stream(int device, bool non_blocking) : device_(device) {
  DeviceScope scope(device);
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, non_blocking ? cudaStreamNonBlocking : cudaStreamDefault));
}

Stream::Stream(Stream&& o) noexcept : device_(o.device_), stream_(std::exchange(o.stream_, nullptr)) {}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    reset();
    device_ = o.device_;
    stream_ = std::exchange(o.stream_, nullptr);
  }
  return *this;
}

void Stream::sync() const { CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void Stream::reset() noexcept {
  if (stream_) CUDA_CHECK_NOTHROW(cudaStreamDestroy(stream_));  // device-independent: no scope needed
  stream_ = nullptr;
}

Event::Event(int device, bool timing) : device_(device) {
  DeviceScope scope(device);
  CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
}

Event::Event(Event&& o) noexcept : device_(o.device_), event_(std::exchange(o.event_, nullptr)) {}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    reset();
    device_ = o.device_;
    event_ = std::exchange(o.event_, nullptr);
  }
  return *this;
}

void Event::record(cudaStream_t s) { CUDA_CHECK(cudaEventRecord(event_, s)); }
void Event::wait_on(cudaStream_t s) const { CUDA_CHECK(cudaStreamWaitEvent(s, event_, 0)); }
void Event::sync() const { CUDA_CHECK(cudaEventSynchronize(event_)); }

bool Event::done() const {
  const cudaError_t e = cudaEventQuery(event_);
  if (e == cudaErrorNotReady) {
    (void)cudaGetLastError();  // not an error: clear it so the next launch check does not see it
    return false;
  }
  CUDA_CHECK(e);
  return true;
}

float Event::elapsed_ms_since(const Event& start) const {
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, event_));
  return ms;
}

void Event::reset() noexcept {
  if (event_) CUDA_CHECK_NOTHROW(cudaEventDestroy(event_));
  event_ = nullptr;
}

}  // namespace pdadmm
