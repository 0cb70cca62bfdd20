// Scores a trained model with a plain forward pass (W, b, ReLU) on the train, validation and
// test nodes, as the reference does; the ADMM variables z, p, q are not used for prediction.
#pragma once
#include <vector>

#include "host/backend/host_matrix.h"
#include "host/data/augment.h"
#include "host/data/dataset.h"

namespace pdadmm {

struct SplitScore {
  double acc = 0;   // fraction of labelled nodes predicted right
  double loss = 0;  // mean cross-entropy over labelled nodes
  int64_t count = 0;
};

struct Scores {
  SplitScore train, val, test;
};

// Accuracy and mean cross-entropy of logits (rows = nodes, cols = classes) against labels
// (-1 = unlabelled, skipped).
SplitScore score_rows(const HostMatrix<float>& logits, const std::vector<int32_t>& labels);

// The same for logits with classes as rows and nodes as columns (C x N).
SplitScore score_columns(const HostMatrix<float>& logits, const std::vector<int32_t>& labels);

// Logits (rows x C) from layer 1's product on some nodes (before the bias, rows x n_1, as
// FirstLayerProduct::rows gives it): b_1, ReLU, then layers 2..L. W[0] is not read (may be empty).
HostMatrix<float> logits_from_first(const HostMatrix<float>& first, const std::vector<HostMatrix<float>>& W,
                                    const std::vector<HostMatrix<float>>& b);

// Forward pass over columns of x (the input of layer `first`, n_first x N): returns C x N logits.
HostMatrix<float> forward_columns(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b,
                                  const HostMatrix<float>& x, size_t first = 0);

class Evaluator {
 public:
  // h: the features the model was trained on (already row-normalised if configured).
  Evaluator(const Dataset& d, const Features& h, const Csr& ahat, const AugmentSpec& spec);
  Scores evaluate(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b) const;
  // Layer 1's W x before the bias on the scored rows (train, val, test nodes in that order): rows x n.
  HostMatrix<float> first_layer(const HostMatrix<float>& w1) const;
  // Layer 1's all-node part for w1 (which must outlive it): its rows(scored_nodes()) are first_layer(w1).
  FirstLayerProduct first_layer_product(const HostMatrix<float>& w1) const { return {h_, ahat_, spec_, w1}; }
  // Scores from a given first_layer product; W[0] is not read (may be empty), b[0] is.
  Scores evaluate_first(const HostMatrix<float>& first, const std::vector<HostMatrix<float>>& W,
                        const std::vector<HostMatrix<float>>& b) const;
  // Scores of the scored rows' logits (scored() x C), as logits_from_first gives them.
  Scores score_logits(const HostMatrix<float>& logits) const;
  const Dataset& data() const { return d_; }
  // The scored rows' node ids: train, val, test in that order.
  const std::vector<int32_t>& scored_nodes() const { return rows_; }
  // For a forward pass elsewhere (Solver::forward_from, on the groups' devices): first (as
  // first_layer gives it) plus b_1 as columns, n_1 x scored rows; and the scores of the logits it
  // returns (C x scored rows).
  HostMatrix<float> layer1_columns(const HostMatrix<float>& first, const HostMatrix<float>& b1) const;
  Scores score_logit_columns(const HostMatrix<float>& logits) const;
  int64_t scored() const { return static_cast<int64_t>(rows_.size()); }

 private:
  const Dataset& d_;
  const Features& h_;
  const Csr& ahat_;
  AugmentSpec spec_;
  std::vector<int32_t> rows_;  // train, val, test node ids, in that order
};

// Layer 1's product on the scored rows from the solver's tracked update (Solver::anchor_first_layer):
// W X_S = s W_a X_S + D (Xᵀ X_S), with W_a X_S taken at the anchor and Xᵀ X_S (N columns) once per
// run, so a logged evaluation neither forms nor multiplies the n x d matrix W. Same algorithm,
// float rounding of its own (the trainer's final scores use W itself).
class FirstLayerTracker {
 public:
  // x: the solver's layer-1 input (d x N, the augmented features of the training nodes).
  FirstLayerTracker(const Evaluator& eval, const HostMatrix<float>& x) : eval_(eval), x_(x) {}
  // first: Evaluator::first_layer of the weights the solver anchored on.
  void anchor(HostMatrix<float> first);
  bool anchored() const { return anchor_.size() > 0; }
  const HostMatrix<float>& anchor_product() const { return anchor_; }  // W_a X_S, for a resume state
  HostMatrix<float> first(double scale, const HostMatrix<float>& d) const;

 private:
  const Evaluator& eval_;
  const HostMatrix<float>& x_;
  HostMatrix<float> cross_;   // rows x N: X_Sᵀ X, made on the first anchor
  HostMatrix<float> anchor_;  // rows x n: W_a X_S
};

}  // namespace pdadmm
