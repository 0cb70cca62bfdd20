// The run's outputs: the folder, config.json, metrics.jsonl, model.bin, state.bin, predictions.csv,
// summary.json, and the lines that open and close the log.
#include "host/admm/run_outputs.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <new>
#include <numeric>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "host/admm/plan.h"
#include "host/admm/predictions.h"
#include "host/admm/resume.h"
#include "host/admm/train_loop.h"
#include "host/comm/processes.h"
#include "host/io/checkpoint.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/host_memory.h"
#include "host/io/state_file.h"
#include "host/io/stats.h"
#include "host/io/stop_signal.h"
#include "host/io/version.h"
#include "host/quant/wire.h"

namespace pdadmm {

namespace {

// The first layer whose W or b holds NaN or ±inf, -1 if none.
int non_finite_layer(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b) {
  const auto finite = [](const HostMatrix<float>& m) {
    return std::all_of(m.data.begin(), m.data.end(), [](float v) { return std::isfinite(v); });
  };
  for (size_t l = 0; l < W.size(); ++l)
    if (!finite(W[l]) || !finite(b[l])) return static_cast<int>(l);
  return -1;
}

}  // namespace

void save_model(const Config& c, const std::vector<int64_t>& dims, const std::vector<HostMatrix<float>>& W,
                const std::vector<HostMatrix<float>>& b, int iterations, uint32_t data_crc) {
  nlohmann::json meta = {{"config", c.effective}, {"iterations", iterations}, {"dims", dims}};
  if (data_crc != 0) meta["data_crc"] = data_crc;
  save_checkpoint(c.output.dir + "/model.bin", meta, W, b);
}

uint64_t model_file_bytes(const Config& c, const std::vector<int64_t>& dims) {
  uint64_t bytes = c.effective.dump().size();
  for (size_t l = 0; l + 1 < dims.size(); ++l)
    bytes += static_cast<uint64_t>(dims[l + 1]) * static_cast<uint64_t>(dims[l] + 1) * sizeof(float);
  return bytes;
}

int64_t output_room(const Config& c) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(c.output.dir, ec);
  if (ec) return -1;
  while (!std::filesystem::exists(dir, ec) && dir.has_relative_path()) dir = dir.parent_path();
  const std::filesystem::space_info room = std::filesystem::space(dir, ec);
  if (ec || room.capacity == 0 || room.capacity == static_cast<std::uintmax_t>(-1)) return -1;
  return static_cast<int64_t>(std::min<std::uintmax_t>(room.available, INT64_MAX));
}

OutputRoom output_room_need(const Config& c, uint64_t model_bytes, uint64_t state_bytes) {
  OutputRoom r;
  const bool midrun = c.output.checkpoint_every > 0 && c.output.checkpoint_every < c.iterations;
  if (midrun) r.every = c.output.checkpoint_every;
  if (c.output.checkpoint) r.model = model_bytes;
  if (c.output.keep_state || (midrun && c.output.state)) r.state = state_bytes;
  uint64_t grow = 0, beside = 0;
  for (const auto& [name, bytes] : {std::pair<const char*, uint64_t>{"model.bin", r.model}, {"state.bin", r.state}}) {
    if (bytes == 0) continue;
    std::error_code ec;
    const std::uintmax_t old = std::filesystem::file_size(c.output.dir + "/" + name, ec);
    const bool replaces = !ec;
    grow += replaces ? (bytes > old ? bytes - old : 0) : bytes;
    if (replaces || midrun) beside = std::max(beside, bytes);
  }
  r.need = grow + beside;
  return r;
}

OutputRoom output_room_need(const Config& c, const Problem& p) {
  const Config last = stage_config(c, run_stages(c).size() - 1);
  return output_room_need(c, model_file_bytes(c, stage_dims(p.x.rows, p.y.rows, last)), state_file_bytes(c, shape_of(p)));
}

std::string output_room_text(const OutputRoom& r) {
  const auto mib = [](uint64_t n) { return human_bytes(static_cast<double>(n)); };
  std::string t = r.model > 0 ? "model.bin " + mib(r.model) : "";
  if (r.state > 0) t += (t.empty() ? "" : ", ") + std::string("state.bin ") + mib(r.state);
  if (r.every > 0) t += r.every == 1 ? " (every iteration)" : " (every " + std::to_string(r.every) + " iterations)";
  if (r.need > r.model + r.state) t += ", " + mib(r.need) + " at once with a new copy beside the old";
  return t;
}

