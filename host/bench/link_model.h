// Link model for the modeled parallel time of `pdadmm bench` and tools/sweep.py: how long G
// devices would take per iteration, each running its group's measured compute, with the
// boundary tensors crossing a link of given bandwidth and latency (docs/benchmarks.md).
#pragma once
#include <string>
#include <vector>

namespace pdadmm {

struct Link {
  std::string name;
  double bandwidth_GBps = 0;  // 1e9 bytes per second, one direction
  double latency_us = 0;      // per message
};

// nvlink, pcie4, pcie5, ib-hdr (values and sources in docs/benchmarks.md).
const std::vector<Link>& link_presets();
// A preset name, or "NAME:BANDWIDTH_GBPS:LATENCY_US" (e.g. "eth100:12.5:10"). Throws Error.
Link parse_link(const std::string& spec);

// Messages that cross one boundary per iteration: p backward and q forward.
constexpr int kMessagesPerBoundary = 2;

struct ModeledTime {
  double seconds = 0;           // max over groups of compute_s[g] + comm_s[g]
  std::vector<double> comm_s;   // per group
  int critical_group = 0;       // the group that attains the max
};

// compute_s: per group; boundary_bytes: per boundary g|g+1 (both directions together), one fewer.
// comm_s[g] = Σ over the boundaries b of group g of (kMessagesPerBoundary · latency + bytes_b / bandwidth).
ModeledTime modeled_parallel(const std::vector<double>& compute_s, const std::vector<double>& boundary_bytes,
                             const Link& link);

}  // namespace pdadmm
