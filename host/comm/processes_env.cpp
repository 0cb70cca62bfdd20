// The parts of processes.h that only read mpirun's environment, the same with and without MPI.
#include <algorithm>
#include <thread>

#include "host/comm/processes.h"
#include "host/comm/processes_env.h"

namespace pdadmm {

int process_local_index() { return std::max(0, env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("MPI_LOCALRANKID", 0))); }

int process_cores() {
  const int local = std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1)));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local);
}

}  // namespace pdadmm
