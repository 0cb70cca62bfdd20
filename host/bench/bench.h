// `pdadmm bench`: times the ADMM iterations of one configuration, built exactly as the trainer
// builds it, and reports seconds per iteration, per-group compute and wait, boundary bytes,
// counted GEMM FLOPs, the SGEMM roofline for the same shapes, and the modeled parallel time per link.
#pragma once
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/bench/link_model.h"
#include "host/config/config.h"

namespace pdadmm {

struct BenchOptions {
  int iterations = 5;          // timed
  int warmup = 1;              // untimed, first
  // Groups run their ops one at a time, each with all `threads` threads: per-group compute as
  // on G separate devices, free of the contention of G threads sharing this machine's cores.
  bool serialize = false;
  bool peak = true;            // measure the SGEMM roofline for the iteration's shapes
  double peak_seconds = 0.3;   // per shape and path
  int peak_max_shapes = 6;     // largest shapes first, until 95% of the FLOPs are covered
  std::vector<Link> links;     // empty: every preset
};

// Throws Error for bad options. `log` gets a short human-readable summary.
nlohmann::json run_bench(const Config& c, const BenchOptions& o, std::ostream& log);

}  // namespace pdadmm
