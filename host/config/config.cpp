// Config parsing: one function per section, each key read once with its rule.
#include "host/config/config.h"

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "host/config/json_reader.h"
#include "host/data/load_real.h"
#include "host/quant/grid_config.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

auto positive = [](double v) { return v > 0; };
auto non_negative = [](double v) { return v >= 0; };
auto at_least = [](long long lo) { return [lo](long long v) { return v >= lo; }; };
// The solver computes in float: a constant outside float's normal range became 0, a denormal or
// inf there, and the run stopped as "diverged" at iteration 1 (rho 1e-300, fista.eta 1e300) or
// never trained (nu 1e-300).
auto in_float = [](double v) { return v >= FLT_MIN && v <= FLT_MAX; };
auto zero_or_in_float = [](double v) { return v == 0 || in_float(v); };
const char* const float_rule = "must be in [1.2e-38, 3.4e38] (float's range: the solver computes in float)";
const char* const float_or_zero_rule = "must be 0 or in [1.2e-38, 3.4e38] (float's range: the solver computes in float)";
// Every layer has its entry in the plans (dims, groups): a typo like 2000000000 would allocate
// gigabytes before any check.
auto layers_in_range = [](long long v) { return v >= 2 && v <= kMaxLayers; };
const std::string layers_rule = "must be in [2, " + std::to_string(kMaxLayers) + "]";

void read_synthetic(JsonReader r, SyntheticConfig& s) {
  // Node ids are 32-bit (the splits' int32 indices).
  r.integer("nodes", s.nodes, [](long long v) { return v >= 10 && v <= 2147483647; }, "must be in [10, 2147483647]");
  r.integer("classes", s.classes, at_least(2), "must be >= 2");
  r.number("avg_degree", s.avg_degree, non_negative, "must be >= 0");
  r.number("homophily", s.homophily, [](double v) { return v >= 0 && v <= 1; }, "must be in [0, 1]");
  r.integer("features", s.features, at_least(1), "must be >= 1");
  r.number("snr", s.snr, non_negative, "must be >= 0");
  r.integer("train_per_class", s.train_per_class, at_least(1), "must be >= 1");
  r.integer("val", s.val, at_least(1), "must be >= 1");
  r.integer("test", s.test, at_least(1), "must be >= 1");
  r.finish();
  require(s.avg_degree <= s.nodes - 1, "config: data.synthetic.avg_degree: at most nodes - 1 = " +
                                          std::to_string(s.nodes - 1) + ", got " + nlohmann::json(s.avg_degree).dump());
  const long long split = static_cast<long long>(s.train_per_class) * s.classes + s.val + s.test;
  require(split <= s.nodes, [&] {
    return "config: data.synthetic: train_per_class x classes + val + test = " + std::to_string(s.train_per_class) +
           " x " + std::to_string(s.classes) + " + " + std::to_string(s.val) + " + " + std::to_string(s.test) + " = " +
           std::to_string(split) + " nodes, more than nodes = " + std::to_string(s.nodes);
  });
}

// data.npz's or data.files' split keys; `at` is the section ("data.npz").
void read_own_split(JsonReader& r, OwnSplitConfig& n, const std::string& at) {
  r.count_or_fraction("train", n.train, true,
                      "must be 0 (train_per_class per class), a count >= 1 (an integer) or a fraction in (0, 1) "
                      "of the labelled nodes");
  // Either split, never half of each: a per-class size beside a class-blind one would be ignored.
  // A count as the user wrote it (100, not 100.0: 1.0 is refused as ambiguous); n.train >= 1 is whole here.
  if (n.train > 0)
    require(!r.has("train_per_class"),
            "config: " + at + ".train_per_class: not used with " + at + ".train = " +
                (n.train >= 1 ? nlohmann::json(static_cast<long long>(n.train)) : nlohmann::json(n.train)).dump() +
                " (training nodes drawn regardless of class); remove one of the two");
  else
    r.integer("train_per_class", n.train_per_class, at_least(1), "must be >= 1");
  // An empty val or test split scores nothing.
  const char* rule = "must be a count >= 1 (an integer) or a fraction in (0, 1) of the labelled nodes";
  r.count_or_fraction("val", n.val, false, rule);
  r.count_or_fraction("test", n.test, false, rule);
  // Counts are checked against the file's labelled nodes when it is read; fractions can be now.
  double sum = 0;
  std::string terms;
  const std::pair<const char*, double> sizes[] = {{"train", n.train}, {"val", n.val}, {"test", n.test}};
  for (const auto& [key, v] : sizes) {
    if (v <= 0 || v >= 1) continue;
    sum += v;
    terms += (terms.empty() ? "" : " + ") + std::string(key) + " " + nlohmann::json(v).dump();
  }
  require(sum <= 1 + 1e-9, "config: " + at + ": fractions " + terms + " of the labelled nodes add up to more than 1 "
                           "(lower " + at + ".train, " + at + ".val or " + at + ".test)");
}

// data.npz and data.files are read with any data.name, as data.synthetic is; their files are
// required only when they are read.
void read_npz(JsonReader r, NpzConfig& n) {
  r.string("file", n.file);
  read_own_split(r, n, "data.npz");
  r.finish();
}

void read_files(JsonReader r, FilesConfig& f) {
  r.string("edges", f.edges);
  r.string("features", f.features);
  r.string("labels", f.labels);
  read_own_split(r, f, "data.files");
  r.finish();
}

void read_data(JsonReader r, DataConfig& d) {
  const bool named = r.has("name");
  r.string("name", d.name,
           {"synthetic", "cora", "citeseer", "pubmed", "amazon_computers", "amazon_photo", "coauthor_cs", "npz",
            "files"});
  r.string("root", d.root);
  r.boolean("verify", d.verify);
  r.boolean("row_normalize", d.row_normalize);
  r.integer("split_seed", d.split_seed, at_least(0), "must be >= 0");
  r.integer("val_split_seed", d.val_split_seed, at_least(-1), "must be >= 0 (or -1: the standard split)");
  // Binarising reproduces PyG on the named sets' word vectors; a user's own features may be
  // real-valued, so "npz" and "files" keep them as stored unless told otherwise (config.json records which).
  d.raw_counts = d.name == "npz" || d.name == "files";
  r.boolean("raw_counts", d.raw_counts);
  read_synthetic(r.child("synthetic"), d.synthetic);
  read_npz(r.child("npz"), d.npz);
  read_files(r.child("files"), d.files);
  r.finish();  // a misspelt section ("file") is named as unknown, not as a required key missing
  // Paths to a user's own graph without data.name: the default would train on generated data,
  // exit 0 (with data.name given as another set, a warning says so: see load_config).
  const bool own_files = !(d.files.edges.empty() && d.files.features.empty() && d.files.labels.empty());
  require(named || (!own_files && d.npz.file.empty()),
          std::string("config: data.") + (own_files ? "files" : "npz.file") +
              " is set but data.name is not (it would train on the synthetic data): set data.name \"" +
              (own_files ? "files" : "npz") + "\"");
  require(d.name != "npz" || !d.npz.file.empty(),
          "config: data.npz.file: required with data.name \"npz\" (the path of the .npz file to train on)");
  const std::pair<const char*, const std::string*> files[] = {
      {"edges", &d.files.edges}, {"features", &d.files.features}, {"labels", &d.files.labels}};
  for (const auto& [key, path] : files)
    require(d.name != "files" || !path->empty(), "config: data.files." + std::string(key) +
                                                     ": required with data.name \"files\" (see docs/data.md)");
}

