// The generated header holds only the commit, so a new commit recompiles this file alone.
#include "host/io/version.h"

#include "pdadmm_version.h"

namespace pdadmm {

std::string build_commit() { return PDADMM_GIT_COMMIT; }

std::string build_version() { return std::string("0.1 (git ") + PDADMM_GIT_COMMIT + ")"; }

}  // namespace pdadmm
