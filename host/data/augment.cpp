// Â normalisation and augmented features by sparse-times-dense products.
#include "host/data/augment.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "host/backend/avx2_clone.h"
#include "host/backend/cpu_ops.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

bool rows_strictly_increasing(const Csr& m) {
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t e = m.indptr[r] + 1; e < m.indptr[r + 1]; ++e)
      if (m.indices[e - 1] >= m.indices[e]) return false;
  return true;
}

// A + I where A lacks a self-loop: the loaders' CSR (rows sorted, no duplicates) row by row, each
// missing (r, r) put in its place; any other through triplets, duplicates summed. The same CSR
// either way; the first holds no 24-byte triplets (and no sort buffer) per stored entry.
Csr with_remaining_self_loops(const Csr& adj) {
  if (rows_strictly_increasing(adj)) {
    Csr a;
    a.rows = adj.rows;
    a.cols = adj.cols;
    a.indptr.assign(static_cast<size_t>(adj.rows) + 1, 0);
    a.indices.reserve(adj.nnz() + adj.rows);
    a.values.reserve(adj.nnz() + adj.rows);
    auto keep = [&](int32_t c, float v) {
      a.indices.push_back(c);
      a.values.push_back(v);
    };
    for (int64_t r = 0; r < adj.rows; ++r) {
      int64_t e = adj.indptr[r];
      const int64_t end = adj.indptr[r + 1];
      for (; e < end && adj.indices[e] < r; ++e) keep(adj.indices[e], adj.values[e]);
      if (e == end || adj.indices[e] != r) keep(static_cast<int32_t>(r), 1.0f);  // add_remaining_self_loops
      for (; e < end; ++e) keep(adj.indices[e], adj.values[e]);
      a.indptr[r + 1] = static_cast<int64_t>(a.indices.size());
    }
    return a;
  }
  std::vector<Triplet> t;
  t.reserve(adj.nnz() + adj.rows);
  for (int64_t r = 0; r < adj.rows; ++r) {
    bool self = false;
    for (int64_t e = adj.indptr[r]; e < adj.indptr[r + 1]; ++e) {
      self |= adj.indices[e] == r;
      t.push_back({r, adj.indices[e], adj.values[e]});
    }
    if (!self) t.push_back({r, r, 1.0f});
  }
  return csr_from_triplets(adj.rows, adj.cols, std::move(t), true);
}

}  // namespace

Csr normalized_adjacency(const Csr& adj) {
  Csr a = with_remaining_self_loops(adj);
  std::vector<double> deg(a.rows, 0.0);
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t e = a.indptr[r]; e < a.indptr[r + 1]; ++e) deg[r] += a.values[e];
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t e = a.indptr[r]; e < a.indptr[r + 1]; ++e)
      a.values[e] = static_cast<float>(a.values[e] / std::sqrt(deg[r] * deg[a.indices[e]]));
  return a;
}

