// Threads for the host's passes between iterations (evaluations, the ρ schedule's loss): parts
// run on sleeping threads (a WorkerPool) with OpenBLAS single-threaded inside. Not OpenBLAS's or
// OpenMP's own threads: those spin after each call (OpenBLAS's ~0.1 s, OpenMP's ~10 ms) and take
// cores from the groups' next iteration (Cora in 10 groups on 2 cores: iterations ~20% slower).
#pragma once
#include <cstdint>
#include <functional>

namespace pdadmm {

// Threads host_parallel uses from now on (default: the machine's cores).
void set_host_threads(int threads);
int host_threads();

// A split of n items into parts of at least min_part items, at most 64 parts, from n alone, so
// that the parts (and the bits they compute) do not depend on the thread count.
int host_parts(int64_t n, int64_t min_part);

// Runs f(part) for every part in [0, parts) and returns when all are done (rethrowing the first
// exception). On the calling thread when there is one part or one thread, or while another call
// is in flight.
void host_parallel(int parts, const std::function<void(int)>& f);

}  // namespace pdadmm
