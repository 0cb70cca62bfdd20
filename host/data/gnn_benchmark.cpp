// The gnn-benchmark data sets (Amazon Computers/Photo, Coauthor CS, a user's own .npz): the graph,
// the features and the labels from an archive's arrays, and the reference's seeded split.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "host/data/npz.h"
#include "host/io/error.h"

namespace pdadmm {

namespace {

int64_t scalar_pair(const NumpyArray& a, int which, const std::string& what) {
  require(a.shape.size() == 1 && a.shape[0] == 2, what + ": must have shape (2,)");
  return a.to_int64(what)[static_cast<size_t>(which)];
}

// The CSR matrix stored as PREFIXdata, PREFIXindices, PREFIXindptr ("adj_", "attr_", or "").
Csr csr_member(const NpzArchive& z, const std::string& prefix, int64_t rows, int64_t cols) {
  const std::string& file = z.what();
  const NumpyArray indptr = z.array(prefix + "indptr");
  const NumpyArray indices = z.array(prefix + "indices");
  const NumpyArray data = z.array(prefix + "data");
  for (const NumpyArray* a : {&indptr, &indices, &data})
    require(a->shape.size() == 1, file + ": " + (prefix.empty() ? "data, indices and indptr" : prefix + "*") +
                                      " arrays must be one-dimensional");
  return csr_from_scipy_arrays(rows, cols, indptr.to_int64(file + ": " + prefix + "indptr"),
                               indices.to_int64(file + ": " + prefix + "indices"), data.to_double(), file, prefix);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

Features dense_features(const NumpyArray& a, int64_t n, const std::string& what) {
  // Any dtype parse_npy reads: counts saved as integers (or a 0/1 matrix as bool) are features too;
  // the integers were refused, after parse_npy's own list had offered them.
  require(a.shape.size() == 2, what + ": must be two-dimensional (nodes x features), has shape " + shape_text(a.shape));
  if (n < 0) n = a.shape[0];
  require(a.shape[0] == n, what + " has " + std::to_string(a.shape[0]) + " rows for " + std::to_string(n) + " nodes");
  require(a.shape[1] >= 1 && a.shape[1] <= std::numeric_limits<int32_t>::max(),
          what + ": " + std::to_string(a.shape[1]) + " feature columns (1 to 2^31 - 1 supported)");
  Features f;
  f.rows = n;
  f.cols = a.shape[1];
  f.dense.resize(static_cast<size_t>(a.size()));  // parse_npy matched the shape to the member's bytes
  for (int64_t i = 0; i < a.size(); ++i) {
    const double v = a.at(i);
    f.dense[i] = static_cast<float>(v);  // as training reads it: finite in float32 too
    require(std::isfinite(f.dense[i]), [&] {
      return what + ": value " + stored_value_text(v) + " of node " + std::to_string(i / f.cols) + ", feature " +
             std::to_string(i % f.cols) + " is not finite" + (std::isfinite(v) ? " in float32" : "");
    });
  }
  return f;
}

Features sparse_features(const NpzArchive& z, const std::string& prefix, int64_t n) {
  const std::string& file = z.what();
  const std::string key = prefix + "shape";
  const NumpyArray shape = z.array(key);
  const int64_t rows = scalar_pair(shape, 0, file + ": " + key);
  const int64_t cols = scalar_pair(shape, 1, file + ": " + key);
  if (n < 0) n = rows;
  require(rows == n, file + ": " + key + " has " + std::to_string(rows) + " rows for " + std::to_string(n) + " nodes");
  require(cols >= 1 && cols <= std::numeric_limits<int32_t>::max(),
          file + ": " + key + ": " + std::to_string(cols) + " feature columns (1 to 2^31 - 1 supported)");
  Features f;
  f.rows = n;
  f.cols = cols;
  f.is_sparse = true;
  f.sparse = csr_member(z, prefix, n, cols);  // checks n and cols before anything is sized by them
  return f;
}

namespace {

Features read_features(const NpzArchive& z, int64_t n) {
  if (!z.has("attr_data")) {
    require(z.has("attr_matrix"), z.what() + ": no node features: neither attr_data (CSR, with attr_indices, "
                                             "attr_indptr, attr_shape) nor attr_matrix (dense)");
    return dense_features(z.array("attr_matrix"), n, z.what() + ": attr_matrix");
  }
  return sparse_features(z, "attr_", n);
}

}  // namespace

// torch.manual_seed(seed); torch.randperm(n) on the CPU, as PyTorch computes it for n < 2^32 / 20
// (forward Fisher-Yates on mt19937's 32-bit outputs, z = random() % (n - i)): this reproduces the
// reference's split_dataset exactly.
std::vector<int64_t> torch_randperm(int64_t n, uint64_t seed) {
  std::mt19937 gen(static_cast<std::mt19937::result_type>(seed));
  std::vector<int64_t> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) r[i] = i;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t z = static_cast<int64_t>(gen()) % (n - i);
    std::swap(r[i], r[z + i]);
  }
  return r;
}

namespace {

// The nodes of a split size: a count as given, a fraction of the labelled nodes rounded down (as
// Python's int(size * labelled), the same double product).
int64_t split_count(double size, int64_t labelled) {
  return static_cast<int64_t>(size < 1 ? std::floor(size * static_cast<double>(labelled)) : size);
}

// split_dataset's training nodes: per class the first per_class of a permutation of its nodes.
// Returns the labelled nodes left (ascending), which test and val are drawn from.
std::vector<int32_t> draw_per_class(Dataset& ds, const std::vector<std::vector<int32_t>>& by_class,
                                    const std::vector<int32_t>& labelled, uint64_t split_seed,
                                    const SplitSizes& sizes, const std::string& what) {
  const int per_class = sizes.per_class;
  std::vector<char> taken(ds.labels.size(), 0);
  for (int c = 0; c < ds.num_classes; ++c) {
    const auto& ids = by_class[c];
    require(static_cast<int64_t>(ids.size()) >= per_class, [&] {
      // A class of one or two nodes is more often a mistyped label than a small class: named.
      std::string nodes;
      for (size_t i = 0; i < ids.size() && ids.size() <= 2; ++i) nodes += (i ? ", " : " (node ") + std::to_string(ids[i]);
      return what + ": class " + std::to_string(c) + " has " + std::to_string(ids.size()) + " labelled node" +
             (ids.size() == 1 ? "" : "s") + (nodes.empty() ? "" : nodes + ")") + ", fewer than " +
             std::to_string(per_class) + " train nodes per class" +
             (sizes.keys.empty() ? "" : " (lower " + sizes.keys + ".train_per_class" +
                                            (nodes.empty() ? "" : ", or check that node's label") + ")");
    });
    const std::vector<int64_t> perm = torch_randperm(static_cast<int64_t>(ids.size()), split_seed);
    for (int i = 0; i < per_class; ++i) {
      ds.train.push_back(ids[perm[i]]);
      taken[ids[perm[i]]] = 1;
    }
  }
  std::vector<int32_t> rest;
  for (int32_t v : labelled)
    if (!taken[v]) rest.push_back(v);
  return rest;
}

}  // namespace

void draw_gnn_benchmark_split(Dataset& ds, uint64_t split_seed, const SplitSizes& sizes) {
  const std::string what = ds.name + " split";
  const bool per_class = sizes.train <= 0;
  const std::string& keys = sizes.keys;
  // What to change, when the sizes come from the config.
  const auto change = [&](const std::string& how, const std::string& which) {
    return keys.empty() ? "" : " (" + how + " " + which + ")";
  };
  const int64_t n = static_cast<int64_t>(ds.labels.size());
  std::vector<std::vector<int32_t>> by_class(static_cast<size_t>(ds.num_classes));
  std::vector<int32_t> labelled;  // ascending ids
  for (int64_t v = 0; v < n; ++v)
    if (ds.labels[v] >= 0) {
      by_class[ds.labels[v]].push_back(static_cast<int32_t>(v));
      labelled.push_back(static_cast<int32_t>(v));
    }
  for (int c = 0; c < ds.num_classes; ++c)
    require(!by_class[c].empty() || (per_class && sizes.per_class == 0), [&] {  // no key fixes this one
      const std::string top = std::to_string(ds.num_classes - 1);
      // One node alone with the top label is most likely a typo (a 7 among classes 0..2): named.
      const std::vector<int32_t>& top_nodes = by_class.back();
      const std::string alone =
          top_nodes.size() == 1 ? ", which node " + std::to_string(top_nodes[0]) + " alone has: a typo?" : "";
      return what + ": class " + std::to_string(c) + " has no labelled nodes (the labels go up to " + top + alone +
             (alone.empty() ? ": " : "; ") + "classes must be numbered 0.." + top +
             " without gaps, -1 for unlabelled nodes)";
    });
  const int64_t num_labelled = static_cast<int64_t>(labelled.size());
  require(num_labelled > 0, what + ": no labelled node (every label is -1, unlabelled)");
  const auto count = [&](double size, const char* set) {
    const int64_t k = split_count(size, num_labelled);
    require(k >= 1, [&] {
      return what + ": " + (keys.empty() ? "" : keys + ".") + set + " = " + stored_value_text(size) + " of " +
             std::to_string(num_labelled) + " labelled nodes is no node" + change("raise", keys + "." + set);
    });
    return k;
  };
  const int64_t num_test = count(sizes.test, "test"), num_val = count(sizes.val, "val");
  ds.train.clear();
  ds.test.clear();
  ds.val.clear();
  // One permutation of `pool` gives the training nodes (when not per class), then test, then val.
  const std::vector<int32_t> pool =
      per_class ? draw_per_class(ds, by_class, labelled, split_seed, sizes, what) : labelled;
  int64_t num_train = 0;
  if (per_class) {
    require(static_cast<int64_t>(pool.size()) >= num_test + num_val,
            what + ": only " + std::to_string(pool.size()) + " labelled nodes left for " + std::to_string(num_test) +
                " test + " + std::to_string(num_val) + " val" + change("lower", keys + ".test or " + keys + ".val"));
  } else {
    num_train = count(sizes.train, "train");
    require(num_train + num_test + num_val <= num_labelled,
            what + ": only " + std::to_string(num_labelled) + " labelled nodes for " + std::to_string(num_train) +
                " train + " + std::to_string(num_test) + " test + " + std::to_string(num_val) + " val" +
                change("lower", keys + ".train, " + keys + ".test or " + keys + ".val"));
  }
  const std::vector<int64_t> perm = torch_randperm(static_cast<int64_t>(pool.size()), split_seed);
  int64_t next = 0;
  const std::pair<std::vector<int32_t>*, int64_t> sets[] = {{&ds.train, num_train}, {&ds.test, num_test}, {&ds.val, num_val}};
  for (const auto& [set, k] : sets)
    for (int64_t i = 0; i < k; ++i) set->push_back(pool[perm[next++]]);
  std::sort(ds.train.begin(), ds.train.end());
  std::sort(ds.val.begin(), ds.val.end());
  std::sort(ds.test.begin(), ds.test.end());
}

Dataset load_gnn_benchmark(const std::string& file, const std::string& name, uint64_t split_seed, bool raw_counts,
                           const SplitSizes& sizes) {
  return gnn_benchmark_from_archive(NpzArchive::open_file(file), name, split_seed, raw_counts, sizes);
}

Dataset gnn_benchmark_from_archive(const NpzArchive& z, const std::string& name, uint64_t split_seed, bool raw_counts,
                                   const SplitSizes& sizes) {
  const std::string& file = z.what();
  Dataset ds;
  ds.name = name;

  // scipy.sparse.save_npz's file (a features matrix, say) has no adj_*: say what it is.
  require(z.has("adj_shape") || !(z.has("format") && z.has("indptr")), [&] {
    return file + ": a scipy.sparse.save_npz matrix, not a graph (data.npz.file is a gnn-benchmark .npz with adj_* "
                  "arrays; a save_npz file is data.files.features, beside data.files.edges and labels)";
  });
  const NumpyArray adj_shape = z.array("adj_shape");
  const int64_t n = scalar_pair(adj_shape, 0, file + ": adj_shape");
  require(scalar_pair(adj_shape, 1, file + ": adj_shape") == n, file + ": adjacency is not square");
  {
    const Csr raw = csr_member(z, "adj_", n, n);  // checks n before anything is sized by it
    std::vector<std::pair<int64_t, int64_t>> edges;
    edges.reserve(static_cast<size_t>(raw.nnz()));
    for (int64_t r = 0; r < raw.rows; ++r)
      for (int64_t e = raw.indptr[r]; e < raw.indptr[r + 1]; ++e)
        if (raw.values[e] != 0.0f) edges.emplace_back(r, raw.indices[e]);
    ds.adj = symmetrize_binary(n, edges);
    // As an edge list of only self-loops is (own_files): a graph of no edges, trained without a word.
    require(ds.adj.nnz() > 0, file + ": no edges between two nodes (the adj_* entries are all zeros or self-loops)");
  }

  ds.features = read_features(z, n);
  const NumpyArray labels = z.array("labels");
  require(labels.shape.size() == 1 && labels.shape[0] == n,
          file + ": labels must have shape (" + std::to_string(n) + ",), has " + shape_text(labels.shape));
  finish_gnn_benchmark(ds, labels.to_int64(file + ": labels"), file, raw_counts, split_seed, sizes);
  return ds;
}

void finish_gnn_benchmark(Dataset& ds, const std::vector<int64_t>& labels, const std::string& what, bool raw_counts,
                          uint64_t split_seed, const SplitSizes& sizes) {
  if (!raw_counts) {  // after duplicates are summed, as scipy's todense() then x[x > 0] = 1
    for (float& v : ds.features.is_sparse ? ds.features.sparse.values : ds.features.dense)
      if (v > 0) v = 1;
  }
  int64_t max_label = -1;
  ds.labels.resize(labels.size());
  for (size_t v = 0; v < labels.size(); ++v) {
    const int64_t y = labels[v];
    require(label_in_range(y),
            [&] {
              // A uint64 past int64 arrives held at INT64_MAX (npz.cpp's integer_value).
              const std::string shown = y == INT64_MAX ? "of 2^63 or more" : std::to_string(y);
              return what + ": label " + shown + " of node " + std::to_string(v) +
                     " out of range (-1 for unlabelled, 0 to 2^20 - 1)";
            });
    ds.labels[v] = static_cast<int32_t>(y);
    max_label = std::max(max_label, y);
  }
  ds.num_classes = static_cast<int>(max_label + 1);
  draw_gnn_benchmark_split(ds, split_seed, sizes);
  ds.validate();
}

}  // namespace pdadmm
