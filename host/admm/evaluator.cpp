// Forward passes for scoring: all nodes' first layer by the sparse form, later layers by GEMM.
#include "host/admm/evaluator.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "host/admm/host_threads.h"
#include "host/io/error.h"

namespace pdadmm {

SplitScore score_rows(const HostMatrix<float>& logits, const std::vector<int32_t>& labels) {
  SplitScore s;
  int64_t right = 0;
  for (int64_t r = 0; r < logits.rows; ++r) {
    if (labels[r] < 0) continue;
    const float* z = logits.data.data() + r * logits.cols;
    const int64_t arg = std::max_element(z, z + logits.cols) - z;
    double m = z[arg], sum = 0;
    for (int64_t c = 0; c < logits.cols; ++c) sum += std::exp(z[c] - m);
    // cppcheck-suppress invalidFunctionArg ; sum >= 1: the max's own term is exp(0)
    s.loss += m + std::log(sum) - z[labels[r]];
    right += (arg == labels[r]);
    s.count++;
  }
  if (s.count) {
    s.acc = static_cast<double>(right) / s.count;
    s.loss /= s.count;
  }
  return s;
}

SplitScore score_columns(const HostMatrix<float>& logits, const std::vector<int32_t>& labels) {
  return score_rows(transposed(logits), labels);
}

// act (m x n_in, rows = nodes) -> act W_lᵀ + b_l, ReLU unless last.
static HostMatrix<float> dense_layer(const HostMatrix<float>& act, const HostMatrix<float>& w, const HostMatrix<float>& b,
                                     bool relu_out) {
  HostMatrix<float> out(act.rows, w.rows);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(act.rows), static_cast<int>(w.rows),
              static_cast<int>(w.cols), 1.0f, act.data.data(), static_cast<int>(act.cols), w.data.data(),
              static_cast<int>(w.cols), 0.0f, out.data.data(), static_cast<int>(out.cols));
  for (int64_t r = 0; r < out.rows; ++r)
    for (int64_t c = 0; c < out.cols; ++c) {
      float v = out(r, c) + b.data[c];
      out(r, c) = (relu_out && v < 0) ? 0 : v;
    }
  return out;
}

// Nodes are independent in a forward pass, so each block of them (rows or columns, a split of the
// node count alone) goes through every layer on one thread with single-threaded GEMMs: no sync
// between layers, and the same bits for any thread count.
constexpr int64_t kMinBlock = 32;

template <typename F>
static void node_blocks(int64_t n, const F& f) {
  const int parts = host_parts(n, kMinBlock);
  const int64_t per = (n + parts - 1) / parts;
  host_parallel(parts, [&](int t) {
    const int64_t i0 = t * per, i1 = std::min(n, i0 + per);
    if (i0 < i1) f(i0, i1);
  });
}

HostMatrix<float> forward_columns(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b,
                                  const HostMatrix<float>& x, size_t first) {
  if (first >= W.size()) return x;
  HostMatrix<float> out(W.back().rows, x.cols);
  node_blocks(x.cols, [&](int64_t j0, int64_t j1) {
    HostMatrix<float> act(x.rows, j1 - j0);
    for (int64_t r = 0; r < x.rows; ++r) std::copy(&x(r, j0), &x(r, j0) + act.cols, &act(r, 0));
    for (size_t l = first; l < W.size(); ++l) {
      HostMatrix<float> z(W[l].rows, act.cols);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(z.rows), static_cast<int>(z.cols),
                  static_cast<int>(W[l].cols), 1.0f, W[l].data.data(), static_cast<int>(W[l].cols), act.data.data(),
                  static_cast<int>(act.cols), 0.0f, z.data.data(), static_cast<int>(z.cols));
      const bool relu_out = l + 1 < W.size();
      for (int64_t r = 0; r < z.rows; ++r)
        for (int64_t c = 0; c < z.cols; ++c) {
          float v = z(r, c) + b[l].data[r];
          z(r, c) = (relu_out && v < 0) ? 0 : v;
        }
      act = std::move(z);
    }
    for (int64_t r = 0; r < act.rows; ++r) std::copy(&act(r, 0), &act(r, 0) + act.cols, &out(r, j0));
  });
  return out;
}

Evaluator::Evaluator(const Dataset& d, const Features& h, const Csr& ahat, const AugmentSpec& spec)
    : d_(d), h_(h), ahat_(ahat), spec_(spec) {
  rows_.insert(rows_.end(), d.train.begin(), d.train.end());
  rows_.insert(rows_.end(), d.val.begin(), d.val.end());
  rows_.insert(rows_.end(), d.test.begin(), d.test.end());
}

HostMatrix<float> Evaluator::first_layer(const HostMatrix<float>& w1) const {
  return first_layer_rows(h_, ahat_, spec_, w1, rows_);
}

