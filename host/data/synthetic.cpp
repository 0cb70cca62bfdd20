// CSBM generator and seeded splits.
#include "host/data/synthetic.h"

#include <cmath>
#include <sstream>

#include "host/data/rng.h"
#include "host/io/error.h"

namespace pdadmm {

Dataset make_synthetic(const SyntheticConfig& cfg, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  const int64_t n = cfg.nodes;
  const int c = cfg.classes;
  d.num_classes = c;
  Rng rng(derive_seed(seed, 0));
  // Balanced classes in random order.
  d.labels.resize(n);
  for (int64_t v = 0; v < n; ++v) d.labels[v] = static_cast<int32_t>(v % c);
  rng.shuffle(d.labels);
  std::vector<std::vector<int64_t>> members(c);
  for (int64_t v = 0; v < n; ++v) members[d.labels[v]].push_back(v);

  Rng erng(derive_seed(seed, 1));
  const int64_t m = static_cast<int64_t>(std::llround(cfg.avg_degree * static_cast<double>(n) / 2));
  std::vector<std::pair<int64_t, int64_t>> edges;
  edges.reserve(m);
  for (int64_t e = 0; e < m; ++e) {
    const int64_t u = static_cast<int64_t>(erng.below(n));
    const int cu = d.labels[u];
    int cv = cu;
    if (erng.uniform() >= cfg.homophily) cv = static_cast<int>((cu + 1 + erng.below(c - 1)) % c);
    const auto& pool = members[cv];
    edges.emplace_back(u, pool[erng.below(pool.size())]);
  }
  d.adj = symmetrize_binary(n, edges);

  Rng frng(derive_seed(seed, 2));
  const int F = cfg.features;
  // Class means: random directions with ||μ_c|| = snr·√2 on average, so means of two classes
  // are about 2·snr apart in expectation while every feature has unit noise.
  std::vector<double> mean(static_cast<size_t>(c) * F);
  const double s = cfg.snr * std::sqrt(2.0 / F);
  for (double& x : mean) x = s * frng.normal();
  // The features are float: means past its range made them inf, refused as "feature 0 of node 0 is
  // not finite" without the key that did it.
  for (double x : mean)
    require(std::isfinite(static_cast<float>(x)), [&] {
      std::ostringstream o;
      o << "config: data.synthetic.snr: " << cfg.snr << " puts the class means past float's range (3.4e38), "
        << "where the features are stored; lower it";
      return o.str();
    });
  d.features.rows = n;
  d.features.cols = F;
  d.features.dense.resize(static_cast<size_t>(n) * F);
  for (int64_t v = 0; v < n; ++v)
    for (int f = 0; f < F; ++f)
      d.features.dense[v * F + f] = static_cast<float>(mean[static_cast<size_t>(d.labels[v]) * F + f] + frng.normal());
  random_split(d, cfg.train_per_class, cfg.val, cfg.test, derive_seed(seed, 3));
  d.validate();
  return d;
}

void random_split(Dataset& d, int train_per_class, int val, int test, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<int32_t>> by_class(d.num_classes);
  for (int64_t v = 0; v < d.num_nodes(); ++v)
    if (d.labels[v] >= 0) by_class[d.labels[v]].push_back(static_cast<int32_t>(v));
  std::vector<char> used(d.num_nodes(), 0);
  d.train.clear();
  for (int k = 0; k < d.num_classes; ++k) {
    auto& ids = by_class[k];
    require(static_cast<int>(ids.size()) >= train_per_class,
            "split: class " + std::to_string(k) + " has only " + std::to_string(ids.size()) + " nodes");
    rng.shuffle(ids);
    for (int i = 0; i < train_per_class; ++i) {
      d.train.push_back(ids[i]);
      used[ids[i]] = 1;
    }
  }
  std::vector<int32_t> rest;
  for (int64_t v = 0; v < d.num_nodes(); ++v)
    if (!used[v] && d.labels[v] >= 0) rest.push_back(static_cast<int32_t>(v));
  require(static_cast<int64_t>(rest.size()) >= static_cast<int64_t>(val) + test,
          "split: not enough labelled nodes for " + std::to_string(val) + " validation and " +
              std::to_string(test) + " test nodes");
  rng.shuffle(rest);
  d.val.assign(rest.begin(), rest.begin() + val);
  d.test.assign(rest.begin() + val, rest.begin() + val + test);
}

}  // namespace pdadmm