int64_t output_file_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_FSIZE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<int64_t>(std::min<rlim_t>(r.rlim_cur, INT64_MAX));
}

void require_output_room(const Config& c, const OutputRoom& r) {
  // A whole run trained, then "cannot write model.bin: File too large" (SIGXFSZ is ignored).
  if (const int64_t limit = output_file_limit(); limit >= 0 && std::max(r.model, r.state) > static_cast<uint64_t>(limit))
    throw Error("the outputs in " + c.output.dir + " (" + output_room_text(r) + ") are larger than the " +
                human_bytes(static_cast<double>(limit)) + " a file may have in this shell (ulimit -f): raise it, or set " +
                (r.model > static_cast<uint64_t>(limit) ? "output.checkpoint to false"
                 : r.every > 0                          ? "output.checkpoint_every to 0"
                                                        : "output.keep_state to false"));
  const int64_t room = output_room(c);
  if (room < 0 || static_cast<uint64_t>(room) >= r.need) return;
  const std::string fix = r.every > 0 ? "output.checkpoint_every to 0" : r.state > 0 ? "output.keep_state to false"
                                                                         : "output.checkpoint to false";
  throw Error("not enough room for the outputs in " + c.output.dir + ": " + output_room_text(r) + ", and " +
              human_bytes(static_cast<double>(room)) + " is free there (choose another --out, free some space, or set " +
              fix + ")");
}

namespace {

// Why `name`, an existing file in the output folder, is not one a pdadmm run wrote (empty if it
// is, by its first bytes or its JSON keys): a run replaces its outputs, not a user's own files.
std::string foreign_output(const std::string& path, const std::string& name) {
  std::ifstream in = open_input(path);  // an unreadable file is not called "not a run's"
  std::string head(size_t{64} * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (name == "model.bin") return head.rfind(kCheckpointMagic, 0) == 0 ? "" : "it is not a pdadmm checkpoint";
  if (name == "state.bin") return head.rfind(kStateMagic, 0) == 0 ? "" : "it is not a pdadmm state file";
  if (name == "predictions.csv")
    return head.empty() || head.rfind(kPredictionsHead, 0) == 0 ? "" : "it is not eval's predictions";
  if (name == "metrics.jsonl") {  // a run killed before its first line left it empty
    std::istringstream lines(head);  // any whole line a run's: one damaged line is not the file
    for (std::string l; std::getline(lines, l);) {
      const nlohmann::json j = nlohmann::json::parse(l, nullptr, false);
      if (j.is_object() && j.contains("iter")) return "";
    }
    return head.empty() ? "" : "it is not a run's metrics";
  }
  const nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, false);
  // Keys every run writes and a hand-written file seldom has all of.
  const std::vector<const char*> keys = name == "summary.json" ? std::vector<const char*>{"iterations", "test_acc"}
                                        : std::vector<const char*>{"admm", "algorithm", "backend", "data", "model",
                                                                   "output", "partition", "seed"};
  const bool ours = j.is_object() && std::all_of(keys.begin(), keys.end(), [&](const char* k) { return j.contains(k); });
  return ours ? "" : name == "summary.json" ? "it is not a run's summary" : "it is not the config a run records";
}

}  // namespace

void lock_output_folder(const Config& c, std::optional<FolderLock>& lock, std::ostream& log, bool resume) {
  const std::string created = make_dirs(c.output.dir);
  if (::access(c.output.dir.c_str(), W_OK) != 0)  // as root, only a read-only mount says no: say that
    throw Error("cannot write to the output folder " + c.output.dir + ": " + std::strerror(errno));
  lock.emplace(c.output.dir);
  lock->remove_if_empty(c.output.dir, created);  // a run that fails before writing leaves no empty folder
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
    // A resumed folder's state.bin is checked whole as it loads, and a damaged metrics line is
    // dropped, not a reason to refuse the resume; its other files a --resume replaces too (a
    // hand-written summary.json or notes in config.json were overwritten, exit 0).
    if (!std::filesystem::exists(st) || (resume && (f == "state.bin" || f == "metrics.jsonl"))) continue;
    const std::string why = foreign_output(c.output.dir + "/" + f, f);
    require(why.empty(), [&] {
      return "--out " + c.output.dir + " holds a " + f + " no pdadmm run wrote (" + why +
             "); a run replaces it: move it away or choose another --out";
    });
  }
}

