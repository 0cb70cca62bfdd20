// Maps data set names to their files under the data root and the loader that reads them.
#include "host/data/load_real.h"

#include <filesystem>

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
  if (is_planetoid(name)) return load_planetoid(root + "/planetoid", name);
  return load_gnn_benchmark(root + "/" + files.front(), name, split_seed, raw_counts);
}

Dataset load_npz_file(const std::string& path, uint64_t split_seed, bool verify, bool raw_counts,
                      const SplitSizes& sizes) {
  if (verify) verify_sha256sum_beside(path);
  return load_gnn_benchmark(path, std::filesystem::path(path).filename().string(), split_seed, raw_counts, sizes);
}

}  // namespace pdadmm