// parse_grid and parse_wire (host/quant) name the key but, serving other callers too, not the
// config: their errors get the "config: " every other config error starts with.
template <typename F>
auto config_error_prefixed(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error("config: " + std::string(e.what()));
  }
}

// admm.step, or a stage's.
void read_step(JsonReader& r, StepRule& out) {
  std::string step = out == StepRule::Exact ? "exact" : "backtrack";
  r.string("step", step, {"backtrack", "exact"});
  out = step == "exact" ? StepRule::Exact : StepRule::Backtrack;
}

// Values of model.zl_init / model.stage_last, also allowed per stage.
const std::vector<std::string> kZlInit{"zeros", "labels"}, kStageLast{"fresh", "keep", "eye"};

// Returns model.stages as written (null when absent); read_stages checks it once admm.* is known.
const nlohmann::json* read_model(JsonReader r, ModelConfig& m, bool& layers_given) {
  layers_given = r.has("layers");
  r.integer("layers", m.layers, layers_in_range, layers_rule.c_str());
  r.integer("hidden", m.hidden, at_least(1), "must be >= 1");
  // The input is (hops + 1) x the features wide, so a typo like 100000 would churn for minutes
  // before running out of memory; the paper uses 4 or 5.
  r.integer("hops", m.hops, [](long long v) { return v >= 0 && v <= 64; }, "must be in [0, 64]");
  r.string("hop_order", m.hop_order, {"ascending", "descending"});
  // 0 started every W and b at 0, a fixed point of the updates: the run never trained.
  r.number("init_std", m.init_std, in_float,
           "must be in [1.2e-38, 3.4e38] (0 starts every weight at 0, where the iterates stay; above: float's range)");
  r.string("zl_init", m.zl_init, kZlInit);
  const nlohmann::json* stages = r.raw("stages");
  r.string("stage_duals", m.stage_duals, {"keep", "reset"});
  r.string("stage_last", m.stage_last, kStageLast);
  r.finish();
  return stages;
}

// admm.rho_schedule, or a stage's: keys absent keep `out`'s values.
void read_rho_schedule(JsonReader s, RhoSchedule& out) {
  s.string("type", out.type, {"none", "reference", "reference_q10"});
  s.number("factor", out.factor, [](double v) { return v > 1; }, "must be > 1");
  // reference_q10 has its own caps and ignores max (a saved config.json records max for every
  // type, so refusing it would refuse --set ...type=reference_q10 on any saved run).
  s.number("max", out.max, in_float, float_rule);
  s.number("threshold", out.threshold, non_negative, "must be >= 0");
  s.finish();
}

// model.stages: [{"layers": 2, "iterations": 200}, {"layers": 5, "iterations": 10, "rho": 1e-4}, ...].
// Layers strictly grow, the last stage is the model; the run's iterations are their sum (an
// admm.iterations must equal it, so a run's saved config.json runs again as it is).
void read_stages(const nlohmann::json& s, bool layers_given, bool iterations_given, Config& c) {
  require(s.is_array() && !s.empty(),
          "config: model.stages: expected a list of {\"layers\", \"iterations\"} objects ([] for none)");
  // The plans copy the stage list per stage (quadratic): 1000 stages plan in half a second.
  require(s.size() <= kMaxStages, "config: model.stages: " + std::to_string(s.size()) + " stages, at most " +
                                      std::to_string(kMaxStages) + " (grow more layers per stage)");
  nlohmann::json eff = nlohmann::json::array();
  int total = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string at = "model.stages[" + std::to_string(i) + "]";
    nlohmann::json e = nlohmann::json::object();
    JsonReader r(&s[i], at, &e);
    require(r.has("layers") && r.has("iterations"), "config: " + at + ": needs \"layers\" and \"iterations\"");
    StageConfig st = stage_defaults(c);
    require(i > 0 || !r.has("last"), "config: " + at + ".last: the first stage has no trained layers to build on");
    r.integer("layers", st.layers, layers_in_range, layers_rule.c_str());
    r.integer("iterations", st.iterations, at_least(1), "must be >= 1");
    r.number("nu", st.nu, in_float, float_rule);
    r.number("rho", st.rho, in_float, float_rule);
    r.number("mu", st.mu, zero_or_in_float, float_or_zero_rule);
    read_step(r, st.step);
    if (i > 0) r.string("last", st.last, kStageLast);
    r.string("zl_init", st.zl_init, kZlInit);
    read_rho_schedule(r.child("rho_schedule"), st.rho_schedule);
    r.finish();
    if (i > 0)
      require(st.layers > c.model.stages.back().layers,
              "config: " + at + ".layers: must be greater than the previous stage's " +
                  std::to_string(c.model.stages.back().layers));
    require(total <= 1000000000 - st.iterations, "config: " + at + ".iterations: too many iterations in all (at most "
                                                 "1000000000 over the stages, " + std::to_string(total) + " before this one)");
    total += st.iterations;
    c.model.stages.push_back(st);
    eff.push_back(e);
  }
  const int last = c.model.stages.back().layers;
  if (layers_given)
    require(last == c.model.layers, [&] {
      // --set model.layers=5 on a staged config (cora.json) named no way out.
      const size_t n = c.model.stages.size();
      const int before = n > 1 ? c.model.stages[n - 2].layers : 1;
      std::string how = "set the last stage's instead, --set 'model.stages[" + std::to_string(n - 1) +
                        "].layers=" + std::to_string(c.model.layers) + "': model.layers follows it";
      if (c.model.layers <= before) how = "the stages grow to it: set model.stages, or --set 'model.stages=[]' for none";
      return "config: model.stages: the last stage has " + std::to_string(last) + " layers, model.layers is " +
             std::to_string(c.model.layers) + " (" + how + ")";
    });
  require(!iterations_given || c.iterations == total,
          "config: admm.iterations: " + std::to_string(c.iterations) + " is not the stages' sum " +
              std::to_string(total) + " (set the stages' instead: --set 'model.stages[*].iterations=5' sets every stage's)");
  c.model.layers = last;
  c.iterations = total;
  c.effective["model"]["layers"] = last;
  c.effective["model"]["stages"] = eff;
  c.effective["admm"]["iterations"] = total;
}

