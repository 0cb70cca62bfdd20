// The training run: data -> solver -> iterations (metrics, ρ schedule, progress) -> outputs.
#include "host/admm/trainer.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <numeric>
#include <optional>
#include <sstream>
#include <tuple>

#include "cuda/cuda_backend.h"
#include "host/admm/growth.h"
#include "host/admm/host_threads.h"
#include "host/admm/predictions.h"
#include "host/admm/resume.h"
#include "host/backend/cpu_ops.h"
#include "host/comm/inproc_transport.h"
#include "host/comm/processes.h"
#include "host/data/rng.h"
#include "host/io/checkpoint.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/progress.h"
#include "host/io/stats.h"
#include "host/io/stop_signal.h"
#include "host/io/version.h"

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

}  // namespace

int total_cores(const Config& c) { return c.threads > 0 ? c.threads : free_process_cores(); }

void log_auto_threads(const Config& c, std::ostream& log) {
  double busy = -1;
  if (c.threads > 0 || free_process_cores(&busy) == process_cores()) return;
  log << "note: threads: " << free_process_cores() << " of " << process_cores() << " cores (other processes kept "
      << std::fixed << std::setprecision(1) << busy << std::defaultfloat
      << " busy when this run started; a team sharing a core with them waits for it at every step; `threads` sets "
         "the count)\n";
}

void init_weights(const std::vector<int64_t>& dims, double stddev, uint64_t seed, std::vector<HostMatrix<float>>& W,
                  std::vector<HostMatrix<float>>& b) {
  W.clear();
  b.clear();
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    Rng rng(derive_seed(seed, 1000 + l));
    HostMatrix<float> w(dims[l + 1], dims[l]), bb(dims[l + 1], 1);
    rng.normals(w.data.data(), w.size(), stddev);
    rng.normals(bb.data.data(), bb.size(), stddev);
    W.push_back(std::move(w));
    b.push_back(std::move(bb));
  }
}

int configure_threads(const Config& c, int groups) {
  const int cores = total_cores(c);
  // BLAS itself runs single-threaded; CpuOps splits each GEMM over the group's share of the
  // cores (deterministic for any thread count, see CpuOps::gemm).
  openblas_set_num_threads(1);
  return std::max(1, cores / groups);
}

std::unique_ptr<Solver<float>> make_solver(const Config& c, const Problem& p, const std::vector<HostMatrix<float>>& W,
                                           const std::vector<HostMatrix<float>>& b, const SolverHooks& hooks,
                                           const SolverStart<float>& start) {
  SolverSpec spec;
  spec.dims = p.dims;
  spec.n_cols = p.x.cols;
  spec.groups = c.groups;
  spec.partition = c.partition;
  spec.zl_init = c.model.zl_init == "labels" ? ZlInit::Labels : ZlInit::Zeros;
  const int G = c.partition.empty() ? c.groups : static_cast<int>(c.partition.size());
  auto ops = std::make_shared<std::vector<std::unique_ptr<Ops<float>>>>();
  std::unique_ptr<Transport> transport;
  const bool processes = process_count() > 1;  // mpirun: this process runs group process_rank()
  if (c.backend == "cuda") {
    if (cuda_device_count() == 0)  // the build, or the machine: the reason says which
      throw Error("backend \"cuda\": " +
                  (cuda_compiled() ? "no CUDA device is available: " + cuda_unavailable_reason()
                                   : cuda_unavailable_reason()) +
                  "; use \"backend\": \"cpu\"");
    std::vector<int> devices = cuda_group_devices(c.devices, G, cuda_device_count());
    // Under mpirun without a "devices" list, the processes of a machine take its GPUs in turn.
    if (processes && c.devices.empty()) devices.assign(G, process_local_index() % cuda_device_count());
    // The Ops come first: the transport orders each group's messages with that group's compute
    // stream (not the device-wide legacy stream, which would serialise groups sharing a GPU).
    std::vector<Ops<float>*> group_ops;
    for (int g = 0; g < G; ++g) {
      CudaOpsOptions opt;
      opt.tf32 = c.cuda.tf32;
      opt.group = g;
      ops->push_back(!processes || g == process_rank() ? make_cuda_ops(devices[g], opt) : nullptr);
      group_ops.push_back(ops->back().get());
    }
    transport = processes ? make_cuda_process_transport(make_process_transport(G), group_ops, c.cuda.processes == "nccl")
                          : make_cuda_transport_for_ops(group_ops);
  } else {
    const int configured = configure_threads(c, processes ? 1 : G);
    const int per_group = hooks.cpu_threads_per_group > 0 ? hooks.cpu_threads_per_group : configured;
    transport = processes ? make_process_transport(G) : std::make_unique<InProcTransport>(G);
    for (int g = 0; g < G; ++g)
      ops->push_back(transport->local(g) ? std::make_unique<CpuOps<float>>(per_group) : nullptr);
  }
  if (hooks.wrap_ops)
    for (int g = 0; g < G; ++g)
      if ((*ops)[g]) (*ops)[g] = hooks.wrap_ops(g, std::move((*ops)[g]));
  if (hooks.wrap_transport) transport = hooks.wrap_transport(std::move(transport));
  return std::make_unique<Solver<float>>(spec, c.admm, p.x, p.y, W, b,
                                         [ops](int g) { return std::move((*ops)[g]); }, std::move(transport), start);
}

