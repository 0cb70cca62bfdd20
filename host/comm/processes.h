// The processes of a run. Under mpirun, `pdadmm train` runs one layer group per process (rank g
// runs group g) and moves boundary tensors with MPI; otherwise one process runs every group.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "host/comm/transport.h"

namespace pdadmm {

// Starts MPI when mpirun launched this process. Throws Error when it did but pdadmm was built
// without MPI (the processes would each train the whole model).
void processes_init(int* argc, char*** argv);
void processes_finalize();
bool built_with_mpi();
int process_count();  // 1 without mpirun
int process_rank();   // 0 without mpirun
// This process's index among the processes mpirun put on its machine (picks its GPU).
int process_local_index();
// How many processes mpirun put on this machine (1 without mpirun).
int process_local_count();
// The pid of the mpirun (mpiexec, orterun, prterun) that started this process on its machine, the
// one to send SIGUSR1 to stop the run; 0 when the parent is something else (a remote daemon).
int launcher_pid();
// Cores this process may use: the machine's, shared among the processes mpirun put on it.
int process_cores();
// Whether this process is bound to fewer cores than the machine has (taskset, a cpuset, mpirun's
// default --bind-to core), which process_cores() then counts.
bool process_bound();
// process_cores() less the cores other processes kept busy on them over 100 ms at the first call
// (at least 1; not measured under mpirun or with one core). `busy`: what was measured, -1 if not.
int free_process_cores(double* busy = nullptr);
// Measures again when the last measurement is at least `min_age_s` old (the trainer does at each
// stage: a neighbour may have finished or started); what free_process_cores gives from then on.
int remeasure_free_process_cores(double* busy = nullptr, double min_age_s = 0);
// Ends every process of the run after this one failed; does nothing with a single process.
void processes_abort(int code);
// Copies `bytes` from process 0 to every process (collective; a no-op with a single process).
void processes_broadcast(void* data, size_t bytes);
// The largest of every process's `value` (collective; `value` itself with a single process).
int processes_max(int value);
// Element by element, the sum of `values` over the processes on this machine (collective over all
// processes, each with as many values; `values` itself with a single process): what they will
// allocate together from its memory.
std::vector<double> processes_machine_sum(std::vector<double> values);
// How many processes share this machine's memory (MPI's count; 1 without mpirun).
int processes_on_machine();
// The mpirun transport: group g on rank g; processes past the last group only take part in
// Transport::share and give. Needs process_count() >= groups.
std::unique_ptr<Transport> make_process_transport(int groups);

}  // namespace pdadmm