void log_run(const Config& c, const Problem& p, int first_groups, std::ostream& log) {
  const int want_groups = group_count(c);
  log << "pdadmm: " << p.data.name << " (" << p.data.num_nodes() << " nodes, " << p.data.num_edges() << " edges, "
      << p.data.features.cols << " features, " << p.data.num_classes << " classes; train/val/test "
      << p.data.train.size() << "/" << p.data.val.size() << "/" << p.data.test.size()
      << (c.data.val_split_seed >= 0 ? ", train/val redrawn, val_split_seed " + std::to_string(c.data.val_split_seed) : "")
      << "), " << c.model.layers
      << " layers x " << c.model.hidden << ", input " << p.dims[0] << ", " << want_groups << " group(s)"
      << (first_groups != want_groups ? " (" + std::to_string(first_groups) + " in the first stage)" : "")
      << ", "
      << c.iterations << (c.iterations == 1 ? " iteration" : " iterations") << ", backend " << c.backend;
  if (c.admm.quantize != Quantize::None)  // a -Q run's first line read as a G run's
    log << ", pdadmm-g-q with "
        << (c.admm.quantize == Quantize::Both ? "p and q" : c.admm.quantize == Quantize::P ? "p" : "q")
        << " on a grid of " << c.admm.grid.size() << " levels";
  log << std::endl;  // before progress on stderr
}

std::string unwritten_outputs(const Config& c, int model_at) {
  const auto held = [&](const char* f) {
    std::error_code ec;
    return std::filesystem::exists(c.output.dir + "/" + f, ec);
  };
  std::vector<std::string> before;  // files of those names this run did not write
  if (model_at < 0 && held("model.bin")) before.push_back("model.bin");
  if (held("summary.json")) before.push_back("summary.json");
  std::string s = c.output.checkpoint && model_at < 0 ? "model.bin and summary.json were not written"
                                                      : "summary.json was not written";
  if (!before.empty())
    s += " (" + c.output.dir + "/" + before[0] + (before.size() > 1 ? " and " + before[1] + " are" : " is") +
         " from before this run)";
  if (model_at >= 0)
    s += "; " + c.output.dir + "/model.bin is this run's checkpoint of iteration " + std::to_string(model_at);
  return s;
}

void open_outputs(const Config& c, bool resumed, int start, const std::string& written_by,
                  std::optional<JsonLines>& metrics, std::ostream& log) {
  write_file_atomic(c.output.dir + "/config.json", c.effective.dump(2) + "\n");
  std::error_code ec;
  if (resumed) {
    log << "resuming " << c.output.dir << " from its state.bin at iteration " << start << " of " << c.iterations
        << "\n";
    if (!written_by.empty() && written_by != build_version())
      log << "note: " << state_path(c) << " was written by pdadmm " << written_by << ", this is " << build_version()
          << ": the resumed run may differ in the last bits from one run through by either\n";
  } else if (std::filesystem::exists(c.output.dir + "/summary.json", ec) ||
             std::filesystem::exists(c.output.dir + "/metrics.jsonl", ec)) {
    log << "note: replacing the outputs of an earlier run in " << c.output.dir << "\n";
  }
  if (!resumed) {
    // An earlier run's state is not this run's; one that could have resumed is not dropped silently.
    if (const int k = unfinished_state_iteration(c); k >= 0)
      log << "note: removed " << state_path(c) << ", which an earlier run left at iteration " << k
          << " for train --resume (this run starts afresh)\n";
    else if (damaged_state_file(state_path(c)))
      log << "note: removed " << state_path(c) << ", a state file whose header is damaged (it could not be resumed)\n";
    remove_file_durably(state_path(c));
  } else if (!std::filesystem::exists(c.output.dir + "/metrics.jsonl", ec)) {
    log << "note: " << c.output.dir << "/metrics.jsonl is missing: the log starts after iteration " << start << "\n";
  } else if (const int lost = trim_metrics(c.output.dir + "/metrics.jsonl", start)) {
    log << "note: " << c.output.dir << "/metrics.jsonl had a damaged line (not a torn last line, which a kill "
        << "leaves): it and the " << lost - 1 << " line(s) after it up to iteration " << start
        << " are dropped, so the log may have a gap\n";
  }
  // Files this run will not replace stay an earlier run's, beside this run's summary.json.
  for (const auto& [name, key, off] : {std::tuple{"model.bin", "output.checkpoint", !c.output.checkpoint},
                                       std::tuple{"predictions.csv", "output.predictions", !c.output.predictions}})
    if (off && std::filesystem::exists(c.output.dir + "/" + name))  // a resumed run's: the stopped one's
      log << "note: " << c.output.dir << "/" << name << " is an earlier run's (" << key
          << " is false: this run writes none)\n";
  metrics.emplace(c.output.dir + "/metrics.jsonl", resumed);
  // Now, not at the next line that flushes: in a `> log 2>&1` file they came after the progress
  // lines (stderr), and a run killed later lost them, the note of a removed state.bin included.
  log.flush();
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
                      {"bytes_ratio_fp32", fp32_ratio_json(bytes_per_iter_fp32, bytes_per_iter)},
                      {"objective", {{"first", first_objective}, {"last", last_objective}}},
                      {"residual", {{"first", first_residual}, {"last", last_residual}}},
                      {"giveups", {{"W", w_giveups}, {"p", p_giveups}}}};
  if (resumed_from > 0) j["resumed_from"] = resumed_from;  // train --resume: the whole run's numbers
  if (!stages.empty()) {
    j["stages"] = nlohmann::json::array();
    for (const Stage& s : stages)
      j["stages"].push_back(
          {{"layers", s.layers}, {"iterations", s.iterations}, {"seconds_per_iter_median", s.seconds_per_iter_median}});
  }
  return j;
}

