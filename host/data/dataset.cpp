// Consistency checks shared by every loader.
#include "host/data/dataset.h"

#include <cmath>

#include "host/io/error.h"

namespace pdadmm {

void Dataset::validate() const {
  const std::string what = "data set '" + name + "'";
  adj.validate(what + " adjacency");
  require(adj.rows == adj.cols, what + ": adjacency is not square");
  require(features.rows == adj.rows, what + ": " + std::to_string(features.rows) +
                                         " feature rows for " + std::to_string(adj.rows) + " nodes");
  require(features.cols > 0, what + ": no features");
  if (features.is_sparse) {
    features.sparse.validate(what + " features");
  } else {
    require(static_cast<int64_t>(features.dense.size()) == features.rows * features.cols,
            what + ": dense feature buffer has the wrong size");
    for (size_t i = 0; i < features.dense.size(); ++i)
      require(std::isfinite(features.dense[i]), [&] {
        return what + ": feature " + std::to_string(i % features.cols) + " of node " +
               std::to_string(i / features.cols) + " is not finite";
      });
  }
  require(static_cast<int64_t>(labels.size()) == adj.rows, what + ": one label per node expected");
  require(num_classes >= 2, what + ": fewer than 2 classes");
  for (int32_t y : labels)
    require(y >= -1 && y < num_classes, [&] {
      return what + ": label " + std::to_string(y) + " outside [0, " + std::to_string(num_classes) + ")";
    });
  std::vector<char> seen(adj.rows, 0);
  auto check = [&](const std::vector<int32_t>& ids, const char* split, bool need_label) {
    require(!ids.empty(), what + ": empty " + split + " split");
    for (int32_t v : ids) {
      require(v >= 0 && v < adj.rows,
              [&] { return what + ": " + split + " node " + std::to_string(v) + " out of range"; });
      require(!seen[v], [&] { return what + ": node " + std::to_string(v) + " is in two splits"; });
      seen[v] = 1;
      require(!need_label || labels[v] >= 0,
              [&] { return what + ": " + split + " node " + std::to_string(v) + " has no label"; });
    }
  };
  check(train, "train", true);
  check(val, "val", false);
  check(test, "test", false);
}

}  // namespace pdadmm
