// PDADMM_HD marks per-element math usable from CPU loops and CUDA kernels alike.
#pragma once
#if defined(__CUDACC__)
#define PDADMM_HD __host__ __device__ __forceinline__
#else
#define PDADMM_HD inline
#endif