// Where Δ puts x (the projection the solver applies).
float projected(const Grid& g, float x) {
  project_host(g, &x, 1);
  return x;
}

// "preset": "reference" switches every parity flag to the reference code's behaviour before
// the explicit keys are read, so a key still overrides it.
void read_admm(JsonReader r, Config& c) {
  AdmmParams& a = c.admm;
  std::string preset = "default";
  r.string("preset", preset, {"default", "reference"});
  if (preset == "reference") {
    a.z_prox_in_compare = false;
    a.ce = CeMode::Reference;
    a.fista_eta = 4;
    a.fista_tol = 1e-3;
    a.fista_tol_per_node = false;
  }
  r.integer("iterations", c.iterations, at_least(0), "must be >= 0");
  r.number("rho", a.rho, in_float, float_rule);
  r.number("nu", a.nu, in_float, float_rule);
  r.number("mu", a.mu, zero_or_in_float, float_or_zero_rule);
  read_step(r, a.step);
  r.number("t0", a.t0, in_float, float_rule);  // as the other constants: its step 1/t is formed in float
  r.integer("max_backtracks", a.max_backtracks, at_least(0), "must be >= 0");
  std::string zb = a.z_prox_in_compare ? "exact" : "reference";
  r.string("z_branch", zb, {"exact", "reference"});
  a.z_prox_in_compare = zb == "exact";
  std::string ce = a.ce == CeMode::Stable ? "stable" : "reference";
  r.string("cross_entropy", ce, {"stable", "reference"});
  a.ce = ce == "stable" ? CeMode::Stable : CeMode::Reference;
  JsonReader f = r.child("fista");
  f.number("eta", a.fista_eta, in_float, float_rule);
  f.number("tol", a.fista_tol, non_negative, "must be >= 0");
  f.boolean("tol_per_node", a.fista_tol_per_node);
  f.integer("max_iter", a.fista_max_iter, [](long long v) { return v >= 1 && v <= 10000; }, "must be in [1, 10000]");
  f.finish();
  read_rho_schedule(r.child("rho_schedule"), c.rho_schedule);
  r.integer("refresh_every", a.refresh_every, at_least(0), "must be >= 0");
  std::string gram = a.gram > 0 ? "on" : a.gram < 0 ? "off" : "auto";
  r.string("gram", gram, {"auto", "on", "off"});
  a.gram = gram == "on" ? 1 : gram == "off" ? -1 : 0;
  r.boolean("defer_first_w", a.defer_first_w);
  // pdADMM-G-Q: which tensors live on the grid Δ (paper: p, reference code: q) and how p and q
  // travel. A quantized tensor travels as packed grid codes by default (lossless).
  const bool q_mode = c.algorithm == "pdadmm-g-q";
  std::string quant = q_mode ? "p" : "none";
  r.string("quantize", quant, {"none", "p", "q", "both"});
  a.quantize = quant == "p" ? Quantize::P : quant == "q" ? Quantize::Q : quant == "both" ? Quantize::Both : Quantize::None;
  if (q_mode) require(a.quantize != Quantize::None, "config: admm.quantize: \"none\" with \"algorithm\": \"pdadmm-g-q\"");
  const bool qp = quantizes_p(a.quantize), qq = quantizes_q(a.quantize);
  if (const nlohmann::json* g = r.raw("grid")) {
    a.grid = config_error_prefixed([&] { return parse_grid(*g, "admm.grid"); });
    // Kept a warning, not an error: a -Q config run with --set algorithm=pdadmm-g is a fair comparison.
    if (a.quantize == Quantize::None)
      c.warnings.push_back("admm.grid is unused: nothing is quantized with \"algorithm\": \"" + c.algorithm +
                           "\" (\"pdadmm-g-q\" puts p or q on it)");
    // p and q are ReLU outputs, mostly 0: a grid above 0 or at most 0 maps them to one end (a grid
    // of [5, 10] trained the synthetic set to 0.36 where [0, 2] gives 0.90, without a word).
    else if (a.grid.levels.front() > 0 || a.grid.levels.back() <= 0)
      c.warnings.push_back("admm.grid spans [" + nlohmann::json(a.grid.levels.front()).dump() + ", " +
                           nlohmann::json(a.grid.levels.back()).dump() + "], which " +
                           (a.grid.levels.front() > 0 ? "leaves out 0" : "holds no positive value") +
                           ": the ReLU outputs it quantizes (0 and above, mostly 0) go to its ends; a grid from 0 "
                           "or below to above 0 (the configs' [0, 2]) holds them");
    // Up to rounding: a uniform grid's level lo + i * step lands within ulps of 0 ({-0.3, 0.1, 10}:
    // 5.6e-17), a few of the grid's largest magnitude.
    else if (const float zero = projected(a.grid, 0);
             std::fabs(zero) >
             16 * DBL_EPSILON * std::max(std::fabs(a.grid.levels.front()), std::fabs(a.grid.levels.back()))) {
      // {"min": -1, "max": 1, "levels": 4}: every inactive ReLU output (most of them) became 1/3.
      std::ostringstream w;
      w << "admm.grid has no level at 0: the ReLU outputs it quantizes, mostly 0, go to " << zero
        << "; a grid with 0 among its levels keeps them";
      c.warnings.push_back(w.str());
    }
  } else if (a.quantize != Quantize::None) {
    a.grid = paper_grid();
    c.effective["admm"]["grid"] = "paper";
    // The paper's integers are its grid for p; q (the reference code's choice) on them trained the
    // synthetic set to 0.920 against 0.927 on the code's grid, without a word.
    if (qq)
      c.warnings.push_back("admm.grid defaults to \"paper\" (the integers -1..20, the paper's grid for p) with "
                           "admm.quantize \"" + quant + "\": q (mostly in [0, 2]) keeps few levels; the reference "
                           "code quantizes q on \"reference\" (1000 levels on [-1, 2]); set admm.grid to say which");
  }
  JsonReader w = r.child("wire");
  std::string wp = qp ? "codes" : "fp32", wq = qq ? "codes" : "fp32";
  w.string("p", wp);
  w.string("q", wq);
  w.finish();
  a.wire_p.format = config_error_prefixed([&] { return parse_wire(wp, "admm.wire.p"); });
  a.wire_q.format = config_error_prefixed([&] { return parse_wire(wq, "admm.wire.q"); });
  require(a.wire_p.format != WireFormat::Codes || qp,
          "config: admm.wire.p: \"codes\" needs p on the grid (admm.quantize \"p\" or \"both\")");
  require(a.wire_q.format != WireFormat::Codes || qq,
          "config: admm.wire.q: \"codes\" needs q on the grid (admm.quantize \"q\" or \"both\")");
  // The converse: a tensor -Q keeps on Δ sent through a rounding codec leaves Δ on both sides
  // (the sender keeps the rounded value), so the W step and the duals would see p (q) off the grid.
  const auto rounds = [](WireFormat codec) {
    return codec == WireFormat::Fp16 || codec == WireFormat::Bf16 || codec == WireFormat::Int8;
  };
  require(!(qp && rounds(a.wire_p.format)), "config: admm.wire.p: \"" + wp + "\" would round p off the grid (admm.quantize \"" +
                                               quant + "\"); send it as \"codes\"");
  require(!(qq && rounds(a.wire_q.format)), "config: admm.wire.q: \"" + wq + "\" would round q off the grid (admm.quantize \"" +
                                               quant + "\"); send it as \"codes\"");
  a.wire_p.grid = a.wire_q.grid = nullptr;  // bound to the solver's own copy of the grid
  r.finish();
}

