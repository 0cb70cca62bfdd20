#include "host/backend/blas_kernels.h"

#include <cblas.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace pdadmm {

std::string best_blas_core() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512cd");
  if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
  return "";
}

bool blas_core_is_fallback(const std::string& loaded, const std::string& best) {
  // OpenBLAS's pre-AVX cores: what an unknown model gets (Prescott), or an old one really is.
  static const std::array<const char*, 15> kOld = {"Prescott", "Core2",     "Penryn",     "Dunnington", "Nehalem",
                                                   "Atom",     "Nano",      "Barcelona",  "Opteron",    "Opteron_SSE3",
                                                   "Bobcat",   "Katmai",    "Coppermine", "Northwood",  "Banias"};
  const bool old = std::any_of(kOld.begin(), kOld.end(), [&](const char* c) { return loaded == c; });
  return old && !best.empty();
}

namespace {

// Started through the dynamic loader (ld-linux.so PROGRAM …), /proc/self/exe is the loader and
// exec'ing it with this argv would run argv[1]: no second start then.
bool started_by_loader() {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return true;
  exe[n] = '\0';
  const char* base = std::strrchr(exe, '/');
  base = base ? base + 1 : exe;
  return std::strncmp(base, "ld-", 3) == 0 || std::strncmp(base, "ld.so", 5) == 0;
}

}  // namespace

void use_best_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or this exec's
  if (started_by_loader()) return;
  const std::string best = best_blas_core();
  const std::string loaded = openblas_get_corename();
  if (!blas_core_is_fallback(loaded, best)) return;
  if (::setenv("OPENBLAS_CORETYPE", best.c_str(), 1) != 0) return;
  ::setenv("PDADMM_BLAS_FALLBACK", loaded.c_str(), 1);  // for blas_kernels_text()
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OPENBLAS_CORETYPE");  // exec failed (no /proc): run on as loaded
  ::unsetenv("PDADMM_BLAS_FALLBACK");
}

const char* blas_core_replaced() {
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  const char* fallback = std::getenv("PDADMM_BLAS_FALLBACK");
  // Only as use_best_blas_kernels left them: a stray PDADMM_BLAS_FALLBACK=garbage was shown as a fallback.
  if (!set || !fallback || std::strcmp(set, openblas_get_corename()) != 0 || set != best_blas_core() ||
      !blas_core_is_fallback(fallback, set))
    return nullptr;
  return fallback;
}

std::string blas_kernels_text() {
  std::string t = std::string("OpenBLAS ") + openblas_get_corename() + " kernels";
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  if (const char* fallback = blas_core_replaced())
    t += std::string(" (pdadmm's choice: OpenBLAS's own detection gives its ") + fallback +
         " fallback on this CPU; a set OPENBLAS_CORETYPE is kept)";
  else if (set && strcasecmp(set, openblas_get_corename()) == 0)
    t += " (OPENBLAS_CORETYPE)";
  else if (set && !std::strstr(openblas_get_config(), "DYNAMIC_ARCH"))  // one core built in: the variable unread
    t += std::string(" (OPENBLAS_CORETYPE=") + set + " is ignored: this OpenBLAS is built for one core)";
  else if (set)  // OpenBLAS ignores a name it does not know and detects the core itself
    t += std::string(" (OPENBLAS_CORETYPE=") + set + " is no core this OpenBLAS knows: its own detection)";
  return t;
}

}  // namespace pdadmm
