// Generation-counted fork/join over persistent threads.
#include "host/admm/worker_pool.h"

#include <string>
#include <system_error>

#include "host/io/error.h"

namespace pdadmm {

WorkerPool::WorkerPool(int workers, std::function<void()> on_error) : on_error_(std::move(on_error)) {
  try {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { loop(i); });
  } catch (const std::system_error& e) {
    // No thread left for the system: join those started (a joinable one terminates), then say so in
    // one line (10000 groups under ulimit -v printed "error: internal: Resource temporarily unavailable").
    const size_t started = threads_.size();
    stop_and_join();
    throw Error("could not start thread " + std::to_string(started + 1) + " of " + std::to_string(workers) +
                " (one per layer group, or per worker): " + e.what() +
                "; the system's limit on threads or address space (ulimit -u, ulimit -v, a container's pids limit) "
                "is reached: lower `groups` or `threads`");
  } catch (...) {
    stop_and_join();
    throw;
  }
}

WorkerPool::~WorkerPool() { stop_and_join(); }

void WorkerPool::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::run(const std::function<void(int)>& f) {
  std::unique_lock<std::mutex> lock(mu_);
  task_ = &f;
  error_ = nullptr;
  pending_ = size();
  ++generation_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return pending_ == 0; });
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void WorkerPool::loop(int id) {
  long seen = 0;
  for (;;) {
    const std::function<void(int)>* task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      task = task_;
    }
    try {
      (*task)(id);
    } catch (...) {
      bool first = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) {
          error_ = std::current_exception();
          first = true;
        }
      }
      if (first && on_error_) on_error_();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }
}

}  // namespace pdadmm
