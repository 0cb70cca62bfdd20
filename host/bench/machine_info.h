// What machine a benchmark ran on: CPU model, cores, BLAS build and threads, GPUs when used.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace pdadmm {

// CPU model name from /proc/cpuinfo ("unknown" when it cannot be read).
std::string cpu_model();
// {cpu_model, cores, hostname, loadavg, openblas: {config, core, threads}, gpus: [...] when backend is "cuda"}.
nlohmann::json machine_info(const std::string& backend);

}  // namespace pdadmm
