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
  // The first level's count; every level must be one (libgomp drops a list with a bad one: "2,abc").
  int first = 0;
  std::string rest(v);
  for (size_t at = 0; at <= rest.size();) {
    const size_t comma = std::min(rest.find(',', at), rest.size());
    const std::string part = rest.substr(at, comma - at);
    char* end = nullptr;
    const long n = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || end != part.c_str() + part.size() || n < 1 || n > 1024) return -1;
    if (at == 0) first = static_cast<int>(n);
    at = comma + 1;
  }
  return first;
}

inline int launched_processes() {
  return std::max({env_int("OMPI_COMM_WORLD_SIZE", 1), env_int("PMIX_SIZE", 1), env_int("PMI_SIZE", 1)});
}

}  // namespace pdadmm