void TrainLoop::log_iteration(const IterationStats& st, int it, size_t bytes, std::optional<JsonLines>& metrics) {
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
                 {"residual_sq", st.r2},
                 {"cross_entropy", st.ce},
                 {"train_acc", scores.train.acc},
                 {"val_acc", scores.val.acc},
                 {"test_acc", scores.test.acc},
                 {"train_loss", scores.train.loss},
                 {"seconds", st.seconds},
                 {"terms_seconds", st.terms_seconds},
                 {"bytes_sent", bytes},
                 {"boundary_bytes", st.boundary_bytes},
                 {"bytes_ratio_fp32", fp32_ratio_json(sum.bytes_per_iter_fp32, bytes)},
                 {"groups", groups},
                 {"rho", solver->params().rho},
                 {"nu", solver->params().nu},
                 {"backtracks", {{"p", st.counts.p_backtracks}, {"W", st.counts.w_backtracks}}},
                 {"giveups", {{"p", st.counts.p_giveups}, {"W", st.counts.w_giveups}}},
                 {"fista_its", st.counts.fista_its}});
}

void TrainLoop::checkpoint(int done) {
  try {
    if (c.output.checkpoint) {
      solver->weights(W, b, 0, 0);  // process 0's own copy (the memory check counts one), as final_scores reads it
      weights_after = done - 1;
      if (writes && non_finite_layer(W, b) < 0) {
        save_model(c, p.dims, W, b, done, p.data_crc);
        model_at = done;
      }
    }
    if (c.output.state) save_state(done);
  } catch (const Error& e) {
    // A full disk mid-run said only "cannot write OUT/model.bin: …": what is left, and what to do.
    // The writes are atomic, so an earlier checkpoint's state.bin, if any, is whole. Only the
    // writer's own write failures: a device's or another process's error is not about room.
    if (!writes || std::string(e.what()).rfind("cannot write ", 0) != 0) throw;
    // This run's own state, not whatever state.bin the folder holds (an earlier run's kept one).
    const int older = state_at;
    throw Error(std::string(e.what()) + " (the checkpoint of iteration " + std::to_string(done) + "; " +
                (older >= 0 ? "--resume goes on from the state.bin of iteration " + std::to_string(older) +
                                  ", the last checkpoint, once the files can be written"
                            : "no state.bin to resume from: the run starts over") +
                ")");
  }
}

void TrainLoop::save_state(int done) {
  RunState rs;
  rs.iteration = done;
  rs.stage = static_cast<int>(stage);
  rs.train_cost = train_cost;
  rs.iter_s = iter_s;
  rs.seconds = seconds_before + seconds_since(t_start);
  rs.sum = sum;
  rs.val_acc = scores.val.acc;
  rs.test_acc = scores.test.acc;
  rs.shown_at = scored_at;
  rs.data_crc = p.data_crc;
  if (writes && tracker.anchored()) rs.anchor = tracker.anchor_product();
  save_run_state(c, std::move(rs), *solver, writes);
  state_at = done;
}

