// host_parallel: the host passes between iterations on sleeping threads or a lent group team (header).
#include "host/admm/host_threads.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
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
struct Team {
  const void* owner = nullptr;
  int threads = 0;
  std::function<void(const std::function<void()>&)> run;
} g_team;  // guarded by g_mu

// The parts in one parallel region of the team; OpenMP must not see an exception leave it.
void on_team(int threads, int parts, const std::function<void(int)>& f) {
  std::exception_ptr error;
  std::mutex error_mu;
  g_team.run([&] {
#pragma omp parallel num_threads(threads)
    for (int i = omp_get_thread_num(); i < parts; i += omp_get_num_threads()) {
      try {
        f(i);
      } catch (...) {
        std::lock_guard<std::mutex> l(error_mu);
        if (!error) error = std::current_exception();
      }
    }
  });
  if (error) std::rethrow_exception(error);
}

}  // namespace

void set_host_team(const void* owner, int threads, std::function<void(const std::function<void()>&)> run) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_team = Team{owner, threads, std::move(run)};
}

void clear_host_team(const void* owner) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_team.owner == owner) g_team = Team{};
}

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
  if (g_team.run && g_team.threads >= threads) return on_team(threads, parts, f);
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