namespace {

std::string number_text(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

// v / s as a float. Values of both signs can cancel to a sum near 0 ({1e10, -1e10, 1e-30}), and
// dividing by it overflowed float: an infinite feature that the loaders' finiteness check never saw,
// reported later as "training diverged" or as non-finite logits of that node. Refused here, named.
float scaled_feature(float v, double s, int64_t node, int64_t feature) {
  const double q = v / s;
  require(std::fabs(q) <= static_cast<double>(std::numeric_limits<float>::max()), [&] {
    return "data.row_normalize: the features of node " + std::to_string(node) + " sum to " + number_text(s) +
           ", and feature " + std::to_string(feature) + " (" + number_text(v) + ") divided by it is " + number_text(q) +
           ", past float's range (values of both signs that cancel); leave data.row_normalize off or rescale that row";
  });
  return static_cast<float>(q);
}

}  // namespace

Features row_normalized(const Features& h) {
  Features o = h;
  if (o.is_sparse) {
    for (int64_t r = 0; r < o.rows; ++r) {
      double s = 0;
      for (int64_t e = o.sparse.indptr[r]; e < o.sparse.indptr[r + 1]; ++e) s += o.sparse.values[e];
      if (s != 0)
        for (int64_t e = o.sparse.indptr[r]; e < o.sparse.indptr[r + 1]; ++e)
          o.sparse.values[e] = scaled_feature(o.sparse.values[e], s, r, o.sparse.indices[e]);
    }
  } else {
    for (int64_t r = 0; r < o.rows; ++r) {
      double s = 0;
      for (int64_t c = 0; c < o.cols; ++c) s += o.dense[r * o.cols + c];
      if (s != 0)
        for (int64_t c = 0; c < o.cols; ++c) o.dense[r * o.cols + c] = scaled_feature(o.dense[r * o.cols + c], s, r, c);
    }
  }
  return o;
}

namespace {

// A pass over `width` columns holds two n x width buffers; a graph with many nodes and a large
// training set is propagated in column chunks within `bytes` instead of all at once (each column
// is computed on its own: the same bits).
int64_t column_chunk(int64_t n, int64_t width, int64_t bytes) {
  const int64_t fit = bytes / (2 * static_cast<int64_t>(sizeof(float)) * std::max<int64_t>(n, 1));
  return std::max<int64_t>(1, std::min(width, fit));
}

// Block of X that holds power j of Â.
std::vector<int> block_of_power(const AugmentSpec& spec) {
  std::vector<int> b(spec.hops + 1);
  for (int k = 0; k < spec.blocks(); ++k) b[spec.power(k)] = k;
  return b;
}

// Nodes first: M_j = Â^j E (n x kc), E the indicator of nodes [c0, c0 + kc); block j of X = Hᵀ M_j
// (Â symmetric). Cheaper than propagating the features when there are fewer nodes than features.
void augment_node_chunk(const Features& h, const Csr& ahat, const AugmentSpec& spec, const std::vector<int32_t>& nodes,
                        int64_t c0, int64_t kc, HostMatrix<float>& x) {
  const int64_t n = ahat.rows, F = h.cols, k = x.cols;
  const std::vector<int> block = block_of_power(spec);
  std::vector<float> m(static_cast<size_t>(n * kc), 0.0f), next(m.size());
  for (int64_t i = 0; i < kc; ++i) m[static_cast<size_t>(nodes[c0 + i]) * kc + i] = 1.0f;
  std::vector<char> live(h.is_sparse ? static_cast<size_t>(n) : 0);
  for (int j = 0; j <= spec.hops; ++j) {
    if (j > 0) {
      csr_spmm(ahat, m.data(), kc, 1.0f, 0.0f, next.data());
      m.swap(next);
    }
    const float* mj = m.data();
    float* out = x.data.data() + static_cast<int64_t>(block[j]) * F * k + c0;
    if (h.is_sparse) {
      // Rows of M_j outside j hops of the nodes are zero and add nothing (features are finite), so
      // they are skipped; each thread sums its own columns in the same order: the same bits.
#pragma omp parallel for
      for (int64_t v = 0; v < n; ++v)
        live[v] = static_cast<char>(std::any_of(mj + v * kc, mj + (v + 1) * kc, [](float m_v) { return m_v != 0.0f; }));
#pragma omp parallel
      {
        const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
        const int64_t i0 = kc * t / T, i1 = kc * (t + 1) / T;
        for (int64_t v = 0; v < n; ++v) {
          if (!live[v]) continue;
          const float* src = mj + v * kc;
          for (int64_t e = h.sparse.indptr[v]; e < h.sparse.indptr[v + 1]; ++e) {
            const float val = h.sparse.values[e];
            float* row = out + static_cast<int64_t>(h.sparse.indices[e]) * k;
            for (int64_t i = i0; i < i1; ++i) row[i] += val * src[i];
          }
        }
      }
    } else {
      // The training input must not depend on the thread setting (bit-identical runs for any
      // grouping), and OpenBLAS's own threading changes the k order: split rows instead.
      BlasSingleThread one;
      gemm_split_rows(true, false, F, kc, n, 1.0f, h.dense.data(), F, mj, kc, 0.0f, out, k, omp_get_max_threads());
    }
  }
}

// Features first: P_j = Â^j H[:, f0 .. f0 + fc) (n x fc, dense), then block j's rows f0.. are P_j's
// rows at the nodes. Cheaper when there are more nodes than features (a large training set).
void augment_feature_chunk(const Features& h, const Csr& ahat, const AugmentSpec& spec,
                           const std::vector<int32_t>& nodes, int64_t f0, int64_t fc, HostMatrix<float>& x) {
  const int64_t n = ahat.rows, F = h.cols, k = x.cols;
  const std::vector<int> block = block_of_power(spec);
  std::vector<float> p(static_cast<size_t>(n * fc), 0.0f), next(spec.hops > 0 ? p.size() : 0);
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t v = 0; v < n; ++v) {
    float* row = p.data() + v * fc;
    if (h.is_sparse) {
      for (int64_t e = h.sparse.indptr[v]; e < h.sparse.indptr[v + 1]; ++e) {
        const int64_t f = h.sparse.indices[e];
        if (f >= f0 && f < f0 + fc) row[f - f0] = h.sparse.values[e];
      }
    } else {
      std::copy_n(h.dense.data() + v * F + f0, fc, row);
    }
  }
  for (int j = 0; j <= spec.hops; ++j) {
    if (j > 0) {
      csr_spmm(ahat, p.data(), fc, 1.0f, 0.0f, next.data());
      p.swap(next);
    }
    float* out = x.data.data() + (static_cast<int64_t>(block[j]) * F + f0) * k;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < fc; ++c)
      for (int64_t i = 0; i < k; ++i) out[c * k + i] = p[static_cast<size_t>(nodes[i]) * fc + c];
  }
}

}  // namespace