void read_cuda(JsonReader r, CudaConfig& cu) {
  r.boolean("tf32", cu.tf32);
  r.string("processes", cu.processes, {"nccl", "staged"});
  r.finish();
}

void read_output(JsonReader r, OutputConfig& o) {
  r.string("dir", o.dir);
  require(!o.dir.empty(), "config: output.dir: must not be empty (the folder train writes to)");
  r.integer("log_every", o.log_every, at_least(0), "must be >= 0 (0: about 20 logged iterations a run)");
  r.string("progress", o.progress, {"auto", "bar", "lines", "off"});
  r.boolean("checkpoint", o.checkpoint);
  r.integer("checkpoint_every", o.checkpoint_every, at_least(0), "must be >= 0");
  r.boolean("tracked_eval", o.tracked_eval);
  r.boolean("predictions", o.predictions);
  r.boolean("state", o.state);
  r.boolean("keep_state", o.keep_state);
  r.boolean("convergence_warning", o.convergence_warning);
  r.finish();
}

}  // namespace

StageConfig stage_defaults(const Config& c) {
  StageConfig st;
  st.nu = c.admm.nu;
  st.rho = c.admm.rho;
  st.mu = c.admm.mu;
  st.step = c.admm.step;
  st.last = c.model.stage_last;
  st.zl_init = c.model.zl_init;
  st.rho_schedule = c.rho_schedule;
  return st;
}

bool rho_meets_convergence_condition(double nu, double rho) {
  return rho > std::max(4 * nu, (std::sqrt(17.0) + 1) * nu / 2);
}

int group_count(const Config& c) { return c.partition.empty() ? c.groups : static_cast<int>(c.partition.size()); }

double init_growth(const Config& c) {
  const int first = c.model.stages.empty() ? c.model.layers : c.model.stages[0].layers;
  return std::pow(c.model.init_std * std::sqrt(c.model.hidden / 2.0), first - 1);
}

double rho_schedule_ceiling(const RhoSchedule& s, double rho) {
  if (s.type == "none") return rho;
  return std::max(rho, s.type == "reference_q10" ? kQ10EarlyCap : s.max);
}

// A --set of admm.nu / rho / mu / step / rho_schedule[.key], model.zl_init or model.stage_last is only
// the stages' default: name the stages whose own value wins (a saved config.json records every
// stage's zl_init and later stage's last), so the override is not lost silently.
static void warn_shadowed_overrides(const nlohmann::json& j, const std::vector<std::string>& overrides, Config& c) {
  if (!j.contains("model") || !j["model"].is_object() || !j["model"].contains("stages") ||
      !j["model"]["stages"].is_array())
    return;
  const nlohmann::json& stages = j["model"]["stages"];
  std::vector<std::pair<std::string, std::string>> keys;  // (key, as the warning names it)
  const auto add = [&](const std::string& key, const std::string& shown) {
    keys.erase(std::remove_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; }), keys.end());
    keys.emplace_back(key, shown);  // the last --set of a key speaks for it
  };
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    const std::string key = o.substr(0, eq);
    if (key != "admm" && key != "model") {
      add(key, "--set " + key);
      continue;
    }
    // The whole section: each key its value gives (a stage's rho_schedule is merged key by key).
    const nlohmann::json v = nlohmann::json::parse(o.substr(eq == std::string::npos ? o.size() : eq + 1), nullptr, false);
    if (!v.is_object()) continue;
    const std::vector<const char*> fields = key == "admm" ? std::vector<const char*>{"nu", "rho", "mu", "step", "rho_schedule"}
                                                          : std::vector<const char*>{"zl_init", "stage_last"};
    for (const char* f : fields) {
      if (!v.contains(f)) continue;
      if (std::string(f) == "rho_schedule" && v[f].is_object()) {
        for (const auto& [sub, ignored] : v[f].items()) add("admm.rho_schedule." + sub, "--set admm={…}'s rho_schedule." + sub);
      } else {
        add(key + "." + f, "--set " + key + "={…}'s " + f);
      }
    }
  }
  for (const auto& [key, shown] : keys) {
    // The section and key given, and the stage key it defaults (a stage's "last" from model.stage_last).
    std::string section = "admm", field, sub, stage_field;
    size_t first_stage = 0;
    if (key == "admm.nu" || key == "admm.rho" || key == "admm.mu" || key == "admm.step") {
      field = key.substr(5);
    } else if (key.rfind("admm.rho_schedule", 0) == 0) {
      field = "rho_schedule";
      if (key.size() > field.size() + 5) sub = key.substr(field.size() + 6);
    } else if (key == "model.zl_init") {
      section = "model";
      field = "zl_init";
    } else if (key == "model.stage_last") {  // the first stage has no "last"
      section = "model";
      field = "stage_last";
      stage_field = "last";
      first_stage = 1;
    } else {
      continue;
    }
    if (stage_field.empty()) stage_field = field;
    const nlohmann::json::json_pointer at("/" + field + (sub.empty() ? "" : "/" + sub));
    const nlohmann::json::json_pointer in_stage("/" + stage_field + (sub.empty() ? "" : "/" + sub));
    if (!j.contains(section) || !j[section].is_object() || !j[section].contains(at)) continue;  // a later section dropped it
    const nlohmann::json& given = j[section][at];
    std::string where;
    for (size_t i = first_stage; i < stages.size(); ++i) {
      const nlohmann::json& s = stages[i];
      if (!s.is_object() || !s.contains(in_stage)) continue;
      if (s[in_stage] == given) continue;  // the same value (model.stages[*] set it too): nothing is shadowed
      where += (where.empty() ? "" : ", ") + std::string("model.stages[") + std::to_string(i) + "]";
    }
    const std::string name = stage_field + (sub.empty() ? "" : "." + sub);
    if (!where.empty())
      c.warnings.push_back(shown + " is only the stages' default: " + where +
                           (where.find(',') == std::string::npos ? " sets its own " : " set their own ") + name +
                           ", which wins there (set model.stages[i]." + name +
                           (first_stage == 0 ? ", or model.stages[*]." + name + " for every stage," : " for each stage after the first")
                           + " instead)");
  }
}

