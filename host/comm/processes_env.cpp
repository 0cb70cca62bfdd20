// The parts of processes.h that only read mpirun's environment, the same with and without MPI.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "host/comm/cpu_load.h"
#include "host/comm/processes.h"
#include "host/comm/processes_env.h"

namespace pdadmm {

int launcher_pid() {
  const pid_t parent = getppid();
  std::string name;
  std::getline(std::ifstream("/proc/" + std::to_string(parent) + "/comm"), name);
  for (const char* launcher : {"mpirun", "mpiexec", "orterun", "prterun"})
    if (name == launcher) return static_cast<int>(parent);
  return 0;
}

int process_local_index() { return std::max(0, env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("MPI_LOCALRANKID", 0))); }

int process_local_count() { return std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1))); }

namespace {
// The cores this process may run on when fewer than the machine's, else 0.
int bound_cores() {
  const int machine = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  const int allowed = CPU_COUNT(&set);
  return allowed >= 1 && allowed < machine ? allowed : 0;
}
}  // namespace

bool process_bound() { return bound_cores() > 0; }

int process_cores() {
  // A process bound to fewer cores (taskset, a cpuset, mpirun's default --bind-to core) gets
  // those; an unbound one shares the machine with the other processes mpirun put there.
  if (const int bound = bound_cores(); bound > 0) return bound;
  const int machine = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::max(1, machine / process_local_count());
}

namespace {

std::mutex g_free_mu;
int g_free = -1;          // -1: not measured yet
double g_measured = -1;   // cores' worth other processes kept busy, -1 when not measured
std::chrono::steady_clock::time_point g_measured_at;

void measure_free_cores() {
  g_measured_at = std::chrono::steady_clock::now();
  const int cores = process_cores();
  g_free = cores;
  g_measured = -1;
  // Under mpirun the processes share the machine by design (process_cores divides it), and they
  // start together, so each would count the others' setup.
  if (cores < 2 || launched_processes() > 1) return;
  g_measured = measure_busy_elsewhere(100);
  if (g_measured > 0) g_free = std::clamp(static_cast<int>(std::lround(cores - g_measured)), 1, cores);
}

}  // namespace

int free_process_cores(double* busy) {
  std::lock_guard<std::mutex> lock(g_free_mu);
  if (g_free < 0) measure_free_cores();
  if (busy) *busy = g_measured;
  return g_free;
}

int remeasure_free_process_cores(double* busy, double min_age_s) {
  std::lock_guard<std::mutex> lock(g_free_mu);
  const std::chrono::duration<double> age = std::chrono::steady_clock::now() - g_measured_at;
  if (g_free < 0 || age.count() >= min_age_s) measure_free_cores();
  if (busy) *busy = g_measured;
  return g_free;
}

}  // namespace pdadmm
