// train, info and eval.
#include "host/cli/commands.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "cuda/cuda_backend.h"
#include "host/admm/growth.h"
#include "host/admm/host_threads.h"
#include "host/admm/layer_plan.h"
#include "host/admm/predictions.h"
#include "host/admm/resume.h"
#include "host/admm/run_outputs.h"
#include "host/admm/trainer.h"
#include "host/backend/blas_kernels.h"
#include "host/bench/bench.h"
#include "host/cli/output_target.h"
#include "host/comm/processes.h"
#include "host/comm/processes_env.h"
#include "host/config/config.h"
#include "host/data/load_real.h"
#include "host/io/files.h"
#include "host/io/host_memory.h"
#include "host/io/checkpoint.h"
#include "host/io/error.h"
#include "host/io/state_file.h"
#include "host/quant/wire.h"

namespace pdadmm {

namespace {

// OMP_NUM_THREADS, as job scripts set it, stands for `threads` when the config leaves it 0: the
// trainer sizes its teams itself, so libgomp's reading alone changed nothing.
int env_omp_threads() {
  const int n = omp_num_threads_env();
  require(n >= 0, [] {
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.StringChecker): n < 0 only where the variable is set
    return "OMP_NUM_THREADS=\"" + std::string(std::getenv("OMP_NUM_THREADS")) +
           "\" is not a thread count from 1 to 1024 (unset it, or set `threads`)";
  });
  return n;
}

// `base`: the config to start from without --config (eval: the model's own), else the defaults.
Config load(const CommonArgs& a, const nlohmann::json& base = nlohmann::json::object()) {
  Config c = a.config.empty() ? parse_config(base, a.sets) : load_config(a.config, a.sets);
  if (c.threads == 0) c.threads = env_omp_threads();  // config.json keeps the 0 the config asked for
  // Written into config.json as the config's own strings are (a non-UTF-8 name was "internal:").
  for (const auto& [value, option] : {std::pair{a.out, "--out"}, std::pair{a.data, "--data"}})
    require_utf8_text(value, option);
  if (!a.out.empty()) {
    c.output.dir = a.out;
    c.effective["output"]["dir"] = a.out;
  }
  if (!a.data.empty()) {
    c.data.root = a.data;
    // Recorded absolute: config.json's relative root failed `eval` from another folder. Not when
    // the current folder's name is no UTF-8 (config.json is JSON text): then as given.
    std::error_code ec;
    const std::string root = std::filesystem::absolute(a.data, ec).lexically_normal().string();
    c.effective["data"]["root"] = !ec && is_utf8_text(root) ? root : a.data;
  }
  // Before the data's first GEMM: under too small a ulimit -v OpenBLAS would wait for ever.
  reserve_blas_address_space(total_cores(c));
  return c;
}

// Each layer group runs on a thread of its own (CPU backend, one process) that calls BLAS: more
// groups than threads need more of ulimit -v than load() set aside for the threads.
void reserve_for_group_threads(const Config& c) {
  if (c.backend == "cpu" && process_count() == 1) reserve_blas_address_space(total_cores(c), group_count(c));
}

// Device memory the groups will allocate on each GPU, against what is free there now.
void print_device_totals(const std::map<int, std::pair<double, int>>& per_device) {
  const std::vector<CudaDeviceInfo> visible = cuda_devices();
  for (const auto& [dev, need] : per_device) {
    std::cout << "device " << dev << "      " << human_bytes(need.first) << " for " << need.second << " group(s)";
    if (dev < static_cast<int>(visible.size())) {
      const CudaDeviceInfo& d = visible[dev];
      std::cout << ", " << human_bytes(static_cast<double>(d.free_bytes)) << " free of "
                << human_bytes(static_cast<double>(d.total_bytes)) << " (" << d.name << ")";
      if (need.first > static_cast<double>(d.free_bytes)) std::cout << " -- does not fit";
    } else {
      std::cout << " (not visible here)";
    }
    std::cout << "\n";
  }
}

// "2676 test (0.2)": a set's size as drawn, with the fraction of the labelled nodes it came from.
std::string drawn(size_t count, double size, const char* set) {
  return std::to_string(count) + " " + set + (size < 1 ? " (" + stored_value_text(size) + ")" : "");
}

std::string split_text(const Config& c, const Dataset& d) {
  const std::string& n = c.data.name;
  const bool own = n == "npz" || n == "files";  // a user's graph, split by data.<name>'s keys
  const OwnSplitConfig& f = n == "files" ? static_cast<const OwnSplitConfig&>(c.data.files) : c.data.npz;
  const std::string labelled =
      std::to_string(std::count_if(d.labels.begin(), d.labels.end(), [](int32_t y) { return y >= 0; }));
  const std::string seed = ", torch.manual_seed(" + std::to_string(c.data.split_seed) + ")";
  const std::string values = seed + (c.data.raw_counts ? "; feature values as stored" : "; features x > 0 -> 1");
  std::string s;
  if (n == "synthetic")
    s = "random per class, from the config's seed";
  else if (is_planetoid(n))
    s = "standard Planetoid (first 20 per class, next 500, test.index)";
  else if (own && f.train > 0)
    s = "random regardless of class, the first " + drawn(d.train.size(), f.train, "train") + ", then " +
        drawn(d.test.size(), f.test, "test") + ", then " + drawn(d.val.size(), f.val, "val") +
        " of a torch.randperm of the " + labelled + " labelled nodes" + values;
  else if (own)
    s = "split_dataset's procedure, " + std::to_string(f.train_per_class) + " per class, then " +
        drawn(d.test.size(), f.test, "test") + " and " + drawn(d.val.size(), f.val, "val") +
        (f.test < 1 || f.val < 1 ? ", fractions of the " + labelled + " labelled nodes" : "") + values;
  else
    s = "the reference's split_dataset" + seed + (c.data.raw_counts ? "; raw feature counts" : "; features x > 0 -> 1 as PyG");
  if (c.data.val_split_seed >= 0)
    s += "; train and val redrawn outside test (val_split_seed " + std::to_string(c.data.val_split_seed) + ")";
  if (c.data.row_normalize) s += "; each feature row scaled to sum 1 (data.row_normalize)";  // info said nothing
  return s;
}

// "reference (x10 up to 1 when the loss drops < 0.001 twice)": what the ρ schedule does.
std::string schedule_text(const RhoSchedule& s) {
  std::ostringstream o;
  o << s.type;
  if (s.type == "reference")
    o << " (x" << s.factor << " up to " << s.max << " when the loss drops < " << s.threshold << " twice)";
  else if (s.type == "reference_q10")
    o << " (x" << s.factor << " up to " << kQ10EarlyCap << " for " << kQ10From << " < i < " << kQ10Switch << ", "
      << kQ10LateCap << " for i > " << kQ10Switch << ", i from 0 in the stage, when the loss rose then dropped < "
      << s.threshold << ")";
  return o.str();
}

// One line per stage: depth, iterations and the ADMM parameters it starts with.
void print_stages(const Config& c) {
  const std::vector<StageConfig> stages = run_stages(c);
  for (size_t i = 0; i < stages.size(); ++i) {
    const StageConfig& st = stages[i];
    std::string head = stages.size() > 1 ? "stage " + std::to_string(i + 1) : std::string("training");
    head.resize(std::max<size_t>(head.size() + 1, 14), ' ');
    std::cout << head << st.layers << " layers x " << st.iterations << " iterations: nu " << st.nu << ", rho "
              << st.rho << ", mu " << st.mu << (st.step == StepRule::Exact ? ", exact steps" : "") << "; rho schedule " << schedule_text(st.rho_schedule) << "\n";
  }
}

// pdADMM-G-Q's projection and what crosses the group boundaries per iteration, as train's and
// bench's bytes lines will measure it (info said nothing of -Q).
void print_wire(const Config& c, const Problem& p, const std::vector<int>& part) {
  const AdmmParams& a = c.admm;
  std::cout << "algorithm     " << c.algorithm;
  if (a.quantize != Quantize::None)
    std::cout << ": " << (a.quantize == Quantize::Both ? "p and q" : a.quantize == Quantize::P ? "p" : "q")
              << " projected on a grid of " << a.grid.size() << " levels in [" << a.grid.levels.front() << ", "
              << a.grid.levels.back() << "] (" << a.grid.bits() << "-bit codes)";
  std::cout << "\nwire          q forward " << wire_name(a.wire_q.format) << ", p backward " << wire_name(a.wire_p.format);
  const size_t boundaries = part.size() - 1;
  if (boundaries == 0) {
    std::cout << ": nothing crosses (1 group)\n";
    return;
  }
  const size_t bytes = plan_boundary_bytes(p.dims, part, p.x.cols, a, sizeof(float));
  std::cout << ": " << bytes << " bytes per iteration across " << boundaries << (boundaries == 1 ? " boundary" : " boundaries")
            << (c.model.stages.empty() ? "" : " in the last stage")
            << fp32_comparison_text(bytes, fp32_baseline_bytes(p.dims, part, p.x.cols)) << "\n";
}

}  // namespace

