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

// Forward pass over columns of x (the input of layer `first`, n_first x N): returns C x N logits.
HostMatrix<float> forward_columns(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b,
                                  const HostMatrix<float>& x, size_t first = 0);

class Evaluator {
 public:
  // h: the features the model was trained on (already row-normalised if configured).
  Evaluator(const Dataset& d, const Features& h, const Csr& ahat, const AugmentSpec& spec);
  Scores evaluate(const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b) const;

 private:
  const Dataset& d_;
  const Features& h_;
  const Csr& ahat_;
  AugmentSpec spec_;
  std::vector<int32_t> rows_;  // train, val, test node ids, in that order
};

}  // namespace pdadmm
