// Trainer: a Config in, a trained model out. Loads and augments the data, builds the Solver
// on the configured backend and groups, runs the iterations with the ρ schedule, evaluates,
// and writes metrics.jsonl, config.json, summary.json and model.bin to the output folder.
#pragma once
#include <functional>
#include <memory>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/admm/evaluator.h"
#include "host/admm/problem.h"
#include "host/admm/rho_schedule.h"
#include "host/admm/solver.h"
#include "host/config/config.h"

namespace pdadmm {

// W, b ~ N(0, init_std²), one seeded stream per layer (independent of the grouping). With `here`,
// a layer it marks 0 is left 0 x 0 (under mpirun, one another process runs).
void init_weights(const std::vector<int64_t>& dims, double stddev, uint64_t seed, std::vector<HostMatrix<float>>& W,
                  std::vector<HostMatrix<float>>& b, const std::vector<char>* here = nullptr);
// Ways a caller (the benchmark) adapts the solver make_solver builds, without a second copy of it.
struct SolverHooks {
  // Wraps group g's Ops (e.g. FLOP counting); applied after the transport is bound to the Ops.
  std::function<std::unique_ptr<Ops<float>>(int g, std::unique_ptr<Ops<float>>)> wrap_ops;
  std::function<std::unique_ptr<Transport>(std::unique_ptr<Transport>)> wrap_transport;
  int cpu_threads_per_group = 0;  // CPU backend: element-wise threads per group; 0 = configure_threads
};

// Solver on the configured backend, threads and groups (start: as Solver's constructor takes it).
std::unique_ptr<Solver<float>> make_solver(const Config& c, const Problem& p, const std::vector<HostMatrix<float>>& W,
                                           const std::vector<HostMatrix<float>>& b, const SolverHooks& hooks = {},
                                           const SolverStart<float>& start = SolverStart<float>());
// `threads`, or when 0 this process's cores (its share of the machine under mpirun) less those other
// processes keep busy (free_process_cores).
int total_cores(const Config& c);
// A note line when `threads: 0` left cores to other processes (total_cores < process_cores).
void log_auto_threads(const Config& c, std::ostream& log);
// Sets OpenBLAS threads; returns the threads each group should use for element-wise loops.
int configure_threads(const Config& c, int groups);

struct TrainSummary {
  int iterations = 0;  // run: fewer than the config's when a signal stopped it
  int resumed_from = 0;  // train --resume: the iterations the state held
  int signal = 0;      // SIGINT / SIGTERM that stopped the run early, else 0
  Scores scores;
  double seconds_total = 0;
  double seconds_per_iter_mean = 0, seconds_per_iter_median = 0;
  // With growth stages, each stage that ran: its layers, iterations and median s/iteration (the
  // whole run's median was one stage's, a 10-iteration 5-layer stage's on Cora).
  struct Stage {
    int layers = 0, iterations = 0;
    double seconds_per_iter_median = 0;
  };
  std::vector<Stage> stages;
  double eval_seconds = 0;
  double stage_seconds = 0;  // building the later growth stages (hand-over, new solver)
  int evals_exact = 0, evals_tracked = 0;  // logged evaluations by how layer 1 was computed
  size_t bytes_per_iter = 0;
  size_t bytes_total = 0;
  // fp32 pdADMM-G on the same model and groups (last iteration), and how many times fewer bytes
  // this run moved: bytes_per_iter_fp32 / bytes_per_iter (0 when nothing crosses a boundary;
  // written as null, fp32_ratio_json).
  size_t bytes_per_iter_fp32 = 0;
  double bytes_ratio_fp32 = 0;
  double first_objective = 0, last_objective = 0;
  double first_residual = 0, last_residual = 0;
  // Backtracking steps that ran out of doublings and kept the old W or p (layers x iterations).
  int64_t w_giveups = 0, p_giveups = 0;
  nlohmann::json to_json() const;
};

// How many times fewer bytes than fp32 pdADMM-G a run moves (0 when nothing crosses a boundary).
inline double fp32_ratio(size_t fp32_bytes, size_t bytes) {
  return bytes > 0 ? static_cast<double>(fp32_bytes) / static_cast<double>(bytes) : 0.0;
}
// bytes_ratio_fp32 as summary.json, metrics.jsonl and bench write it: null where nothing crosses a
// boundary (one group), where 0 read as "infinitely more bytes than fp32".
inline nlohmann::json fp32_ratio_json(size_t fp32_bytes, size_t bytes) {
  return bytes > 0 ? nlohmann::json(fp32_ratio(fp32_bytes, bytes)) : nlohmann::json(nullptr);
}

// Under mpirun: one process per layer group of the config, else an Error naming -np.
void require_process_per_group(const Config& c);
// Under mpirun, --resume on a process other than 0: `state` (process 0's state.bin) must be readable
// here, else an Error saying the output folder must be shared.
void require_shared_state(const std::string& state);
// Under mpirun: this process formed the training inputs and labels process 0 did, else an Error.
void require_same_data(const Config& c, const Problem& p);
// Under mpirun over MPI: every stage's boundary messages fit one MPI call (2 GiB), else an Error
// naming the processes and the bytes.
void require_message_sizes(const Config& c, const Problem& p);

// Runs the whole training; `log` gets the human-readable lines (warnings, summary). resume: continue
// the run in c.output.dir from its state.bin (host/admm/resume.h).
TrainSummary train(const Config& c, std::ostream& log, bool resume = false);

}  // namespace pdadmm
