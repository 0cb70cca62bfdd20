// The run configuration: typed structs with defaults, read strictly from JSON
// (unknown keys, wrong types and out-of-range values are errors naming the key).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/admm/params.h"

namespace pdadmm {

struct SyntheticConfig {
  long long nodes = 3000;
  int classes = 5;
  double avg_degree = 10;   // mean number of neighbours per node
  double homophily = 0.8;   // probability an edge stays inside its class
  int features = 100;
  double snr = 1.5;         // distance of class means relative to unit per-feature noise
  int train_per_class = 20;
  int val = 500;
  int test = 1000;
};

// The split of a user's own graph (data.npz, data.files), drawn as the npz sets' (train 0) or,
// train > 0, regardless of class. A size >= 1 is a count (an integer), one in (0, 1) a fraction of
// the labelled nodes.
struct OwnSplitConfig {
  double train = 0;  // 0: train_per_class per class
  int train_per_class = 20;  // not read (nor recorded) when train > 0
  double val = 500;  // Planetoid's sizes (the npz sets draw 1000 val)
  double test = 1000;
};

// data.name "npz": a user's own graph in the gnn-benchmark .npz layout.
struct NpzConfig : OwnSplitConfig {
  std::string file;  // required; relative to the current folder
};

// data.name "files": a user's own graph as an edge list, a features file and a labels file
// (host/data/own_files.h has their formats); paths relative to the current folder.
struct FilesConfig : OwnSplitConfig {
  std::string edges, features, labels;  // all required
};

struct DataConfig {
  std::string name = "synthetic";
  std::string root;           // real data: folder with planetoid/ and npz/ (else $PDADMM_DATA)
  bool verify = false;        // check SHA256SUMS before reading
  bool row_normalize = false; // scale each node's features to sum 1
  long long split_seed = 100; // torch.manual_seed of the npz sets' split (the reference's 100)
  long long val_split_seed = -1;  // >= 0: train and val redrawn outside the test set (redraw_train_val)
  bool raw_counts = false;    // npz sets: keep counts (Coauthor CS) instead of PyG's x > 0 -> 1; true for "npz", "files"
  SyntheticConfig synthetic;
  NpzConfig npz;
  FilesConfig files;
};

struct RhoSchedule {
  // "reference": ×factor when the training loss stalls (§5.3); "reference_q10": the G-Q-10
  // driver's windows (caps 0.01, then 1e-3; `max` is ignored)
  std::string type = "none";
  double factor = 10;
  double max = 1;
  double threshold = 1e-3;
};

// reference_q10's windows (§5.3): loss index i in (kQ10From, kQ10Switch) is capped at kQ10EarlyCap,
// i > kQ10Switch at kQ10LateCap; other i change nothing.
constexpr int kQ10From = 20, kQ10Switch = 50;
constexpr double kQ10EarlyCap = 0.01, kQ10LateCap = 1e-3;

// One stage of greedy layer-wise growth (reference_algorithm.md §5.2): `layers` layers trained
// for `iterations`, starting from the previous stage's trained layers. ν, ρ, μ default to admm.*.
struct StageConfig {
  int layers = 2;
  int iterations = 1;
  double nu = 0, rho = 0, mu = 0;
  StepRule step = StepRule::Backtrack;  // admm.step unless the stage names its own
  std::string last, zl_init;  // model.stage_last / model.zl_init for this stage (default: the model's)
  RhoSchedule rho_schedule;   // admm.rho_schedule, keys overridden per stage (the reference's drivers differ)
};

// model.layers and a stage's layers are at most this; model.stages holds at most kMaxStages.
constexpr int kMaxLayers = 10000;
constexpr size_t kMaxStages = 1000;

struct ModelConfig {
  int layers = 2;
  int hidden = 256;
  int hops = 4;                 // augmentation blocks H, ÂH, …, Â^hops H
  std::string hop_order = "ascending";  // "descending" = the reference's Â⁴H … H
  double init_std = 0.1;        // W, b ~ N(0, init_std²) (reference)
  std::string zl_init = "zeros";  // "labels": ±1 from the one-hot labels (reference 10-layer)
  std::vector<StageConfig> stages;  // empty: one stage of `layers` for admm.iterations
  std::string stage_duals = "reset";  // kept layers' duals restart at 0 (reference; measured better); "keep"
  std::string stage_last = "fresh";  // "keep": the trained last layer stays on top (function-preserving); "eye": W = I(C, n), b = 0 (reference 10-layer)
};

struct CudaConfig {
  bool tf32 = false;  // SGEMM on TF32 tensor cores: faster, ~1e-3 relative error (off: full fp32)
  // Under mpirun: p/q between processes by NCCL (each process on a GPU of its own) or staged
  // through host memory and MPI (any placement, GPUs shared by processes included).
  std::string processes = "nccl";
};

struct OutputConfig {
  std::string dir = "runs/latest";
  int log_every = 0;        // metrics line every this many iterations (and the last); 0: iterations / 20
  std::string progress = "auto";  // "auto", "bar", "lines", "off"
  bool checkpoint = true;   // write model.bin at the end (atomically)
  int checkpoint_every = 0; // also every this many iterations, over the last (0: only at the end)
  bool tracked_eval = true; // logged evaluations before the last take layer 1 from the tracked update
  bool predictions = false; // write predictions.csv (every node's prediction) from the final model
  bool state = true;        // write state.bin (for train --resume) with every model.bin of an unfinished run
  bool keep_state = false;  // keep state.bin when the run finishes (a later --resume with more iterations)
  // Warn when ρ is below the convergence theorem's bound. The benchmark configs turn it off: they
  // are the reference's recipe (ρ = ν) on purpose, and a warning on every run of them is noise.
  bool convergence_warning = true;
};

struct Config {
  long long seed = 0;
  std::string backend = "cpu";
  int groups = 1;
  std::vector<int> partition;  // layers per group; overrides `groups` when given
  std::vector<int> devices;    // CUDA device per group; a shorter list is spread in contiguous blocks
  int threads = 0;             // CPU threads in all; 0 = all cores
  std::string algorithm = "pdadmm-g";
  int iterations = 100;
  RhoSchedule rho_schedule;
  DataConfig data;
  ModelConfig model;
  AdmmParams admm;
  CudaConfig cuda;
  OutputConfig output;
  nlohmann::json effective;    // every key with the value in force
  std::vector<std::string> warnings;
};

// Parses and validates; overrides are "a.b=c" assignments applied first. Throws Error.
Config parse_config(const nlohmann::json& j, const std::vector<std::string>& overrides = {});
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Whether a config's JSON grows the net in stages (a non-empty model.stages list).
bool json_has_stages(const nlohmann::json& j);
// A config file's text as load_config reads it (comments allowed); `path` names it in errors.
Config parse_config_text(const std::string& text, const std::string& path,
                         const std::vector<std::string>& overrides = {});

// A string kept in config.json and model.bin (JSON: UTF-8 only), e.g. a path from --out: Error
// "WHAT: not valid UTF-8 (...)" when it is not.
void require_utf8_text(const std::string& text, const std::string& what);
// Whether text can be written into a JSON file (config.json, model.bin's header).
bool is_utf8_text(const std::string& text);
// The admm.* keys a growth stage may set for itself (model.stages[i].nu, …).
inline constexpr const char* kStageAdmmKeys[] = {"nu", "rho", "mu", "step", "rho_schedule"};

// A config saved by an older binary (model.bin, state.bin) with the keys added since then set to
// the value that binary used, so that comparing it with a config of today compares like with like.
nlohmann::json with_keys_added_since(nlohmann::json saved);

// A stage with the values model.stages' keys default to: admm.nu, rho, mu, step, rho_schedule,
// model.stage_last and zl_init (its layers and iterations left to the caller).
StageConfig stage_defaults(const Config& c);

// ρ > max(4νS², (√17+1)ν/2) with S = 1 for ReLU: the convergence theorem's condition.
bool rho_meets_convergence_condition(double nu, double rho);

// The layer groups the config asks for: the length of `partition`, else `groups`.
int group_count(const Config& c);

// The largest ρ the schedule can raise a stage starting at `rho` to.
double rho_schedule_ceiling(const RhoSchedule& s, double rho);

// How much the first stage's random weights scale a forward pass: about init_std·√(hidden/2) a
// layer (ReLU halves the variance), to the power of its layers after the first. Past
// kInitGrowthWarned the config warns (the iterates start from that pass and may overflow float).
double init_growth(const Config& c);
constexpr double kInitGrowthWarned = 1e10;

}  // namespace pdadmm
