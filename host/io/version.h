// What a build is: the release and the git commit it was built from (for outputs and --version).
#pragma once
#include <string>

namespace pdadmm {

// "0.1 (git 1a2b3c4d5e6f)"; "-dirty" when built with uncommitted changes, "unknown" outside git.
std::string build_version();
std::string build_commit();

}  // namespace pdadmm
