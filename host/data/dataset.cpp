// Consistency checks shared by every loader.
#include "host/data/dataset.h"

#include <algorithm>
#include <cmath>

#include "host/data/rng.h"
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

void redraw_train_val(Dataset& d, uint64_t seed) {
  const std::string what = "data set '" + d.name + "': redrawing train/val";
  std::vector<int64_t> per_class(d.num_classes, 0);
  for (int32_t v : d.train) ++per_class[d.labels[v]];
  std::vector<char> in_test(d.labels.size(), 0);
  for (int32_t v : d.test) in_test[v] = 1;
  std::vector<std::vector<int32_t>> pool(d.num_classes);
  for (int32_t v = 0; v < static_cast<int32_t>(d.labels.size()); ++v)
    if (!in_test[v] && d.labels[v] >= 0) pool[d.labels[v]].push_back(v);
  Rng rng(seed);
  std::vector<int32_t> train, rest;
  for (int k = 0; k < d.num_classes; ++k) {
    require(static_cast<int64_t>(pool[k].size()) >= per_class[k], [&] {
      return what + ": class " + std::to_string(k) + " has " + std::to_string(pool[k].size()) +
             " labelled nodes outside the test set, " + std::to_string(per_class[k]) + " needed";
    });
    rng.shuffle(pool[k]);
    train.insert(train.end(), pool[k].begin(), pool[k].begin() + per_class[k]);
    rest.insert(rest.end(), pool[k].begin() + per_class[k], pool[k].end());
  }
  require(rest.size() >= d.val.size(), [&] {
    return what + ": " + std::to_string(rest.size()) + " labelled nodes left for " + std::to_string(d.val.size()) +
           " validation nodes";
  });
  rng.shuffle(rest);
  rest.resize(d.val.size());
  std::sort(train.begin(), train.end());
  std::sort(rest.begin(), rest.end());
  d.train = std::move(train);
  d.val = std::move(rest);
}

}  // namespace pdadmm
