// state.bin: the header's meta holds the config, the loop's counters and the solver's scalars;
// the tensors are the solver's (named as Solver::save_state names them) and the tracker's anchor.
#include "host/admm/resume.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <exception>
#include <fstream>
#include <optional>
#include <unordered_set>
#include <utility>

#include "host/admm/plan.h"
#include "host/config/config.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/state_file.h"
#include "host/io/version.h"

namespace pdadmm {

namespace {

const char kAnchor[] = "tracker.anchor";

// Keys that change neither the iterates nor the outputs' numbers: where and how the run reports,
// and how it uses the machine (CpuOps gives the same bits for any thread count).
bool free_to_differ(const std::string& key) {
  for (const char* k : {"output", "threads", "devices", "data.root", "data.verify"})
    if (key == k) return true;
  return false;
}

// The first key (dotted) whose value differs between two effective configs; "" when none.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& at) {
  // Lists of one length element by element: "model.stages[0].iterations", not the whole list.
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (std::string d = first_difference(a[i], b[i], at + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  if (!a.is_object() || !b.is_object()) return a == b ? "" : at;
  // Plain values before sections: `algorithm` changed adds keys under `admm`, which sorts first,
  // and the line named admm.grid instead of the key the user changed. Of the top level's sections,
  // data and model first: another data set's config was named by its admm.nu.
  std::vector<std::string> order;
  std::unordered_set<std::string> seen;  // a find in `order` was quadratic in a state's keys
  const auto add = [&order, &seen](const std::string& k) {
    if (seen.insert(k).second) order.push_back(k);
  };
  for (const bool sections : {false, true}) {
    if (sections && at.empty())
      for (const char* k : {"data", "model"})
        if ((a.contains(k) && a[k].is_object()) || (b.contains(k) && b[k].is_object())) add(k);
    for (const auto* side : {&a, &b})
      for (auto it = side->begin(); it != side->end(); ++it)
        if (it.value().is_object() == sections) add(it.key());
  }
  for (const std::string& k : order) {
    std::string key = at.empty() ? k : at + "." + k;
    if (free_to_differ(key)) continue;
    if (!a.contains(k) || !b.contains(k)) return key;
    std::string d = first_difference(a[k], b[k], key);
    if (!d.empty()) return d;
  }
  return "";
}

// The value at a key first_difference names ("a.b[2].c"); "(not set)" where there is none.
nlohmann::json value_at(const nlohmann::json& j, const std::string& dotted) {
  nlohmann::json v = j;
  size_t from = 0;
  while (from <= dotted.size()) {
    const size_t dot = dotted.find('.', from);
    std::string k = dotted.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
    const size_t bracket = k.find('[');
    const std::string index = bracket == std::string::npos ? "" : k.substr(bracket);
    // cppcheck-suppress uselessCallsSubstr ; bracket may be npos, where resize() would throw
    k = k.substr(0, bracket);
    if (!v.is_object() || !v.contains(k)) return "(not set)";
    v = nlohmann::json(v[k]);
    for (size_t at = 0; at < index.size();) {  // "[2][0]"
      const size_t close = index.find(']', at);
      const size_t i = std::stoul(index.substr(at + 1, close - at - 1));
      if (!v.is_array() || i >= v.size()) return "(not set)";
      v = nlohmann::json(v[i]);
      at = close + 1;
    }
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  return v;
}

nlohmann::json summary_json(const TrainSummary& s) {
  return {{"evals_exact", s.evals_exact},         {"evals_tracked", s.evals_tracked},
          {"eval_seconds", s.eval_seconds},       {"bytes_per_iter", s.bytes_per_iter},
          {"bytes_total", s.bytes_total},         {"bytes_per_iter_fp32", s.bytes_per_iter_fp32},
          {"bytes_ratio_fp32", s.bytes_ratio_fp32}, {"first_objective", s.first_objective},
          {"last_objective", s.last_objective},   {"first_residual", s.first_residual},
          {"last_residual", s.last_residual},     {"w_giveups", s.w_giveups},
          {"p_giveups", s.p_giveups},         {"stage_seconds", s.stage_seconds}};
}

void summary_from(const nlohmann::json& j, TrainSummary& s) {
  s.evals_exact = j.at("evals_exact");
  s.evals_tracked = j.at("evals_tracked");
  s.eval_seconds = j.at("eval_seconds");
  s.bytes_per_iter = j.at("bytes_per_iter");
  s.bytes_total = j.at("bytes_total");
  s.bytes_per_iter_fp32 = j.at("bytes_per_iter_fp32");
  s.bytes_ratio_fp32 = j.at("bytes_ratio_fp32");
  s.first_objective = j.at("first_objective");
  s.last_objective = j.at("last_objective");
  s.first_residual = j.at("first_residual");
  s.last_residual = j.at("last_residual");
  s.w_giveups = j.value("w_giveups", int64_t{0});  // a state.bin from before the count: none counted
  s.p_giveups = j.value("p_giveups", int64_t{0});
  s.stage_seconds = j.value("stage_seconds", 0.0);  // a state.bin from before the count: not timed
}

}  // namespace

std::string state_path(const Config& c) { return c.output.dir + "/state.bin"; }

namespace {

nlohmann::json state_meta(const Config& c, const RunState& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerScalars& l : s.solver.layers)
    layers.push_back({l.w_scale, l.w_sq, l.w0_sq, l.track_scale, l.w_pending, l.tracking});
  nlohmann::json meta = {{"version", build_version()},
            {"config", c.effective},
            {"iteration", s.iteration},
            {"stage", s.stage},
            {"train_cost", s.train_cost},
            {"iter_s", s.iter_s},
            {"seconds", s.seconds},
            {"shown", {s.val_acc, s.test_acc}},
            {"shown_at", s.shown_at},
            {"summary", summary_json(s.sum)},
            {"solver",
             {{"iteration", s.solver.iteration},
              {"rho", s.solver.rho},
              {"nu", s.solver.nu},
              {"mu", s.solver.mu},
              {"layers", layers}}}};
  if (s.data_crc.is_number_unsigned() && s.data_crc.get<uint32_t>() != 0) meta["data_crc"] = s.data_crc;
  return meta;
}

}  // namespace

void save_run_state(const Config& c, RunState s) {
  StateFile f;
  f.meta = state_meta(c, s);
  f.names = std::move(s.solver.names);
  f.tensors = std::move(s.solver.tensors);
  if (s.anchor.size() > 0) {
    f.names.push_back(kAnchor);
    f.tensors.push_back(std::move(s.anchor));
  }
  save_state_file(state_path(c), f);
}

// A state tensor's name for a user: "l9.W" is layer 10's W (layers count from 1 in messages), "g1.q_in"
// group 1's q_in (a boundary copy).
static std::string tensor_label(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot < 2 || (name[0] != 'l' && name[0] != 'g')) return name;
  const long i = std::strtol(name.c_str() + 1, nullptr, 10);
  return (name[0] == 'l' ? "layer " + std::to_string(i + 1) : "group " + std::to_string(i)) + "'s " +
         name.substr(dot + 1) + " (state tensor " + name + ")";
}

void save_run_state(const Config& c, RunState s, Solver<float>& solver, bool writes) {
  s.solver = solver.state_scalars();
  std::optional<StateFileWriter> w;
  std::exception_ptr failed;  // kept until every tensor is shared: the other processes wait on those
  try {
    if (writes) {
      std::vector<std::string> names = s.solver.names;
      std::vector<std::pair<int64_t, int64_t>> shapes = solver.state_shapes();
      if (s.anchor.size() > 0) {
        names.push_back(kAnchor);
        shapes.emplace_back(s.anchor.rows, s.anchor.cols);
      }
      w.emplace(state_path(c), state_meta(c, s), names, shapes);
    }
  } catch (...) {
    failed = std::current_exception();
  }
  size_t i = 0;
  solver.state_tensors([&](const HostMatrix<float>& t) {
    // Every process sees every tensor, so all stop alike; the last state.bin stays (it is replaced
    // at commit only), where a diverged one would be refused by --resume.
    const std::string& name = s.solver.names[i++];
    if (!failed && !std::all_of(t.data.begin(), t.data.end(), [](float v) { return std::isfinite(v); }))
      failed = std::make_exception_ptr(Error("training diverged: " + tensor_label(name) + " holds NaN or infinite values; " +
                                             state_path(c) + " was not written (the last one, if any, stays)"));
    if (!w || failed) return;
    try {
      w->add(t);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  if (failed) std::rethrow_exception(failed);
  if (!w) return;
  if (s.anchor.size() > 0) w->add(s.anchor);
  w->commit();
}

// The effective config without the run's length (admm.iterations and the last stage's
// iterations), which a resume may change: the iterates up to any point do not depend on it. Where
// neither side has stages, growth's keys do nothing and are left out too: stage_duals' default
// became "reset" (2026-12-07), and an unstaged run's state from before was refused with --config;
// so is `model.stages: []`, which is no stages.
static nlohmann::json without_length(nlohmann::json j, bool both_unstaged) {
  if (j.contains("admm") && j["admm"].is_object()) j["admm"].erase("iterations");
  if (json_has_stages(j) && j["model"]["stages"].back().is_object()) j["model"]["stages"].back().erase("iterations");
  if (both_unstaged && j.contains("model") && j["model"].is_object())
    for (const char* k : {"stage_duals", "stage_last", "stages"}) j["model"].erase(k);
  return j;
}

// The first key (dotted) in which `now` and `then` differ but for what a resume may change.
static std::string resume_difference(const nlohmann::json& now, const nlohmann::json& then) {
  const bool both_unstaged = !json_has_stages(now) && !json_has_stages(then);
  return first_difference(without_length(now, both_unstaged), without_length(then, both_unstaged), "");
}

// What to do about a key a resume or a fresh run found different, where the reason is ours: a
// staged run saved under the old default.
static std::string difference_hint(const std::string& key, const nlohmann::json& now, const nlohmann::json& then) {
  if (key != "model.stage_duals" || value_at(then, key) != "keep" || value_at(now, key) != "reset") return "";
  return " (its default became \"reset\" on 2026-12-07: --set model.stage_duals=\"keep\" gives the saved run's)";
}

void require_run_state(const Config& c) {
  const std::string path = state_path(c);
  std::error_code ec;  // an unreadable file exists: load_state_file says why it cannot be read
  if (std::filesystem::exists(path, ec)) return;
  // A finished run removed it: say so, rather than leave the user to guess why it is missing. The
  // summary must be the last run's (written after its config.json; a later run killed early left it).
  namespace fs = std::filesystem;
  const std::string summary = c.output.dir + "/summary.json", config = c.output.dir + "/config.json";
  const bool last = fs::is_regular_file(summary, ec) && fs::is_regular_file(config, ec) &&  // a FIFO would block
                    fs::last_write_time(summary, ec) >= fs::last_write_time(config, ec) && !ec;
  const nlohmann::json sum = last ? nlohmann::json::parse(read_system_file(summary), nullptr, false) : nlohmann::json();
  if (sum.is_object() && sum.value("interrupted", true) == false && sum.contains("iterations") &&
      sum["iterations"].is_number_integer())
    throw Error("--resume: the run in " + c.output.dir + " finished (summary.json: " +
                std::to_string(sum["iterations"].get<int64_t>()) +
                " iterations) and removed its state.bin: nothing to resume (output.keep_state: true keeps it, so that "
                "--resume can run longer)");
  throw Error("--resume: " + path +
              " not found (a run writes it with model.bin when output.checkpoint_every or a signal stops it early, "
              "unless output.state is false, and removes it when it finishes unless output.keep_state is true)");
}

void refuse_forgotten_resume(const Config& c) {
  const nlohmann::json meta = peek_state_meta(state_path(c));
  if (!meta.is_object() || !meta.contains("iteration") || !meta["iteration"].is_number_integer() ||
      !meta.contains("config") || !meta["config"].is_object())
    return;
  const int64_t k = meta["iteration"].get<int64_t>();
  nlohmann::json then, total;
  try {
    then = with_keys_added_since(meta["config"]);
    total = value_at(then, "admm.iterations");
  } catch (const std::exception&) {
    return;
  }
  if (!total.is_number_integer() || k >= total.get<int64_t>()) return;  // finished, kept by output.keep_state
  const std::string stopped = "stopped at iteration " + std::to_string(k) + " of " + total.dump();
  const std::string afresh = "to start afresh, remove that file or choose another --out";
  const std::string key = resume_difference(c.effective, then);
  if (key.empty()) throw Error(state_path(c) + " holds this config's run, " + stopped + ": --resume continues it (" + afresh + ")");
  // Another config's (one key changed, -c forgotten): removing it lost a run that could resume.
  throw Error(state_path(c) + " holds the run of another config (" + key + " = " + value_at(then, key).dump() +
              " there, " + value_at(c.effective, key).dump() + " here" + difference_hint(key, c.effective, then) + "), " + stopped +
              ": train --out " + c.output.dir + " --resume (no --config: the state records its own) continues it; " + afresh);
}

// resume_difference of a resumed run's config (now) and its state's (then, keys added since),
// where the state's meta records the data's checksum, which, compared after the load, decides
// whether its files are the run's: the same files named another way (absolute paths from another
// folder, where the run's relative names do not resolve) resume, as eval accepts them.
static std::string state_config_difference(const nlohmann::json& meta, nlohmann::json& now, nlohmann::json& then) {
  if (meta.contains("data_crc"))
    for (nlohmann::json* j : {&then, &now})
      if (j->contains("data") && (*j)["data"].is_object()) {
        nlohmann::json& d = (*j)["data"];
        if (d.contains("npz") && d["npz"].is_object()) d["npz"].erase("file");
        if (d.contains("files") && d["files"].is_object())
          for (const char* k : {"edges", "features", "labels"}) d["files"].erase(k);
      }
  return resume_difference(now, then);
}

void refuse_edited_config_json(const Config& c) {
  const std::string path = c.output.dir + "/config.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  const nlohmann::json meta = peek_state_meta(state_path(c));
  if (!meta.is_object() || !meta.contains("config") || !meta["config"].is_object()) return;
  // Not JSON, or not a config: lock_output_folder refused it as a file no run wrote.
  const nlohmann::json saved = nlohmann::json::parse(read_system_file(path), nullptr, false);
  if (!saved.is_object()) return;
  nlohmann::json then, now;
  try {
    then = with_keys_added_since(meta["config"]);
    now = with_keys_added_since(saved);
  } catch (const std::exception&) {
    return;
  }
  // As a resume compares configs: the run's length, output.*, threads, the data files' names and
  // the like may differ (a resumed run killed outright left config.json with its raised iterations
  // beside the older state).
  const std::string key = state_config_difference(meta, now, then);
  if (key.empty()) return;
  throw Error("--resume: " + path + " differs from the config " + state_path(c) + " records at " + key + " (" +
              value_at(now, key).dump() + " there, " + value_at(then, key).dump() +
              " recorded): edited since the run stopped? --resume continues the recorded run and rewrites config.json: "
              "restore it or move it away");
}

int unfinished_state_iteration(const Config& c) {
  const nlohmann::json meta = peek_state_meta(state_path(c));
  return meta.is_object() && meta.contains("iteration") && meta["iteration"].is_number_integer()
             ? meta["iteration"].get<int>()
             : -1;
}

namespace {

// A damaged file says what to do: the same command without --resume refuses to start over it. One
// this process cannot open (permissions, too many files) may be whole: its error says why alone.
Error damaged_state(const std::string& path, const Error& e) {
  if (!std::ifstream(path, std::ios::binary).good()) return e;
  return Error(std::string(e.what()) + "; it cannot be resumed: remove it (or choose another --out) to start afresh");
}

}  // namespace

void require_state_header(const std::string& path) {
  if (!damaged_state_file(path)) return;
  try {
    StateFileReader check(path);
  } catch (const Error& e) {
    throw damaged_state(path, e);
  }
  throw damaged_state(path, Error("state " + path + ": corrupt header"));
}

RunState load_run_state(const Config& c) {
  const std::string path = state_path(c);
  require_run_state(c);
  // A damaged file says what to do: the same command without --resume refuses to start over it. One
  // this process cannot open (permissions, too many files) may be whole: its error says why alone.
  std::shared_ptr<StateFileReader> f;
  try {
    f = std::make_shared<StateFileReader>(path);
  } catch (const Error& e) {
    throw damaged_state(path, e);
  }
  const nlohmann::json& m = f->meta();
  RunState s;
  // The payload first, as when the whole file was read: damage is named as a checksum mismatch
  // before anything its header says (another config, nothing left to run); a value's error after.
  const std::vector<std::string>& names = f->names();
  std::exception_ptr bad_value;
  try {
    f->check([&](size_t i, const HostMatrix<float>& t) {
      // A run stops as diverged when its residual is not finite, so a state holding a non-finite value
      // was altered (and re-summed) or saved as a run diverged: refused below, naming the tensor, not
      // as "training diverged" iterations later.
      if (!bad_value && !std::all_of(t.data.begin(), t.data.end(), [](float x) { return std::isfinite(x); }))
        bad_value = std::make_exception_ptr(Error("state " + path + ": tensor " + names[i] +
                                                  " holds NaN or infinite values (a diverged or altered state); "
                                                  "remove it to start over"));
      if (names[i] == kAnchor) {
        s.anchor = t;
        return;
      }
      s.solver.names.push_back(names[i]);
      s.solver_in_file.push_back(i);
      s.solver_shapes.push_back(f->shapes()[i]);
    });
  } catch (const Error& e) {
    throw damaged_state(path, e);
  }
  int64_t iteration = 0, stage = 0;  // read whole: an int took 2^62 as 0, and -1 as a stage
  try {
    nlohmann::json then = with_keys_added_since(m.at("config")), now = c.effective;
    const std::string key = state_config_difference(m, now, then);
    if (!key.empty())
      throw Error("--resume: the config has " + key + " = " + value_at(c.effective, key).dump() + ", the run in " +
                  path + " has " + value_at(then, key).dump() + difference_hint(key, now, then) +
                  " (only output.*, threads, devices, data.root, data.verify and the run's length, admm.iterations "
                  "or the last stage's iterations, may differ)");
    iteration = m.at("iteration").get<int64_t>();
    stage = m.at("stage").get<int64_t>();
    s.train_cost = m.at("train_cost").get<std::vector<double>>();
    s.iter_s = m.at("iter_s").get<std::vector<double>>();
    s.seconds = m.at("seconds");
    if (m.contains("shown")) {  // display only; the first --resume binary did not save it
      s.val_acc = m["shown"].at(0);
      s.test_acc = m["shown"].at(1);
      // Display only: a value no run writes is dropped, not refused.
      if (m.contains("shown_at") && m["shown_at"].is_number_integer() && m["shown_at"].get<int64_t>() >= 0 &&
          m["shown_at"].get<int64_t>() <= m.value("iteration", int64_t{-1}))
        s.shown_at = m["shown_at"].get<int>();
    }
    summary_from(m.at("summary"), s.sum);
    if (m.contains("data_crc")) s.data_crc = m["data_crc"];
    if (m.contains("version") && m["version"].is_string()) s.written_by = m["version"];
    const nlohmann::json& sv = m.at("solver");
    s.solver.iteration = sv.at("iteration");
    s.solver.rho = sv.at("rho");
    s.solver.nu = sv.at("nu");
    s.solver.mu = sv.at("mu");
    for (const nlohmann::json& l : sv.at("layers"))
      s.solver.layers.push_back({l.at(0), l.at(1), l.at(2), l.at(3), l.at(4), l.at(5)});
  } catch (const nlohmann::json::exception& e) {
    throw Error("state " + path + ": corrupt header (" + e.what() + ")");
  }
  // The checksums catch damage, not a header edited by hand and re-summed: values no run writes.
  const auto sane = [&](bool ok, const std::string& what) {
    require(ok, "state " + path + ": corrupt header (" + what + ")");
  };
  sane(iteration >= 0 && s.iter_s.size() == static_cast<uint64_t>(iteration),
       "iteration " + std::to_string(iteration) + " with " + std::to_string(s.iter_s.size()) + " iteration times");
  s.iteration = static_cast<int>(iteration);  // iter_s holds that many: it fits
  // A stage past the config's (or negative) failed after the data loaded, as "stage 0 does not exist".
  const size_t stages = run_stages(c).size();
  sane(stage >= 0 && static_cast<uint64_t>(stage) < stages,
       "growth stage " + std::to_string(stage + 1) + " of a run of " + std::to_string(stages) + ", counted from 1");
  s.stage = static_cast<int>(stage);
  sane(std::isfinite(s.solver.rho) && s.solver.rho > 0 && std::isfinite(s.solver.nu) && s.solver.nu > 0 &&
           std::isfinite(s.solver.mu) && s.solver.mu >= 0,
       "rho, nu or mu is not a positive finite number");
  require(s.iteration < c.iterations, "--resume: the run in " + path + " is at iteration " +
                                          std::to_string(s.iteration) + " of " + std::to_string(c.iterations) +
                                          ": nothing left to run (a longer run: raise admm.iterations, or the last "
                                          "stage's iterations)");
  if (bad_value) std::rethrow_exception(bad_value);
  s.file = std::move(f);
  return s;
}

void load_solver_state(const Config& c, const RunState& s, Solver<float>& solver) {
  try {
    if (!s.file) {
      solver.load_state(s.solver);
      return;
    }
    HostMatrix<float> t;
    solver.load_state(s.solver, s.solver_shapes, [&](size_t i) {
      s.file->read(s.solver_in_file[i], t);
      return t.data.data();
    });
  } catch (const Error& e) {  // the file at fault, as load_run_state's own errors name it
    const std::string what = e.what(), path = state_path(c);
    throw Error(what.rfind("state " + path, 0) == 0 ? what : "state " + path + ": " + what);
  }
}

int trim_metrics(const std::string& path, int k) {
  std::ifstream in = open_input(path);  // one that cannot be read is not rewritten as empty
  std::string line, kept;
  int damaged = 0;  // lines from a damaged one on, up to the last of iterations <= k
  bool broken = false;
  for (int after = 0; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    const bool valid = j.is_object() && j.contains("iter") && j["iter"].is_number_integer();
    if (!broken && valid && j["iter"].get<int>() <= k) {
      kept += line + "\n";
      continue;
    }
    if (valid && j["iter"].get<int>() > k) {  // in order: the rest came after the state
      // A damaged line a valid one follows is not a kill's torn last line: it may have been the
      // line of an iteration <= k.
      if (broken) damaged = after;
      break;
    }
    broken = true;  // a damaged line: count it and what follows while it is still before the state
    ++after;
    if (valid) damaged = after;
  }
  if (in.bad()) throw Error("cannot read " + path + (errno ? std::string(": ") + std::strerror(errno) : ""));
  write_file_atomic(path, kept);
  return damaged;
}

}  // namespace pdadmm
