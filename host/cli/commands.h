// The pdadmm subcommands; each returns the process exit code and throws Error for user errors.
#pragma once
#include <string>
#include <vector>

namespace pdadmm {

struct CommonArgs {
  std::string config;
  std::vector<std::string> sets;
  std::string out;
  std::string data;  // --data: data.root
};

// resume: continue the run in the output folder from its state.bin.
int cmd_train(const CommonArgs& a, bool resume);
int cmd_info(const CommonArgs& a);
// info --print-config: the effective config as JSON on stdout (warnings on stderr); no data read.
int cmd_print_config(const CommonArgs& a);
// predictions: "" none, "-" stdout (the scores then go to stderr), else a CSV file written atomically.
int cmd_eval(const CommonArgs& a, const std::string& model, const std::string& predictions);
struct ExportArgs {
  std::string model, npz;
  bool inputs = false;  // also each split's augmented input, node ids and labels
  std::string data;     // --data: data.root for --inputs
};
// model.bin's W and b (and dims, iterations, the training config) as a NumPy .npz archive.
int cmd_export(const ExportArgs& a);

struct BenchArgs {
  int iterations = 5;
  int warmup = 1;
  bool serialize = false;
  bool no_peak = false;
  double peak_seconds = 0.3;
  bool peak_seconds_given = false;
  std::vector<std::string> links;
  std::string json;
};
int cmd_bench(const CommonArgs& a, const BenchArgs& b);

}  // namespace pdadmm