void TrainLoop::final_scores(int done) {
  // The last iteration's evaluation downloaded them already (W_1 formed: an n x d x N product).
  // Process 0 holds the final weights (it writes model.bin and scores them); every process stops alike.
  if (done == 0 || weights_after != done - 1) solver->weights(W, b, 0, 0);
  if (const int l = processes_max(writes ? non_finite_layer(W, b) : -1); l >= 0)
    throw Error("training diverged: layer " + std::to_string(l + 1) +
                " holds NaN or infinite weights at the end; " + unwritten_outputs(c, model_at));
  // No logged final iteration (none run, or stopped early): its time is evaluation time as well.
  // (Not counted in `evaluations`: a resumed run's count must equal the uninterrupted run's.)
  if ((c.iterations == 0 || done < c.iterations) && writes) {
    const auto t_eval = Clock::now();
    scores = eval.evaluate(W, b);
    scored_at = done;  // state.bin's shown scores are this iterate's
    sum.eval_seconds += seconds_since(t_eval);
  }
  // Finite weights can still overflow float in the forward pass (e.g. init_std 1e20 with -Q, whose
  // grid keeps the iterates finite): NaN logits give meaningless accuracies.
  for (const SplitScore* sc : {&scores.train, &scores.val, &scores.test})
    require(!writes || std::isfinite(sc->loss), [&] {
      return "training diverged: the final forward pass is not finite (the logits overflow float); " +
             unwritten_outputs(c, model_at);
    });
}

bool TrainLoop::write_outputs(int done, int stopped_by) {
  sum.iterations = done;
  sum.signal = done < c.iterations ? stopped_by : 0;
  sum.scores = scores;
  sum.seconds_per_iter_mean = iter_s.empty() ? 0 : std::accumulate(iter_s.begin(), iter_s.end(), 0.0) / iter_s.size();
  sum.seconds_per_iter_median = median(iter_s);
  sum.stages.clear();
  if (stages.size() > 1)
    for (size_t s = 0, from = 0; s < stages.size() && from < iter_s.size(); from += stages[s].iterations, ++s) {
      const size_t to = std::min(iter_s.size(), from + static_cast<size_t>(stages[s].iterations));
      sum.stages.push_back({stages[s].layers, static_cast<int>(to - from),
                            median(std::vector<double>(iter_s.begin() + static_cast<std::ptrdiff_t>(from),
                                                       iter_s.begin() + static_cast<std::ptrdiff_t>(to)))});
    }
  // For train --resume: a stopped run's state; a finished one's only when asked (a longer run).
  const bool finished = done == c.iterations;
  const bool keeps_state = finished ? c.output.keep_state : c.output.state;
  const std::string held = c.output.checkpoint ? "model.bin and summary.json hold" : "summary.json holds";
  std::exception_ptr state_failed;
  const auto write_state = [&] {
    try {
      save_state(done);
    } catch (const std::exception& e) {  // held for after the other files (a download's bad_alloc too)
      // The write is atomic: an earlier checkpoint's state.bin, if any, is whole and --resume takes it.
      const int older = state_at;
      state_failed = std::make_exception_ptr(Error(
          std::string(e.what()) + " (" + held + " iteration " + std::to_string(done) +
          (older >= 0 ? "; --resume goes on from the state.bin of iteration " + std::to_string(older) +
                            ", the last checkpoint"
                      : ", but --resume " + std::string(finished ? "cannot extend the run" : "cannot continue it")) +
          ")"));
    }
  };
  // A signal's stop writes the state first: what --resume needs, and mpirun ends the processes
  // soon after Ctrl-C (a Coauthor CS run under it kept model.bin and summary.json, and a
  // state.bin.tmp, killed half-written). Otherwise last: a state.bin the disk has no room for loses
  // no more than the resume. Either way the other files are written before its error is raised.
  const bool state_first = keeps_state && sum.signal;
  if (state_first) write_state();
  // The state written, a model or summary the disk refuses still leaves the run to --resume: say so.
  const auto after_state = [&](const std::function<void()>& write) {
    if (!state_first || state_failed) return write();
    try {
      write();
    } catch (const std::exception& e) {  // a download's bad_alloc too
      throw Error(std::string(dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : e.what()) +
                  " (state.bin holds iteration " + std::to_string(done) +
                  ": the same command with --resume continues it once the files can be written)");
    }
  };
  if (c.output.checkpoint && writes) after_state([&] { save_model(c, p.dims, W, b, done, p.data_crc); });
  // The final weights downloaded above (process 0 has them and writes), scored by the
  // host as `pdadmm eval --predictions` does: the same file. Its failure (a full disk) is the run's
  // error once the summary and the state are written: it lost a stopped run its state.bin.
  std::exception_ptr predictions_failed;
  if (c.output.predictions && writes) {
    const std::string csv = c.output.dir + "/predictions.csv";
    try {
      Predictor(eval, W, b).save_csv(csv);
    } catch (const Error& e) {
      // An earlier run's file would stand beside this run's model and summary as if it were theirs.
      const bool stale = std::remove(csv.c_str()) == 0;
      predictions_failed = std::make_exception_ptr(
          Error(std::string(e.what()) + " (" + (stale ? "the earlier run's predictions.csv is removed; " : "") +
                (c.output.checkpoint ? "model.bin and " : "") + "summary.json hold iteration " +
                std::to_string(done) + ")"));
    }
  }
  sum.seconds_total = seconds_before + seconds_since(t_start);
  if (writes) after_state([&] { write_file_atomic(c.output.dir + "/summary.json", sum.to_json().dump(2) + "\n"); });
  if (keeps_state && !sum.signal) write_state();
  if (state_failed) std::rethrow_exception(state_failed);
  // Last: a run killed while it wrote the files above still has its state.bin to --resume (it was
  // removed first, and a kill before summary.json left a final model.bin with nothing to resume).
  if (!keeps_state && finished && writes) remove_file_durably(state_path(c));
  if (sum.signal)
    log << "interrupted by " << signal_name(sum.signal) << " after iteration " << done << " of " << c.iterations
        << ": " << held << " that iterate" << (c.output.state ? "; the same command with --resume continues it" : "")
        << std::endl;
  if (predictions_failed) std::rethrow_exception(predictions_failed);
  return keeps_state;
}

