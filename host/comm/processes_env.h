// What mpirun tells a process through its environment (Open MPI, PMIx, MPICH's PMI).
#pragma once
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

namespace pdadmm {

// fallback also when the value is no int: atoi's result for "3000000000" is undefined (glibc's
// wrapped negative), for "abc" 0.
inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v, &end, 10);
  return errno == 0 && *end == '\0' && n >= INT_MIN && n <= INT_MAX ? static_cast<int>(n) : fallback;
}

// An OMP_NUM_THREADS value: its first count, -1 when it is not a count from 1 to 1024. Like
// libgomp, a comma list gives the outer level's count, and every level must be one (libgomp drops
// a list with a bad one: "2,abc"); blanks around a count are allowed (" 2 ", "4, 2"). C calls
// only: load_check.cpp runs it before libraries load.
inline int parse_omp_num_threads(const char* v) {
  int first = 0;
  for (const char* at = v;; ++at) {
    char* end = nullptr;
    const long n = std::strtol(at, &end, 10);  // skips leading blanks
    if (end == at) return -1;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\v' || *end == '\f' || *end == '\r') ++end;
    if (n < 1 || n > 1024 || (*end != ',' && *end != '\0')) return -1;
    if (at == v) first = static_cast<int>(n);
    if (*end == '\0') return first;
    at = end;
  }
}

// OMP_NUM_THREADS (`mpirun -x OMP_NUM_THREADS=4`): 0 when unset or empty, else as above.
inline int omp_num_threads_env() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  return v && *v ? parse_omp_num_threads(v) : 0;
}

inline int launched_processes() {
  return std::max({env_int("OMPI_COMM_WORLD_SIZE", 1), env_int("PMIX_SIZE", 1), env_int("PMI_SIZE", 1)});
}

}  // namespace pdadmm