int cmd_train(const CommonArgs& a, bool resume) {
  // --resume without --config: the config state.bin records, so that the command after a stop is
  // `train --out OUT --resume` (the defaults were refused as another run's config). The folder
  // first, from --out or a --set of output.dir alone: a --set only the run's config can take
  // (model.stages[2].iterations, to run longer) failed on the defaults.
  nlohmann::json recorded;
  std::string state;
  if (resume && a.config.empty()) {
    CommonArgs where = a;
    where.sets.clear();
    for (const std::string& s : a.sets)
      if (s.rfind("output.dir=", 0) == 0) where.sets.push_back(s);
    const Config here = load(where);
    state = here.output.dir + "/state.bin";
    // Under mpirun, else the defaults read below were called another config than process 0's, or a
    // launch of more processes than their one group ("mpirun -np 1"), for a folder with no state.
    // (One process keeps train's order: a live run's folder is named busy before its state.)
    if (process_count() > 1 && process_rank() == 0) require_run_state(here);
    require_shared_state(state);
    require_state_header(state);
    const nlohmann::json meta = peek_state_meta(state);
    if (meta.is_object() && meta.contains("config") && meta["config"].is_object()) recorded = meta["config"];
  }
  Config c;
  try {
    c = recorded.is_object() ? load(a, recorded) : load(a);
  } catch (const Error& e) {
    if (!recorded.is_object()) throw;
    throw Error(std::string(e.what()) + " (in the config " + state + " records" +
                (a.sets.empty() ? "" : ", with --set on it") + "; --config gives another)");
  }
  // A config kept in the output folder as config.json: the run replaces that file with its full
  // config (every key, no comments). One a run wrote (its own layout) may go; a person's may not.
  std::error_code ec;
  if (!a.config.empty() && std::filesystem::equivalent(a.config, c.output.dir + "/config.json", ec)) {
    const std::string text = read_file(a.config);
    require(text == nlohmann::json::parse(text).dump(2) + "\n",
            "--config " + a.config + " is the config.json this run writes in " + c.output.dir +
                " (its full config: every key, no comments), and its text would be lost; copy it out of the "
                "folder or choose another --out");
  }
  reserve_for_group_threads(c);
  std::ostream quiet(nullptr);  // under mpirun the first process speaks for the run
  const TrainSummary sum = train(c, process_rank() == 0 ? std::cout : quiet, resume);
  return sum.signal ? 128 + sum.signal : 0;  // as the shell reports a process the signal ended
}

