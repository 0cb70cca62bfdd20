// pdadmm export: a model.bin's weights as a NumPy .npz archive, for use outside pdadmm.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "host/cli/commands.h"
#include "host/cli/output_target.h"
#include "host/data/load_real.h"
#include "host/io/checkpoint.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/host_memory.h"
#include "host/io/npz_writer.h"

namespace pdadmm {

namespace {

std::string npy_matrix(const HostMatrix<float>& m, bool vector) {
  std::vector<int64_t> shape{m.rows};
  if (!vector) shape.push_back(m.cols);
  return npy_file("<f4", shape, m.data.data(), m.data.size() * sizeof(float));
}

// What the first layer reads, from the training config (absent in files of old binaries): the
// augmented features in the order of W1's columns.
std::string input_text(const nlohmann::json& config, int64_t d) {
  const nlohmann::json model = config.value("model", nlohmann::json::object());
  const nlohmann::json data = config.value("data", nlohmann::json::object());
  if (!model.contains("hops") || !model["hops"].is_number_integer()) return "";
  const int64_t hops = model["hops"].get<int64_t>();
  if (hops < 0 || d % (hops + 1) != 0) return "";
  const bool descending = model.value("hop_order", "ascending") == "descending";
  std::string blocks;
  for (int64_t k = 0; k <= hops; ++k) {
    const int64_t p = descending ? hops - k : k;
    blocks += (k ? ", " : "") + (p == 0 ? std::string("H") : p == 1 ? "ÂH" : "Â^" + std::to_string(p) + "H");
  }
  // As build_problem forms H: npz and own files' values binarised unless data.raw_counts, then
  // data.row_normalize.
  const std::string name = data.value("name", "");
  std::string h = name == "synthetic" || is_planetoid(name) || data.value("raw_counts", false) ? "the features as stored"
                                                                                              : "features > 0 as 1";
  if (data.value("row_normalize", false)) h += ", each row scaled to sum 1";
  return "input:  " + std::to_string(d) + " columns of W1 = [" + blocks + "], " + std::to_string(d / (hops + 1)) +
         " each; H = " + h + ", Â = D^-1/2 (A+I) D^-1/2";
}

}  // namespace

int cmd_export(const std::string& model, const std::string& npz) {
  const bool dash = npz == "-", to_stdout = dash || own_stream(npz) == &std::cout;
  require(!to_stdout || !::isatty(1), "export: --npz " + npz + " is a terminal; redirect it to a file (> model.npz)");
  if (!to_stdout) {
    require_writable_file(npz, "export: cannot write --npz");
    std::error_code ec;
    require(!std::filesystem::equivalent(npz, model, ec),
            "export: --npz " + npz + " is the --model file; it would be overwritten");
  }
  const Checkpoint ck = load_checkpoint(model);
  const size_t L = ck.W.size();
  require(L > 0, "checkpoint " + model + " holds no layers");
  std::vector<NpzMember> members;
  std::vector<int64_t> dims{ck.W[0].cols};
  for (size_t l = 0; l < L; ++l) {
    const std::string n = std::to_string(l + 1);
    members.push_back({"W" + n, npy_matrix(ck.W[l], false)});
    members.push_back({"b" + n, npy_matrix(ck.b[l], true)});
    dims.push_back(ck.W[l].rows);
  }
  members.push_back({"dims", npy_file("<i8", {static_cast<int64_t>(dims.size())}, dims.data(), dims.size() * 8)});
  const int64_t iterations = ck.meta.value("iterations", int64_t{-1});
  members.push_back({"iterations", npy_file("<i8", {}, &iterations, 8)});
  const nlohmann::json config = ck.meta.value("config", nlohmann::json::object());
  // ensure_ascii: any other character as a JSON \u escape, so the text is ASCII and reads back the same.
  members.push_back({"config", npy_ascii_string(config.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace))});
  const std::string bytes = npz_archive(members);

  std::ostream& log = to_stdout ? std::cerr : std::cout;
  const auto fill = [&](std::ostream& f) { f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); };
  if (dash) {
    fill(std::cout);
    std::cout.flush();
    require(static_cast<bool>(std::cout), "export: cannot write --npz to stdout");
  } else if (!write_stream_target(npz, fill, "export: cannot write --npz")) {
    write_file_atomic(npz, bytes);
  }
  log << "export: wrote " << (dash ? "stdout" : npz) << " (W1..W" << L << " float32 out x in, b1..b" << L
      << ", dims, iterations, config; " << human_bytes(static_cast<double>(bytes.size())) << ")\n";
  const std::string input = input_text(config, dims[0]);
  if (!input.empty()) log << input << "\n";
  return 0;
}

}  // namespace pdadmm
