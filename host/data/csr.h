// Compressed sparse row matrix on the host: graphs (adjacency) and sparse node features.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pdadmm {

struct Csr {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int64_t> indptr;   // rows + 1 entries, indptr[0] = 0
  std::vector<int32_t> indices;  // column of each stored value, sorted within a row
  std::vector<float> values;

  int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
  // Throws Error naming `what` when indptr/indices are inconsistent or out of range.
  void validate(const std::string& what) const;
};

struct Triplet {
  int64_t row;
  int64_t col;
  float value;
};

// Builds a CSR matrix from triplets: sorts, and sums (sum_duplicates) or keeps the first of
// repeated (row, col) entries. Throws Error when an index is outside the shape.
Csr csr_from_triplets(int64_t rows, int64_t cols, std::vector<Triplet> t, bool sum_duplicates);

// y (rows x k, row-major) = alpha * A x (cols x k) + beta * y. Parallel over rows. With `rows`,
// only those rows of A, in that order (y is rows.size() x k), each computed as in the full product.
void csr_spmm(const Csr& a, const float* x, int64_t k, float alpha, float beta, float* y,
              const std::vector<int32_t>* rows = nullptr);

// Symmetric adjacency: for every (i, j) also (j, i); self-loops dropped, duplicates merged,
// values set to 1.
Csr symmetrize_binary(int64_t n, const std::vector<std::pair<int64_t, int64_t>>& edges);

}  // namespace pdadmm
