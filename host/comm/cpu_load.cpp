#include "host/comm/cpu_load.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "host/io/files.h"

namespace pdadmm {

CpuTicks parse_proc_stat(const std::string& text, const std::vector<int>& cpus) {
  CpuTicks t;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "cpuN user nice system idle iowait irq softirq steal guest guest_nice"; the "cpu " total
    // line and other records are skipped.
    if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream fields(line.substr(3));
    int cpu = -1;
    fields >> cpu;
    if (std::find(cpus.begin(), cpus.end(), cpu) == cpus.end()) continue;
    uint64_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint64_t& x : v) fields >> x;  // guest time is already inside user
    const uint64_t idle = v[3] + v[4];
    uint64_t total = 0;
    for (uint64_t x : v) total += x;
    t.total += total;
    t.busy += total - idle;
  }
  return t;
}

double busy_elsewhere(const CpuTicks& before, const CpuTicks& after, uint64_t self_before, uint64_t self_after,
                      int cores) {
  if (cores < 1 || after.total <= before.total) return 0;
  const double busy = static_cast<double>(after.busy - before.busy) - static_cast<double>(self_after - self_before);
  const double per_core = static_cast<double>(after.total - before.total) / cores;
  return std::max(0.0, busy / per_core);
}

namespace {

// utime + stime of this process (all its threads), fields 14 and 15 of /proc/self/stat.
bool self_ticks(uint64_t* out) {
  const std::string s = read_system_file("/proc/self/stat");
  const size_t close = s.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return false;
  std::istringstream in(s.substr(close + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  *out = utime + stime;
  return static_cast<bool>(in);
}

}  // namespace

double measure_busy_elsewhere(int window_ms) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  std::vector<int> cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  uint64_t self0 = 0, self1 = 0;
  if (!self_ticks(&self0)) return -1;
  const CpuTicks t0 = parse_proc_stat(read_system_file("/proc/stat"), cpus);
  std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
  const CpuTicks t1 = parse_proc_stat(read_system_file("/proc/stat"), cpus);
  if (!self_ticks(&self1) || t0.total == 0) return -1;
  return busy_elsewhere(t0, t1, self0, self1, static_cast<int>(cpus.size()));
}

}  // namespace pdadmm
