// Before any library initialises: OpenBLAS 0.3.29 (Debian 13) maps a 128 MiB buffer for each of
// its threads as it loads, and under a ulimit -v (a batch queue's h_vmem) too small for them it
// retries for ever: `pdadmm --version` hung at 300 MiB on 2 cores, before main could say anything.
// .preinit_array runs in the executable before the shared libraries' constructors (ELF), so this
// check names the limit first. C calls only: libstdc++ is not initialised yet.
// The same hook keeps a malformed OMP_NUM_THREADS from libgomp, which prints its own warning as
// it loads: pdadmm's one error line names it (or `threads` stands in for it).
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "host/comm/processes_env.h"

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// One OpenBLAS buffer (BUFFER_SIZE on x86-64) and the stack of the thread that uses it, and once
// more a buffer's size while it maps one (it over-maps to align, then trims): 350 MiB on 2 cores
// passed a check without that, and OpenBLAS then failed to start its thread.
constexpr double kPerBlasThread = (128.0 + 8.0) * kMiB, kAligning = 128.0 * kMiB;

// From the environment the loader passes (libc's environ may not be set up yet).
long positive_env(char** envp, const char* name) {
  const size_t len = std::strlen(name);
  const char* v = nullptr;
  for (char** e = envp; e && *e && !v; ++e)
    if (std::strncmp(*e, name, len) == 0 && (*e)[len] == '=') v = *e + len + 1;
  if (!v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end != v && n > 0 ? n : 0;
}

// The threads OpenBLAS starts with: OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or OMP_NUM_THREADS,
// at most the cores this process may use (its own rule, blas_get_cpu_number).
long blas_threads(char** envp) {
  cpu_set_t set;
  long cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  long n = positive_env(envp, "OPENBLAS_NUM_THREADS");
  if (n == 0) n = positive_env(envp, "GOTO_NUM_THREADS");
  if (n == 0) n = positive_env(envp, "OMP_NUM_THREADS");
  return n > 0 && n < cores ? n : cores;
}

double mapped_now() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long long pages = -1;
  // NOLINTNEXTLINE(cert-err34-c): the kernel's page count; got and pages >= 0 catch a bad read
  const int got = std::fscanf(f, "%lld", &pages);
  std::fclose(f);
  return got == 1 && pages >= 0 ? static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) : -1;
}

void check_address_space_for_blas(char** envp) {
  struct rlimit r {};
  if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return;
  const double mapped = mapped_now();
  if (mapped < 0) return;
  const double room = static_cast<double>(r.rlim_cur) - mapped;
  const long threads = blas_threads(envp);
  const double need = static_cast<double>(threads) * kPerBlasThread + kAligning;
  if (room >= need) return;
  char line[512];
  const int n = std::snprintf(line, sizeof line,
                              "error: out of address space: ulimit -v leaves %.1f MiB and OpenBLAS may map %.1f MiB "
                              "as it loads (a 128 MiB buffer and a stack for each of its %ld thread(s), one more "
                              "buffer while aligning), and, refused, waits for ever; raise ulimit -v or set "
                              "OPENBLAS_NUM_THREADS lower\n",
                              room > 0 ? room / kMiB : 0.0, need / kMiB, threads);
  if (n > 0) {
    const ssize_t written = write(STDERR_FILENO, line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
    (void)written;
  }
  _exit(1);
}

// The entry of a malformed OMP_NUM_THREADS (abc), renamed while the libraries load.
char* hidden_omp_entry = nullptr;

void hide_bad_omp_num_threads(char** envp) {
  static const char kName[] = "OMP_NUM_THREADS=";
  for (char** e = envp; e && *e; ++e)
    if (std::strncmp(*e, kName, sizeof kName - 1) == 0 && (*e)[sizeof kName - 1] != '\0' &&
        pdadmm::parse_omp_num_threads(*e + sizeof kName - 1) < 0) {
      hidden_omp_entry = *e;
      hidden_omp_entry[0] = '_';  // "_MP_NUM_THREADS=abc": libgomp takes its default
    }
}

void before_libraries(int, char**, char** envp) {
  check_address_space_for_blas(envp);
  hide_bad_omp_num_threads(envp);
}

// The executable's constructors run after those of the libraries it loads (ELF): by main,
// the environment is the one the process was given.
__attribute__((constructor)) void after_libraries() {
  if (hidden_omp_entry) hidden_omp_entry[0] = 'O';
}

}  // namespace

__attribute__((section(".preinit_array"), used)) void (*const pdadmm_preinit_blas_check)(int, char**, char**) =
    before_libraries;
