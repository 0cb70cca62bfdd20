// The parts of an iteration that compute: a stage change, the counts, the evaluation, the ρ schedule.
#include "host/admm/train_loop.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>

#include "host/admm/growth.h"
#include "host/admm/host_threads.h"
#include "host/admm/run_outputs.h"
#include "host/comm/processes.h"
#include "host/io/error.h"
#include "host/io/stats.h"
#include "host/quant/wire.h"

namespace pdadmm {

namespace {

// threads 0: the cores left free are measured again when a stage starts (a neighbour may have
// finished or started since), unless the last measurement is under 10 s old: the sample takes
// 100 ms, 4 % of a Cora run's two stage changes, and a neighbour seldom changes faster. The counts
// change no bits, only how long the stage takes.
constexpr double kRemeasureAfterSeconds = 10;

void update_auto_threads(const Config& c, size_t stage, bool writes, std::ostream& log) {
  if (c.threads > 0 || c.backend != "cpu" || process_count() > 1) return;
  const int before = free_process_cores();
  double busy = -1;
  const int now = remeasure_free_process_cores(&busy, kRemeasureAfterSeconds);
  if (now == before) return;
  set_host_threads(now);
  omp_set_num_threads(now);
  if (writes)
    log << "note: threads: " << now << " of " << process_cores() << " cores from stage " << stage + 1
        << " (other processes kept " << std::fixed << std::setprecision(1) << std::max(busy, 0.0)
        << std::defaultfloat << " busy as it started)" << std::endl;
}

// Whether an iteration in (it, end) logs.
bool logs_ahead(const Config& c, int it, int end) {
  for (int i = it + 1; i < end; ++i)
    if ((i + 1) % c.output.log_every == 0) return true;
  return false;
}

// The reference's backtracking gives up after max_backtracks doublings of t0 and keeps the old
// value: with many training columns the curvature outgrows t0·2^max_backtracks and W freezes
// (Amazon Computers with 8251 training nodes: every W step of a 2-layer model from iteration 75,
// train accuracy stuck at 0.77; 0.85 with the exact step).
// `step_key` is where the step is set: admm.step, or the stage's own key in a staged run.
std::string giveup_text(const AdmmParams& prm, const StepCounts& n, int it, const std::string& step_key) {
  std::ostringstream o;
  o << "iteration " << it << ": the backtracking";
  if (n.w_giveups > 0) o << " W step of " << n.w_giveups << " layer(s)";
  if (n.w_giveups > 0 && n.p_giveups > 0) o << " and";
  if (n.p_giveups > 0) o << " p step of " << n.p_giveups << " layer(s)";
  o << " gave up (admm.t0 = " << prm.t0 << " doubled admm.max_backtracks = " << prm.max_backtracks
    << " times stayed below the curvature) and kept the old values, as the reference does; if the training "
       "accuracy stalls, " << step_key << " = \"exact\" or a larger admm.max_backtracks lets them move (metrics.jsonl "
       "and summary.json count the give-ups)";
  return o.str();
}

}  // namespace

TrainLoop::TrainLoop(const Config& cfg, std::ostream& out, bool first_process, Clock::time_point started,
                     Problem& problem, const std::vector<StageConfig>& all_stages, const Evaluator& evaluator,
                     std::unique_ptr<Solver<float>> s, size_t at)
    : c(cfg), log(out), writes(first_process), t_start(started), p(problem), stages(all_stages), eval(evaluator),
      solver(std::move(s)), stage(at), tracker(evaluator, problem.x) {
  for (size_t i = 0; i <= stage; ++i) stage_end += stages[i].iterations;
  for (int32_t v : p.data.train) train_labels.push_back(p.data.labels[v]);
}

void TrainLoop::resume(RunState& from) {
  sum = from.sum;
  sum.resumed_from = from.iteration;
  iter_s = from.iter_s;
  train_cost = from.train_cost;
  seconds_before = from.seconds;
  state_at = from.iteration;
  if (from.anchor.size() > 0 && writes) {
    // Scored nodes x layer 1's outputs; a wrong one failed later as "no anchor or wrong D".
    require(from.anchor.cols == p.dims[1], [&] {
      return "state " + state_path(c) + ": the state does not fit the model: its tensor tracker.anchor has " +
             std::to_string(from.anchor.cols) + " columns, layer 1 has " + std::to_string(p.dims[1]) + " outputs";
    });
    try {
      tracker.anchor(std::move(from.anchor));
    } catch (const Error& e) {
      throw Error("state " + state_path(c) + ": " + e.what());
    }
  }
  scores.val.acc = from.val_acc;
  scores.test.acc = from.test_acc;
  scored_at = from.shown_at;  // the progress line marks them "@k" until the next logged evaluation
}

void TrainLoop::next_stage(int it) {
  // Layer 1 moves to the new solver as it is; so does the tracker's anchor (W_a of the new
  // solver = s W_a + D Xᵀ of the old one), sparing an evaluation with W itself.
  const auto t_stage = Clock::now();
  if (progress) progress->break_line();  // the threads note and the stage line below it
  double s = 1;
  HostMatrix<float> d;
  const bool carry = solver->first_layer_track(&s, &d);
  update_auto_threads(c, stage + 1, writes, log);
  StageCarry kept = take_stage(c, stage + 1, *solver);
  solver.reset();  // its tensors go before the next stage's come: the peak is the carry, not two solvers
  solver = start_stage(c, p, ++stage, std::move(kept));
  stage_end += stages[stage].iterations;
  if (carry && c.output.tracked_eval && logs_ahead(c, it - 1, c.iterations - 1) && solver->anchor_first_layer() &&
      writes)
    tracker.anchor(tracker.first(s, d));
  sum.stage_seconds += seconds_since(t_stage);
  train_cost.clear();  // the ρ schedule restarts with the stage's ρ, as in the reference
  log << "stage " << stage + 1 << "/" << stages.size() << ": " << stages[stage].layers << " layers from iteration "
      << it + 1 << std::endl;
}

size_t TrainLoop::count(const IterationStats& st, int it) {
  iter_s.push_back(st.seconds);
  sum.w_giveups += st.counts.w_giveups;
  sum.p_giveups += st.counts.p_giveups;
  if ((st.counts.w_giveups > 0 || st.counts.p_giveups > 0) && giveup_stage != static_cast<int>(stage) && writes) {
    giveup_stage = static_cast<int>(stage);  // once a stage: it tends to repeat every iteration
    const std::string key = c.model.stages.empty() ? "admm.step" : "model.stages[" + std::to_string(stage) + "].step";
    if (progress) progress->break_line();
    log << "note: " << giveup_text(c.admm, st.counts, it + 1, key) << std::endl;
  }
  size_t bytes = 0;
  for (size_t x : st.boundary_bytes) bytes += x;
  sum.bytes_total += bytes;
  sum.bytes_per_iter = bytes;
  sum.bytes_per_iter_fp32 = fp32_baseline_bytes(p.dims, solver->partition(), p.x.cols);
  sum.bytes_ratio_fp32 = fp32_ratio(sum.bytes_per_iter_fp32, bytes);
  return bytes;
}

void TrainLoop::evaluate(int it, bool log_now, bool schedule_loss) {
  const auto t_eval = Clock::now();
  double s = 1;
  HostMatrix<float> d;
  const bool final_eval = it + 1 == c.iterations;
  // tracked_eval gates the use too: a state saved while tracking resumes tracking (output.* may
  // change on --resume), and --set output.tracked_eval=false was ignored.
  const bool use_track = log_now && !final_eval && c.output.tracked_eval && solver->first_layer_track(&s, &d);
  // The loss and tracked scores skip W_1 (n x d): the loss starts from layer 1's cached W X + b
  // (Solver::forward_train; on Coauthor CS, d = 34025, that GEMM cost more than an ADMM
  // iteration), the tracked scores from FirstLayerTracker. The loss runs layers 2..L on the groups'
  // own backends, with no copy of any W (on the CPU it downloaded every W each iteration: Cora's
  // evaluation time 1.47 -> 1.23 s); so do a GPU's logged evaluations before the last, so that only
  // layer 1 crosses to the host; the final scores are the host's, the same bits `pdadmm eval` gives.
  const bool on_device = c.backend != "cpu";
  weights_after = -1;
  if (log_now && (!on_device || final_eval)) {
    solver->weights(W, b, use_track ? 1 : 0, 0);  // to process 0, which scores
    if (use_track) b[0] = solver->download(0, "b");
    if (!use_track) weights_after = it;
  } else if (log_now) {
    W.resize(static_cast<size_t>(solver->num_layers()));
    b.resize(W.size());
    if (!use_track) solver->download_to(0, "W", 0, W[0]);
    b[0] = solver->download(0, "b");
  }
  if (schedule_loss) {
    const double loss = score_columns(solver->forward_train(), train_labels).loss;
    // NaN compares false: the schedule would stop raising ρ unseen, and state.bin store it as null.
    if (!std::isfinite(loss))
      throw Error("training diverged at iteration " + std::to_string(it + 1) +
                  ": the training loss (the ρ schedule's forward pass) is not finite (the logits overflow float); " +
                  unwritten_outputs(c, model_at));
    train_cost.push_back(loss);
  }
  // Scores from layer 1's product on the scored rows (collective on a GPU; only the process that
  // reports scores computes them).
  const auto score = [&](const HostMatrix<float>& first) {
    if (!on_device || final_eval) return writes ? eval.evaluate_first(first, W, b) : Scores();
    const HostMatrix<float> a1 = writes ? eval.layer1_columns(first, b[0]) : HostMatrix<float>();
    const HostMatrix<float> logits = solver->forward_from(a1, eval.scored());
    return writes ? eval.score_logit_columns(logits) : Scores();
  };
  if (log_now) scored_at = it + 1;
  if (use_track) {
    scores = score(writes ? tracker.first(s, d) : HostMatrix<float>());
    sum.evals_tracked++;
  } else if (log_now) {
    HostMatrix<float> first = writes ? eval.first_layer(W[0]) : HostMatrix<float>();
    // Anchor when a later logged evaluation (not the final one) can use it.
    if (c.output.tracked_eval && !final_eval && logs_ahead(c, it, c.iterations - 1) &&
        solver->anchor_first_layer() && writes)
      tracker.anchor(first);
    scores = score(first);
    sum.evals_exact++;
  }
  sum.eval_seconds += seconds_since(t_eval);
}

void TrainLoop::update_rho() {
  AdmmParams& prm = solver->params();
  const StageConfig& st = stages[stage];
  apply_rho_schedule(st.rho_schedule, train_cost, prm, st.nu == st.rho);
  // Each process computed the loss itself; another host's BLAS or libm could round it
  // differently and flip a comparison, and processes that disagree on ρ disagree on the
  // collective calls above. Process 0's ρ and ν rule.
  if (process_count() > 1) {
    double rn[2] = {prm.rho, prm.nu};
    processes_broadcast(rn, sizeof(rn));
    prm.rho = rn[0];
    prm.nu = rn[1];
  }
}

}  // namespace pdadmm