nlohmann::json TrainSummary::to_json() const {
  auto split = [](const SplitScore& s) { return nlohmann::json{{"acc", s.acc}, {"loss", s.loss}, {"nodes", s.count}}; };
  nlohmann::json j = {{"version", build_version()},
                      {"iterations", iterations},
                      {"interrupted", signal != 0},
                      {"train", split(scores.train)},
                      {"val", split(scores.val)},
                      {"test", split(scores.test)},
                      {"test_acc", scores.test.acc},
                      {"seconds_total", seconds_total},
                      {"seconds_per_iter_mean", seconds_per_iter_mean},
                      {"seconds_per_iter_median", seconds_per_iter_median},
                      {"eval_seconds", eval_seconds},
                      {"stage_seconds", stage_seconds},
                      {"evaluations", {{"exact", evals_exact}, {"tracked", evals_tracked}}},
                      {"bytes_per_iter", bytes_per_iter},
                      {"bytes_total", bytes_total},
                      {"bytes_per_iter_fp32", bytes_per_iter_fp32},
                      {"bytes_ratio_fp32", bytes_ratio_fp32},
                      {"objective", {{"first", first_objective}, {"last", last_objective}}},
                      {"residual", {{"first", first_residual}, {"last", last_residual}}},
                      {"giveups", {{"W", w_giveups}, {"p", p_giveups}}}};
  if (resumed_from > 0) j["resumed_from"] = resumed_from;  // train --resume: the whole run's numbers
  return j;
}