// Every string of the effective config dumps (config.json, model.bin and state.bin hold it): one
// that is not UTF-8 (a file name in another encoding) is named here, not after the data loads.
bool is_utf8_text(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

void require_utf8_text(const std::string& text, const std::string& what) {
  require(is_utf8_text(text), [&] {
    return what + ": not valid UTF-8 (its bytes are kept in config.json and model.bin, which are JSON; rename "
                  "the file or folder)";
  });
}

static void require_utf8(const nlohmann::json& j, const std::string& at) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) require_utf8(*it, at.empty() ? it.key() : at + "." + it.key());
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) require_utf8(j[i], at + "[" + std::to_string(i) + "]");
  } else if (j.is_string()) {
    require_utf8_text(j.get<std::string>(), "config: " + at);
  }
}

// A NUL (JSON "\u0000") in a key or string cut every message that quoted it there ("data.name:
// \"syn"), and a path holding one names another file. Checked before anything reads the values.
static void require_no_nul(const nlohmann::json& j, const std::string& at) {
  const auto here = [&](const std::string& key) { return at.empty() ? key : at + "." + key; };
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const size_t nul = it.key().find('\0');
      require(nul == std::string::npos, [&] {
        return "config: " + here(it.key().substr(0, nul)) + "…: a key holds a NUL character (\\u0000)";
      });
      require_no_nul(*it, here(it.key()));
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) require_no_nul(j[i], at + "[" + std::to_string(i) + "]");
  } else if (j.is_string()) {
    require(j.get_ref<const std::string&>().find('\0') == std::string::npos,
            "config: " + at + ": the string holds a NUL character (\\u0000), which no name or path may");
  }
}

// admm.iterations and model.layers are the stages' sum and last layers, which every saved config
// (config.json, model.bin's, state.bin's) records: a --set of the stages' iterations or layers
// (model.stages[*].iterations=5) made the recorded value stale and the config was refused as
// inconsistent. Unless a --set gives it too, such a value is dropped here and follows the stages.
static void forget_stale_totals(nlohmann::json& j, const std::vector<std::string>& overrides) {
  // A --set of `prefix` itself (the whole list), or of a key under it ending in `field`.
  const auto set = [&](const std::string& prefix, const std::string& field) {
    return std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
      const std::string key = o.substr(0, o.find('='));
      if (key == prefix) return true;
      return key.rfind(prefix, 0) == 0 && key.size() >= field.size() &&
             key.compare(key.size() - field.size(), std::string::npos, field) == 0;
    });
  };
  // model.stages=[] (none) leaves the config's own layers and iterations.
  const bool has_stages = j.contains("model") && j["model"].is_object() && j["model"].contains("stages") &&
                          !(j["model"]["stages"].is_array() && j["model"]["stages"].empty());
  if (!has_stages) return;
  if (set("model.stages", ".iterations") && !set("admm.iterations", "") && j.contains("admm") &&
      j["admm"].is_object())
    j["admm"].erase("iterations");
  if (set("model.stages", ".layers") && !set("model.layers", "")) j["model"].erase("layers");
}

// model.stages=[] over a file's stages trains the same model in one go: the last stage's layers
// and the stages' iterations, unless the file or a --set gives them (a file without model.layers
// fell to 2 layers x 100 iterations).
static void flatten_dropped_stages(const nlohmann::json& in, nlohmann::json& j) {
  const auto stages_of = [](const nlohmann::json& x) -> const nlohmann::json* {
    if (!x.is_object() || !x.contains("model") || !x["model"].is_object() || !x["model"].contains("stages")) return nullptr;
    return &x["model"]["stages"];
  };
  const nlohmann::json *was = stages_of(in), *now = stages_of(j);
  if (!was || !now || !was->is_array() || was->empty() || !now->is_array() || !now->empty()) return;
  int layers = 0;
  long long iterations = 0;
  for (const nlohmann::json& st : *was) {
    if (!st.is_object() || !st.contains("layers") || !st["layers"].is_number_integer() || !st.contains("iterations") ||
        !st["iterations"].is_number_integer())
      return;  // a malformed file: its own error, elsewhere
    layers = st["layers"].get<int>();
    iterations += st["iterations"].get<long long>();
  }
  if (j.contains("admm") && !j["admm"].is_object()) return;  // its own error
  if (!j["model"].contains("layers")) j["model"]["layers"] = layers;
  if (!j.contains("admm") || !j["admm"].contains("iterations")) j["admm"]["iterations"] = iterations;
  // And the last stage's own settings (Coauthor CS's tuned 5e-4 and exact steps, not admm.*'s
  // defaults for the stages), unless a --set changed admm's value.
  const nlohmann::json& last = was->back();
  const nlohmann::json none;
  const auto file_value = [&](const char* section, const char* key) -> const nlohmann::json& {
    return in.contains(section) && in[section].is_object() && in[section].contains(key) ? in[section][key] : none;
  };
  for (const char* key : kStageAdmmKeys) {
    if (!last.contains(key)) continue;
    const nlohmann::json now_value = j["admm"].contains(key) ? j["admm"][key] : none;
    if (now_value != file_value("admm", key)) continue;
    if (std::string(key) == "rho_schedule" && now_value.is_object() && last[key].is_object()) {
      nlohmann::json merged = now_value;  // a stage's schedule keys override admm's one by one
      merged.update(last[key]);
      j["admm"][key] = merged;
    } else {
      j["admm"][key] = last[key];
    }
  }
  if (last.contains("zl_init") && j["model"].is_object()) {
    const nlohmann::json now_value = j["model"].contains("zl_init") ? j["model"]["zl_init"] : none;
    if (now_value == file_value("model", "zl_init")) j["model"]["zl_init"] = last["zl_init"];
  }
}