void TrainLoop::log_final(int done, bool keeps_state) {
  // A run stopped by a signal reports the iterate it stopped at, not a "final" one.
  const std::string label =
      done < c.iterations ? "stopped at " + std::to_string(done) + "/" + std::to_string(c.iterations) : "final";
  log << std::fixed << std::setprecision(4) << label << ": test acc " << sum.scores.test.acc << "  val acc "
      << sum.scores.val.acc << "  train acc " << sum.scores.train.acc << "\n";
  if (done > 0) {  // "0.00000 s/iteration" for a run of none read as a measurement
    log << std::setprecision(5) << "time: mean " << sum.seconds_per_iter_mean << " s/iteration (median ";
    if (!sum.stages.empty()) {  // one median over stages of 2 and 10 layers was the 2-layer one's
      std::string per, layers;
      for (const TrainSummary::Stage& s : sum.stages) {
        std::ostringstream m;
        m << std::setprecision(3) << s.seconds_per_iter_median;
        per += (per.empty() ? "" : ", ") + m.str();
        layers += (layers.empty() ? "" : ", ") + std::to_string(s.layers);
      }
      log << "per stage of " << layers << " layers: " << per << ";";
    } else {
      log << sum.seconds_per_iter_median << ",";
    }
    log << " ADMM updates only; evaluation " << std::setprecision(2) << sum.eval_seconds << " s";
  } else {
    log << std::setprecision(2) << "time: no iterations (evaluation " << sum.eval_seconds << " s";
  }
  if (stages.size() > 1) log << ", stage changes " << sum.stage_seconds << " s";
  log << " in all), " << sum.seconds_total << " s total\n";
  if (done > 0 && solver->num_groups() == 1 && sum.bytes_total == 0)  // "0 … across 0 boundaries"
    log << "bytes moved: none (1 group: nothing crosses a boundary)\n";
  else if (done > 0)  // "0 per iteration across 1 boundary" for a run of none read as measured
    log << "bytes moved: " << sum.bytes_per_iter << " per iteration"
        << (stages.size() > 1 ? " in stage " + std::to_string(stage + 1) : "") << " across " << solver->num_groups() - 1
        << (solver->num_groups() == 2 ? " boundary, " : " boundaries, ") << sum.bytes_total << " in all"
        << fp32_comparison_text(sum.bytes_per_iter, sum.bytes_per_iter_fp32) << "\n";
  else
    log << "bytes moved: none (no iterations run)\n";
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

}  // namespace pdadmm
