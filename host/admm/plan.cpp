// Stage plans and host-memory plans from shapes (moved from growth.cpp and problem.cpp so that
// they link without the solver: tools/fuzz/fuzz_config.cpp plans from a config alone).
#include "host/admm/plan.h"

#include <algorithm>

#include "host/admm/layer_plan.h"
#include "host/admm/problem.h"
#include "host/admm/state_plan.h"
#include "host/comm/processes.h"
#include "host/io/error.h"

namespace pdadmm {

ProblemShape shape_of(const Problem& p) {
  ProblemShape s;
  s.dims = p.dims;
  s.n_cols = p.x.cols;
  s.nodes = p.data.num_nodes();
  s.scored = static_cast<int64_t>(p.data.train.size() + p.data.val.size() + p.data.test.size());
  s.hops = p.aug.hops;
  return s;
}

std::vector<StageConfig> run_stages(const Config& c) {
  if (!c.model.stages.empty()) return c.model.stages;
  StageConfig s = stage_defaults(c);
  s.layers = c.model.layers;
  s.iterations = c.iterations;
  return {s};
}

namespace {

// The layers per group a config gives a model of `layers`: its partition, else an even split.
std::vector<int> config_partition(const Config& c, int layers) {
  return c.partition.empty() ? even_partition(layers, c.groups) : c.partition;
}

// Whether logged evaluations track layer 1 (FirstLayerTracker): where it defers its W.
bool tracks_first_layer(const Config& c, const ProblemShape& p) {
  const LayerPlanOptions opt = plan_options(c.admm);
  const bool gram = opt.gram > 0 || (opt.gram == 0 && layer_uses_gram(p.dims, 0, p.n_cols));
  return c.output.tracked_eval && opt.defer_first_w && gram;
}

}  // namespace

Config stage_config(const Config& c, size_t s) {
  const size_t count = c.model.stages.empty() ? 1 : c.model.stages.size();
  require(s < count, "stage " + std::to_string(s) + " does not exist");
  const StageConfig st = c.model.stages.empty() ? run_stages(c)[0] : c.model.stages[s];
  Config cs = c;
  cs.model.layers = st.layers;
  cs.iterations = st.iterations;
  cs.admm.nu = st.nu;
  cs.admm.rho = st.rho;
  cs.admm.mu = st.mu;
  cs.admm.step = st.step;
  cs.model.stage_last = st.last;
  cs.model.zl_init = st.zl_init;
  cs.rho_schedule = st.rho_schedule;
  if (s + 1 < count) {
    cs.partition.clear();
    cs.groups = std::min(c.groups, st.layers);
  }
  return cs;
}

std::vector<int> layer_groups(const Config& cs) {
  std::vector<int> owner;
  const std::vector<int> part = config_partition(cs, cs.model.layers);
  for (size_t g = 0; g < part.size(); ++g) owner.insert(owner.end(), static_cast<size_t>(part[g]), static_cast<int>(g));
  return owner;
}

std::vector<char> layers_here(const Config& cs) {
  std::vector<char> here;
  for (const int g : layer_groups(cs)) here.push_back(process_count() == 1 || g == process_rank() ? 1 : 0);
  return here;
}

std::vector<int64_t> stage_dims(int64_t d, int64_t classes, const Config& cs) {
  std::vector<int64_t> dims{d};
  for (int l = 0; l + 1 < cs.model.layers; ++l) dims.push_back(cs.model.hidden);
  dims.push_back(classes);
  return dims;
}

double planned_host_bytes(const Config& c, const std::vector<int64_t>& dims, int64_t n_cols) {
  const int layers = static_cast<int>(dims.size()) - 1;
  const std::vector<int> part = config_partition(c, layers);
  double need = 0;
  int first = 0;
  for (size_t g = 0; g < part.size(); ++g) {
    if (process_count() == 1 || static_cast<int>(g) == process_rank())
      need += plan_group_bytes(dims, first, first + part[g], n_cols, c.admm, sizeof(float));
    first += part[g];
  }
  return need;
}

double layer_weight_bytes(const std::vector<int64_t>& dims, size_t l) {
  return sizeof(float) * double(dims[l + 1]) * double(dims[l] + 1);
}

double host_weight_bytes(const Config& c, const std::vector<int64_t>& dims) {
  // Process 0 holds every layer's (it scores the evaluations and writes model.bin); another
  // process only its own layers' (their start, and what a stage change hands it).
  const std::vector<char> here = process_rank() == 0 ? std::vector<char>(dims.size() - 1, 1) : layers_here(c);
  double bytes = 0;
  for (size_t l = 0; l + 1 < dims.size(); ++l)
    if (l < here.size() && here[l]) bytes += layer_weight_bytes(dims, l);
  return bytes;
}

double host_side_bytes(const Config& c, const ProblemShape& p) {
  const double nodes = double(p.nodes), n1 = double(p.dims[1]), n = double(p.n_cols);
  const double scored = double(p.scored);
  // Layer 1 on every node (FirstLayerProduct: three nodes x n_1 matrices when Â mixes them), then
  // on the scored rows (two scored x n_1), as an evaluation or the predictions compute it.
  // Only the process that reports scores evaluates.
  double eval = process_rank() > 0 ? 0 : (p.hops > 0 ? 3 * nodes * n1 : nodes * n1) + 2 * scored * n1;
  // The tracked evaluations' X_Sᵀ X and anchor (FirstLayerTracker).
  if (process_rank() == 0 && tracks_first_layer(c, p)) eval += scored * (n + n1);
  return host_weight_bytes(c, p.dims) + sizeof(float) * eval;
}
double host_side_bytes(const Config& c, const Problem& p) { return host_side_bytes(c, shape_of(p)); }

double stage_carry_bytes(const Config& c, const ProblemShape& p, size_t s) {
  if (s == 0) return 0;
  const Config before = stage_config(c, s - 1), cs = stage_config(c, s);
  const std::vector<int64_t> dims = stage_dims(p.dims.front(), p.dims.back(), before);
  // Each tensor only where the new stage runs its layer (the trained last layer: the new last).
  const std::vector<char> on = layers_here(cs);
  const auto here = [&](int layer) { return on[static_cast<size_t>(layer)] != 0; };
  const int kept = static_cast<int>(dims.size()) - 2;
  double n = 0;
  for (int l = 0; l <= kept; ++l)  // W, b
    if (here(l < kept ? l : cs.model.layers - 1)) n += layer_weight_bytes(dims, static_cast<size_t>(l)) / sizeof(float);
  const double h = double(c.model.hidden), cols = double(p.n_cols);
  for (int l = 0; l < kept; ++l)
    if (here(l)) n += (c.model.stage_duals == "keep" ? 3 : 2) * h * cols + (l > 0 ? h * cols : 0);  // z, q (u), p
  if (cs.model.stage_last == "keep" && here(cs.model.layers - 1)) n += double(p.dims.back()) * cols;
  if (here(0))
    for (const TensorPlan& t : plan_layer(dims, 0, p.n_cols, plan_options(before.admm)))
      if (t.slot == Slot::gram || t.slot == Slot::c) n += double(t.rows) * double(t.cols);  // layer 1's XᵀX, C
  n += 2 * h * cols;  // the new layers' activation (StageCarry::act_bytes), in every process
  return n * sizeof(float);
}
double stage_carry_bytes(const Config& c, const Problem& p, size_t s) { return stage_carry_bytes(c, shape_of(p), s); }

Config planning_config(const Config& c) {
  Config plan = c;
  plan.effective = nlohmann::json::object();
  return plan;
}

double growth_peak_bytes(const Config& given, const ProblemShape& p) {
  const Config c = planning_config(given);
  double peak = 0;
  for (size_t s = 1; s < c.model.stages.size(); ++s) {
    const Config cs = stage_config(c, s);
    peak = std::max(peak, stage_carry_bytes(c, p, s) +
                              planned_host_bytes(cs, stage_dims(p.dims.front(), p.dims.back(), cs), p.n_cols));
  }
  return peak;
}
double growth_peak_bytes(const Config& c, const Problem& p) { return growth_peak_bytes(c, shape_of(p)); }

uint64_t state_file_bytes(const Config& given, const ProblemShape& p) {
  const Config c = planning_config(given);
  uint64_t most = 0;
  for (size_t s = 0; s < std::max<size_t>(c.model.stages.size(), 1); ++s) {
    const Config cs = stage_config(c, s);
    const std::vector<int64_t> dims = stage_dims(p.dims.front(), p.dims.back(), cs);
    const int layers = static_cast<int>(dims.size()) - 1;
    std::vector<int> first_layer{0};
    for (const int n : config_partition(cs, layers))
      first_layer.push_back(first_layer.back() + n);
    uint64_t bytes = 0, tensors = 0;
    for (const StateEntry& e : state_entries(dims, p.n_cols, cs.admm, first_layer)) {
      bytes += static_cast<uint64_t>(e.rows) * static_cast<uint64_t>(e.cols) * sizeof(float);
      ++tensors;
    }
    most = std::max(most, bytes + 64 * tensors);
  }
  // The tracked evaluations' anchor (scored x n_1), saved once a logged evaluation before the last
  // had another ahead of it (iteration 0 always logs; the next logged one, i with log_every
  // dividing i + 1 >= 2, comes before the last); the config, two numbers per iteration as JSON
  // text, and the rest of the header (counters, the summary: a few KiB).
  const bool anchored = c.output.log_every > 0 && std::max(c.output.log_every, 2) <= c.iterations - 1;
  if (anchored && tracks_first_layer(c, p))
    most += static_cast<uint64_t>(p.scored) * static_cast<uint64_t>(c.model.hidden) * sizeof(float);
  return most + given.effective.dump().size() + 64 * static_cast<uint64_t>(std::max(c.iterations, 0)) + 8192;
}

RunPlan plan_run(const Config& c, const ProblemShape& s, size_t scalar_bytes) {
  RunPlan r;
  r.partition = config_partition(c, c.model.layers);
  int first = 0;
  for (const int layers : r.partition) {
    r.group_bytes.push_back(plan_group_bytes(s.dims, first, first + layers, s.n_cols, c.admm, scalar_bytes));
    r.total += r.group_bytes.back();
    first += layers;
  }
  r.growth_peak = growth_peak_bytes(c, s);
  r.host_side = host_side_bytes(c, s);
  r.flops = plan_iteration_flops(s.dims, 0, c.model.layers, s.n_cols, plan_options(c.admm)) +
            plan_boundary_flops(s.dims, r.partition, s.n_cols, c.admm, scalar_bytes);
  return r;
}

}  // namespace pdadmm
