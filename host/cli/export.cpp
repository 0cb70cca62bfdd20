// pdadmm export: a model.bin's weights as a NumPy .npz archive, for use outside pdadmm.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "host/admm/problem.h"
#include "host/cli/commands.h"
#include "host/cli/output_target.h"
#include "host/config/config.h"
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

std::string npy_int64(const std::vector<int64_t>& v) {
  return npy_file("<i8", {static_cast<int64_t>(v.size())}, v.data(), v.size() * sizeof(int64_t));
}

// What the first layer reads, from the training config (absent in files of old binaries): the
// augmented features in the order of W1's columns.
std::string input_text(const nlohmann::json& config, int64_t d) try {
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
  const std::string name = data.value("name", "synthetic");
  std::string h = name == "synthetic" || is_planetoid(name) || data.value("raw_counts", false) ? "the features as stored"
                                                                                              : "features > 0 as 1";
  if (data.value("row_normalize", false)) h += ", each row scaled to sum 1";
  return "input:  " + std::to_string(d) + " columns of W1 = [" + blocks + "], " + std::to_string(d / (hops + 1)) +
         " each; H = " + h + ", Â = D^-1/2 (A+I) D^-1/2";
} catch (const nlohmann::json::exception&) {  // a key of another type (a hand-edited config): no line
  return "";
}

// X_SPLIT (nodes x d), nodes_SPLIT and y_SPLIT (int64) of each split, from the data set the
// model's training config names, formed as training formed its X.
void add_inputs(const Checkpoint& ck, const std::string& model, const std::string& data, std::vector<NpzMember>& members) {
  require(ck.meta.contains("config") && ck.meta["config"].is_object(),
          "checkpoint " + model + " holds no training config (an older binary's); --inputs needs it");
  Config c = parse_config(with_keys_added_since(ck.meta["config"]));
  if (!data.empty()) c.data.root = data;
  const Problem p = build_problem(c);
  require_recorded_data(ck.meta.value("data_crc", nlohmann::json()), p, "checkpoint " + model);
  require(p.x.rows == ck.W[0].cols, "export --inputs: the data gives " + std::to_string(p.x.rows) +
                                        " augmented features a node, W1 of " + model + " takes " +
                                        std::to_string(ck.W[0].cols));
  const std::pair<const char*, const std::vector<int32_t>*> splits[] = {
      {"train", &p.data.train}, {"val", &p.data.val}, {"test", &p.data.test}};
  for (const auto& [name, nodes] : splits) {
    // The training nodes' X is the one build_problem formed for the solver; the others are formed here.
    const bool train = nodes == &p.data.train;
    members.push_back(
        {std::string("X_") + name, npy_matrix(train ? transposed(p.x) : augmented_rows(p, *nodes, name), false)});
    std::vector<int64_t> ids(nodes->begin(), nodes->end()), y;
    for (int32_t v : *nodes) y.push_back(p.data.labels[v]);
    members.push_back({std::string("nodes_") + name, npy_int64(ids)});
    members.push_back({std::string("y_") + name, npy_int64(y)});
  }
}

}  // namespace

int cmd_export(const ExportArgs& a) {
  const std::string& npz = a.npz;
  const bool dash = npz == "-", to_stdout = dash || own_stream(npz) == &std::cout;
  require(!to_stdout || !::isatty(1), "export: --npz " + npz + " is a terminal; redirect it to a file (> model.npz)");
  if (!to_stdout) {
    require_writable_file(npz, "export: cannot write --npz");
    std::error_code ec;
    require(!std::filesystem::equivalent(npz, a.model, ec),
            "export: --npz " + npz + " is the --model file; it would be overwritten");
    // write_npz's first member is W1's: its local header's name at byte 30.
    require_not_run_file(npz, a.model, "export: --npz", {"an archive export wrote", [](const std::string& head) {
                           return head.size() >= 36 && head.rfind("PK\x03\x04", 0) == 0 && head.compare(30, 6, "W1.npy") == 0;
                         }});
  }
  const Checkpoint ck = load_checkpoint(a.model);
  const size_t L = ck.W.size();
  require(L > 0, "checkpoint " + a.model + " holds no layers");
  std::vector<NpzMember> members;
  std::vector<int64_t> dims{ck.W[0].cols};
  for (size_t l = 0; l < L; ++l) {
    const std::string n = std::to_string(l + 1);
    members.push_back({"W" + n, npy_matrix(ck.W[l], false)});
    members.push_back({"b" + n, npy_matrix(ck.b[l], true)});
    dims.push_back(ck.W[l].rows);
  }
  members.push_back({"dims", npy_int64(dims)});
  const int64_t iterations = ck.meta.value("iterations", int64_t{-1});
  members.push_back({"iterations", npy_file("<i8", {}, &iterations, 8)});
  const nlohmann::json config = ck.meta.value("config", nlohmann::json::object());
  // ensure_ascii: any other character as a JSON \u escape, so the text is ASCII and reads back the same.
  members.push_back({"config", npy_ascii_string(config.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace))});
  if (a.inputs) add_inputs(ck, a.model, a.data, members);
  double held = 0;
  for (const NpzMember& m : members) held += static_cast<double>(m.bytes.size());
  require_room(held, "the archive, built in memory beside its " + human_bytes(held) + " of arrays, needs", "");

  std::ostream& log = to_stdout ? std::cerr : std::cout;
  size_t bytes = 0;
  const auto fill = [&](std::ostream& f) {
    bytes = write_npz(members, [&](const char* d, size_t n) { f.write(d, static_cast<std::streamsize>(n)); });
  };
  if (dash) {
    if (const int status = write_stdout(fill, "export: cannot write --npz to stdout"); status != 0) return status;
  } else if (!write_stream_target(npz, fill, "export: cannot write --npz")) {
    AtomicFile f(npz);
    bytes = write_npz(members, [&](const char* d, size_t n) { f.write(d, n); });
    f.commit();
  }
  log << "export: wrote " << (dash ? "stdout" : npz) << " (W1..W" << L << " float32 out x in, b1..b" << L
      << ", dims, iterations, config" << (a.inputs ? ", X_/nodes_/y_ train, val, test" : "") << "; "
      << human_bytes(static_cast<double>(bytes)) << ")\n";
  const std::string input = input_text(config, dims[0]);
  if (!input.empty()) log << input << "\n";
  return 0;
}

}  // namespace pdadmm
