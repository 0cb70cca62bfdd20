// Hot host loops compiled twice: for baseline x86-64 (SSE2, the portable build) and, where the CPU
// has it, AVX2 without FMA. The same IEEE operations in the same order, so the same bits on either
// (tests compare both). A loop body is PDADMM_ALWAYS_INLINE and called from a PDADMM_TARGET_AVX2
// twin, which the caller picks at run time; elsewhere the twin is the baseline build again.
#pragma once

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define PDADMM_AVX2_CLONES 1
#define PDADMM_ALWAYS_INLINE inline __attribute__((always_inline))
#define PDADMM_LAMBDA_INLINE __attribute__((always_inline))
#define PDADMM_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define PDADMM_ALWAYS_INLINE inline
#define PDADMM_LAMBDA_INLINE
#define PDADMM_TARGET_AVX2
#endif

namespace pdadmm {

// Whether the CPU has AVX2 (false off x86-64). Inline: the CUDA module links wire.cpp alone.
inline bool cpu_has_avx2() {
#ifdef PDADMM_AVX2_CLONES
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
#else
  return false;
#endif
}

// Whether the element-wise loops (CpuOps, csr_spmm, features_times, the -Q codecs' float paths)
// run their AVX2 build: on a CPU with AVX2 unless host_ops_avx2(false) forbade it. Inline, switch
// included, as cpu_has_avx2 is: tools/fuzz.sh links csr.cpp without the CPU backend (cpu_ops.cpp,
// OpenBLAS), and defined there they left its targets an undefined reference (FuzzTargets.LinkWithClang).
inline bool host_ops_avx2_allowed = true;
inline bool use_host_ops_avx2() { return host_ops_avx2_allowed && cpu_has_avx2(); }
// For tests: allow (default) or forbid that build, to compare both. Returns whether it was in use.
// Not thread-safe; nothing else calls it.
inline bool host_ops_avx2(bool allow) {
  const bool before = use_host_ops_avx2();
  host_ops_avx2_allowed = allow;
  return before;
}

}  // namespace pdadmm
