// One entry point for the six real benchmark data sets (Planetoid pickles and gnn-benchmark npz)
// and for a user's own graph in the gnn-benchmark .npz layout.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/data/dataset.h"
#include "host/data/npz.h"

namespace pdadmm {

// Valid names: cora, citeseer, pubmed, amazon_computers, amazon_photo, coauthor_cs.
const std::vector<std::string>& real_dataset_names();

// cora, citeseer, pubmed: Planetoid pickles with their fixed split (the others are npz).
bool is_planetoid(const std::string& name);

// Files (relative to root) that make up a data set, as listed in root/SHA256SUMS:
// planetoid/ind.<name>.<part> or npz/<file>.npz. Unknown name -> Error listing the valid ones.
std::vector<std::string> real_dataset_files(const std::string& name);

// Loads a real data set from root (the layout of shared/data: planetoid/ and npz/ subfolders).
// split_seed drives the random split of the npz data sets (Planetoid uses its fixed split);
// raw_counts keeps the npz sets' stored feature values (see load_gnn_benchmark).
// verify: check every file against root/SHA256SUMS first.
Dataset load_real_dataset(const std::string& name, const std::string& root, uint64_t split_seed, bool verify,
                          bool raw_counts = false);

// A user's own gnn-benchmark-style .npz (data.name "npz"), named by its file name and split as the
// npz sets are, with `sizes`. verify: check it against SHA256SUMS in its own folder first.
Dataset load_npz_file(const std::string& path, uint64_t split_seed, bool verify, bool raw_counts,
                      const SplitSizes& sizes);

}  // namespace pdadmm