int cmd_print_config(const CommonArgs& a) {
  // The key list the README's table documents, as this build reads it: what --set can change and
  // what a run's config.json will hold.
  const Config c = load(a);
  for (const std::string& w : c.warnings) std::cerr << "warning: " << w << "\n";
  std::cout << c.effective.dump(2) << "\n";
  return 0;
}

int cmd_info(const CommonArgs& a) {
  Config c = load(a);
  Problem p = build_problem(c);  // its errors first, alone
  for (const std::string& w : c.warnings) std::cout << "warning: " << w << "\n";
  for (const std::string& w : data_warnings(c, p)) std::cout << "warning: " << w << "\n";
  const Dataset& d = p.data;
  std::cout << "data set      " << d.name << "\n"
            << "nodes         " << d.num_nodes() << "\n"
            << "edges         " << d.num_edges() << " undirected\n"
            << "features      " << d.features.cols << (d.features.is_sparse ? " (sparse, " : " (dense, ")
            << p.h.stored() << " stored values)\n"
            << "classes       " << d.num_classes << "\n"
            << "train/val/test " << d.train.size() << " / " << d.val.size() << " / " << d.test.size() << "\n"
            << "split         " << split_text(c, d) << "\n"
            << (p.data_crc ? "data crc      " + hex32(p.data_crc) + " (graph, features and labels as read; model.bin and "
                                                                    "state.bin record it)\n"
                           : "")
            << "augmentation  " << p.aug.blocks() << " blocks (hops " << p.aug.hops << ", "
            << (p.aug.descending ? "descending" : "ascending") << "), input dimension " << p.dims[0] << "\n"
            << "model         " << c.model.layers << " layers:";
  // Runs of one shape once, with their count: 1000 layers of 256 printed 998 "256x256".
  for (size_t l = 0; l + 1 < p.dims.size();) {
    size_t run = 1;
    while (l + run + 1 < p.dims.size() && p.dims[l + run + 1] == p.dims[l + 1] && p.dims[l + run] == p.dims[l]) ++run;
    std::cout << " " << p.dims[l + 1] << "x" << p.dims[l] << (run > 2 ? " (" + std::to_string(run) + " layers)" : "");
    if (run == 2) std::cout << " " << p.dims[l + 1] << "x" << p.dims[l];
    l += run;
  }
  std::cout << "\n";
  print_stages(c);
  const RunPlan plan = plan_run(c, shape_of(p));
  const std::vector<int>& part = plan.partition;
  print_wire(c, p, part);
  int first = 0;
  const bool cuda = c.backend == "cuda";
  const std::vector<int> devices =
      cuda ? cuda_group_devices(c.devices, static_cast<int>(part.size()), cuda_device_count()) : std::vector<int>{};
  std::map<int, std::pair<double, int>> per_device;  // bytes and groups per GPU
  for (size_t g = 0; g < part.size(); ++g) {
    const double bytes = plan.group_bytes[g];
    // Layers from 1, as every error names them (groups from 0: mpirun's ranks, metrics' lists).
    std::cout << "group " << g << "       layers " << first + 1 << ".." << first + part[g] << ", "
              << human_bytes(bytes) << " of " << (cuda ? "device" : "host") << " memory";
    if (cuda) {
      std::cout << " on GPU " << devices[g];
      per_device[devices[g]].first += bytes;
      per_device[devices[g]].second += 1;
    }
    std::cout << "\n";
    first += part[g];
  }
  if (cuda) print_device_totals(per_device);
  if (!cuda) {  // what train checks before it allocates (require_host_memory)
    const int64_t room = available_host_bytes();
    const double total = plan.total, peak = plan.growth_peak, side = plan.host_side;
    std::cout << "host          " << human_bytes(total) << " for the groups";
    // A stage is built beside the host copy of what it keeps of the one before (StageCarry).
    if (peak > total) std::cout << " (" << human_bytes(peak) << " while a stage is built from the last)";
    std::cout << " + " << human_bytes(side) << " for the host's weights and evaluations (beside "
              << human_bytes(problem_bytes(p)) << " held for the graph, features, Â and X)";
    if (room >= 0)
      std::cout << ", " << human_bytes(static_cast<double>(room)) << " available"
                << (std::max(total, peak) + side > static_cast<double>(room) ? " (too little: train would stop)" : "");
    std::cout << "\n";
  }
  // What train checks before its first iteration (require_output_room).
  if (const OutputRoom out = output_room_need(c, p); out.need > 0) {
    const int64_t room = output_room(c);
    std::cout << "outputs       " << c.output.dir << ": " << output_room_text(out);
    if (room >= 0)
      std::cout << ", " << human_bytes(static_cast<double>(room)) << " free there"
                << (static_cast<uint64_t>(room) < out.need ? " (too little: train would stop)" : "");
    std::error_code ec;  // train stops at once on it ("a file of that name exists")
    if (std::filesystem::exists(c.output.dir, ec) && !std::filesystem::is_directory(c.output.dir, ec))
      std::cout << " (a file, not a folder: train would stop)";
    if (const int64_t limit = output_file_limit(); limit >= 0)
      std::cout << ", files up to " << human_bytes(static_cast<double>(limit)) << " (ulimit -f)"
                << (std::max(out.model, out.state) > static_cast<uint64_t>(limit) ? " (too small: train would stop)" : "");
    std::cout << "\n";
  } else {
    std::cout << "outputs       " << c.output.dir << ": no model.bin (output.checkpoint false): metrics.jsonl, "
              << "summary.json, config.json" << (c.output.predictions ? ", predictions.csv" : "") << "\n";
  }
  const double flops = plan.flops;
  std::cout << "work          " << std::setprecision(3) << flops / 1e9 << " GFLOP of GEMMs per iteration\n";
  std::cout << "blas          " << blas_kernels_text() << "\n";
  std::cout << "backend       " << c.backend;
  if (c.backend == "cuda") {
    const int n_dev = cuda_device_count();
    std::cout << " (" << (n_dev ? std::to_string(n_dev) + " device(s) visible" : cuda_unavailable_reason()) << ")";
  }
  std::cout << "\n";
  const int groups = static_cast<int>(part.size());
  if (!cuda) {
    const int cores = total_cores(c);
    const int omp = omp_num_threads_env();  // -1 (bad) only where `threads` stood in for it
    const std::string free = "of " + std::to_string(process_cores()) + " cores, those other processes left free";
    const std::string from = omp > 0 && c.threads == omp ? "OMP_NUM_THREADS" : c.threads > 0 ? "`threads`" : free;
    std::cout << "threads       " << cores << " (" << from << "), " << std::max(1, cores / groups) << " per group"
              << (groups > cores ? " (more groups than threads: they take turns)" : "") << "\n";
  }
  if (groups > 1)
    std::cout << "launch        " << groups << " groups as threads of one process, or one process each: mpirun -np "
              << groups << " pdadmm train …" << (built_with_mpi() ? "" : " (this build has no MPI)") << "\n";
  return 0;
}

