// processes.h for builds without MPI: one process runs every group.
#include <string>
#include <vector>

#include "host/comm/processes.h"
#include "host/comm/processes_env.h"
#include "host/io/error.h"

namespace pdadmm {

void processes_init(int*, char***) {
  const int n = launched_processes();
  if (n > 1)
    throw Error("mpirun started " + std::to_string(n) +
                " processes, but this pdadmm was built without MPI: rebuild with -DPDADMM_MPI=ON (Open MPI), or run "
                "one process (groups run as threads in it)");
}
void processes_finalize() {}
bool built_with_mpi() { return false; }
int process_count() { return 1; }
int process_rank() { return 0; }
void processes_abort(int) {}
void processes_broadcast(void*, size_t) {}
int processes_max(int value) { return value; }
std::vector<double> processes_machine_sum(std::vector<double> values) { return values; }
int processes_on_machine() { return 1; }
std::unique_ptr<Transport> make_process_transport(int) {
  throw Error("this pdadmm was built without MPI (rebuild with -DPDADMM_MPI=ON)");
}

}  // namespace pdadmm
