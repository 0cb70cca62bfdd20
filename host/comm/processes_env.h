// What mpirun tells a process through its environment (Open MPI, PMIx, MPICH's PMI).
#pragma once
#include <algorithm>
#include <cstdlib>

namespace pdadmm {

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

inline int launched_processes() {
  return std::max({env_int("OMPI_COMM_WORLD_SIZE", 1), env_int("PMIX_SIZE", 1), env_int("PMI_SIZE", 1)});
}

}  // namespace pdadmm
