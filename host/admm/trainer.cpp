// The training run: data -> solver -> iterations (train_loop.cpp) -> outputs (run_outputs.cpp);
// the threads, the first weights and the solver on the configured backend.
#include "host/admm/trainer.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>

#include "cuda/cuda_backend.h"
#include "host/admm/growth.h"
#include "host/admm/host_threads.h"
#include "host/admm/plan.h"
#include "host/admm/resume.h"
#include "host/admm/run_outputs.h"
#include "host/admm/train_loop.h"
#include "host/backend/cpu_ops.h"
#include "host/comm/inproc_transport.h"
#include "host/comm/processes.h"
#include "host/comm/processes_env.h"
#include "host/data/rng.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/progress.h"
#include "host/io/stop_signal.h"
#include "host/quant/wire.h"

namespace pdadmm {

int total_cores(const Config& c) { return c.threads > 0 ? c.threads : free_process_cores(); }

void log_auto_threads(const Config& c, std::ostream& log) {
  if (c.threads == 1) return;  // no team to wait (and no 100 ms measurement for nothing)
  double busy = -1;
  const int free = free_process_cores(&busy), cores = process_cores();
  // More threads than the cores this process is bound to (mpirun binds each of up to 2 processes to
  // a core by default: `-x OMP_NUM_THREADS=4` ran Cora 1.2x slower, nothing said).
  if (c.threads > cores && process_bound()) {
    log << "note: threads " << c.threads << " on the " << cores << " core(s) this process is bound to: "
        << "a team sharing a core waits for it at every step ("
        << (launched_processes() > 1 ? "`mpirun --bind-to none` or `--map-by slot:PE=" + std::to_string(c.threads) +
                                           "` gives each process more"
                                     : "taskset or the cpuset set that; `threads` " + std::to_string(cores) + " matches it")
        << ")\n" << std::flush;
    return;
  }
  if (free == cores || (c.threads > 0 && c.threads <= free)) return;
  log << std::fixed << std::setprecision(1);
  if (c.threads == 0)
    log << "note: threads: " << free << " of " << cores << " cores (other processes kept " << busy
        << " busy when this run started; a team sharing a core with them waits for it at every step; `threads` sets "
           "the count)\n";
  else  // asked for: kept, but a run many times slower than one on the free cores deserves a word
    log << "note: threads " << c.threads << " on " << cores << " cores, of which other processes kept "
        << busy << " busy when this run started: a team sharing a core with them waits for it at every step (often "
        << "many times slower; threads 0 takes the " << free << " free)\n";
  log << std::defaultfloat << std::flush;  // now, not behind a pipe's buffer: it is about the start
}

void init_weights(const std::vector<int64_t>& dims, double stddev, uint64_t seed, std::vector<HostMatrix<float>>& W,
                  std::vector<HostMatrix<float>>& b, const std::vector<char>* here) {
  W.clear();
  b.clear();
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    if (here && !(*here)[l]) {
      W.emplace_back();
      b.emplace_back();
      continue;
    }
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
  const int G = group_count(c);
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
    // Not where CUDA_VISIBLE_DEVICES shows each process one GPU: a launcher that gives each its own
    // (Slurm's gpu-bind, a wrapper per local rank) does that, every one different.
    const bool one_each = std::getenv("CUDA_VISIBLE_DEVICES") != nullptr && cuda_device_count() == 1;
    if (processes && c.devices.empty() && c.cuda.processes == "nccl" && !one_each)
      if (const std::string bad = nccl_placement_problem(process_local_count(), cuda_device_count()); !bad.empty())
        throw Error(bad);
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

// Under mpirun a boundary message moves in one MPI call, whose count is an int (NCCL's is not): one
// past 2 GiB failed at the first iteration's send, after the setup, on the sending process alone.
void require_message_sizes(const Config& given, const Problem& p) {
  if (process_count() <= 1 || (given.backend == "cuda" && given.cuda.processes == "nccl")) return;
  const Config c = planning_config(given);
  AdmmParams prm = c.admm;
  prm.wire_p.grid = prm.wire_q.grid = &prm.grid;
  const std::vector<StageConfig> stages = run_stages(c);
  for (size_t s = 0; s < stages.size(); ++s) {
    const Config cs = stage_config(c, s);
    const std::vector<int64_t> dims = stage_dims(p.x.rows, p.y.rows, cs);
    const std::vector<int> owner = layer_groups(cs);
    for (size_t l = 1; l < owner.size(); ++l) {
      if (owner[l] == owner[l - 1]) continue;  // q_{l-1} forward and p_l backward: n_l x N each
      const size_t most = std::max(encoded_bytes(prm.wire_p, dims[l], p.x.cols, sizeof(float)),
                                   encoded_bytes(prm.wire_q, dims[l], p.x.cols, sizeof(float)));
      require(most <= static_cast<size_t>(INT_MAX), [&] {
        return "a boundary message between processes " + std::to_string(owner[l - 1]) + " and " +
               std::to_string(owner[l]) + (stages.size() > 1 ? " in stage " + std::to_string(s + 1) : "") + " is " +
               std::to_string(most) + " bytes (" + std::to_string(dims[l]) + " x " + std::to_string(p.x.cols) +
               " values), over MPI's 2 GiB per message; use fewer training nodes, a narrower layer or a smaller "
               "admm.wire format";
      });
    }
  }
}

void require_process_per_group(const Config& c) {
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
  // After the configs agree: a process whose own --set changed groups is told that, not to change -np.
  const int groups = group_count(c);
  require(process_count() == groups, [&] {
    const int np = process_count();
    return "mpirun started " + std::to_string(np) + " processes for " + std::to_string(groups) + " layer group" +
           (groups == 1 ? "" : "s") + ": one process per group (mpirun -np " + std::to_string(groups) +
           (np <= c.model.layers && c.partition.empty() ? ", or --set groups=" + std::to_string(np) : "") + ")";
  });
}

void require_same_data(const Config& c, const Problem& p) {
  if (process_count() <= 1) return;
  // Each process reads the data set itself: one with another version of the files (an older
  // copy on a host, another --data) stopped at an MPI error (message truncated) when the shapes
  // differed, or trained another model with exit 0 when only the labels did. The shapes and the
  // labels, not X's values: hosts whose BLAS rounds differently form X to other bits (a synthetic
  // data set on other OpenBLAS kernels), and only process 0 trains on X.
  const auto crc = [](const auto& v) {
    return crc32_of(reinterpret_cast<const char*>(v.data()), v.size() * sizeof v[0]);
  };
  const uint32_t mine[3] = {crc(p.dims), static_cast<uint32_t>(p.y.cols), crc(p.y.data)};
  uint32_t first[3] = {mine[0], mine[1], mine[2]};
  processes_broadcast(first, sizeof first);
  const std::string from = c.data.name == "synthetic" ? std::string("generated from the config")
                           : c.data.name == "npz" || c.data.name == "files"
                               ? "read from data." + c.data.name + "'s paths, relative to each process's folder"
                               : "read from " + data_root(c) + " (data.root, --data or $PDADMM_DATA)";
  const bool shapes = mine[0] != first[0] || mine[1] != first[1];
  require(std::equal(mine, mine + 3, first),
          "this process's data set differs from process 0's (the " +
              std::string(shapes ? "shapes of its training inputs or labels" : "labels of its training nodes") + ", " +
              from + "): every process must read the same files");
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

// The ETA's unit: hidden-to-hidden layers x iterations (those n x n layers dominate an iteration;
// layer 1 costs O(n N²) deferred), so a 2-layer stage does not predict a 10-layer one.
double stage_work(const StageConfig& sc) { return std::max(1.0, sc.layers - 2.0); }

// What a divergence can come from beside the hyperparameters, for its error line: inputs of a
// large scale (features 1e15, say nanosecond timestamps, diverged at iteration 2; 1e10 trained)
// and the warned init growth (a warning far above by then). Empty when neither applies.
std::string divergence_causes(const Config& c, const Problem& p) {
  float top = 0;
  for (float v : p.x.data) top = std::max(top, std::fabs(v));
  std::ostringstream o;
  o << std::setprecision(2);
  if (top > 1e6f) {
    o << "; the inputs reach |x| = " << top << ": ";
    if (c.data.name == "synthetic")  // its features scale with the snr: the key that made them
      o << "lower data.synthetic.snr (" << c.data.synthetic.snr << ")";
    else
      o << "rescale the features";
    o << ", or data.row_normalize";
  }
  if (init_growth(c) > kInitGrowthWarned)
    o << "; model.init_std " << c.model.init_std << " grows the first forward pass by " << init_growth(c)
      << ": lower it (see the warning at the start)";
  return o.str();
}

// Stops at the first non-finite iteration, before the overflowed iterates reach any output.
// Σ <u, r>, which every iteration's dual update sums, covers the duals, which the residual and the
// objective leave out: u = ρ r past float (ρ 3e38) ended a run with exit 0 and "lagrangian": null in
// metrics.jsonl, and duals that overflowed on an iteration that did not log stopped only at the next.
// Σ ||W p + b - z||² covers the weights: relu(NaN) = 0 and -Q's projections keep z, q and p on
// finite values, so an overflowed W showed only in the objective, log_every iterations later.
void require_finite(const Config& c, const IterationStats& st, int it, const Problem& p, int model_at) {
  if (std::isfinite(st.residual) && std::isfinite(st.u_dot_r) && std::isfinite(st.w_fit) &&
      (!st.has_terms || (std::isfinite(st.objective) && std::isfinite(st.lagrangian))))
    return;
  const bool fp16 = c.admm.wire_p.format == WireFormat::Fp16 || c.admm.wire_q.format == WireFormat::Fp16;
  const char* what = !std::isfinite(st.residual)    ? "the residual is"
                     : !std::isfinite(st.u_dot_r)   ? "the duals u are"
                     : !std::isfinite(st.w_fit)     ? "W p + b of a layer is"
                     : !std::isfinite(st.objective) ? "the objective is"
                                                    : "the augmented Lagrangian is";
  throw Error("training diverged at iteration " + std::to_string(it + 1) + ": " + what +
              " not finite (the iterates overflowed" +
              (fp16 ? ", or an fp16 wire (admm.wire) met a value of 65520 or more, which fp16 rounds to infinity"
                    : "") +
              ")" + divergence_causes(c, p) + "; " + unwritten_outputs(c, model_at));
}

}  // namespace

void require_shared_state(const std::string& state) {
  std::error_code ec;
  if (process_rank() != 0 && !std::filesystem::exists(state, ec) && !ec)
    throw Error("--resume: " + state + " is not there: process 0 writes the state, and every process reads "
                "it, so under mpirun the output folder must be shared (the same path on a shared file system)");
}

TrainSummary train(const Config& c, std::ostream& log, bool resume) {
  const auto t_start = TrainLoop::Clock::now();
  // Under mpirun every process runs this loop (the same calls in the same order: the solver's
  // downloads are collective); the first one writes the outputs.
  const bool writes = process_rank() == 0;
  std::error_code ec;
  // Only process 0 writes state.bin: another process without one reads a folder that is not process
  // 0's. Before the config comparison, which would blame the config.
  if (resume) require_shared_state(state_path(c));
  require_process_per_group(c);
  std::optional<FolderLock> lock;
  // Before the data loads: an unwritable or busy folder fails fast. Before the state.bin checks: a
  // live run's checkpoint was called a stopped run to resume or remove.
  // A --resume into a folder that is not there: that, not "cannot create the folder" (no live run
  // holds a missing folder).
  if (resume && !std::filesystem::exists(c.output.dir, ec)) require_run_state(c);
  if (writes) lock_output_folder(c, lock, log, resume);
  if (resume) {
    require_run_state(c);
    if (writes) refuse_edited_config_json(c);  // in the folder this process locked: no live run's
  } else if (writes)  // only process 0 writes or removes state.bin: another machine's own copy is not this run's
    refuse_forgotten_resume(c);

  std::optional<RunState> from;  // --resume: checked before the data loads
  if (resume) from = load_run_state(c);
  require_same_start(c, from ? from->iteration : -1);
  Problem p = build_problem(c);
  require_same_data(c, p);  // first: a process that read other files is told so
  if (from) require_recorded_data(from->data_crc, p, "--resume: " + state_path(c));
  const std::vector<StageConfig> stages = run_stages(c);  // greedy growth, or one stage
  const size_t stage = from ? static_cast<size_t>(from->stage) : 0;
  require(stage < stages.size(), "--resume: the state's stage " + std::to_string(stage + 1) + " does not exist");
  // What the later stages and the outputs will need, before this stage's tensors: a run that
  // cannot finish stops now, not after the earlier stages' iterations (pdadmm info prints both).
  require_message_sizes(c, p);
  require_stages_memory(c, p, stage);
  if (writes) require_output_room(c, output_room_need(c, p));
  auto solver = start_stage(c, p, stage, nullptr);  // a resumed later stage: its shape, then the state
  if (from) load_solver_state(c, *from, *solver);
  Evaluator eval(p.data, p.h, p.ahat, p.aug);
  // Every process set up before process 0 speaks or writes: the checks above are broadcasts from
  // process 0, which return at once, so with another process failing (its missing data) it went on
  // to write config.json and wait in the first iteration, and mpirun's kill left those behind. Here
  // it waits, still in setup, where that kill removes the empty folder.
  processes_max(0);
  // After everything that can fail before the first iteration, so that an error is the only line.
  for (const std::string& w : c.warnings) log << "warning: " << w << "\n";
  for (const std::string& w : data_warnings(c, p)) log << "warning: " << w << "\n";
  log_run(c, p, solver->num_groups(), log);
  if (writes) log_auto_threads(c, log);  // after setup, so that its errors stay the only line
  // mpirun turns Ctrl-C into SIGTERM then SIGKILL a second later; SIGUSR1 it forwards as it is.
  if (writes && process_count() > 1) {
    const int mpirun = launcher_pid();
    log << "note: to stop after an iteration with the outputs written: kill -USR1 "
        << (mpirun ? std::to_string(mpirun) : std::string("<mpirun's pid>"))
        << " (Ctrl-C leaves the processes one second with Open MPI 4, none with 5)"
        << std::endl;  // seen now, through a pipe too
  }

  // From here a signal stops the run after an iteration, outputs written: open_outputs replaces an
  // earlier run's config.json, truncates its metrics.jsonl and removes its state.bin, and a signal
  // that ended the process there (the handler went in after it) left that folder half replaced, the
  // old summary.json and model.bin beside an empty metrics.jsonl. Held until the outputs are
  // written: a signal after the last iteration (a Ctrl-C during a long final evaluation) ended the
  // process with none of them, an earlier run's summary.json left.
  std::optional<StopOnSignal> stop(std::in_place, writes, process_count() > 1);
  std::optional<JsonLines> metrics;
  const int start = from ? from->iteration : 0;
  if (writes) open_outputs(c, from.has_value(), start, from ? from->written_by : std::string(), metrics, log);
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
  TrainLoop run(c, log, writes, t_start, p, stages, eval, std::move(solver), stage);
  run.progress = &progress;
  if (from) run.resume(*from);
  from.reset();  // the solver holds its state now
  int done = c.iterations, stopped_by = 0;
  IterationStats st;  // the last iteration's, and whether it was logged
  bool logged = true;
  for (int it = start; it < c.iterations; ++it) {
    if (it == run.stage_end && run.stage + 1 < stages.size()) run.next_stage(it);
    const bool log_now = it == 0 || (it + 1) % c.output.log_every == 0 || it + 1 == c.iterations;
    logged = log_now;
    st = run.solver->iterate(log_now);
    require_finite(c, st, it, p, run.model_at);
    const size_t bytes = run.count(st, it);
    // Every process takes the same branch: ρ is the same everywhere.
    const bool schedule_loss =
        !rho_schedule_settled(stages[run.stage].rho_schedule, run.train_cost.size(), run.solver->params());
    if (log_now || schedule_loss) run.evaluate(it, log_now, schedule_loss);
    if (log_now) run.log_iteration(st, it, bytes, metrics);
    if (schedule_loss) run.update_rho();
    work_done += stage_work(stages[run.stage]);
    progress.update(it + 1, work_done, run.scores.val.acc, run.scores.test.acc, st.residual, run.solver->params().rho,
                    run.scored_at);
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
  run.final_scores(done);
  // A run stopped after an iteration that was not logged: summary.json's last objective and
  // residual are still that iterate's, the one model.bin holds (metrics.jsonl keeps to log_every,
  // so a resumed run's file is an uninterrupted run's).
  if (!logged) {
    run.solver->add_terms(st);
    run.sum.last_objective = st.objective;
    run.sum.last_residual = st.residual;
  }
  const bool keeps_state = run.write_outputs(done, stopped_by);
  run.log_final(done, keeps_state);
  if (const int late = StopOnSignal::received(); late && done == c.iterations && writes)
    log << "note: " << signal_name(late) << " arrived in or after the last iteration: the run finished and its outputs are "
        << "written" << std::endl;
  stop.reset();
  return run.sum;
}

}  // namespace pdadmm