bool json_has_stages(const nlohmann::json& j) {
  return j.contains("model") && j["model"].is_object() && j["model"].contains("stages") &&
         j["model"]["stages"].is_array() && !j["model"]["stages"].empty();
}

// A --set of a whole section (admm={"rho":2}) replaces it: the keys the config gave there that the
// value leaves out fall back to their defaults (nu 0.01 -> 0.1, the rho schedule off), which read as
// one key changed. Only the top level's sections: an object below them (admm.grid, a rho_schedule)
// is one value, replaced whole on purpose. The section and its keys before the --set; none if the
// assignment is not of a whole section.
static std::pair<std::string, std::vector<std::string>> section_before(const nlohmann::json& j, const std::string& o) {
  const size_t eq = o.find('=');
  if (eq == std::string::npos || o.find_first_of(".[*", 0) < eq) return {};
  const std::string key = o.substr(0, eq);
  if (!nlohmann::json::parse(o.substr(eq + 1), nullptr, false).is_object() || !j.contains(key) || !j[key].is_object())
    return {};
  std::vector<std::string> keys;
  for (auto it = j[key].begin(); it != j[key].end(); ++it) keys.push_back(it.key());
  return {key, keys};
}

// The warning for a section set whole, against the final config: what the config gave there and
// nothing set again, less what follows from other keys (the stages' layers and iterations, the
// subsections of data sets other than data.name's).
static std::string replaced_section(const nlohmann::json& j, const std::string& key, const std::vector<std::string>& before) {
  if (!j.contains(key) || !j[key].is_object()) return "";
  const nlohmann::json& now = j[key];
  const bool staged = json_has_stages(j);
  const std::string data_name = key == "data" && now.contains("name") && now["name"].is_string() ? now["name"].get<std::string>() : "";
  std::string dropped;
  for (const std::string& k : before) {
    if (now.contains(k)) continue;
    if (staged && ((key == "model" && k == "layers") || (key == "admm" && k == "iterations"))) continue;
    if (key == "data" && (k == "synthetic" || k == "npz" || k == "files") && k != data_name) continue;
    dropped += (dropped.empty() ? "" : ", ") + k;
  }
  if (dropped.empty()) return "";
  return "--set " + key + "={…} replaces the whole " + key + " section, so what the config gave there for " + dropped +
         " falls back to the defaults (--set " + key + ".KEY=VALUE changes one key)";
}

