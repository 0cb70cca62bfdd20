// Planning a run from shapes alone: its stages, the memory its groups and the host side need.
// `pdadmm info` and train's memory checks take the shapes from a loaded Problem;
// tools/fuzz/fuzz_config.cpp from a config alone, so this file links without the solver or data.
#pragma once
#include <cstdint>
#include <vector>

#include "host/config/config.h"

namespace pdadmm {

struct Problem;

// The sizes the plans read (no data): dims {d, hidden…, C} of the current stage, N training
// columns, the graph's nodes, the scored (train + val + test) nodes and the hops.
struct ProblemShape {
  std::vector<int64_t> dims;
  int64_t n_cols = 0;
  int64_t nodes = 0;
  int64_t scored = 0;
  int hops = 0;
};
ProblemShape shape_of(const Problem& p);

// The stages a run trains: model.stages, or one stage of model.layers for admm.iterations.
std::vector<StageConfig> run_stages(const Config& c);
// The configuration stage s runs with: its layers and ν/ρ/μ; groups capped at its layers
// (an explicit partition applies to the last stage only).
Config stage_config(const Config& c, size_t s);
// c with an empty effective JSON, for the plans' loops over the stages: stage_config copies its
// config, and the JSON lists every stage (a copy per stage made the plans quadratic in
// model.stages: 1000 stages, info 5 s).
Config planning_config(const Config& c);
// {d, hidden…, C} of stage config cs.
std::vector<int64_t> stage_dims(int64_t d, int64_t classes, const Config& cs);
// The group that runs each of stage config cs's layers (under mpirun, group g is process g).
std::vector<int> layer_groups(const Config& cs);
// Per layer of cs: whether this process runs it (every layer in one process).
std::vector<char> layers_here(const Config& cs);

// The host bytes the groups of this process plan for a model of `dims` (pdadmm info's per-group sum).
double planned_host_bytes(const Config& c, const std::vector<int64_t>& dims, int64_t n_cols);
// Host memory a CPU run uses beside the groups' tensors: the host's copy of the weights (a stage's
// start, every evaluation's download) and an evaluation's buffers (layer 1 on all nodes, the
// tracked evaluations' products). Data and X are held before any check, so not counted.
double host_side_bytes(const Config& c, const ProblemShape& s);
// Of which the weights of stage config c's model of `dims`: every W and b in process 0 (and in a
// single process), a process's own layers' under mpirun.
double host_weight_bytes(const Config& c, const std::vector<int64_t>& dims);
// One layer's W and b (layer l of a model of `dims`).
double layer_weight_bytes(const std::vector<int64_t>& dims, size_t l);
double host_side_bytes(const Config& c, const Problem& p);
// The bytes take_stage(c, s, ·) returns to this process, planned from the shapes (0 for stage 0).
double stage_carry_bytes(const Config& c, const ProblemShape& p, size_t s);
double stage_carry_bytes(const Config& c, const Problem& p, size_t s);
// The most host memory the groups plan at once while a stage is built: the carry from the stage
// before beside the new stage's tensors (0 without stages).
double growth_peak_bytes(const Config& c, const ProblemShape& p);
double growth_peak_bytes(const Config& c, const Problem& p);

// state.bin's size at most (the largest stage's): the solver's tensors (state_entries), the tracked
// evaluations' anchor, the header's names, config and per-iteration lists. train checks the output
// folder's room for it before the first iteration when the run writes it without a signal.
uint64_t state_file_bytes(const Config& c, const ProblemShape& s);

// What `pdadmm info` prints of a run's plan: layers per group, the bytes each group allocates
// (scalar_bytes per element), their sum, the peak while a stage is built from the last (0 without
// stages), the host side (host_side_bytes) and the GEMM FLOPs of one iteration.
struct RunPlan {
  std::vector<int> partition;
  std::vector<double> group_bytes;
  double total = 0, growth_peak = 0, host_side = 0, flops = 0;
};
RunPlan plan_run(const Config& c, const ProblemShape& s, size_t scalar_bytes = sizeof(float));

}  // namespace pdadmm
