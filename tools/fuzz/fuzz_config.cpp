// libFuzzer target: the config path of every subcommand (tools/fuzz.sh). The input is a config
// file's text, optionally followed by overrides, each on a line of its own starting "--set "
// (as `--set key=value` on the command line):
//   {"model": {"layers": 3}}
//   --set model.hidden=64
// It goes through parse_config_text (load_config's parse, overrides and validation) and, when
// valid, through the plan `pdadmm info` prints (plan_run: groups' bytes with the wire buffers
// of each boundary, the growth peak, the host side, FLOPs), from the synthetic data set's sizes
// in the config (data.synthetic.*, read and checked whatever data.name is): no data is loaded
// and nothing is allocated in proportion to the config's sizes. The saved config (effective)
// must parse again. Anything but pdadmm::Error escaping, or any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/admm/plan.h"
#include "host/config/config.h"
#include "host/io/error.h"
#include "host/io/host_memory.h"

namespace {

pdadmm::ProblemShape synthetic_shape(const pdadmm::Config& c) {
  const pdadmm::SyntheticConfig& s = c.data.synthetic;
  pdadmm::ProblemShape p;
  p.n_cols = static_cast<int64_t>(s.train_per_class) * s.classes;
  p.nodes = s.nodes;
  p.scored = p.n_cols + s.val + s.test;
  p.hops = c.model.hops;
  p.dims = pdadmm::stage_dims(static_cast<int64_t>(s.features) * (c.model.hops + 1), s.classes, c);
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kSet = "\n--set ";  // also in config.dict
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  size_t at = bytes.find(kSet);
  const std::string text = bytes.substr(0, at);
  std::vector<std::string> sets;
  while (at != std::string::npos) {
    const size_t from = at + kSet.size();
    at = bytes.find(kSet, from);
    sets.push_back(bytes.substr(from, at == std::string::npos ? std::string::npos : at - from));
  }
  pdadmm::Config c;
  try {
    c = pdadmm::parse_config_text(text, "fuzz.json", sets);
  } catch (const pdadmm::Error&) {
    return 0;
  }
  try {
    const pdadmm::RunPlan plan = pdadmm::plan_run(c, synthetic_shape(c));
    std::string out;
    for (double b : plan.group_bytes) out += pdadmm::human_bytes(b);
    out += pdadmm::human_bytes(plan.total) + pdadmm::human_bytes(plan.growth_peak) + pdadmm::human_bytes(plan.host_side);
    for (size_t s = 0; s < pdadmm::run_stages(c).size(); ++s) (void)pdadmm::stage_config(c, s);
  } catch (const pdadmm::Error&) {
    // The plan may refuse too, with one clear message.
  }
  // What train saves as config.json (and model.bin keeps) must be a config that runs again.
  try {
    pdadmm::parse_config(c.effective);
  } catch (const pdadmm::Error& e) {
    std::fprintf(stderr, "effective config refused: %s\n%s\n", e.what(), c.effective.dump().c_str());
    std::abort();
  }
  return 0;
}
