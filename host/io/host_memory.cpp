#include "host/io/host_memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {

int64_t parse_meminfo_available(const std::string& meminfo) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    long long kib = -1;
    std::string unit;
    if (!(fields >> kib >> unit) || kib < 0 || unit != "kB") return -1;
    return static_cast<int64_t>(kib) * 1024;
  }
  return -1;
}

int64_t parse_cgroup_room(const std::string& limit, const std::string& usage) {
  long long lim = -1, used = -1;
  std::istringstream l(limit), u(usage);
  if (!(l >> lim) || !(u >> used) || lim <= 0 || used < 0) return -1;  // "max" or unreadable: no limit
  if (lim >= (1LL << 60)) return -1;  // v1's "unlimited" is a huge number
  return std::max<int64_t>(0, lim - used);
}

namespace {
// A thread inside a BLAS call holds one OpenBLAS buffer (BUFFER_SIZE on x86-64; pooled: as many
// as calls at once), and a thread has a stack (8 MiB) and, once it allocates, a malloc arena (64
// MiB of address space). Measured: a 2-thread run refused the buffer at 408 of 500 MiB.
constexpr double kBlasThreadBytes = (128.0 + 64.0 + 8.0) * 1024 * 1024;
double g_reserve_from = 0, g_reserve = 0;  // VmSize when reserved, and the reserve

double mapped_bytes() {
  std::istringstream statm(read_system_file("/proc/self/statm"));
  long long pages = -1;
  if (!(statm >> pages) || pages < 0) return -1;
  return static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}
}  // namespace

int64_t address_space_room() {
  struct rlimit r {};
  if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return -1;
  const double mapped = mapped_bytes();
  if (mapped < 0) return -1;
  // What the process mapped since the reserve is taken as the buffers first: they are mapped at
  // the first GEMMs, usually before the data's larger allocations.
  const double used = std::max(mapped, g_reserve_from + g_reserve);
  return static_cast<int64_t>(std::max(0.0, static_cast<double>(r.rlim_cur) - used));
}

void reserve_blas_address_space(int threads, int groups) {
  g_reserve = 0;
  const int64_t room = address_space_room();
  // The run's threads and the one that drives them (main, or a group's worker); with more layer
  // groups than threads, every group's worker is a BLAS caller of its own.
  const bool by_groups = groups > std::max(threads, 1);
  const int callers = by_groups ? groups : std::max(threads, 1);
  const double need = (callers + 1) * kBlasThreadBytes;
  if (room >= 0 && need > static_cast<double>(room))
    throw Error("out of address space: ulimit -v leaves " + human_bytes(static_cast<double>(room)) + " and " +
                (by_groups ? std::to_string(groups) + " layer groups (a thread each, calling BLAS)"
                           : std::to_string(callers) + " thread(s)") +
                " and the one driving them need " + human_bytes(need) +
                " (200 MiB each: OpenBLAS maps 128 MiB for a thread in a BLAS call and, refused, waits for ever; "
                "a stack and a malloc arena); raise ulimit -v or lower " + (by_groups ? "`groups`" : "`threads`"));
  g_reserve_from = mapped_bytes();
  g_reserve = need;
}

int64_t available_machine_bytes() {
  int64_t room = parse_meminfo_available(read_system_file("/proc/meminfo"));
  for (const auto& [limit, usage] : {std::pair{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
                                     std::pair{"/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                               "/sys/fs/cgroup/memory/memory.usage_in_bytes"}}) {
    const int64_t cg = parse_cgroup_room(read_system_file(limit), read_system_file(usage));
    if (cg >= 0) room = room < 0 ? cg : std::min(room, cg);
  }
  return room;
}

int64_t available_host_bytes(bool* by_limit) {
  int64_t room = available_machine_bytes();
  const int64_t as = address_space_room();
  if (by_limit) *by_limit = as >= 0 && (room < 0 || as < room);
  if (as >= 0) room = room < 0 ? as : std::min(room, as);
  return room;
}

void require_room(double need, const std::string& what_needs, const std::string& advice) {
  require_room(need, what_needs, [&](int64_t) { return advice; });
}

void require_room(double need, const std::string& what_needs, const std::function<std::string(int64_t room)>& advice) {
  bool by_limit = false;
  const int64_t room = available_host_bytes(&by_limit);
  if (room >= 0 && need > static_cast<double>(room))
    throw Error("out of host memory: " + what_needs + " " + human_bytes(need) + " and " +
                human_bytes(static_cast<double>(room)) + (by_limit ? " is left under ulimit -v" : " is available") +
                advice(room));
}

void require_machine_room(double need, const std::string& what_needs, const std::string& advice) {
  const int64_t room = available_machine_bytes();
  if (room >= 0 && need > static_cast<double>(room))
    throw Error("out of host memory: " + what_needs + " " + human_bytes(need) + " and " +
                human_bytes(static_cast<double>(room)) + " is available on this machine" + advice);
}

std::string human_bytes(double b) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  std::ostringstream s;
  s << std::fixed << std::setprecision(u ? 1 : 0) << b << " " << unit[u];
  return s.str();
}

}  // namespace pdadmm
