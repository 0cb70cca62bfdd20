// How busy other processes keep this process's cores, so that `threads: 0` can leave their cores
// to them: an OpenMP team with a thread on a core another process also runs spins at every
// barrier for a partner the kernel has descheduled (Cora on 2 cores beside a 2-thread job: 48.5 s
// with 2 threads, 13.1 s with 1; the same bits for any count).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pdadmm {

// Busy and total clock ticks of the CPUs in `cpus`, summed, from the text of /proc/stat.
struct CpuTicks {
  uint64_t busy = 0, total = 0;
};
CpuTicks parse_proc_stat(const std::string& text, const std::vector<int>& cpus);

// Cores' worth of work that processes other than this one did on `cpus` between two samples:
// (busy ticks − this process's own ticks) / (total ticks / cores), at least 0.
double busy_elsewhere(const CpuTicks& before, const CpuTicks& after, uint64_t self_before, uint64_t self_after,
                      int cores);

// Measures the above over `window_ms` on the CPUs this process may use; -1 where /proc cannot
// be read (not Linux).
double measure_busy_elsewhere(int window_ms);

}  // namespace pdadmm
