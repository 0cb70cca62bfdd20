// CSR construction, validation and sparse x dense products.
#include "host/data/csr.h"

#include <algorithm>
#include <cmath>

#include "host/backend/avx2_clone.h"
#include "host/io/error.h"

namespace pdadmm {

void Csr::validate(const std::string& what) const {
  require(rows >= 0 && cols >= 0, what + ": negative shape");
  require(static_cast<int64_t>(indptr.size()) == rows + 1,
          what + ": indptr has " + std::to_string(indptr.size()) + " entries, expected rows+1 = " +
              std::to_string(rows + 1));
  require(indptr[0] == 0, what + ": indptr[0] must be 0");
  require(values.size() == indices.size(), what + ": data and indices differ in length");
  for (int64_t r = 0; r < rows; ++r)
    require(indptr[r] <= indptr[r + 1], [&] { return what + ": indptr decreases at row " + std::to_string(r); });
  require(indptr[rows] == nnz(), what + ": indptr[rows] = " + std::to_string(indptr[rows]) +
                                     " but there are " + std::to_string(nnz()) + " stored values");
  for (int32_t c : indices)
    require(c >= 0 && c < cols, [&] {
      return what + ": column index " + std::to_string(c) + " outside [0, " + std::to_string(cols) + ")";
    });
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t e = indptr[r]; e < indptr[r + 1]; ++e)
      require(std::isfinite(values[e]), [&] {
        return what + ": value " + std::to_string(values[e]) + " at (" + std::to_string(r) + ", " +
               std::to_string(indices[e]) + ") is not finite";
      });
}

Csr csr_from_triplets(int64_t rows, int64_t cols, std::vector<Triplet> t, bool sum_duplicates) {
  for (const Triplet& e : t)
    require(e.row >= 0 && e.row < rows && e.col >= 0 && e.col < cols, [&] {
      return "sparse entry (" + std::to_string(e.row) + ", " + std::to_string(e.col) + ") outside shape " +
             std::to_string(rows) + "x" + std::to_string(cols);
    });
  std::stable_sort(t.begin(), t.end(), [](const Triplet& a, const Triplet& b) {
    return a.row != b.row ? a.row < b.row : a.col < b.col;
  });
  Csr m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(rows + 1, 0);
  for (size_t i = 0; i < t.size(); ++i) {
    bool dup = !m.indices.empty() && i > 0 && t[i].row == t[i - 1].row && t[i].col == t[i - 1].col;
    if (dup) {
      if (sum_duplicates) m.values.back() += t[i].value;
      continue;
    }
    m.indices.push_back(static_cast<int32_t>(t[i].col));
    m.values.push_back(t[i].value);
    m.indptr[t[i].row + 1]++;
  }
  for (int64_t r = 0; r < rows; ++r) m.indptr[r + 1] += m.indptr[r];
  return m;
}

namespace {

// One row of csr_spmm, with an AVX2 twin (host/backend/avx2_clone.h: the same bits).
PDADMM_ALWAYS_INLINE void spmm_row(const Csr& a, int64_t r, const float* x, int64_t k, float alpha, float beta,
                                   float* yr) {
  using T = float;
  if (beta == T(0)) {
    std::fill(yr, yr + k, T(0));
  } else if (beta != T(1)) {
    for (int64_t j = 0; j < k; ++j) yr[j] *= beta;
  }
  for (int64_t e = a.indptr[r]; e < a.indptr[r + 1]; ++e) {
    const T v = alpha * static_cast<T>(a.values[e]);
    const T* xr = x + static_cast<int64_t>(a.indices[e]) * k;
    for (int64_t j = 0; j < k; ++j) yr[j] += v * xr[j];
  }
}

PDADMM_TARGET_AVX2 void spmm_row_avx2(const Csr& a, int64_t r, const float* x, int64_t k, float alpha, float beta,
                                      float* yr) {
  spmm_row(a, r, x, k, alpha, beta, yr);
}

}  // namespace

void csr_spmm(const Csr& a, const float* x, int64_t k, float alpha, float beta, float* y,
              const std::vector<int32_t>* rows) {
  const int64_t count = rows ? static_cast<int64_t>(rows->size()) : a.rows;
  const bool avx2 = use_host_ops_avx2();
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < count; ++i) {
    const int64_t r = rows ? (*rows)[i] : i;
    if (avx2)
      spmm_row_avx2(a, r, x, k, alpha, beta, y + i * k);
    else
      spmm_row(a, r, x, k, alpha, beta, y + i * k);
  }
}


Csr symmetrize_binary(int64_t n, const std::vector<std::pair<int64_t, int64_t>>& edges) {
  // Counted into rows, then each row sorted and its duplicates dropped: 4 bytes a stored entry
  // beside the edges, where triplets (24 bytes) and their stable sort's buffer took up to 48.
  Csr m;
  m.rows = m.cols = n;
  m.indptr.assign(static_cast<size_t>(n) + 1, 0);
  for (const auto& edge : edges) {
    const int64_t i = edge.first, j = edge.second;  // lambdas cannot capture structured bindings (C++17)
    require(i >= 0 && i < n && j >= 0 && j < n, [&] {
      return "edge (" + std::to_string(i) + ", " + std::to_string(j) + ") names a node outside [0, " +
             std::to_string(n) + ")";
    });
    if (i == j) continue;
    ++m.indptr[i + 1];
    ++m.indptr[j + 1];
  }
  for (int64_t r = 0; r < n; ++r) m.indptr[r + 1] += m.indptr[r];
  m.indices.resize(static_cast<size_t>(m.indptr[n]));
  std::vector<int64_t> fill(m.indptr.begin(), m.indptr.end() - 1);
  for (const auto& [i, j] : edges) {
    if (i == j) continue;
    m.indices[fill[i]++] = static_cast<int32_t>(j);
    m.indices[fill[j]++] = static_cast<int32_t>(i);
  }
  int64_t kept = 0;
  for (int64_t r = 0; r < n; ++r) {
    const auto first = m.indices.begin() + m.indptr[r], last = m.indices.begin() + m.indptr[r + 1];
    std::sort(first, last);
    const auto end = std::unique(first, last);
    m.indptr[r] = kept;  // row r starts where the rows before it ended; it is read no more
    for (auto c = first; c != end; ++c) m.indices[kept++] = *c;  // kept <= the row's start: moves down
  }
  m.indptr[n] = kept;
  m.indices.resize(static_cast<size_t>(kept));
  m.indices.shrink_to_fit();
  m.values.assign(static_cast<size_t>(kept), 1.0f);
  return m;
}

}  // namespace pdadmm
