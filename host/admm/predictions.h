// Every node's prediction from trained weights (`pdadmm eval --predictions`, output.predictions):
// CSV, one row per node in node-id order: node,split,label,predicted,prob_0,…,prob_{C-1}.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "host/admm/evaluator.h"

namespace pdadmm {

// The CSV's first columns: how eval and train know a predictions file of theirs.
inline constexpr const char* kPredictionsHead = "node,split,label,predicted";

class Predictor {
 public:
  // Layer 1's all-node part and the logits of the nodes in train, val and test by the evaluator's
  // own calls, so their rows are the bits it scores. eval, W and b must outlive it.
  Predictor(const Evaluator& eval, const std::vector<HostMatrix<float>>& W, const std::vector<HostMatrix<float>>& b);
  // The evaluator's scores of these weights (Evaluator::evaluate, the same bits).
  Scores scores() const { return eval_.score_logits(scored_); }
  // The CSV through put(text), `chunk` nodes at a time (0: a size from the widest layer); the nodes
  // in no split go through the layers chunk by chunk, so memory beyond layer 1's all-node part and
  // the scored logits stays one chunk's. Throws Error at a node whose logits are not finite.
  void write_csv(const std::function<void(const std::string&)>& put, int64_t chunk = 0) const;
  // The same into `path` atomically: a temporary renamed into place once complete.
  void save_csv(const std::string& path) const;

 private:
  const Evaluator& eval_;
  const std::vector<HostMatrix<float>>& W_;
  const std::vector<HostMatrix<float>>& b_;
  FirstLayerProduct first_;
  HostMatrix<float> scored_;   // logits of eval's scored nodes, in its order
  std::vector<int64_t> slot_;  // node -> its row in scored_, -1 when in no split
};

}  // namespace pdadmm