Scores Evaluator::evaluate(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b) const {
  return evaluate_first(first_layer(W[0]), W, b);
}

HostMatrix<float> logits_from_first(const HostMatrix<float>& first, const std::vector<HostMatrix<float>>& W,
                                    const std::vector<HostMatrix<float>>& b) {
  require(first.cols == b[0].rows, "evaluate: layer 1's product has the wrong shape");
  const bool relu0 = W.size() > 1;
  HostMatrix<float> logits(first.rows, b.back().rows);
  node_blocks(first.rows, [&](int64_t r0, int64_t r1) {
    HostMatrix<float> a(r1 - r0, first.cols);
    for (int64_t i = 0; i < a.rows; ++i)
      for (int64_t c = 0; c < a.cols; ++c) {
        const float v = first(r0 + i, c) + b[0].data[c];
        a(i, c) = (relu0 && v < 0) ? 0 : v;
      }
    for (size_t l = 1; l < W.size(); ++l) a = dense_layer(a, W[l], b[l], l + 1 < W.size());
    std::copy(a.data.begin(), a.data.end(), &logits(r0, 0));
  });
  return logits;
}

Scores Evaluator::evaluate_first(const HostMatrix<float>& first, const std::vector<HostMatrix<float>>& W,
                                 const std::vector<HostMatrix<float>>& b) const {
  require(first.rows == static_cast<int64_t>(rows_.size()), "evaluate: layer 1's product has the wrong shape");
  return score_logits(logits_from_first(first, W, b));
}

HostMatrix<float> Evaluator::layer1_columns(const HostMatrix<float>& first, const HostMatrix<float>& b1) const {
  require(first.rows == static_cast<int64_t>(rows_.size()) && first.cols == b1.rows,
          "evaluate: layer 1's product has the wrong shape");
  HostMatrix<float> t(first.cols, first.rows);
  for (int64_t i = 0; i < first.rows; ++i)
    for (int64_t c = 0; c < first.cols; ++c) t(c, i) = first(i, c) + b1.data[c];
  return t;
}

Scores Evaluator::score_logit_columns(const HostMatrix<float>& logits) const {
  require(logits.cols == static_cast<int64_t>(rows_.size()), "evaluate: logits have the wrong shape");
  return score_logits(transposed(logits));
}

Scores Evaluator::score_logits(const HostMatrix<float>& act) const {
  require(act.rows == static_cast<int64_t>(rows_.size()), "evaluate: logits have the wrong shape");
  Scores s;
  size_t off = 0;
  for (auto [ids, out] : {std::pair{&d_.train, &s.train}, std::pair{&d_.val, &s.val}, std::pair{&d_.test, &s.test}}) {
    HostMatrix<float> part(static_cast<int64_t>(ids->size()), act.cols);
    std::copy(act.data.begin() + static_cast<int64_t>(off) * act.cols,
              act.data.begin() + static_cast<int64_t>(off + ids->size()) * act.cols, part.data.begin());
    std::vector<int32_t> labels;
    for (int32_t v : *ids) labels.push_back(d_.labels[v]);
    *out = score_rows(part, labels);
    off += ids->size();
  }
  return s;
}

void FirstLayerTracker::anchor(HostMatrix<float> first) {
  if (cross_.size() == 0) {  // X_S Xᵀ is first_layer with Xᵀ (N x d) as the weights
    HostMatrix<float> xt(x_.cols, x_.rows);
#pragma omp parallel for
    for (int64_t j = 0; j < x_.cols; ++j)
      for (int64_t f = 0; f < x_.rows; ++f) xt(j, f) = x_(f, j);
    cross_ = eval_.first_layer(xt);
  }
  require(first.rows == cross_.rows, "first-layer tracker: the anchor has " + std::to_string(first.rows) +
                                         " rows, one per scored node expected (" + std::to_string(cross_.rows) + ")");
  anchor_ = std::move(first);
}

HostMatrix<float> FirstLayerTracker::first(double scale, const HostMatrix<float>& d) const {
  require(anchored() && d.rows == anchor_.cols && d.cols == cross_.cols, "first-layer tracker: no anchor or wrong D");
  HostMatrix<float> out = anchor_;  // s W_a X_S + X_S Xᵀ Dᵀ, rows = nodes
  node_blocks(out.rows, [&](int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(r1 - r0), static_cast<int>(out.cols),
                static_cast<int>(d.cols), 1.0f, &cross_(r0, 0), static_cast<int>(cross_.cols), d.data.data(),
                static_cast<int>(d.cols), static_cast<float>(scale), &out(r0, 0), static_cast<int>(out.cols));
  });
  return out;
}

}  // namespace pdadmm
