// The parts of processes.h that only read mpirun's environment, the same with and without MPI.
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

#include "host/comm/cpu_load.h"
#include "host/comm/processes.h"
#include "host/comm/processes_env.h"

namespace pdadmm {

int process_local_index() { return std::max(0, env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("MPI_LOCALRANKID", 0))); }

int process_cores() {
  const int machine = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // A process bound to fewer cores (taskset, a cpuset, mpirun's default --bind-to core) gets
  // those; an unbound one shares the machine with the other processes mpirun put there.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int allowed = CPU_COUNT(&set);
    if (allowed >= 1 && allowed < machine) return allowed;
  }
  const int local = std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1)));
  return std::max(1, machine / local);
}

int free_process_cores(double* busy) {
  static std::once_flag once;
  static int free = 1;
  static double measured = -1;
  std::call_once(once, [] {
    const int cores = process_cores();
    free = cores;
    // Under mpirun the processes share the machine by design (process_cores divides it), and they
    // start together, so each would count the others' setup.
    if (cores < 2 || launched_processes() > 1) return;
    measured = measure_busy_elsewhere(100);
    if (measured > 0) free = std::clamp(static_cast<int>(std::lround(cores - measured)), 1, cores);
  });
  if (busy) *busy = measured;
  return free;
}

}  // namespace pdadmm
