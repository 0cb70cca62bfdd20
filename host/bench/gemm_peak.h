// SGEMM peak on this machine for one GEMM shape: the roofline that `pdadmm bench` compares
// an iteration's achieved GFLOP/s with. Two ways, best taken: the CPU backend's own path (rows
// of C split over threads, single-threaded OpenBLAS each) and OpenBLAS's own threading.
#pragma once
#include "host/bench/counting_ops.h"

namespace pdadmm {

struct GemmPeak {
  double split_gflops = 0;  // CpuOps<float>(threads).gemm, as the iteration runs it
  double blas_gflops = 0;   // one cblas_sgemm call with openblas_set_num_threads(threads)
  double best() const { return split_gflops > blas_gflops ? split_gflops : blas_gflops; }
};

// Best single-call time over repetitions lasting at least min_seconds per path.
GemmPeak measure_sgemm_peak(const GemmShape& shape, int threads, double min_seconds);

}  // namespace pdadmm
