// Threads for the host's passes between iterations (evaluations, the ρ schedule's loss): parts
// run on sleeping threads (a WorkerPool) with OpenBLAS single-threaded inside. Not OpenBLAS's or
// OpenMP's own threads: those spin after each call (OpenBLAS's ~0.1 s, OpenMP's ~10 ms) and take
// cores from the groups' next iteration (Cora in 10 groups on 2 cores: iterations ~20% slower);
// the one exception is a group's own team, lent by set_host_team below.
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
// is in flight; on the team set by set_host_team when it has host_threads() threads.
void host_parallel(int parts, const std::function<void(int)>& f);

// A layer group's OpenMP team for the host passes: run(task) calls task on the group's own thread,
// whose team has `threads` threads. After an iteration that team spins for a while at its barrier
// (libgomp's GOMP_SPINCOUNT); a pass on the sleeping pool would share the cores with it, a pass in
// the team's own parallel region uses those threads (Cora, 1 group on 2 cores: docs/parallelism.md).
// `owner` names the setter; clear_host_team(owner) undoes only its own setting. Between iterations
// only: run() hands the task to the solver's worker pool, which must be idle.
void set_host_team(const void* owner, int threads, std::function<void(const std::function<void()>&)> run);
void clear_host_team(const void* owner);

}  // namespace pdadmm