Config parse_config(const nlohmann::json& in, const std::vector<std::string>& overrides) {
  nlohmann::json j = in.is_null() ? nlohmann::json::object() : in;
  std::vector<std::pair<std::string, std::vector<std::string>>> sections;
  for (const std::string& o : overrides) {
    if (auto before = section_before(j, o); !before.first.empty()) sections.push_back(std::move(before));
    apply_override(j, o);
  }
  std::vector<std::string> replaced;
  for (const auto& [key, before] : sections)
    if (std::string w = replaced_section(j, key, before); !w.empty()) replaced.push_back(std::move(w));
  require_no_nul(j, "");
  forget_stale_totals(j, overrides);
  flatten_dropped_stages(in, j);
  Config c;
  c.warnings = replaced;
  c.effective = nlohmann::json::object();
  JsonReader r(&j, "", &c.effective);
  r.integer("seed", c.seed, at_least(0), "must be >= 0");
  // "gpu" is one letter from "cpu": name the GPU's backend rather than guess the CPU's.
  require(!j.contains("backend") || j["backend"] != "gpu",
          "config: backend: \"gpu\" is not one of \"cpu\", \"cuda\" (the GPU backend is \"cuda\")");
  r.string("backend", c.backend, {"cpu", "cuda"});
  r.integer("groups", c.groups, at_least(1), "must be >= 1");
  r.int_list("partition", c.partition);
  r.int_list("devices", c.devices);
  // A typo like 100000 would start that many OpenMP threads per group and exhaust the process limit.
  r.integer("threads", c.threads, [](long long v) { return v >= 0 && v <= 1024; },
            "must be in [0, 1024] (0 = all cores)");
  r.string("algorithm", c.algorithm, {"pdadmm-g", "pdadmm-g-q"});
  read_data(r.child("data"), c.data);
  bool layers_given = false;
  const nlohmann::json* stages = read_model(r.child("model"), c.model, layers_given);
  read_admm(r.child("admm"), c);
  // [] is no stages: a --set that drops a config's stages (a sweep of model.layers over cora.json).
  if (stages && !(stages->is_array() && stages->empty()))
    read_stages(*stages, layers_given, j.contains("admm") && j["admm"].contains("iterations"), c);
  read_cuda(r.child("cuda"), c.cuda);
  read_output(r.child("output"), c.output);
  // 0 (the default): an evaluation about every 20th of the run, as the progress lines. Every
  // iteration's took 19.0 of a 12 x 1000 synthetic run's 22.6 s (the default: 4.1 of 7.4 s); the
  // recorded config keeps 0, so a saved run reads the same.
  if (c.output.log_every == 0) c.output.log_every = std::max(1, c.iterations / 20);
  r.finish();
  warn_shadowed_overrides(j, overrides, c);

  const int L = c.model.layers;
  if (!c.partition.empty()) {
    long long sum = 0;  // [2147483647, 2147483647, ...] overflowed int
    for (size_t i = 0; i < c.partition.size(); ++i) {
      const int p = c.partition[i];
      require(p >= 1, [&] {
        return "config: partition[" + std::to_string(i) + "] = " + std::to_string(p) +
               ": every group needs at least 1 layer";
      });
      sum += p;
    }
    require(sum == L, "config: partition: sizes add up to " + std::to_string(sum) + ", model.layers is " +
                          std::to_string(L));
    // A partition sets the groups. A groups that disagrees was ignored without a word: a sweep's
    // --set groups=1 on a partitioned base timed its "serial" runs in two groups. Only a --set
    // partition over the file's groups (a saved config.json records both) replaces it.
    const auto by_set = [&](const char* key) {
      return std::any_of(overrides.begin(), overrides.end(),
                         [&](const std::string& o) { return o.substr(0, o.find('=')) == key; });
    };
    require(!j.contains("groups") || c.groups == static_cast<int>(c.partition.size()) ||
                (by_set("partition") && !by_set("groups")),
            [&] {
              return "config: groups: " + std::to_string(c.groups) + ", but partition " +
                     nlohmann::json(c.partition).dump() + " makes " + std::to_string(c.partition.size()) +
                     " groups (the partition sets them: drop groups, or clear the partition with --set partition=[])";
            });
    c.groups = static_cast<int>(c.partition.size());
    c.effective["groups"] = c.groups;
  }
  require(c.groups <= L, "config: groups: " + std::to_string(c.groups) + " groups for " + std::to_string(L) +
                             " layers (groups must be <= model.layers)");
  for (int d : c.devices) require(d >= 0, "config: devices: device ids must be >= 0");
  require(c.devices.size() <= static_cast<size_t>(c.groups),
          "config: devices: " + std::to_string(c.devices.size()) + " devices for " + std::to_string(c.groups) +
              " groups (at most one device per group)");
  // npz-set keys: the Planetoid sets have a fixed split and are read as stored; the synthetic data
  // are generated from `seed`, split and all. Only values set away from the default are named (a
  // saved config.json records every key).
  if (is_planetoid(c.data.name) || c.data.name == "synthetic") {
    const DataConfig npz_default;
    const bool generated = c.data.name == "synthetic";
    if (c.data.split_seed != npz_default.split_seed)
      c.warnings.push_back("data.split_seed has no effect with data.name \"" + c.data.name + "\" (" +
                           (generated ? "the generated data and their split follow seed"
                                      : "Planetoid's split is fixed") +
                           "; data.val_split_seed redraws train and val)");
    if (c.data.raw_counts != npz_default.raw_counts)
      c.warnings.push_back("data.raw_counts has no effect with data.name \"" + c.data.name +
                           "\" (only the npz data sets' features are binarized)");
    if (generated && c.data.verify)
      c.warnings.push_back("data.verify has no effect with data.name \"synthetic\" (no files to check)");
  }
  // A path set for a user's own graph while data.name names another (data.name forgotten: the run
  // would train on that one, synthetic by default, without a word).
  if (c.data.name != "npz" && !c.data.npz.file.empty())
    c.warnings.push_back("data.npz.file has no effect with data.name \"" + c.data.name +
                         "\" (set data.name \"npz\" to train on it)");
  if (c.data.name != "files" &&
      !(c.data.files.edges.empty() && c.data.files.features.empty() && c.data.files.labels.empty()))
    c.warnings.push_back("data.files has no effect with data.name \"" + c.data.name +
                         "\" (set data.name \"files\" to train on it)");
  // The two own-graph sections share the split keys' names: data.npz.train beside data.name
  // "files" drew the default split without a word.
  const auto split_set = [](const OwnSplitConfig& s) {
    const OwnSplitConfig d;
    return s.train != d.train || s.train_per_class != d.train_per_class || s.val != d.val || s.test != d.test;
  };
  // Not beside the warning above for the same section's file (one mistake, one line).
  const bool npz_file = !c.data.npz.file.empty();
  const bool files_paths = !(c.data.files.edges.empty() && c.data.files.features.empty() && c.data.files.labels.empty());
  for (const auto& [name, split, warned] : {std::tuple<std::string, const OwnSplitConfig*, bool>{"npz", &c.data.npz, npz_file},
                                            {"files", &c.data.files, files_paths}})
    if (c.data.name != name && !warned && split_set(*split))
      c.warnings.push_back(
          "data." + name + "'s split (train, train_per_class, val, test) has no effect with data.name \"" +
          c.data.name + "\"" +
          (c.data.name == "npz" || c.data.name == "files" ? " (set data." + c.data.name + ".train and the rest)"
                                                          : ""));
  if (c.backend != "cuda" && c.cuda.tf32)
    c.warnings.push_back("cuda.tf32 has no effect with \"backend\": \"" + c.backend + "\"");
  // As tf32: a list of GPUs meant for a CUDA run was ignored without a word on the CPU.
  if (c.backend != "cuda" && c.cuda.processes != "nccl")
    c.warnings.push_back("cuda.processes has no effect with \"backend\": \"" + c.backend + "\"");
  if (c.backend != "cuda" && !c.devices.empty())
    c.warnings.push_back("devices has no effect with \"backend\": \"" + c.backend + "\" (it picks a GPU per group)");
  // A -Q config run as G (--set algorithm=pdadmm-g, for an fp32 yardstick) failed one key at a
  // time, and a lossy wire left over (p as int8) made a "G" that was not fp32: name them all.
  if (c.algorithm == "pdadmm-g" && c.admm.quantize != Quantize::None) {
    std::string sets = " --set admm.quantize='\"none\"'";
    if (c.admm.wire_q.format != WireFormat::Fp32) sets += " --set admm.wire.q='\"fp32\"'";
    if (c.admm.wire_p.format != WireFormat::Fp32) sets += " --set admm.wire.p='\"fp32\"'";
    throw Error("config: admm.quantize: needs \"algorithm\": \"pdadmm-g-q\" (fp32 pdADMM-G on this config:" + sets +
                ")");
  }
  // FISTA's gradient step on the cross-entropy is stable up to 1/L = 2 (the softmax's Hessian is
  // at most I/2); the reference's 4 works in practice. Far past it the steps overshoot and the
  // tolerance test still ends them: Cora trained to test 0.77 at 100 and 0.59 at 1000 without a word.
  if (c.admm.fista_eta > 4) {
    std::ostringstream eta;
    eta << "admm.fista.eta = " << c.admm.fista_eta << " is past 4 (the reference's; 1/L of the cross-entropy's "
        << "gradient is 2): the last layer's FISTA steps can overshoot and leave it undertrained";
    c.warnings.push_back(eta.str());
  }
  // Checked where nu and rho are used: per stage when there are stages (admm.* is then only
  // their default), and named once for all stages that fail.
  std::ostringstream bad;
  if (c.model.stages.empty() && !rho_meets_convergence_condition(c.admm.nu, c.admm.rho))
    bad << "rho = " << c.admm.rho << " <= max(4 nu, (sqrt(17)+1) nu / 2) = "
        << std::max(4 * c.admm.nu, (std::sqrt(17.0) + 1) * c.admm.nu / 2) << " (nu = " << c.admm.nu << ")";
  for (size_t i = 0; i < c.model.stages.size(); ++i) {
    const StageConfig& s = c.model.stages[i];
    if (rho_meets_convergence_condition(s.nu, s.rho)) continue;
    bad << (bad.tellp() > 0 ? ", " : "rho <= max(4 nu, (sqrt(17)+1) nu / 2) in ") << "model.stages[" << i
        << "] (nu " << s.nu << ", rho " << s.rho << ")";
  }
  if (bad.tellp() > 0 && c.output.convergence_warning)
    c.warnings.push_back(bad.str() + ": the convergence guarantee of pdADMM-G does not hold (the reference's "
                                     "accuracy runs use rho = nu; output.convergence_warning: false silences this)");
  // "reference" takes min(rho x factor, max) as the reference does: a rho above max is lowered to
  // max at the first stall (0.5 to 0.001), where the rule reads as one that only raises rho.
  std::ostringstream above;
  const auto check_cap = [&](const RhoSchedule& s, double rho, const std::string& at) {
    if (s.type != "reference" || rho <= s.max) return;
    above << (above.tellp() > 0 ? ", " : "") << at << " (rho " << rho << ", rho_schedule.max " << s.max << ")";
  };
  if (c.model.stages.empty()) check_cap(c.rho_schedule, c.admm.rho, "admm");
  for (size_t i = 0; i < c.model.stages.size(); ++i)
    check_cap(c.model.stages[i].rho_schedule, c.model.stages[i].rho, "model.stages[" + std::to_string(i) + "]");
  if (above.tellp() > 0)
    c.warnings.push_back("rho starts above rho_schedule.max in " + above.str() +
                         ": the \"reference\" schedule takes min(rho x factor, max), as the reference does, so its "
                         "first stall lowers rho to max (raise max to keep rho)");
  // The first stage's random weights scale a forward pass by about init_std x sqrt(hidden / 2) a
  // layer (relu halves the variance), and the iterates start from that pass: 64 x 1000 at 0.1 (2.2
  // a layer, 1e22 in all) diverged at iteration 1, 64 x 500 (3e12) at 3, said only as an overflow.
  // 16 x 4096 (2e9, configs/gpu_16x4096.json) and 32 x 500 (2e6) train.
  if (const double growth = init_growth(c); growth > kInitGrowthWarned) {
    const int first = c.model.stages.empty() ? c.model.layers : c.model.stages[0].layers;
    std::ostringstream w;
    w << std::setprecision(2) << "model.init_std " << c.model.init_std << " with model.hidden " << c.model.hidden
      << " scales the forward pass by about " << c.model.init_std * std::sqrt(c.model.hidden / 2.0)
      << " a layer (init_std x sqrt(hidden / 2)), " << growth << " over the first stage's " << first
      << " layers, where the iterates start: they may overflow float; init_std <= sqrt(2 / hidden) = "
      << std::sqrt(2.0 / c.model.hidden) << " keeps it near 1";
    c.warnings.push_back(w.str());
  }
  // Checkpoints write model.bin (output.checkpoint) and state.bin (output.state); with neither the
  // key did nothing, without a word.
  if (c.output.checkpoint_every > 0 && !c.output.checkpoint && !c.output.state)
    c.warnings.push_back("output.checkpoint_every " + std::to_string(c.output.checkpoint_every) +
                         " writes nothing: output.checkpoint and output.state are both false");
  // Kept duals were built under the rho the previous stage ended at (raised by the schedule); a
  // stage restarting below it lets them dominate (Coauthor CS seed 0: test 0.062, 0.918 reset).
  for (size_t i = 1; c.model.stage_duals == "keep" && i < c.model.stages.size(); ++i) {
    const StageConfig& prev = c.model.stages[i - 1];
    const double end = rho_schedule_ceiling(prev.rho_schedule, prev.rho);
    if (c.model.stages[i].rho >= end) continue;
    std::ostringstream w;
    w << "model.stage_duals \"keep\": model.stages[" << i << "] starts at rho = " << c.model.stages[i].rho
      << ", below the rho = " << end << " the stage before can end at; its duals, built under the larger rho, "
      << "can wreck the new stage (\"reset\" avoids this)";
    c.warnings.push_back(w.str());
    break;
  }
  require_utf8(c.effective, "");
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  errno = 0;
  std::ifstream f(path, std::ios::binary);
  require(static_cast<bool>(f), "config: cannot open " + path + (errno ? std::string(": ") + std::strerror(errno) : ""));
  // Read with a bound: a device (--config /dev/zero) grew the text until memory ran out, and
  // /dev/urandom never ended. A pipe (--config <(jq … c.json)) is still read as it comes.
  constexpr size_t kMaxBytes = size_t{64} << 20;
  std::string text;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
    require(text.size() <= kMaxBytes, "config: " + path + ": larger than 64 MiB (not a config file?)");
  }
  return parse_config_text(text, path, overrides);
}

