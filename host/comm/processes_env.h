// What mpirun tells a process through its environment (Open MPI, PMIx, MPICH's PMI).
#pragma once
#include <algorithm>
#include <cstdlib>
#include <thread>

namespace pdadmm {

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

inline int launched_processes() {
  return std::max({env_int("OMPI_COMM_WORLD_SIZE", 1), env_int("PMIX_SIZE", 1), env_int("PMI_SIZE", 1)});
}

// This process's index among those mpirun started on its machine (0 without mpirun).
inline int local_process_index() {
  return std::max(0, env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("MPI_LOCALRANKID", 0)));
}

inline int cores_per_local_process() {
  const int local = std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1)));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local);
}

}  // namespace pdadmm
