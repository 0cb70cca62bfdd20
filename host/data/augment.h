// Graph augmentation of GA-MLPs: Â = D^-1/2 (A + I) D^-1/2 and X = [H, ÂH, …, Â^K H] (K = hops),
// formed only for the columns (nodes) that are needed; evaluation uses the first layer's
// sparse form Σ_k Â^k (H B_kᵀ) instead (DESIGN.md "Memory and speed").
#pragma once
#include <vector>

#include "host/backend/host_matrix.h"
#include "host/data/dataset.h"

namespace pdadmm {

// Â with self-loops added; degrees count the self-loop (reference gcn_norm).
Csr normalized_adjacency(const Csr& adj);

// Copy of the features with each row scaled to sum 1 (rows summing to 0 stay 0).
Features row_normalized(const Features& h);

struct AugmentSpec {
  int hops = 4;
  bool descending = false;  // reference order Â^K H … H
  int blocks() const { return hops + 1; }
  // Power of Â in feature block k.
  int power(int k) const { return descending ? hops - k : k; }
};

// X restricted to `nodes`, as the ADMM input p_1: rows = blocks·F features, columns = nodes.
// Â propagates the narrower side: the nodes' indicator when there are no more nodes than features
// F (Hᵀ Â^j E), else the features (rows of Â^j H), in column chunks whose two n-row buffers fit in
// buffer_bytes (beside X itself), so a large graph's large training set needs no n x N matrix.
constexpr int64_t kAugmentBufferBytes = int64_t{512} << 20;
HostMatrix<float> augment_columns(const Features& h, const Csr& ahat, const AugmentSpec& spec,
                                  const std::vector<int32_t>& nodes, int64_t buffer_bytes = kAugmentBufferBytes);
// Whether augment_columns propagates the features (true) or the nodes' indicator.
bool augment_features_first(int64_t features, int64_t nodes);
// The bytes augment_columns allocates for a graph of n nodes and k columns: X and its two buffers.
double augment_columns_bytes(int64_t n, int64_t features, const AugmentSpec& spec, int64_t k,
                             int64_t buffer_bytes = kAugmentBufferBytes);

// H·Wᵀ-like product: out (n_nodes x n) = H (n_nodes x F) · Bᵀ, B = columns [col0, col0+F) of
// w (n x ld); with `rows`, only those rows of H, in that order (rows.size() x n).
void features_times(const Features& h, const float* w, int64_t n, int64_t ld, int64_t col0, float* out,
                    const std::vector<int32_t>* rows = nullptr);

// First layer pre-activation Σ_k Â^power(k) H B_kᵀ (no bias), by Horner's rule over the powers:
// the powers above 0 mix every node, so they are summed once for all nodes (nodes x n); rows()
// takes the last step for the nodes asked (the scored ones; all of them chunk by chunk for
// predictions). h, ahat and w1 must outlive it.
class FirstLayerProduct {
 public:
  FirstLayerProduct(const Features& h, const Csr& ahat, const AugmentSpec& spec, const HostMatrix<float>& w1);
  // The nodes `nodes`, in that order: nodes.size() x n.
  HostMatrix<float> rows(const std::vector<int32_t>& nodes) const;

 private:
  const Features& h_;
  const Csr& ahat_;
  const HostMatrix<float>& w1_;
  int hops_;
  int64_t col0_ = 0;         // block of power 0 in w1
  HostMatrix<float> inner_;  // Σ_{p ≥ 1} Â^(p−1) H B_pᵀ for every node (hops > 0)
};

// FirstLayerProduct's rows for `rows` alone (rows.size() x n).
HostMatrix<float> first_layer_rows(const Features& h, const Csr& ahat, const AugmentSpec& spec,
                                   const HostMatrix<float>& w1, const std::vector<int32_t>& rows);

}  // namespace pdadmm
