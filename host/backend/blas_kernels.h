// OpenBLAS picks its kernels by CPU model when it loads. Debian 12's OpenBLAS (0.3.21) does not
// know newer models (Intel's Emerald Rapids, family 6 model 207) and falls back to its Prescott
// (SSE3) kernels: 3.6x slower iterations than the AVX-512 kernels the CPU runs. It reads
// OPENBLAS_CORETYPE only at load, so the process starts itself once more with that set.
#pragma once
#include <string>

namespace pdadmm {

// The best OpenBLAS core this CPU runs ("Cooperlake", "SkylakeX", "Haswell", "Sandybridge"), or ""
// when it has no AVX.
std::string best_blas_core();

// Whether OpenBLAS runs a fallback core (Prescott and the like) where the CPU runs best_blas_core().
bool blas_core_is_fallback(const std::string& loaded, const std::string& best);

// When OPENBLAS_CORETYPE is unset and OpenBLAS loaded a fallback core, exec's this program again
// with OPENBLAS_CORETYPE = best_blas_core() (the same process: pid, arguments, environment
// otherwise); returns when there is nothing to do or the exec fails. Call first thing in main().
void use_best_blas_kernels(char** argv);

// The core OpenBLAS loaded before use_best_blas_kernels replaced it, or null.
const char* blas_core_replaced();
// "OpenBLAS Cooperlake kernels", and why when not OpenBLAS's own choice (pdadmm info prints it).
std::string blas_kernels_text();

}  // namespace pdadmm
