// A user's own graph from plain files (data.name "files"): a text edge list, the features (.npy,
// CSV or scipy.sparse.save_npz's .npz) and the labels (text or .npy). Errors are one line naming
// the file and, in text, the line.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "host/data/dataset.h"
#include "host/data/npz.h"

namespace pdadmm {

// Text files: one record a line; blank lines and lines whose first non-blank character is '#' are
// skipped; fields are separated by spaces, tabs or commas. `file` names the file in errors.

// Edges "u v", node ids in [0, n).
std::vector<std::pair<int64_t, int64_t>> parse_edge_list(const std::string& text, int64_t n, const std::string& file);
// A .npy (n x d, <f4 or <f8, C order), a CSV text file (one row of d numbers per node) or, told by
// its zip magic "PK", scipy.sparse.save_npz's CSR .npz (sparse features).
Features parse_features(const std::string& bytes, const std::string& file);
// One class id per node (-1: unlabelled): a .npy of integers or a text file of one per line.
std::vector<int64_t> parse_labels(const std::string& bytes, const std::string& file);

struct OwnFiles {
  std::string edges, features, labels;  // paths
};

// The three files made a Dataset as an npz of the same graph is (its CSR building, label checks
// and split): n = the features' rows. The name joins the files' names. read(path) gives a file's
// bytes: each is read when it is parsed and dropped after, so only one file's bytes are held at a
// time beside what is parsed (a large edge list's text is as large as its edges).
using ReadFile = std::function<std::string(const std::string& path)>;
Dataset own_files_dataset(const OwnFiles& paths, const ReadFile& read, uint64_t split_seed, bool raw_counts,
                          const SplitSizes& sizes);
// The same from the files' bytes in memory (the tests and the fuzz target).
Dataset own_files_dataset(const OwnFiles& paths, const std::string& edges, const std::string& features,
                          const std::string& labels, uint64_t split_seed, bool raw_counts, const SplitSizes& sizes);
// Reads the files; verify: check each against SHA256SUMS in its own folder first.
Dataset load_own_files(const OwnFiles& paths, uint64_t split_seed, bool verify, bool raw_counts,
                       const SplitSizes& sizes);

}  // namespace pdadmm