namespace {

// The usual fix for a model scored with another config: the one its run wrote beside it, named in
// eval's refusals ("" when there is none); when it is the config given, why it may not be the
// model's (a later run's), else "".
std::string run_config_hint(const std::string& model, const std::string& config) {
  const std::string beside = (std::filesystem::path(model).parent_path() / "config.json").string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(beside, ec)) return "";
  if (!config.empty() && std::filesystem::equivalent(beside, config, ec)) {
    // A run writes config.json as it starts and model.bin as it ends: a later config.json is a later
    // run's that wrote no model.bin (killed, or output.checkpoint false).
    const auto model_time = std::filesystem::last_write_time(model, ec);
    if (ec || std::filesystem::last_write_time(beside, ec) <= model_time || ec) return "";
    return beside + " is newer than the model: a later run wrote it and no model.bin (killed, or "
           "output.checkpoint false); without --config eval uses the config the model records";
  }
  return "try --config " + beside + ", the config its run wrote";
}

// The keys that decide eval's input (features, augmentation, split) must be the ones the model was
// trained with, or the scores are silently of another problem. Keys the checkpoint's (older)
// config lacks are not compared; data.root and data.verify only say where the files are.
void require_trained_inputs(const nlohmann::json& meta, const nlohmann::json& now, const std::string& model,
                            const std::string& hint) {
  if (!meta.contains("config") || !meta["config"].is_object()) return;
  const nlohmann::json then = with_keys_added_since(meta["config"]);
  // data.name first: a model of another data set is named as such, not by its first other key.
  std::vector<std::string> keys = {"/data/name"};
  const nlohmann::json data = now.value("data", nlohmann::json::object());
  const std::string name = data.value("name", "");
  const bool synthetic = name == "synthetic", npz = !synthetic && !is_planetoid(name);
  // Leaf by leaf, so that a difference names its key; only the keys this data set reads.
  const nlohmann::json leaves = data.flatten();  // named: items() would outlive a temporary
  for (const auto& [k, v] : leaves.items()) {
    if (k == "/name" || k == "/root" || k == "/verify") continue;
    if (k.rfind("/synthetic/", 0) == 0 && !synthetic) continue;
    if (k.rfind("/npz/", 0) == 0 && name != "npz") continue;
    if (k.rfind("/files/", 0) == 0 && name != "files") continue;
    if ((k == "/split_seed" || k == "/raw_counts") && !npz) continue;
    keys.push_back("/data" + k);
  }
  if (synthetic) keys.push_back("/seed");  // the seed draws the synthetic graph
  keys.insert(keys.end(), {"/model/hops", "/model/hop_order"});
  for (const std::string& k : keys) {
    const nlohmann::json::json_pointer ptr(k);
    if (!then.contains(ptr) || !now.contains(ptr) || then[ptr] == now[ptr]) continue;
    std::string key = k.substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    const bool path = key == "data.npz.file" || key == "data.files.edges" || key == "data.files.features" ||
                      key == "data.files.labels";
    // A model that records its data's checksum is compared by content after the load
    // (require_recorded_data): the same file under any name, from any folder, passes. Else one file
    // named two ways (an absolute path and a relative one, from here) is the same input; the training
    // run's folder is not recorded, so a relative path of its is read from here.
    std::error_code ec;
    if (path && meta.contains("data_crc")) continue;
    if (path && then[ptr].is_string() && now[ptr].is_string() &&
        std::filesystem::equivalent(then[ptr].get<std::string>(), now[ptr].get<std::string>(), ec))
      continue;
    const std::string why = path
                                ? "not the same file from this folder: name the file as the training run did, from the folder it ran in"
                                : "eval needs the features and split the model was trained on";
    throw Error("checkpoint " + model + " was trained with " + key + " = " + then[ptr].dump() + ", the config has " +
                now[ptr].dump() + " (" + why + (hint.empty() ? "" : "; " + hint) + ")");
  }
}
}  // namespace

