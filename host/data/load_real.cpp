// Maps data set names to their files under the data root and the loader that reads them.
#include "host/data/load_real.h"

#include <filesystem>

#include "host/data/npz.h"
#include "host/data/planetoid.h"
#include "host/data/sha256.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

struct NpzEntry {
  const char* name;
  const char* file;
};
const NpzEntry kNpzSets[] = {
    {"amazon_computers", "amazon_electronics_computers.npz"},
    {"amazon_photo", "amazon_electronics_photo.npz"},
    {"coauthor_cs", "ms_academic_cs.npz"},
};

// Each named set's shape (the table of the seed's sets): files of another set under the
// name (CiteSeer's graph among Cora's files, the Computers npz as Photo's) loaded without a word.
struct KnownShape {
  const char* name;
  int64_t nodes, features;
  int classes;
};
const KnownShape kShapes[] = {
    {"cora", 2708, 1433, 7},           {"citeseer", 3327, 3703, 6},     {"pubmed", 19717, 500, 3},
    {"amazon_computers", 13752, 767, 10}, {"amazon_photo", 7650, 745, 8}, {"coauthor_cs", 18333, 6805, 15},
};

void require_known_shape(const Dataset& d, const std::string& name, const std::string& where) {
  for (const KnownShape& k : kShapes) {
    if (name != k.name) continue;
    const auto shape = [](int64_t n, int64_t f, int c) {
      return std::to_string(n) + " nodes, " + std::to_string(f) + " features, " + std::to_string(c) + " classes";
    };
    require(d.num_nodes() == k.nodes && d.features.cols == k.features && d.num_classes == k.classes, [&] {
      return where + " holds " + shape(d.num_nodes(), d.features.cols, d.num_classes) + "; " + name + " has " +
             shape(k.nodes, k.features, k.classes) + " (another data set's files, or altered ones: data.verify "
             "checks them against SHA256SUMS)";
    });
  }
}

std::string valid_names() {
  std::string s;
  for (const std::string& n : real_dataset_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const std::vector<std::string>& real_dataset_names() {
  static const std::vector<std::string> names = {"cora", "citeseer", "pubmed", "amazon_computers", "amazon_photo",
                                                 "coauthor_cs"};
  return names;
}

bool is_planetoid(const std::string& name) { return name == "cora" || name == "citeseer" || name == "pubmed"; }

std::vector<std::string> real_dataset_files(const std::string& name) {
  if (is_planetoid(name)) {
    std::vector<std::string> files;
    for (const std::string& part : planetoid_parts()) files.push_back("planetoid/ind." + name + "." + part);
    return files;
  }
  for (const NpzEntry& e : kNpzSets)
    if (name == e.name) return {std::string("npz/") + e.file};
  throw Error("unknown data set '" + name + "' (valid: " + valid_names() + ")");
}

Dataset load_real_dataset(const std::string& name, const std::string& root, uint64_t split_seed, bool verify,
                          bool raw_counts) {
  const std::vector<std::string> files = real_dataset_files(name);  // validates the name
  if (verify) verify_sha256sums(root, files);
  const std::string where = root + "/" + (is_planetoid(name) ? "planetoid/ind." + name + ".*" : files.front());
  if (is_planetoid(name)) {
    Dataset d = load_planetoid(root + "/planetoid", name);
    require_known_shape(d, name, where);
    return d;
  }
  Dataset d;
  try {
    d = load_gnn_benchmark(root + "/" + files.front(), name, split_seed, raw_counts);
  } catch (const Error&) {
    // Another data set's file under this name fails in its split ("only 0 labelled nodes left"),
    // before its shape is checked: its node count says what it is, where it can be read.
    int64_t nodes = -1;
    try {
      const NumpyArray shape = NpzArchive::open_file(root + "/" + files.front()).array("adj_shape");
      if (shape.shape.size() == 1 && shape.shape[0] == 2) nodes = shape.to_int64("adj_shape")[0];
    } catch (const Error&) {
    }
    for (const KnownShape& k : kShapes)
      require(name != k.name || nodes < 0 || nodes == k.nodes, [&] {
        return where + " holds " + std::to_string(nodes) + " nodes; " + name + " has " + std::to_string(k.nodes) +
               " (another data set's file, or an altered one: data.verify checks it against SHA256SUMS)";
      });
    throw;
  }
  require_known_shape(d, name, where);
  return d;
}

Dataset load_npz_file(const std::string& path, uint64_t split_seed, bool verify, bool raw_counts,
                      const SplitSizes& sizes) {
  if (verify) verify_sha256sum_beside(path);
  return load_gnn_benchmark(path, std::filesystem::path(path).filename().string(), split_seed, raw_counts, sizes);
}

}  // namespace pdadmm