bool augment_features_first(int64_t features, int64_t nodes) { return features < nodes; }

double augment_columns_bytes(int64_t n, int64_t features, const AugmentSpec& spec, int64_t k, int64_t buffer_bytes) {
  const int64_t width = augment_features_first(features, k) ? features : k;
  const double buffers = 2.0 * sizeof(float) * static_cast<double>(n) * static_cast<double>(column_chunk(n, width, buffer_bytes));
  return static_cast<double>(sizeof(float)) * spec.blocks() * static_cast<double>(features) * static_cast<double>(k) +
         (width > 0 ? buffers : 0);
}

HostMatrix<float> augment_columns(const Features& h, const Csr& ahat, const AugmentSpec& spec,
                                  const std::vector<int32_t>& nodes, int64_t buffer_bytes) {
  const int64_t n = ahat.rows, F = h.cols, k = static_cast<int64_t>(nodes.size());
  require(h.rows == n, "augment: features and graph disagree on the number of nodes");
  for (int32_t v : nodes)
    require(v >= 0 && v < n, [&] { return "augment: node " + std::to_string(v) + " out of range"; });
  HostMatrix<float> x(static_cast<int64_t>(spec.blocks()) * F, k);
  // Propagate the narrower side through Â: the nodes' indicator (k columns) or the features (F).
  if (augment_features_first(F, k)) {
    const int64_t chunk = column_chunk(n, F, buffer_bytes);
    for (int64_t f0 = 0; f0 < F; f0 += chunk) augment_feature_chunk(h, ahat, spec, nodes, f0, std::min(chunk, F - f0), x);
  } else {
    const int64_t chunk = column_chunk(n, k, buffer_bytes);
    for (int64_t c0 = 0; c0 < k; c0 += chunk) augment_node_chunk(h, ahat, spec, nodes, c0, std::min(chunk, k - c0), x);
  }
  return x;
}

namespace {

// One output row of a sparse features' product: o = sum of val_e * wt[f_e] in e order, a multiply
// then an add per element; with an AVX2 twin (host/backend/avx2_clone.h: the same bits).
PDADMM_ALWAYS_INLINE void sparse_row_times(const Csr& m, int64_t v, const float* wt, int64_t n, float* o) {
  for (int64_t i = 0; i < n; ++i) o[i] = 0;
  for (int64_t e = m.indptr[v]; e < m.indptr[v + 1]; ++e) {
    const float val = m.values[e];
    const float* src = wt + static_cast<int64_t>(m.indices[e]) * n;
    for (int64_t i = 0; i < n; ++i) o[i] += val * src[i];
  }
}

PDADMM_TARGET_AVX2 void sparse_row_times_avx2(const Csr& m, int64_t v, const float* wt, int64_t n, float* o) {
  sparse_row_times(m, v, wt, n, o);
}

}  // namespace

void features_times(const Features& h, const float* w, int64_t n, int64_t ld, int64_t col0, float* out,
                    const std::vector<int32_t>* rows) {
  const int64_t F = h.cols;
  if (!h.is_sparse && rows) {
    Features sub;
    sub.rows = static_cast<int64_t>(rows->size());
    sub.cols = F;
    sub.dense.resize(static_cast<size_t>(sub.rows * F));
    for (int64_t i = 0; i < sub.rows; ++i)
      std::copy_n(h.dense.data() + static_cast<int64_t>((*rows)[i]) * F, F, sub.dense.data() + i * F);
    features_times(sub, w, n, ld, col0, out);
    return;
  }
  if (!h.is_sparse) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(h.rows), static_cast<int>(n),
                static_cast<int>(F), 1.0f, h.dense.data(), static_cast<int>(F), w + col0, static_cast<int>(ld), 0.0f,
                out, static_cast<int>(n));
    return;
  }
  // Transpose the block once so each feature's weights are contiguous; in 32 x 32 tiles on all
  // threads (a plain double loop writes with stride n: 4% of an evaluation on Coauthor CS).
  std::vector<float> wt(static_cast<size_t>(F * n));
  constexpr int64_t kTile = 32;