int cmd_eval(const CommonArgs& a, const std::string& model, const std::string& predictions) {
  const bool to_stdout = predictions == "-" || own_stream(predictions) == &std::cout;  // /dev/stdout too
  // Before the data load and the forward pass, as bench's --json.
  if (!predictions.empty() && !to_stdout) {
    require_writable_file(predictions, "eval: cannot write --predictions");
    // The CSV would replace the model (or the config) it is computed from.
    std::error_code ec;
    for (const auto& [input, name] : {std::pair{model, "--model"}, std::pair{a.config, "--config"}})
      require(input.empty() || !std::filesystem::equivalent(predictions, input, ec),
              "eval: --predictions " + predictions + " is the " + name + " file; it would be overwritten");
    require_not_run_file(predictions, model, "eval: --predictions",
                         {"eval's predictions CSV", [](const std::string& head) {
                            return head.rfind(kPredictionsHead, 0) == 0;
                          }});
  }
  Checkpoint ck = load_checkpoint(model);
  // Without --config, the config the model was trained with (model.bin records it).
  const bool own = a.config.empty() && ck.meta.contains("config") && ck.meta["config"].is_object();
  Config c;
  try {
    c = own ? load(a, ck.meta["config"]) : load(a);
  } catch (const Error& e) {
    if (!own) throw;
    throw Error(std::string(e.what()) + " (in the config " + model + " was trained with" +
                (a.sets.empty() ? "" : ", with --set on it") + "; --config gives another)");
  }
  // Without --config a mismatch is a --set's doing: "try --config" named a file the user never gave.
  const std::string hint = !own              ? run_config_hint(model, a.config)
                           : a.sets.empty() ? std::string()
                                            : "eval read the config the model records, with --set on it: leave out "
                                              "the --set that changes it";
  require_trained_inputs(ck.meta, c.effective, model, hint);
  const std::string fix = hint.empty() ? "" : " (" + hint + ")";
  // A run stopped during an earlier growth stage saved that stage's net: scored at its depth.
  const int saved = static_cast<int>(ck.W.size());
  if (std::any_of(c.model.stages.begin(), c.model.stages.end(), [&](const StageConfig& sc) { return sc.layers == saved; }))
    c.model.layers = saved;
  Problem p = build_problem(c);
  require_recorded_data(ck.meta.value("data_crc", nlohmann::json()), p, "checkpoint " + model);
  require(ck.W.size() + 1 == p.dims.size(), "checkpoint " + model + " has " + std::to_string(ck.W.size()) +
                                                " layers, the config describes " + std::to_string(p.dims.size() - 1) + fix);
  for (size_t l = 0; l < ck.W.size(); ++l)
    require(ck.W[l].rows == p.dims[l + 1] && ck.W[l].cols == p.dims[l],
            "checkpoint " + model + ": layer " + std::to_string(l + 1) + " is " + std::to_string(ck.W[l].rows) + "x" +
                std::to_string(ck.W[l].cols) + ", the config expects " + std::to_string(p.dims[l + 1]) + "x" +
                std::to_string(p.dims[l]) + fix);
  set_host_threads(total_cores(c));  // the same bits for any count
  const Evaluator eval(p.data, p.h, p.ahat, p.aug);
  const Predictor pass(eval, ck.W, ck.b);  // the evaluator's scores, and every node's prediction
  const Scores s = pass.scores();
  for (const SplitScore* sc : {&s.train, &s.val, &s.test})
    require(std::isfinite(sc->loss), "checkpoint " + model + ": the forward pass is not finite (its logits overflow float)");
  // With the CSV on stdout the scores go to stderr, so that a pipe gets the CSV alone.
  std::ostream& log = to_stdout ? std::cerr : std::cout;
  log << std::fixed << std::setprecision(4) << "train acc " << s.train.acc << "  loss " << s.train.loss << "\n"
      << "val   acc " << s.val.acc << "  loss " << s.val.loss << "\n"
      << "test  acc " << s.test.acc << "  loss " << s.test.loss << std::endl;
  if (to_stdout) {
    // `--predictions - | head`: an error line followed head's output in the README's example.
    const int status = write_stdout(
        [&](std::ostream& out) {
          pass.write_csv([&](const std::string& text) {
            if (out) out << text;
          });
        },
        "eval: cannot write the predictions to stdout");
    if (status != 0) return status;
  } else if (!predictions.empty()) {
    const auto csv = [&](std::ostream& f) { pass.write_csv([&](const std::string& text) { f << text; }); };
    if (!write_stream_target(predictions, csv, "eval: cannot write the predictions to"))
      pass.save_csv(predictions);
    std::cout << "predictions: wrote " << predictions << " (" << p.data.num_nodes() << " nodes, " << p.data.num_classes
              << " classes)\n";
  }
  return 0;
}

