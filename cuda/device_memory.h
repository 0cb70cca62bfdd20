// Owning, move-only device and pinned-host buffers. Every device allocation of the project goes
// through device_alloc here, so an out-of-memory error always names the device and the bytes.
#pragma once
#include <cstddef>
#include <utility>

namespace pdadmm {

// Allocates `bytes` on `device` (uninitialised); throws Error naming the device, the bytes and
// `what` on failure. bytes == 0 returns nullptr.
void* device_alloc(int device, size_t bytes, const char* what);
// Frees memory from device_alloc; never throws (logs a warning on failure).
void device_free(int device, void* p) noexcept;
void* pinned_alloc(size_t bytes, const char* what);
void pinned_free(void* p) noexcept;

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(int device, size_t count, const char* what = "buffer")
      : device_(device), count_(count), data_(static_cast<T*>(device_alloc(device, count * sizeof(T), what))) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      swap(o);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  int device() const { return device_; }
  void reset() noexcept {
    if (data_) device_free(device_, data_);
    data_ = nullptr;
    count_ = 0;
  }

 private:
  void swap(DeviceBuffer& o) noexcept {
    std::swap(device_, o.device_);
    std::swap(count_, o.count_);
    std::swap(data_, o.data_);
  }
  int device_ = 0;
  size_t count_ = 0;
  T* data_ = nullptr;
};

// Page-locked host memory: the only host memory cudaMemcpyAsync copies truly asynchronously.
template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t count, const char* what = "pinned buffer")
      : count_(count), data_(static_cast<T*>(pinned_alloc(count * sizeof(T), what))) {}
  ~PinnedBuffer() { reset(); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept { swap(o); }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      swap(o);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  void reset() noexcept {
    if (data_) pinned_free(data_);
    data_ = nullptr;
    count_ = 0;
  }

 private:
  void swap(PinnedBuffer& o) noexcept {
    std::swap(count_, o.count_);
    std::swap(data_, o.data_);
  }
  size_t count_ = 0;
  T* data_ = nullptr;
};

}  // namespace pdadmm
