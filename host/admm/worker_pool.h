// One long-lived thread per layer group. run(f) executes f(g) on thread g for every group and
// returns when all are done, rethrowing the first exception (after calling on_error so that
// groups blocked on a peer wake up).
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pdadmm {

class WorkerPool {
 public:
  explicit WorkerPool(int workers, std::function<void()> on_error = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  int size() const { return static_cast<int>(threads_.size()); }
  void run(const std::function<void(int)>& f);

 private:
  void loop(int id);
  void stop_and_join();
  std::vector<std::thread> threads_;
  std::function<void()> on_error_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(int)>* task_ = nullptr;
  long generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace pdadmm
