// A node-classification data set as every loader and the synthetic generator produce it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/data/csr.h"

namespace pdadmm {

// Node features H (rows = nodes): dense row-major, or CSR when sparse (bag-of-words data).
struct Features {
  int64_t rows = 0;
  int64_t cols = 0;
  bool is_sparse = false;
  std::vector<float> dense;  // rows * cols, used when !is_sparse
  Csr sparse;                // used when is_sparse

  int64_t stored() const { return is_sparse ? sparse.nnz() : rows * cols; }
};

struct Dataset {
  std::string name;
  Csr adj;        // symmetric, values 1, no self-loops, no duplicate entries
  Features features;
  std::vector<int32_t> labels;  // per node, 0..num_classes-1, or -1 for "no label"
  int num_classes = 0;
  std::vector<int32_t> train, val, test;  // node ids; disjoint

  int64_t num_nodes() const { return adj.rows; }
  int64_t num_edges() const { return adj.nnz() / 2; }  // undirected edges
  // Throws Error when shapes, labels or splits are inconsistent.
  void validate() const;
};

// Redraws train and validation, keeping the test nodes: from the labelled nodes outside test, as
// many training nodes per class as the current split has (shuffled per class), then as many
// validation nodes as it has (shuffled), with a seeded Rng. For choosing hyperparameters on
// several validation sets while the test nodes stay out of every choice. Throws Error when a class
// has too few labelled nodes outside the test set.
void redraw_train_val(Dataset& d, uint64_t seed);

}  // namespace pdadmm