namespace {

// Mean cross-entropy of the forward pass on the training nodes, the ρ schedule's signal. Layer 1's
// W X + b is the solver's cached product (exact up to rounding; refreshed every refresh_every
// iterations), so the d x N input is not multiplied again: on Coauthor CS (d = 34025) that GEMM
// cost more than an ADMM iteration.
double training_loss(Solver<float>& solver, const std::vector<HostMatrix<float>>& W,
                     const std::vector<HostMatrix<float>>& b, const std::vector<int32_t>& labels) {
  HostMatrix<float> act = solver.download(0, "a");
  for (float& v : act.data) v = v > 0 ? v : 0;
  return score_columns(forward_columns(W, b, act, 1), labels).loss;
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

void require_process_per_group(const Config& c) {
  const int groups = c.partition.empty() ? c.groups : static_cast<int>(c.partition.size());
  if (process_count() > 1)
    require(process_count() == groups, "mpirun started " + std::to_string(process_count()) + " processes for " +
                                           std::to_string(groups) + " layer groups: one process per group (mpirun -np " +
                                           std::to_string(groups) + ")");
  if (process_count() <= 1) return;
  // Every process must train the same model (a host with an older config file hung the run or
  // trained another model silently): process 0's checksum of the config against each one's own.
  // Each may have its own data folder and threads; only process 0 writes the outputs and shows
  // progress. The other output keys decide when the processes download collectively (log_every,
  // checkpoint*, state, keep_state, tracked_eval): a process with another log_every hung the run.
  nlohmann::json same = c.effective;
  if (same.contains("data") && same["data"].is_object()) same["data"].erase("root");
  if (same.contains("output") && same["output"].is_object()) {
    same["output"].erase("dir");
    same["output"].erase("progress");
  }
  same.erase("threads");
  const std::string text = same.dump();
  const uint32_t mine = crc32_of(text.data(), text.size());
  uint32_t first = mine;
  processes_broadcast(&first, sizeof first);
  require(first == mine, "this process's config differs from process 0's (every key but data.root, threads, "
                         "output.dir and output.progress must be the same in every process: check each machine's "
                         "config file and --set)");
}

namespace {

// Every process starts at process 0's iteration: one that resumed another state.bin (or none)
// waited for ever on the others or stopped at an MPI error. -1: a fresh start.
void require_same_start(const Config& c, int mine) {
  if (process_count() <= 1) return;
  int first = mine;
  processes_broadcast(&first, sizeof first);
  const auto start = [](int it) {
    return it < 0 ? std::string("starts afresh") : "resumes at iteration " + std::to_string(it);
  };
  require(first == mine, "this process " + start(mine) + (mine < 0 ? "" : " of " + state_path(c)) + ", process 0 " +
                             start(first) + " (every process must resume the same state.bin, or none: --resume "
                                            "in each, with the output folder shared)");
}

// The first layer whose W or b holds NaN or ±inf, -1 if none.
int non_finite_layer(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b) {
  const auto finite = [](const HostMatrix<float>& m) {
    return std::all_of(m.data.begin(), m.data.end(), [](float v) { return std::isfinite(v); });
  };
  for (size_t l = 0; l < W.size(); ++l)
    if (!finite(W[l]) || !finite(b[l])) return static_cast<int>(l);
  return -1;
}

// OUT/model.bin (atomically): the weights after `iterations` iterations and the config they ran.
void save_model(const Config& c, const std::vector<int64_t>& dims, const std::vector<HostMatrix<float>>& W,
                const std::vector<HostMatrix<float>>& b, int iterations) {
  Checkpoint ck;
  ck.meta = {{"config", c.effective}, {"iterations", iterations}, {"dims", dims}};
  ck.W = W;
  ck.b = b;
  save_checkpoint(c.output.dir + "/model.bin", ck);
}

using Clock = std::chrono::steady_clock;

// Held by train() to the end: two runs in one folder each reported success while the outputs (and
// a resume's state.bin) were the other's or a mix.
void lock_output_folder(const Config& c, std::optional<FolderLock>& lock, std::ostream& log) {
  make_dirs(c.output.dir);
  if (::access(c.output.dir.c_str(), W_OK) != 0)  // as root, only a read-only mount says no: say that
    throw Error("cannot write to the output folder " + c.output.dir + ": " + std::strerror(errno));
  lock.emplace(c.output.dir);
  // A run killed while writing left a temporary (as large as state.bin, one per kill); with the
  // folder locked, none of them is another run's file in progress.
  const std::vector<std::string> outputs = {"config.json", "metrics.jsonl", "model.bin",
                                            "state.bin",   "summary.json",  "predictions.csv"};
  if (lock->held())
    for (const std::string& f : remove_stale_temporaries(c.output.dir, outputs))
      log << "note: removed " << c.output.dir << "/" << f << ", left by a run killed while writing it\n";
  // What the run replaces must be a file (AtomicFile refuses anything else): a folder named
  // model.bin failed the run at its end, its iterations lost.
  for (const std::string& f : outputs) {
    std::error_code ec;
    const auto st = std::filesystem::status(c.output.dir + "/" + f, ec);
    require(!std::filesystem::exists(st) || std::filesystem::is_regular_file(st),
            "cannot write " + c.output.dir + "/" + f + ": not a regular file");
  }
}

// What the run trains, in one line, so a log says what its numbers are of.
void log_run(const Config& c, const Problem& p, int first_groups, std::ostream& log) {
  const int want_groups = c.partition.empty() ? c.groups : static_cast<int>(c.partition.size());
  log << "pdadmm: " << p.data.name << " (" << p.data.num_nodes() << " nodes, " << p.data.num_edges() << " edges, "
      << p.data.features.cols << " features, " << p.data.num_classes << " classes; train/val/test "
      << p.data.train.size() << "/" << p.data.val.size() << "/" << p.data.test.size()
      << (c.data.val_split_seed >= 0 ? ", train/val redrawn, val_split_seed " + std::to_string(c.data.val_split_seed) : "")
      << "), " << c.model.layers
      << " layers x " << c.model.hidden << ", input " << p.dims[0] << ", " << want_groups << " group(s)"
      << (first_groups != want_groups ? " (" + std::to_string(first_groups) + " in the first stage)" : "")
      << ", "
      << c.iterations << " iterations, backend " << c.backend << std::endl;  // before progress on stderr
}

// Only with the data and the solver ready does this run start replacing an earlier one's outputs.
void open_outputs(const Config& c, bool resumed, int start, std::optional<JsonLines>& metrics, std::ostream& log) {
  write_file_atomic(c.output.dir + "/config.json", c.effective.dump(2) + "\n");
  if (!resumed) {
    // An earlier run's state is not this run's; one that could have resumed is not dropped silently.
    if (const int k = unfinished_state_iteration(c); k >= 0)
      log << "note: removed " << state_path(c) << ", which an earlier run left at iteration " << k
          << " for train --resume (this run starts afresh)\n";
    std::remove(state_path(c).c_str());
  } else if (std::error_code ec; !std::filesystem::exists(c.output.dir + "/metrics.jsonl", ec)) {
    log << "note: " << c.output.dir << "/metrics.jsonl is missing: the log starts after iteration " << start << "\n";
  } else if (const int lost = trim_metrics(c.output.dir + "/metrics.jsonl", start)) {
    log << "note: " << c.output.dir << "/metrics.jsonl had a damaged line before iteration " << start
        << ": it and the " << lost - 1 << " line(s) after it up to the state are dropped, so the log has a gap\n";
  }
  // Files this run will not replace stay an earlier run's, beside this run's summary.json.
  for (const auto& [name, key, off] : {std::tuple{"model.bin", "output.checkpoint", !c.output.checkpoint},
                                       std::tuple{"predictions.csv", "output.predictions", !c.output.predictions}})
    if (off && !resumed && std::filesystem::exists(c.output.dir + "/" + name))
      log << "note: " << c.output.dir << "/" << name << " is an earlier run's (" << key
          << " is false: this run writes none)\n";
  metrics.emplace(c.output.dir + "/metrics.jsonl", resumed);
}

// The ETA's unit: hidden-to-hidden layers x iterations (those n x n layers dominate an iteration;
// layer 1 costs O(n N²) deferred), so a 2-layer stage does not predict a 10-layer one.
double stage_work(const StageConfig& sc) { return std::max(1.0, sc.layers - 2.0); }

// Stops at the first non-finite iteration, before the overflowed iterates reach any output.
void require_finite(const Config& c, const IterationStats& st, int it) {
  if (std::isfinite(st.residual) && (!st.has_terms || std::isfinite(st.objective))) return;
  const bool fp16 = c.admm.wire_p.format == WireFormat::Fp16 || c.admm.wire_q.format == WireFormat::Fp16;
  throw Error("training diverged at iteration " + std::to_string(it + 1) + ": the " +
              (std::isfinite(st.residual) ? "objective" : "residual") + " is not finite (the iterates overflowed" +
              (fp16 ? ", or an fp16 wire (admm.wire) met a value of 65520 or more, which fp16 rounds to infinity"
                    : "") +
              "); model.bin and summary.json were not written");
}

// What the iterations share and change, so that each part of an iteration can be a function of its
// own. Under mpirun every process holds one and makes the same calls in the same order (the
// solver's downloads are collective); the first one writes the outputs.
struct Loop {
  Loop(const Config& cfg, std::ostream& out, bool first_process, Clock::time_point started, Problem& problem,
       const std::vector<StageConfig>& all_stages, const Evaluator& evaluator, std::unique_ptr<Solver<float>> s,
       size_t at)
      : c(cfg), log(out), writes(first_process), t_start(started), p(problem), stages(all_stages), eval(evaluator),
        solver(std::move(s)), stage(at), tracker(evaluator, problem.x) {
    for (size_t i = 0; i <= stage; ++i) stage_end += stages[i].iterations;
    for (int32_t v : p.data.train) train_labels.push_back(p.data.labels[v]);
  }

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
  Scores scores;
  int giveup_stage = -1;  // the stage whose give-ups were reported

  // train --resume: the totals so far, the tracker's anchor, and the scores the progress line shows
  // until the next logged evaluation.
  void resume(RunState& from) {
    sum = from.sum;
    sum.resumed_from = from.iteration;
    iter_s = from.iter_s;
    train_cost = from.train_cost;
    seconds_before = from.seconds;
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
  }

  // Greedy growth: the next stage deepens the trained net, starting at iteration `it`.
  void next_stage(int it) {
    // Layer 1 moves to the new solver as it is; so does the tracker's anchor (W_a of the new
    // solver = s W_a + D Xᵀ of the old one), sparing an evaluation with W itself.
    const auto t_stage = Clock::now();
    double s = 1;
    HostMatrix<float> d;
    const bool carry = solver->first_layer_track(&s, &d);
    update_auto_threads(c, stage + 1, writes, log);
    StageCarry kept = take_stage(c, stage + 1, *solver);
    solver.reset();  // its tensors go before the next stage's come: the peak is the carry, not two solvers
    solver = start_stage(c, p, ++stage, std::move(kept));
    stage_end += stages[stage].iterations;
    if (carry && logs_ahead(c, it - 1, c.iterations - 1) && solver->anchor_first_layer() && writes)
      tracker.anchor(tracker.first(s, d));
    sum.stage_seconds += seconds_since(t_stage);
    train_cost.clear();  // the ρ schedule restarts with the stage's ρ, as in the reference
    log << "stage " << stage + 1 << "/" << stages.size() << ": " << stages[stage].layers << " layers from iteration "
        << it + 1 << std::endl;
  }

  // Adds iteration `it`'s time, give-ups and bytes to the totals; returns the bytes it sent.
  size_t count(const IterationStats& st, int it) {
    iter_s.push_back(st.seconds);
    sum.w_giveups += st.counts.w_giveups;
    sum.p_giveups += st.counts.p_giveups;
    if ((st.counts.w_giveups > 0 || st.counts.p_giveups > 0) && giveup_stage != static_cast<int>(stage) && writes) {
      giveup_stage = static_cast<int>(stage);  // once a stage: it tends to repeat every iteration
      const std::string key = c.model.stages.empty() ? "admm.step" : "model.stages[" + std::to_string(stage) + "].step";
      log << "note: " << giveup_text(c.admm, st.counts, it + 1, key) << std::endl;
    }
    size_t bytes = 0;
    for (size_t x : st.boundary_bytes) bytes += x;
    sum.bytes_total += bytes;
    sum.bytes_per_iter = bytes;
    sum.bytes_per_iter_fp32 = fp32_baseline_bytes(p.dims, solver->partition(), p.x.cols);
    sum.bytes_ratio_fp32 = bytes > 0 ? static_cast<double>(sum.bytes_per_iter_fp32) / static_cast<double>(bytes) : 0.0;
    return bytes;
  }

  // The ρ schedule's training loss and, when iteration `it` logs, the scores: one download of the
  // weights serves both.
  void evaluate(int it, bool log_now, bool schedule_loss) {
    const auto t_eval = Clock::now();
    double s = 1;
    HostMatrix<float> d;
    const bool final_eval = it + 1 == c.iterations;
    const bool use_track = log_now && !final_eval && solver->first_layer_track(&s, &d);
    // The loss and tracked scores skip W_1 (n x d): see training_loss and FirstLayerTracker.
    // On a GPU the loss and the logged evaluations before the last run layers 2..L there
    // (Solver::forward_*), so only layer 1 crosses to the host; the final scores are the host's,
    // the same bits `pdadmm eval` gives for model.bin.
    const bool on_device = c.backend != "cpu";
    weights_after = -1;
    if (log_now && (!on_device || final_eval)) {
      solver->weights(W, b, use_track ? 1 : 0);
      if (use_track) b[0] = solver->download(0, "b");
      if (!use_track) weights_after = it;
    } else if (log_now) {
      W.resize(static_cast<size_t>(solver->num_layers()));
      b.resize(W.size());
      if (!use_track) W[0] = solver->download(0, "W");
      b[0] = solver->download(0, "b");
    } else if (schedule_loss && !on_device) {
      solver->weights(W, b, 1);
    }
    if (schedule_loss)
      train_cost.push_back(on_device ? score_columns(solver->forward_train(), train_labels).loss
                                     : training_loss(*solver, W, b, train_labels));
    // Scores from layer 1's product on the scored rows (collective on a GPU; only the process that
    // reports scores computes them).
    const auto score = [&](HostMatrix<float> first) {
      if (!on_device || final_eval) return writes ? eval.evaluate_first(std::move(first), W, b) : Scores();
      const HostMatrix<float> a1 = writes ? eval.layer1_columns(first, b[0]) : HostMatrix<float>();
      const HostMatrix<float> logits = solver->forward_from(a1, eval.scored());
      return writes ? eval.score_logit_columns(logits) : Scores();
    };
    if (use_track) {
      scores = score(writes ? tracker.first(s, d) : HostMatrix<float>());
      sum.evals_tracked++;
    } else if (log_now) {
      HostMatrix<float> first = writes ? eval.first_layer(W[0]) : HostMatrix<float>();
      // Anchor when a later logged evaluation (not the final one) can use it.
      if (c.output.tracked_eval && !final_eval && logs_ahead(c, it, c.iterations - 1) &&
          solver->anchor_first_layer() && writes)
        tracker.anchor(first);
      scores = score(std::move(first));
      sum.evals_exact++;
    }
    sum.eval_seconds += seconds_since(t_eval);
  }

  // A logged iteration's line in metrics.jsonl, and its objective and residual in the summary.
  void log_iteration(const IterationStats& st, int it, size_t bytes, std::optional<JsonLines>& metrics) {
    if (it == 0) {
      sum.first_objective = st.objective;
      sum.first_residual = st.residual;
    }
    sum.last_objective = st.objective;
    sum.last_residual = st.residual;
    nlohmann::json groups = nlohmann::json::array();
    for (const GroupStats& g : st.groups) groups.push_back({{"compute_s", g.compute_s}, {"wait_s", g.wait_s}});
    if (metrics) metrics->write({{"iter", it + 1},
                   {"objective", st.objective},
                   {"lagrangian", st.lagrangian},
                   {"residual", st.residual},
                   {"cross_entropy", st.ce},
                   {"train_acc", scores.train.acc},
                   {"val_acc", scores.val.acc},
                   {"test_acc", scores.test.acc},
                   {"train_loss", scores.train.loss},
                   {"seconds", st.seconds},
                   {"terms_seconds", st.terms_seconds},
                   {"bytes_sent", bytes},
                   {"boundary_bytes", st.boundary_bytes},
                   {"bytes_ratio_fp32", sum.bytes_ratio_fp32},
                   {"groups", groups},
                   {"rho", solver->params().rho},
                   {"nu", solver->params().nu},
                   {"backtracks", {{"p", st.counts.p_backtracks}, {"W", st.counts.w_backtracks}}},
                   {"giveups", {{"p", st.counts.p_giveups}, {"W", st.counts.w_giveups}}},
                   {"fista_its", st.counts.fista_its}});
  }

  // ρ and ν after this stage's losses so far, the same in every process.
  void update_rho() {
    AdmmParams& prm = solver->params();
    apply_rho_schedule(stages[stage].rho_schedule, train_cost, prm);
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

  // A model.bin (and state.bin) of the iterate so far, for runs that may not reach their end (a
  // crash, the OOM killer, a job's time limit): every process downloads (collective), the first writes.
  void checkpoint(int done) {
    std::vector<HostMatrix<float>> cw, cb;
    if (c.output.checkpoint) solver->weights(cw, cb);
    if (c.output.checkpoint && writes && non_finite_layer(cw, cb) < 0) save_model(c, p.dims, cw, cb, done);
    if (c.output.state) save_state(done);
  }

  // OUT/state.bin after iteration `done` (collective: every process downloads, the first writes).
  void save_state(int done) {
    RunState rs;
    rs.solver = solver->save_state();
    if (!writes) return;
    rs.iteration = done;
    rs.stage = static_cast<int>(stage);
    rs.train_cost = train_cost;
    rs.iter_s = iter_s;
    rs.seconds = seconds_before + seconds_since(t_start);
    rs.sum = sum;
    rs.val_acc = scores.val.acc;
    rs.test_acc = scores.test.acc;
    if (tracker.anchored()) rs.anchor = tracker.anchor_product();
    save_run_state(c, std::move(rs));
  }

  // The final weights and their scores; a diverged run stops here, before it writes any output.
  void final_scores(int done) {
    // The last iteration's evaluation downloaded them already (W_1 formed: an n x d x N product).
    if (done == 0 || weights_after != done - 1) solver->weights(W, b);
    if (const int l = non_finite_layer(W, b); l >= 0)
      throw Error("training diverged: layer " + std::to_string(l) +
                  " holds NaN or infinite weights at the end; model.bin and summary.json were not written");
    // No logged final iteration (none run, or stopped early): its time is evaluation time as well.
    // (Not counted in `evaluations`: a resumed run's count must equal the uninterrupted run's.)
    if ((c.iterations == 0 || done < c.iterations) && writes) {
      const auto t_eval = Clock::now();
      scores = eval.evaluate(W, b);
      sum.eval_seconds += seconds_since(t_eval);
    }
    // Finite weights can still overflow float in the forward pass (e.g. init_std 1e20 with -Q, whose
    // grid keeps the iterates finite): NaN logits give meaningless accuracies.
    for (const SplitScore* sc : {&scores.train, &scores.val, &scores.test})
      require(!writes || std::isfinite(sc->loss),
              "training diverged: the final forward pass is not finite (the logits overflow float); model.bin and "
              "summary.json were not written");
  }

  // The run's outputs after `done` iterations: model.bin, state.bin, predictions.csv, summary.json.
  // Returns whether state.bin is kept.
  bool write_outputs(int done, int stopped_by) {
    sum.iterations = done;
    sum.signal = done < c.iterations ? stopped_by : 0;
    if (sum.signal)
      log << "interrupted by " << signal_name(sum.signal) << " after iteration " << done << " of " << c.iterations
          << ": model.bin and summary.json hold that iterate"
          << (c.output.state ? "; the same command with --resume continues it" : "") << std::endl;
    sum.scores = scores;
    sum.seconds_per_iter_mean = iter_s.empty() ? 0 : std::accumulate(iter_s.begin(), iter_s.end(), 0.0) / iter_s.size();
    sum.seconds_per_iter_median = median(iter_s);
    if (c.output.checkpoint && writes) save_model(c, p.dims, W, b, done);
    // For train --resume: a stopped run's state; a finished one's only when asked (a longer run).
    const bool finished = done == c.iterations;
    const bool keeps_state = finished ? c.output.keep_state : c.output.state;
    if (keeps_state) save_state(done);
    // The final weights downloaded above (every process has them; the first writes), scored by the
    // host as `pdadmm eval --predictions` does: the same file.
    if (c.output.predictions && writes) Predictor(eval, W, b).save_csv(c.output.dir + "/predictions.csv");
    sum.seconds_total = seconds_before + seconds_since(t_start);
    if (writes) write_file_atomic(c.output.dir + "/summary.json", sum.to_json().dump(2) + "\n");
    // Last: a run killed while it wrote the files above still has its state.bin to --resume (it was
    // removed first, and a kill before summary.json left a final model.bin with nothing to resume).
    if (!keeps_state && finished && writes) std::remove(state_path(c).c_str());
    return keeps_state;
  }

  // The summary a person reads at the end: scores, time, bytes moved, and where the outputs are.
  void log_final(int done, bool keeps_state) {
    log << std::fixed << std::setprecision(4) << "final: test acc " << sum.scores.test.acc << "  val acc "
        << sum.scores.val.acc << "  train acc " << sum.scores.train.acc << "\n"
        << std::setprecision(5) << "time: " << sum.seconds_per_iter_mean << " s/iteration (median "
        << sum.seconds_per_iter_median << ", ADMM updates only; evaluation " << std::setprecision(2) << sum.eval_seconds
        << " s";
    if (stages.size() > 1) log << ", stage changes " << sum.stage_seconds << " s";
    log << " in all), " << sum.seconds_total << " s total\n"
        << "bytes moved: " << sum.bytes_per_iter << " per iteration"
        << (stages.size() > 1 ? " in stage " + std::to_string(stage + 1) : "") << " across " << solver->num_groups() - 1
        << (solver->num_groups() == 2 ? " boundary, " : " boundaries, ") << sum.bytes_total << " in all";
    // The ratio only where a codec changed the bytes: "1.00 x fewer" for an fp32 run read as a saving.
    if (sum.bytes_per_iter > 0 && sum.bytes_per_iter != sum.bytes_per_iter_fp32)
      log << " (" << std::setprecision(2) << sum.bytes_ratio_fp32 << " x fewer than fp32 pdADMM-G, "
          << sum.bytes_per_iter_fp32 << " per iteration)";
    log << "\n";
    if (done > 0)
      log << std::scientific << std::setprecision(3) << "objective " << sum.first_objective << " -> "
          << sum.last_objective << ", residual " << sum.first_residual << " -> " << sum.last_residual
          << std::defaultfloat << "\n";
    else
      log << "objective, residual: none (no iterations run)\n";
    log << "outputs: " << c.output.dir << "/{metrics.jsonl,summary.json,config.json"
        << (c.output.checkpoint ? ",model.bin" : "") << (c.output.predictions ? ",predictions.csv" : "")
        << (keeps_state ? ",state.bin" : "") << "}\n";
  }
};

}  // namespace

TrainSummary train(const Config& c, std::ostream& log, bool resume) {
  const auto t_start = Clock::now();
  // Under mpirun every process runs this loop (the same calls in the same order: the solver's
  // downloads are collective); the first one writes the outputs.
  const bool writes = process_rank() == 0;
  require_process_per_group(c);
  for (const std::string& w : c.warnings) log << "warning: " << w << "\n";
  std::optional<FolderLock> lock;
  if (resume) require_run_state(c);
  if (writes) lock_output_folder(c, lock, log);  // before the data loads: an unwritable or busy folder fails fast

  std::optional<RunState> from;  // --resume: checked before the data loads
  if (resume) from = load_run_state(c);
  require_same_start(c, from ? from->iteration : -1);
  Problem p = build_problem(c);
  const std::vector<StageConfig> stages = run_stages(c);  // greedy growth, or one stage
  const size_t stage = from ? static_cast<size_t>(from->stage) : 0;
  require(stage < stages.size(), "--resume: the state's stage " + std::to_string(stage + 1) + " does not exist");
  auto solver = start_stage(c, p, stage, nullptr);  // a resumed later stage: its shape, then the state
  if (from) {
    try {
      solver->load_state(from->solver);
    } catch (const Error& e) {  // the file at fault, as load_run_state's own errors name it
      throw Error("state " + state_path(c) + ": " + e.what());
    }
  }
  Evaluator eval(p.data, p.h, p.ahat, p.aug);
  log_run(c, p, solver->num_groups(), log);
  if (writes) log_auto_threads(c, log);  // after setup, so that its errors stay the only line
  // mpirun turns Ctrl-C into SIGTERM then SIGKILL a second later; SIGUSR1 it forwards as it is.
  if (writes && process_count() > 1) {
    const int mpirun = launcher_pid();
    log << "note: to stop after an iteration with the outputs written: kill -USR1 "
        << (mpirun ? std::to_string(mpirun) : std::string("<mpirun's pid>"))
        << " (Ctrl-C leaves the processes one second)" << std::endl;  // seen now, through a pipe too
  }

  std::optional<JsonLines> metrics;
  const int start = from ? from->iteration : 0;
  if (writes) open_outputs(c, from.has_value(), start, metrics, log);
  double total_work = 0, work_done = 0;
  for (const StageConfig& sc : stages) total_work += stage_work(sc) * sc.iterations;
  for (int it = 0, s = 0, end = stages[0].iterations; it < start; ++it) {
    if (it == end) end += stages[++s].iterations;
    work_done += stage_work(stages[s]);
  }
  Progress progress(c.iterations, total_work, writes ? c.output.progress : "off", start, work_done);
  // The host's passes (evaluation, the schedule's loss) run on this many threads (host_parallel;
  // OpenBLAS stays at one thread, see configure_threads).
  set_host_threads(total_cores(c));
  omp_set_num_threads(host_threads());
  Loop run(c, log, writes, t_start, p, stages, eval, std::move(solver), stage);
  if (from) run.resume(*from);
  from.reset();  // the solver holds its state now
  std::optional<StopOnSignal> stop(std::in_place);
  int done = c.iterations, stopped_by = 0;
  for (int it = start; it < c.iterations; ++it) {
    if (it == run.stage_end && run.stage + 1 < stages.size()) run.next_stage(it);
    const bool log_now = it == 0 || (it + 1) % c.output.log_every == 0 || it + 1 == c.iterations;
    IterationStats st = run.solver->iterate(log_now);
    require_finite(c, st, it);
    const size_t bytes = run.count(st, it);
    // Every process takes the same branch: ρ is the same everywhere.
    const bool schedule_loss =
        !rho_schedule_settled(stages[run.stage].rho_schedule, run.train_cost.size(), run.solver->params());
    if (log_now || schedule_loss) run.evaluate(it, log_now, schedule_loss);
    if (log_now) run.log_iteration(st, it, bytes, metrics);
    if (schedule_loss) run.update_rho();
    work_done += stage_work(stages[run.stage]);
    progress.update(it + 1, work_done, run.scores.val.acc, run.scores.test.acc, st.residual, run.solver->params().rho);
    if (c.output.checkpoint_every > 0 && (it + 1) % c.output.checkpoint_every == 0 && it + 1 < c.iterations)
      run.checkpoint(it + 1);
    // Under mpirun a signal may reach one process (kill), or all of them at different
    // iterations: they agree after each one, or would wait on each other for ever.
    stopped_by = processes_max(StopOnSignal::received());
    if (stopped_by && it + 1 < c.iterations) {
      done = it + 1;
      break;
    }
  }
  progress.finish();
  stop.reset();  // from here a signal ends the process: the outputs are being written
  run.final_scores(done);
  const bool keeps_state = run.write_outputs(done, stopped_by);
  run.log_final(done, keeps_state);
  return run.sum;
}

}  // namespace pdadmm