int cmd_bench(const CommonArgs& a, const BenchArgs& b) {
  Config c = load(a);
  // --json - (or /dev/stdout): the JSON alone on stdout, the text lines on stderr, as eval's
  // --predictions -. A "-" used to be written as a file named "-" in the current folder.
  const bool dash = b.json == "-", none = b.json.empty();  // none: the text lines only
  std::ostream& log = dash || (!none && own_stream(b.json) == &std::cout) ? std::cerr : std::cout;
  // Before the benchmark runs, not after: a --json into a missing folder would lose its results.
  // Only the process that writes it: under mpirun on several machines (or folders) the others'
  // missing folder stopped the run ("error (process 1): bench: cannot write --json").
  const bool first = process_rank() == 0;
  if (first && !dash && !none) require_writable_file(b.json, "bench: cannot write --json");
  std::error_code ec;  // as eval's --predictions: the results replaced the config they came from
  require(!first || dash || none || a.config.empty() || !std::filesystem::equivalent(b.json, a.config, ec),
          "bench: --json " + b.json + " is the --config file; it would be overwritten");
  if (first && !dash && !none)
    require_not_run_file(b.json, "", "bench: --json", {"bench's JSON", [](const std::string& head) {
                           return head.rfind("{\n  \"algorithm\": \"pdadmm-g", 0) == 0;  // its sorted keys' first
                         }});
  if (!b.serialize) reserve_for_group_threads(c);  // --serialize: the groups call BLAS one at a time
  BenchOptions o;
  o.iterations = b.iterations;
  o.warmup = b.warmup;
  o.serialize = b.serialize;
  o.peak = !b.no_peak;
  // Under mpirun no roofline is measured (docs/benchmarks.md): a time for it was silently unused.
  require(!b.peak_seconds_given || process_count() <= 1,
          "bench: --peak-seconds times the roofline, which a run under mpirun does not measure; drop it");
  o.peak_seconds = b.peak_seconds;
  for (const std::string& l : b.links) o.links.push_back(parse_link(l));
  std::ostream quiet(nullptr);  // under mpirun the first process speaks and writes
  const nlohmann::json j = run_bench(c, o, first ? log : quiet);
  if (!first || none) return 0;
  // A device or FIFO (/dev/stdout) as eval's --predictions: written to, not refused after the run.
  const std::string text = j.dump(2) + "\n";
  if (dash) {
    std::cout << text;
    std::cout.flush();
    require(static_cast<bool>(std::cout), "bench: cannot write --json to stdout");
    log << "bench: wrote the JSON to stdout\n";
    return 0;
  }
  if (!write_stream_target(b.json, [&](std::ostream& f) { f << text; }, "bench: cannot write --json"))
    write_file_atomic(b.json, text);
  log << "bench: wrote " << b.json << "\n";
  return 0;
}

}  // namespace pdadmm
