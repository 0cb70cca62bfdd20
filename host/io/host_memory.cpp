#include "host/io/host_memory.h"

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

int64_t available_host_bytes() {
  int64_t room = parse_meminfo_available(read_system_file("/proc/meminfo"));
  for (const auto& [limit, usage] : {std::pair{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
                                     std::pair{"/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                               "/sys/fs/cgroup/memory/memory.usage_in_bytes"}}) {
    const int64_t cg = parse_cgroup_room(read_system_file(limit), read_system_file(usage));
    if (cg >= 0) room = room < 0 ? cg : std::min(room, cg);
  }
  return room;
}

void require_room(double need, const std::string& what_needs, const std::string& advice) {
  const int64_t room = available_host_bytes();
  if (room >= 0 && need > static_cast<double>(room))
    throw Error("out of host memory: " + what_needs + " " + human_bytes(need) + " and " +
                human_bytes(static_cast<double>(room)) + " is available" + advice);
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