#pragma omp parallel for schedule(static)
  for (int64_t f0 = 0; f0 < F; f0 += kTile)
    for (int64_t i0 = 0; i0 < n; i0 += kTile)
      for (int64_t f = f0; f < std::min(F, f0 + kTile); ++f)
        for (int64_t i = i0; i < std::min(n, i0 + kTile); ++i) wt[f * n + i] = w[i * ld + col0 + f];
  const int64_t count = rows ? static_cast<int64_t>(rows->size()) : h.rows;
  const bool avx2 = use_host_ops_avx2();
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t r = 0; r < count; ++r) {
    const int64_t v = rows ? (*rows)[r] : r;
    if (avx2)
      sparse_row_times_avx2(h.sparse, v, wt.data(), n, out + r * n);
    else
      sparse_row_times(h.sparse, v, wt.data(), n, out + r * n);
  }
}

FirstLayerProduct::FirstLayerProduct(const Features& h, const Csr& ahat, const AugmentSpec& spec,
                                     const HostMatrix<float>& w1)
    : h_(h), ahat_(ahat), w1_(w1), hops_(spec.hops) {
  const int64_t n = w1.rows, F = h.cols, nodes = ahat.rows;
  require(w1.cols == spec.blocks() * F, "first layer: W has " + std::to_string(w1.cols) + " columns, expected " +
                                            std::to_string(spec.blocks() * F));
  const std::vector<int> blocks = block_of_power(spec);
  auto block = [&](int pw) { return static_cast<int64_t>(blocks[pw]) * F; };
  col0_ = block(0);
  if (spec.hops == 0) return;
  // Dense features' GEMMs: OpenBLAS's own threading rounds by where its splits fall, and `pdadmm
  // eval` (OpenBLAS's default threads) must give the trainer's bits (one thread, configure_threads).
  BlasSingleThread one;
  // Powers hops .. 1 need every node (Â mixes them); the last step, power 0, is rows()'.
  HostMatrix<float> acc(nodes, n), tmp(nodes, n), hb(nodes, n);
  features_times(h, w1.data.data(), n, w1.cols, block(spec.hops), acc.data.data());
  for (int pw = spec.hops - 1; pw >= 1; --pw) {
    csr_spmm(ahat, acc.data.data(), n, 1.0f, 0.0f, tmp.data.data());  // Â · acc
    features_times(h, w1.data.data(), n, w1.cols, block(pw), hb.data.data());
#pragma omp parallel for
    for (int64_t i = 0; i < acc.size(); ++i) acc.data[i] = tmp.data[i] + hb.data[i];
  }
  inner_ = std::move(acc);
}

HostMatrix<float> FirstLayerProduct::rows(const std::vector<int32_t>& nodes) const {
  const int64_t n = w1_.rows, k = static_cast<int64_t>(nodes.size());
  for (int32_t v : nodes)
    require(v >= 0 && v < ahat_.rows, [&] { return "first layer: node " + std::to_string(v) + " out of range"; });
  BlasSingleThread one;  // as in the constructor
  HostMatrix<float> out(k, n);
  if (hops_ == 0) {
    features_times(h_, w1_.data.data(), n, w1_.cols, col0_, out.data.data(), &nodes);
    return out;
  }
  HostMatrix<float> hb(k, n);
  csr_spmm(ahat_, inner_.data.data(), n, 1.0f, 0.0f, out.data.data(), &nodes);
  features_times(h_, w1_.data.data(), n, w1_.cols, col0_, hb.data.data(), &nodes);
  for (int64_t i = 0; i < out.size(); ++i) out.data[i] += hb.data[i];
  return out;
}

HostMatrix<float> first_layer_rows(const Features& h, const Csr& ahat, const AugmentSpec& spec,
                                   const HostMatrix<float>& w1, const std::vector<int32_t>& rows) {
  return FirstLayerProduct(h, ahat, spec, w1).rows(rows);
}

}  // namespace pdadmm
