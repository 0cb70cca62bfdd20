// Machine description for bench JSON.
#include "host/bench/machine_info.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "cuda/cuda_backend.h"
#include "host/backend/blas_kernels.h"
#include "host/quant/wire.h"

namespace pdadmm {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown" : line.substr(start);
  }
  return "unknown";
}

nlohmann::json machine_info(const std::string& backend) {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  nlohmann::json j = {{"cpu_model", cpu_model()},
                      {"cores", std::thread::hardware_concurrency()},
                      {"hostname", host},
                      {"openblas",
                       {{"config", openblas_get_config()},
                        {"core", openblas_get_corename()},
                        {"threads", openblas_get_num_threads()}}}};
  // The core OpenBLAS loaded before pdadmm replaced it (host/backend/blas_kernels.h).
  if (const char* fallback = blas_core_replaced()) j["openblas"]["replaced"] = fallback;
  j["host_codecs"] = host_codecs_build();  // the -Q wire's CPU encoders: AVX2 or baseline build
  // Other processes share the cores: the 1/5/15-minute load says how quiet the machine was.
  std::ifstream load("/proc/loadavg");
  double l1 = 0, l5 = 0, l15 = 0;
  if (load >> l1 >> l5 >> l15) j["loadavg"] = {l1, l5, l15};
  if (backend == "cuda") {
    nlohmann::json gpus = nlohmann::json::array();
    for (const CudaDeviceInfo& d : cuda_devices())
      gpus.push_back({{"id", d.id}, {"name", d.name}, {"memory_bytes", d.total_bytes},
                      {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)}});
    j["gpus"] = gpus;
  }
  return j;
}

}  // namespace pdadmm
