// host_parallel (the host passes' threads) and the forward passes built on it: every part runs
// once, in parallel, errors reach the caller, and the bits do not depend on the thread count.
#include <gtest/gtest.h>
#include <omp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "host/admm/evaluator.h"
#include "host/admm/host_threads.h"
#include "host/admm/trainer.h"
#include "host/comm/cpu_load.h"
#include "host/comm/processes.h"
#include "host/data/rng.h"

namespace pdadmm {
namespace {

// Restores the default thread count after each test.
class HostThreads : public ::testing::Test {
 protected:
  void TearDown() override { set_host_threads(static_cast<int>(std::thread::hardware_concurrency())); }
};

bool same_bits(const HostMatrix<float>& a, const HostMatrix<float>& b) {
  return a.rows == b.rows && a.cols == b.cols && std::memcmp(a.data.data(), b.data.data(), a.data.size() * 4) == 0;
}

// threads = 0 means this process's cores: a process bound to one core (taskset, mpirun's default
// binding) must not start a thread per core of the machine.
TEST(ProcessCores, FollowTheAffinityMask) {
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  int first = 0;
  while (!CPU_ISSET(first, &before)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int bound = process_cores();
  ASSERT_EQ(sched_setaffinity(0, sizeof(before), &before), 0);
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: nothing to bind";
  EXPECT_EQ(bound, 1);
  EXPECT_GE(process_cores(), 1);
}

// `threads: 0` leaves the cores other processes keep busy (cpu_load.h): /proc/stat's per-CPU
// lines summed over the allowed CPUs, idle = idle + iowait, this process's own ticks subtracted.
TEST(CpuLoad, ParsesTheAllowedCpusOfProcStat) {
  const std::string text =
      "cpu  900 0 300 5000 100 0 0 0 0 0\n"
      "cpu0 100 5 50 1000 20 1 2 3 0 0\n"
      "cpu1 200 0 100 2000 30 0 0 0 0 0\n"
      "cpu12 7 0 0 3 0 0 0 0 0 0\n"
      "intr 12345 1 2\n"
      "ctxt 999\n";
  const CpuTicks both = parse_proc_stat(text, {0, 1});
  EXPECT_EQ(both.total, (100u + 5 + 50 + 1000 + 20 + 1 + 2 + 3) + (200u + 100 + 2000 + 30));
  EXPECT_EQ(both.busy, (100u + 5 + 50 + 1 + 2 + 3) + (200u + 100));
  const CpuTicks twelve = parse_proc_stat(text, {12});  // not cpu1 + "2"
  EXPECT_EQ(twelve.total, 10u);
  EXPECT_EQ(twelve.busy, 7u);
  EXPECT_EQ(parse_proc_stat(text, {5}).total, 0u);
}

TEST(CpuLoad, CountsOnlyOtherProcessesBusyTicks) {
  // Two cores over 100 ticks each: 150 busy ticks, 40 of them this process's: 1.1 cores elsewhere.
  const CpuTicks a{1000, 5000}, b{1150, 5200};
  EXPECT_DOUBLE_EQ(busy_elsewhere(a, b, 10, 50, 2), 1.1);
  EXPECT_DOUBLE_EQ(busy_elsewhere(a, b, 0, 0, 2), 1.5);
  EXPECT_DOUBLE_EQ(busy_elsewhere(a, b, 0, 200, 2), 0.0);  // never below 0
  EXPECT_DOUBLE_EQ(busy_elsewhere(a, a, 0, 0, 2), 0.0);    // no time passed
}

// A child process spinning on a core for 5 s (killed by the caller), running by the time it returns.
pid_t spinning_child() {
  const pid_t child = fork();
  if (child == 0) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    volatile uint64_t x = 0;
    while (std::chrono::steady_clock::now() < end) x = x + 1;
    _exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return child;
}

TEST(CpuLoad, SeesAnotherProcessSpinning) {
  const pid_t child = spinning_child();
  ASSERT_GE(child, 0);
  const double busy = measure_busy_elsewhere(300);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_GE(busy, 0) << "/proc could not be read";
  EXPECT_GE(busy, 0.3) << "a spinning child process was not counted";
  const int free = free_process_cores();
  EXPECT_GE(free, 1);
  EXPECT_LE(free, process_cores());
}

// The trainer measures again at each stage: remeasure sees what runs now, and free_process_cores
// gives its result from then on.
TEST(CpuLoad, RemeasureSeesWhatRunsNowAndIsKept) {
  free_process_cores();  // the first measurement, whenever it was
  const pid_t child = spinning_child();
  ASSERT_GE(child, 0);
  double busy = -2;
  const int free = remeasure_free_process_cores(&busy);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  if (process_cores() < 2) GTEST_SKIP() << "one core: nothing is measured";
  ASSERT_GE(busy, 0) << "/proc could not be read";
  EXPECT_GE(busy, 0.3) << "the spinning child started after the first measurement was not counted";
  double kept = -2;
  EXPECT_EQ(free_process_cores(&kept), free);
  EXPECT_EQ(kept, busy);
  EXPECT_GE(free, 1);
  EXPECT_LE(free, process_cores());
}

// The trainer's stage changes pass a minimum age: a measurement younger than that is kept, even
// while another process now spins, and one old enough is taken again.
TEST(CpuLoad, RemeasureKeepsAMeasurementYoungerThanTheMinimumAge) {
  if (process_cores() < 2) GTEST_SKIP() << "one core: nothing is measured";
  double first = -2;
  remeasure_free_process_cores(&first);
  ASSERT_GE(first, 0) << "/proc could not be read";
  const pid_t child = spinning_child();
  ASSERT_GE(child, 0);
  double kept = -2, again = -2;
  remeasure_free_process_cores(&kept, 3600);
  remeasure_free_process_cores(&again, 0.05);  // the first is older than 50 ms by now
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(kept, first) << "a measurement under an hour old was taken again";
  EXPECT_GE(again, 0.3) << "a measurement older than the minimum age was kept";
}

// free_process_cores in a fresh process (it measures once): run by FreeCoresAreNotMeasured..., which
// sets PDADMM_TEST_FREE_CORES; prints what it found.
TEST(CpuLoad, FreeCoresChild) {
  if (!std::getenv("PDADMM_TEST_FREE_CORES")) GTEST_SKIP() << "run by CpuLoad.FreeCoresAreNotMeasured...";
  double busy = 0;
  const int free = free_process_cores(&busy);
  std::printf("free_cores %d of %d busy %g\n", free, process_cores(), busy);
}

// Under mpirun (the processes share the machine by design and start together) and on one core,
// free_process_cores measures nothing (busy -1) and gives all the process's cores.
TEST(CpuLoad, FreeCoresAreNotMeasuredUnderMpirunOrOnOneCore) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  int first = 0;
  while (!CPU_ISSET(first, &allowed)) ++first;
  const std::string child = "/proc/" + std::to_string(getpid()) + "/exe --gtest_filter=CpuLoad.FreeCoresChild 2>&1";
  const auto found = [](const std::string& cmd) {
    FILE* f = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (f && std::fgets(buf, sizeof(buf), f)) out += buf;
    if (f) pclose(f);
    int free = 0, cores = 0;
    double busy = 0;
    const size_t at = out.find("free_cores ");
    if (at == std::string::npos || std::sscanf(out.c_str() + at, "free_cores %d of %d busy %lf", &free, &cores, &busy) != 3)
      ADD_FAILURE() << cmd << "\n" << out;
    return std::tuple{free, cores, busy};
  };
  const auto [one_free, one_cores, one_busy] = found("PDADMM_TEST_FREE_CORES=1 taskset -c " + std::to_string(first) + " " + child);
  EXPECT_EQ(one_cores, 1);
  EXPECT_EQ(one_free, 1);
  EXPECT_EQ(one_busy, -1) << "measured on one core";
  if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "one core: no mpirun case to tell apart";
  for (const char* launch : {"PMI_SIZE=2", "OMPI_COMM_WORLD_SIZE=2", "PMIX_SIZE=2"}) {
    const auto [free, cores, busy] = found("PDADMM_TEST_FREE_CORES=1 " + std::string(launch) + " " + child);
    EXPECT_GE(cores, 2) << launch;
    EXPECT_EQ(free, cores) << launch;
    EXPECT_EQ(busy, -1) << launch << ": measured under mpirun";
  }
}

TEST_F(HostThreads, PartsDependOnTheSizeAlone) {
  EXPECT_EQ(host_parts(0, 32), 1);
  EXPECT_EQ(host_parts(63, 32), 1);
  EXPECT_EQ(host_parts(64, 32), 2);
  EXPECT_EQ(host_parts(1000, 32), 31);
  EXPECT_EQ(host_parts(1 << 20, 32), 64);
  EXPECT_EQ(host_parts(5, 0), 5);
}

TEST_F(HostThreads, EveryPartRunsOnceWhateverTheThreadCount) {
  for (int threads : {1, 2, 3, 8})
    for (int parts : {1, 2, 5, 64}) {
      set_host_threads(threads);
      std::vector<std::atomic<int>> runs(static_cast<size_t>(parts));
      host_parallel(parts, [&](int i) { runs[static_cast<size_t>(i)]++; });
      for (int i = 0; i < parts; ++i) EXPECT_EQ(runs[static_cast<size_t>(i)], 1) << threads << " threads, part " << i;
    }
}

TEST_F(HostThreads, PartsRunAtTheSameTime) {
  set_host_threads(2);
  std::atomic<bool> seen[2] = {false, false};
  std::atomic<int> met{0};
  host_parallel(2, [&](int i) {
    seen[i] = true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!seen[1 - i] && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    if (seen[1 - i]) met++;
  });
  EXPECT_EQ(met, 2) << "each part must see the other running";
}

TEST_F(HostThreads, ErrorsReachTheCallerAndNestedCallsRunInline) {
  set_host_threads(3);
  EXPECT_THROW(host_parallel(6,
                             [](int i) {
                               if (i == 4) throw std::runtime_error("part 4");
                             }),
               std::runtime_error);
  std::atomic<int> inner{0};
  host_parallel(3, [&](int) { host_parallel(4, [&](int) { inner++; }); });
  EXPECT_EQ(inner, 12);
}

// Whether host_parallel's parts ran inside an OpenMP parallel region (a group's team) and of how
// many threads; -1 when they ran outside one (the sleeping pool or the caller).
int team_size_seen(int parts) {
  std::atomic<int> seen{0};
  host_parallel(parts, [&](int) { seen = omp_in_parallel() ? omp_get_num_threads() : -1; });
  return seen;
}

TEST_F(HostThreads, PassesRunInTheTeamSetUntilItsOwnerClearsIt) {
  set_host_threads(2);
  int owner = 0, other = 0;
  std::atomic<int> runs_of_team{0};
  set_host_team(&owner, 2, [&](const std::function<void()>& task) {
    runs_of_team++;
    std::thread(task).join();  // the task on another thread, as a group's worker runs it
  });
  std::vector<std::atomic<int>> runs(7);
  host_parallel(7, [&](int i) { runs[static_cast<size_t>(i)]++; });
  for (int i = 0; i < 7; ++i) EXPECT_EQ(runs[static_cast<size_t>(i)], 1) << "part " << i;
  EXPECT_EQ(runs_of_team, 1);
  EXPECT_EQ(team_size_seen(4), 2);
  EXPECT_EQ(team_size_seen(1), -1) << "one part runs on the caller";
  EXPECT_THROW(host_parallel(5,
                             [](int i) {
                               if (i == 3) throw std::runtime_error("part 3");
                             }),
               std::runtime_error);
  set_host_threads(3);  // more threads wanted than the team has: the pool
  EXPECT_EQ(team_size_seen(4), -1);
  set_host_threads(2);
  clear_host_team(&other);
  EXPECT_EQ(team_size_seen(4), 2) << "only the owner clears its team";
  clear_host_team(&owner);
  EXPECT_EQ(team_size_seen(4), -1);
}

// A solver with one CPU group of several threads lends its team to the host passes while it lives;
// with two groups (teams of one thread each) the passes stay on the pool.
TEST_F(HostThreads, OneGroupSolverLendsItsTeam) {
  set_host_threads(2);
  for (int groups : {1, 2}) {
    Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json",
                           {"model.layers=3", "threads=2", "groups=" + std::to_string(groups)});
    const Problem p = build_problem(c);
    std::vector<HostMatrix<float>> W, b;
    init_weights(p.dims, 0.1, 1, W, b);
    {
      auto solver = make_solver(c, p, W, b);
      solver->iterate(false);
      EXPECT_EQ(team_size_seen(4), groups == 1 ? 2 : -1) << groups << " groups";
    }
    EXPECT_EQ(team_size_seen(4), -1) << "the team goes with its solver";
  }
}

// A 3-layer forward pass over 333 columns (11 parts) against a float64 loop, and the same bits
// on 1, 2 and 5 threads.
TEST_F(HostThreads, ForwardPassMatchesFloat64AndKeepsItsBitsForAnyThreadCount) {
  const std::vector<int64_t> dims = {60, 50, 40, 7};
  std::vector<HostMatrix<float>> W, b;
  init_weights(dims, 0.2, 3, W, b);
  HostMatrix<float> x(dims[0], 333);
  Rng(9).normals(x.data.data(), x.size(), 1.0);
  for (float& v : x.data) v = std::fabs(v);

  std::vector<double> act(x.data.begin(), x.data.end());
  int64_t cols = x.cols;
  for (size_t l = 0; l < W.size(); ++l) {
    std::vector<double> z(static_cast<size_t>(W[l].rows * cols));
    for (int64_t r = 0; r < W[l].rows; ++r)
      for (int64_t j = 0; j < cols; ++j) {
        double v = b[l].data[static_cast<size_t>(r)];
        for (int64_t k = 0; k < W[l].cols; ++k) v += double(W[l](r, k)) * act[static_cast<size_t>(k * cols + j)];
        z[static_cast<size_t>(r * cols + j)] = (l + 1 < W.size() && v < 0) ? 0 : v;
      }
    act = std::move(z);
  }
  set_host_threads(1);
  const HostMatrix<float> one = forward_columns(W, b, x);
  ASSERT_EQ(one.rows, 7);
  ASSERT_EQ(one.cols, 333);
  double diff = 0, size = 0;
  for (size_t i = 0; i < act.size(); ++i) {
    diff = std::max(diff, std::fabs(one.data[i] - act[i]));
    size = std::max(size, std::fabs(act[i]));
  }
  EXPECT_GT(size, 0.1);
  EXPECT_LT(diff, 1e-5 * size);
  for (int threads : {2, 5}) {
    set_host_threads(threads);
    EXPECT_TRUE(same_bits(forward_columns(W, b, x), one)) << threads << " threads";
  }
  // Starting at layer 2 from layer 1's output (ReLU applied) is the same pass.
  HostMatrix<float> a1 = forward_columns({W[0]}, {b[0]}, x);
  for (float& v : a1.data) v = v > 0 ? v : 0;
  EXPECT_TRUE(same_bits(forward_columns(W, b, a1, 1), one));
}

// A whole evaluation (scored rows in blocks through every layer) and the tracked first layer give
// the same scores on 1 and 3 threads.
TEST_F(HostThreads, EvaluationKeepsItsBitsForAnyThreadCount) {
  Config c = load_config(std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json", {"model.layers=4"});
  const Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W, b;
  init_weights(p.dims, 0.1, 4, W, b);
  const Evaluator eval(p.data, p.h, p.ahat, p.aug);
  HostMatrix<float> d(W[0].rows, p.x.cols);
  Rng(2).normals(d.data.data(), d.size(), 0.01);
  auto run = [&](int threads) {
    set_host_threads(threads);
    FirstLayerTracker tracker(eval, p.x);
    tracker.anchor(eval.first_layer(W[0]));
    return std::pair{eval.evaluate(W, b), tracker.first(0.7, d)};
  };
  const auto [s1, t1] = run(1);
  const auto [s3, t3] = run(3);
  EXPECT_GT(s1.test.count, 0);
  for (auto part : {&SplitScore::acc, &SplitScore::loss}) {
    EXPECT_EQ(s1.train.*part, s3.train.*part);
    EXPECT_EQ(s1.val.*part, s3.val.*part);
    EXPECT_EQ(s1.test.*part, s3.test.*part);
  }
  EXPECT_TRUE(same_bits(t1, t3));
}

}  // namespace
}  // namespace pdadmm
