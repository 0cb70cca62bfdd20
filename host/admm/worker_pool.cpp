// Generation-counted fork/join over persistent threads.
#include "host/admm/worker_pool.h"

namespace pdadmm {

WorkerPool::WorkerPool(int workers, std::function<void()> on_error) : on_error_(std::move(on_error)) {
  try {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { loop(i); });
  } catch (...) {  // no thread left for the system: join those started (a joinable one terminates)
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
