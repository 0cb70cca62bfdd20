// What mpirun tells a process through its environment (Open MPI, PMIx, MPICH's PMI).
#pragma once
#include <algorithm>
#include <cstdlib>
#include <string>

namespace pdadmm {

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// OMP_NUM_THREADS (`mpirun -x OMP_NUM_THREADS=4`): 0 when unset or empty, -1 when it is not a
// count from 1 to 1024. Like libgomp, the first of a comma list (the outer level's count).
inline int omp_num_threads_env() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v || !*v) return 0;
  const std::string first = std::string(v).substr(0, std::string(v).find(','));
  char* end = nullptr;
  const long n = std::strtol(first.c_str(), &end, 10);
  return !first.empty() && end == first.c_str() + first.size() && n >= 1 && n <= 1024 ? static_cast<int>(n) : -1;
}

inline int launched_processes() {
  return std::max({env_int("OMPI_COMM_WORLD_SIZE", 1), env_int("PMIX_SIZE", 1), env_int("PMI_SIZE", 1)});
}

}  // namespace pdadmm
