// Resuming a stopped run (train --resume): OUT/state.bin holds the solver's state and the training
// loop's, written with every model.bin of an unfinished run (output.checkpoint_every, a signal
// stop) when output.state is on. A resumed run ends with the bytes the uninterrupted run writes.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/admm/trainer.h"
#include "host/io/state_file.h"

namespace pdadmm {

struct RunState {
  int iteration = 0;  // iterations done
  int stage = 0;      // the growth stage the solver is in
  std::vector<double> train_cost;  // the ρ schedule's losses of this stage
  std::vector<double> iter_s;      // seconds of each iteration so far
  double seconds = 0;              // the run's wall time so far
  TrainSummary sum;                // its running totals (bytes, evaluations, objective, residual)
  HostMatrix<float> anchor;        // FirstLayerTracker's W_a X_S; 0 x 0 when not anchored
  double val_acc = 0, test_acc = 0;  // the last logged evaluation's, shown by the progress line
  int shown_at = -1;                  // that evaluation's iteration (-1: not saved, states before 2026-12-07)
  nlohmann::json data_crc;           // Problem::data_crc of the run (absent in a state from before it)
  std::string written_by;            // build_version() of the binary that wrote it (read, not written)
  SolverState<float> solver;  // load_run_state leaves its tensors in the file (below)
  // Where load_run_state found the solver's tensors: the file (checked) and their index and shape
  // in it; load_solver_state reads them from there one at a time.
  std::shared_ptr<StateFileReader> file;
  std::vector<size_t> solver_in_file;
  std::vector<std::pair<int64_t, int64_t>> solver_shapes;
};

std::string state_path(const Config& c);  // OUT/state.bin
void save_run_state(const Config& c, RunState s);  // its tensors move into the file
// The same with s.solver taken from `solver` a tensor at a time (Solver::state_tensors), written
// by the process that `writes`: no process holds more of the state than one tensor. Collective:
// every process calls it.
void save_run_state(const Config& c, RunState s, Solver<float>& solver, bool writes);
// OUT/state.bin for the run `c` describes: an Error (one line) when there is none, it is damaged,
// a training-relevant key of the config differs from the state's (naming it), or it is at the end.
// Reads the state through once (its CRC and values checked, a tensor at a time) and keeps only the
// anchor and the scalars: the solver's tensors are read again by load_solver_state.
RunState load_run_state(const Config& c);
// Sets the solver's state from s (its tensors, or the file's a tensor at a time: a resume holds no
// more of the state than one tensor beside the solver); errors name the state file.
void load_solver_state(const Config& c, const RunState& s, Solver<float>& solver);
// The "not found" error of load_run_state, before train creates the output folder: a --resume into
// a folder that does not exist left it behind, empty. Opens nothing (a FIFO there blocked).
void require_run_state(const Config& c);
// A run without --resume into a folder whose state.bin is an unfinished run (of this config, the
// length aside, or of another: naming the first key that differs): an Error (one line), since the
// run would remove the state. A finished run's kept state and a damaged header are left to the
// run's note.
void refuse_forgotten_resume(const Config& c);
// train --resume continues the run state.bin records and rewrites OUT/config.json: one edited since
// the stop (a rho changed) was replaced without a word, the edit never used. An Error naming the
// first key that differs as a resume compares configs (the length, output.* and the like aside).
void refuse_edited_config_json(const Config& c);
// An Error (one line, naming the damage) when path is a state file whose header is damaged: train
// --resume without --config reads its config from there, which is not to be blamed for the damage.
void require_state_header(const std::string& path);
// The iteration of OUT/state.bin (its header alone), -1 when there is none or it cannot be read.
int unfinished_state_iteration(const Config& c);
// Keeps the lines of iterations <= k (an earlier run may have logged past its last state), atomically.
// Returns how many lines it dropped up to k because one of them was damaged (not a torn last
// line, which a kill leaves), so that the run can say its log may have a gap. A file it cannot
// read is an Error, and stays as it was.
int trim_metrics(const std::string& path, int k);

}  // namespace pdadmm