Config parse_config_text(const std::string& text, const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json j = parse_json(text, "config: " + path, /*allow_comments=*/true);
  require(j.is_object(), "config: " + path + ": expected a JSON object {...} at the top level, got " + j.type_name());
  // A sweep file (configs/sweeps/) was refused for its "groups": "layers", which named no sweep.
  require(!(j.contains("axis") || j.contains("variants")) || j.contains("model") || j.contains("admm"), [&] {
    if (j.contains("rows")) return "config: " + path + " is a sweep's result (sweep.json), not a config";
    return "config: " + path + " is a sweep file (it has \"" + (j.contains("axis") ? "axis" : "variants") +
           "\"): run it with tools/sweep.py --config " + path;
  });
  try {
    return parse_config(j, overrides);
  } catch (const Error& e) {
    // A mistake in the file itself (it fails without the --set values too) names the file: with
    // --config and --set both given, "config: unknown key" did not say which one was at fault.
    const std::string what = e.what(), head = "config: ";
    if (what.rfind(head, 0) != 0 || what.rfind(head + path + ":", 0) == 0) throw;
    if (!overrides.empty()) {
      bool file_fails = false;
      try {
        parse_config(j, {});
      } catch (const Error& alone) {
        file_fails = alone.what() == what;
      }
      if (!file_fails) throw;  // the --set values are at fault (or the file fails otherwise without them)
    }
    throw Error(head + path + ": " + what.substr(head.size()));
  }
}

nlohmann::json with_keys_added_since(nlohmann::json saved) {
  // data.npz.train (0: per class, the only split before it).
  if (saved.is_object() && saved.contains("data") && saved["data"].is_object() && saved["data"].contains("npz") &&
      saved["data"]["npz"].is_object() && !saved["data"]["npz"].contains("train"))
    saved["data"]["npz"]["train"] = 0;
  // data.files, every key at its default.
  if (saved.is_object() && saved.contains("data") && saved["data"].is_object() && !saved["data"].contains("files"))
    saved["data"]["files"] = parse_config(nlohmann::json::object()).effective["data"]["files"];
  return saved;
}

}  // namespace pdadmm
