// host_parallel: the host passes between iterations on a pool of sleeping threads (see the header).
#include "host/admm/host_threads.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "host/admm/worker_pool.h"
#include "host/backend/cpu_ops.h"

namespace pdadmm {

namespace {

constexpr int64_t kMaxParts = 64;
std::atomic<int> g_threads{0};  // 0: the machine's cores
std::mutex g_mu;                // one call at a time uses the pool
std::unique_ptr<WorkerPool> g_pool;

}  // namespace

void set_host_threads(int threads) { g_threads = std::max(threads, 1); }

int host_threads() {
  const int t = g_threads;
  return t > 0 ? t : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int host_parts(int64_t n, int64_t min_part) {
  return static_cast<int>(std::clamp<int64_t>(n / std::max<int64_t>(min_part, 1), 1, kMaxParts));
}

void host_parallel(int parts, const std::function<void(int)>& f) {
  BlasSingleThread one;  // each part's GEMMs on its own thread
  const int threads = std::min(host_threads(), parts);
  std::unique_lock<std::mutex> lock(g_mu, std::try_to_lock);
  if (threads <= 1 || !lock.owns_lock()) {
    for (int i = 0; i < parts; ++i) f(i);
    return;
  }
  if (!g_pool || g_pool->size() != host_threads()) {
    g_pool.reset();
    g_pool = std::make_unique<WorkerPool>(host_threads());
  }
  const int stride = g_pool->size();
  g_pool->run([&](int t) {
    for (int i = t; i < parts; i += stride) f(i);
  });
}

}  // namespace pdadmm
