// Link presets and the modeled parallel time.
#include "host/bench/link_model.h"

#include <cmath>
#include <cstdlib>

#include "host/io/error.h"

namespace pdadmm {

const std::vector<Link>& link_presets() {
  // Achievable one-direction bandwidths, not marketing peaks (docs/benchmarks.md says why).
  static const std::vector<Link> presets = {
      {"nvlink", 300, 3},   // NVLink 3/4 between two GPUs of one node (A100: 300, H100: 450 GB/s per direction)
      {"pcie4", 25, 5},     // PCIe 4.0 x16: 32 GB/s raw, ~25 measured
      {"pcie5", 50, 5},     // PCIe 5.0 x16: 64 GB/s raw, ~50 measured
      {"ib-hdr", 23, 3},    // InfiniBand HDR 200 Gb/s = 25 GB/s raw, ~23 measured, across nodes
  };
  return presets;
}

Link parse_link(const std::string& spec) {
  for (const Link& l : link_presets())
    if (l.name == spec) return l;
  const size_t a = spec.find(':');
  const size_t b = a == std::string::npos ? a : spec.find(':', a + 1);
  std::string known;
  for (const Link& l : link_presets()) known += (known.empty() ? "" : ", ") + l.name;
  require(b != std::string::npos && a > 0,
          "link \"" + spec + "\": not a preset (" + known + ") nor NAME:BANDWIDTH_GBPS:LATENCY_US");
  Link l;
  l.name = spec.substr(0, a);
  const std::string bw = spec.substr(a + 1, b - a - 1), lat = spec.substr(b + 1);
  char* end = nullptr;
  l.bandwidth_GBps = std::strtod(bw.c_str(), &end);
  // Below 1 byte/s (1e-320) bytes / bandwidth was inf: "seconds_per_iter": null in the JSON.
  // Bounded both ways so that every modeled time is a number: a latency of 1e308 us gave inf
  // ("null" in the JSON), and 1e300 us 2e294 s.
  require(!bw.empty() && *end == '\0' && l.bandwidth_GBps >= 1e-9 && l.bandwidth_GBps <= 1e9,
          "link \"" + spec + "\": bandwidth \"" + bw + "\" must be a number in [1e-9, 1e9] (GB/s: 1 byte/s to 1 EB/s)");
  l.latency_us = std::strtod(lat.c_str(), &end);
  require(!lat.empty() && *end == '\0' && l.latency_us >= 0 && l.latency_us <= 1e9,
          "link \"" + spec + "\": latency \"" + lat + "\" must be a number in [0, 1e9] (microseconds: up to 1000 s)");
  return l;
}

ModeledTime modeled_parallel(const std::vector<double>& compute_s, const std::vector<double>& boundary_bytes,
                             const Link& link) {
  require(!compute_s.empty(), "modeled_parallel: no groups");
  require(boundary_bytes.size() + 1 == compute_s.size(), "modeled_parallel: need one boundary fewer than groups");
  require(link.bandwidth_GBps > 0 && link.latency_us >= 0, "modeled_parallel: link " + link.name + " is invalid");
  auto boundary_s = [&](size_t b) {
    return kMessagesPerBoundary * link.latency_us * 1e-6 + boundary_bytes[b] / (link.bandwidth_GBps * 1e9);
  };
  ModeledTime t;
  const size_t G = compute_s.size();
  t.comm_s.assign(G, 0.0);
  for (size_t g = 0; g < G; ++g) {
    if (g > 0) t.comm_s[g] += boundary_s(g - 1);
    if (g + 1 < G) t.comm_s[g] += boundary_s(g);
    const double total = compute_s[g] + t.comm_s[g];
    if (g == 0 || total > t.seconds) {
      t.seconds = total;
      t.critical_group = static_cast<int>(g);
    }
  }
  return t;
}

}  // namespace pdadmm
