// The iterations of train() (trainer.cpp), one TrainLoop for the run. Its parts that compute are in
// train_loop.cpp; those that write (metrics line, checkpoints, the run's end) in run_outputs.cpp.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "host/admm/evaluator.h"
#include "host/admm/problem.h"
#include "host/admm/resume.h"
#include "host/admm/solver.h"
#include "host/admm/trainer.h"
#include "host/config/config.h"
#include "host/io/files.h"
#include "host/io/progress.h"

namespace pdadmm {

// What the iterations share and change, so that each part of an iteration can be a function of its
// own. Under mpirun every process holds one and makes the same calls in the same order (the
// solver's downloads are collective); the first one writes the outputs.
struct TrainLoop {
  using Clock = std::chrono::steady_clock;

  TrainLoop(const Config& cfg, std::ostream& out, bool first_process, Clock::time_point started, Problem& problem,
            const std::vector<StageConfig>& all_stages, const Evaluator& evaluator,
            std::unique_ptr<Solver<float>> s, size_t at);

  const Config& c;
  std::ostream& log;
  const bool writes;
  const Clock::time_point t_start;
  Problem& p;
  const std::vector<StageConfig>& stages;
  const Evaluator& eval;
  std::unique_ptr<Solver<float>> solver;
  size_t stage;
  int stage_end = 0;          // the iteration the next stage starts at
  FirstLayerTracker tracker;  // anchored whenever the solver tracks layer 1
  std::vector<int32_t> train_labels;
  std::vector<HostMatrix<float>> W, b;  // the host's copy of the weights, as the last download left it
  int weights_after = -1;  // the iteration after which W, b were downloaded whole (-1: not whole)
  TrainSummary sum;
  std::vector<double> iter_s, train_cost;
  double seconds_before = 0;  // of the run's earlier parts
  int state_at = -1;  // the iteration of the state.bin this run wrote last or resumed from (-1: none)
  int model_at = -1;  // the iteration of the model.bin this run wrote last (-1: none yet)
  Scores scores;
  int scored_at = -1;  // the iteration `scores` are from (-1: none yet, or a resumed state's that did not say)
  int giveup_stage = -1;  // the stage whose give-ups were reported
  Progress* progress = nullptr;  // its bar's line is ended before a line the loop prints mid-run

  // train --resume: the totals so far, the tracker's anchor, and the scores the progress line shows
  // until the next logged evaluation.
  void resume(RunState& from);

  // Greedy growth: the next stage deepens the trained net, starting at iteration `it`.
  void next_stage(int it);

  // Adds iteration `it`'s time, give-ups and bytes to the totals; returns the bytes it sent.
  size_t count(const IterationStats& st, int it);

  // The ρ schedule's training loss and, when iteration `it` logs, the scores: one download of the
  // weights serves both.
  void evaluate(int it, bool log_now, bool schedule_loss);

  // A logged iteration's line in metrics.jsonl, and its objective and residual in the summary.
  void log_iteration(const IterationStats& st, int it, size_t bytes, std::optional<JsonLines>& metrics);

  // ρ and ν after this stage's losses so far, the same in every process.
  void update_rho();

  // A model.bin (and state.bin) of the iterate so far, for runs that may not reach their end (a
  // crash, the OOM killer, a job's time limit): every process downloads (collective), the first writes.
  void checkpoint(int done);

  // OUT/state.bin after iteration `done` (collective: every process downloads, the first writes).
  void save_state(int done);

  // The final weights and their scores; a diverged run stops here, before it writes any output.
  void final_scores(int done);

  // The run's outputs after `done` iterations: model.bin, state.bin, predictions.csv, summary.json.
  // Returns whether state.bin is kept.
  bool write_outputs(int done, int stopped_by);

  // The summary a person reads at the end: scores, time, bytes moved, and where the outputs are.
  void log_final(int done, bool keeps_state);
};

}  // namespace pdadmm
