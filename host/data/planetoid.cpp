// Planetoid loader: unpickles the ind.<name>.* files and assembles the data set exactly as GCN's
// load_data does (tx/ty reordering by test.index, CiteSeer's padding of isolated test ids).
#include "host/data/planetoid.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>

#include "host/data/pickle.h"
#include "host/io/error.h"

namespace pdadmm {

std::vector<std::string> planetoid_parts() { return {"x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"}; }

namespace {

struct OneHot {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int32_t> label;  // -1 for an all-zero row
};

OneHot one_hot_labels(const NumpyArray& a, const std::string& what) {
  require(a.shape.size() == 2, what + ": labels must be a 2-D one-hot matrix, got " +
                                   std::to_string(a.shape.size()) + " dimensions");
  OneHot out;
  out.rows = a.shape[0];
  out.cols = a.shape[1];
  // Checked before the per-row vector: a (huge, 0) array holds no bytes at all.
  require(out.cols >= 2 && out.cols <= std::numeric_limits<int32_t>::max(),
          what + ": " + std::to_string(out.cols) + " classes (2 to 2^31 - 1 supported)");
  const std::vector<double> v = a.to_double();
  out.label.assign(static_cast<size_t>(out.rows), -1);
  for (int64_t r = 0; r < out.rows; ++r) {
    for (int64_t c = 0; c < out.cols; ++c) {
      const double x = v[static_cast<size_t>(r * out.cols + c)];
      if (x == 0.0) continue;
      require(x == 1.0 && out.label[r] < 0, [&] {
        return what + ": row " + std::to_string(r) + " is not one-hot (labels must be 0/1 with at most one 1)";
      });
      out.label[r] = static_cast<int32_t>(c);
    }
  }
  return out;
}

// Without opening it: opening a FIFO blocks until a writer comes.
void require_planetoid_file(const std::string& path, const std::string& name) {
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  require(type != std::filesystem::file_type::not_found,
          path + ": file not found (needed for the Planetoid data set '" + name + "')");
  require(!ec, path + ": " + ec.message());
  require(type == std::filesystem::file_type::regular, path + ": not a regular file");
}

}  // namespace

std::vector<int64_t> parse_test_index(const std::string& text, const std::string& what) {
  std::vector<int64_t> ids;
  size_t pos = 0;
  int64_t line = 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string s = text.substr(pos, end - pos);
    if (!s.empty() && s.back() == '\r') s.pop_back();
    require(!s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }),
            what + ": line " + std::to_string(line) + " is not a node id (expected decimal digits)");
    const int64_t v = std::stoll(s);
    require(v <= std::numeric_limits<int32_t>::max(), what + ": line " + std::to_string(line) + ": id too large");
    ids.push_back(v);
    pos = end + 1;
    ++line;
  }
  require(!ids.empty(), what + ": no node ids");
  return ids;
}

Dataset load_planetoid(const std::string& dir, const std::string& name) {
  auto path = [&](const std::string& part) { return dir + "/ind." + name + "." + part; };
  const std::vector<std::string> parts = planetoid_parts();
  for (const std::string& part : parts)
    require_planetoid_file(path(part), name);
  std::vector<std::string> bytes;
  bytes.reserve(parts.size());
  for (const std::string& part : parts) bytes.push_back(load_file_bytes(path(part)));
  return planetoid_from_bytes(bytes, dir, name);
}

Dataset planetoid_from_bytes(const std::vector<std::string>& bytes, const std::string& dir, const std::string& name) {
  auto path = [&](const std::string& part) { return dir + "/ind." + name + "." + part; };
  const std::vector<std::string> parts = planetoid_parts();
  require(bytes.size() == parts.size(), "Planetoid data set '" + name + "': " + std::to_string(bytes.size()) +
                                            " files given, expected " + std::to_string(parts.size()));
  auto raw = [&](const std::string& part) -> const std::string& {
    return bytes[static_cast<size_t>(std::find(parts.begin(), parts.end(), part) - parts.begin())];
  };
  auto load = [&](const std::string& part) { return unpickle(raw(part), path(part)); };

  const Csr x = pickle_as_csr(load("x"));
  const OneHot y = one_hot_labels(pickle_as_array(load("y")), path("y"));
  const Csr tx = pickle_as_csr(load("tx"));
  const OneHot ty = one_hot_labels(pickle_as_array(load("ty")), path("ty"));
  const Csr allx = pickle_as_csr(load("allx"));
  const OneHot ally = one_hot_labels(pickle_as_array(load("ally")), path("ally"));
  const std::vector<std::vector<int64_t>> graph = pickle_as_adjacency_lists(load("graph"));
  const std::vector<int64_t> test_ids = parse_test_index(raw("test.index"), path("test.index"));

  // Shapes must agree across the files.
  const std::string what = dir + "/ind." + name + ".*";
  require(x.cols == allx.cols && tx.cols == allx.cols,
          what + ": x, tx and allx have different feature counts (" + std::to_string(x.cols) + ", " +
              std::to_string(tx.cols) + ", " + std::to_string(allx.cols) + ")");
  require(x.rows == y.rows, path("x") + ": " + std::to_string(x.rows) + " rows but y has " + std::to_string(y.rows));
  require(tx.rows == ty.rows, path("tx") + ": " + std::to_string(tx.rows) + " rows but ty has " + std::to_string(ty.rows));
  require(allx.rows == ally.rows,
          path("allx") + ": " + std::to_string(allx.rows) + " rows but ally has " + std::to_string(ally.rows));
  require(y.cols == ty.cols && y.cols == ally.cols, what + ": y, ty and ally have different class counts");
  require(static_cast<int64_t>(test_ids.size()) == tx.rows,
          path("test.index") + ": " + std::to_string(test_ids.size()) + " ids but tx has " + std::to_string(tx.rows) +
              " rows");
  const int64_t n = static_cast<int64_t>(graph.size());
  const int64_t num_train = y.rows, num_val = 500;
  require(num_train + num_val <= allx.rows, what + ": len(y) + 500 validation nodes exceed the " +
                                                std::to_string(allx.rows) + " rows of allx");
  require(allx.rows <= n, path("graph") + ": " + std::to_string(n) + " nodes but allx has " +
                              std::to_string(allx.rows) + " rows");

  // Row source of every node: allx row, tx row (node = test_ids[j] takes tx row j), or nothing.
  std::vector<int64_t> tx_row(static_cast<size_t>(n), -1);
  for (size_t j = 0; j < test_ids.size(); ++j) {
    const int64_t v = test_ids[j];
    require(v >= allx.rows && v < n, [&] {
      return path("test.index") + ": id " + std::to_string(v) + " outside the test range [" +
             std::to_string(allx.rows) + ", " + std::to_string(n) + ")";
    });
    require(tx_row[v] < 0, [&] { return path("test.index") + ": id " + std::to_string(v) + " listed twice"; });
    tx_row[v] = static_cast<int64_t>(j);
  }

  Dataset ds;
  ds.name = name;
  ds.num_classes = static_cast<int>(y.cols);
  ds.features.rows = n;
  ds.features.cols = allx.cols;
  ds.features.is_sparse = true;
  Csr& f = ds.features.sparse;
  f.rows = n;
  f.cols = allx.cols;
  f.indptr.assign(static_cast<size_t>(n) + 1, 0);
  f.indices.reserve(static_cast<size_t>(allx.nnz() + tx.nnz()));
  f.values.reserve(static_cast<size_t>(allx.nnz() + tx.nnz()));
  ds.labels.assign(static_cast<size_t>(n), -1);
  for (int64_t v = 0; v < n; ++v) {
    const Csr* src = nullptr;
    int64_t r = 0;
    if (v < allx.rows) {
      src = &allx;
      r = v;
      ds.labels[v] = ally.label[v];
    } else if (tx_row[v] >= 0) {
      src = &tx;
      r = tx_row[v];
      ds.labels[v] = ty.label[r];
    }  // else: isolated id inside the test range without a tx row (CiteSeer): zero row, label -1
    if (src) {
      f.indices.insert(f.indices.end(), src->indices.begin() + src->indptr[r], src->indices.begin() + src->indptr[r + 1]);
      f.values.insert(f.values.end(), src->values.begin() + src->indptr[r], src->values.begin() + src->indptr[r + 1]);
    }
    f.indptr[v + 1] = static_cast<int64_t>(f.indices.size());
  }

  std::vector<std::pair<int64_t, int64_t>> edges;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j : graph[i]) {
      require(j >= 0 && j < n, [&] {
        return path("graph") + ": node " + std::to_string(i) + " lists neighbour " + std::to_string(j) +
               " outside [0, " + std::to_string(n) + ")";
      });
      edges.emplace_back(i, j);
    }
  }
  ds.adj = symmetrize_binary(n, edges);
  // As the npz and own-file loaders: a graph of self-loops alone trained as "0 edges".
  require(ds.adj.nnz() > 0, path("graph") + ": no edges between two nodes (every list is empty or holds only its own node)");

  for (int64_t v = 0; v < num_train; ++v) ds.train.push_back(static_cast<int32_t>(v));
  for (int64_t v = num_train; v < num_train + num_val; ++v) ds.val.push_back(static_cast<int32_t>(v));
  for (int64_t v = 0; v < num_train + num_val; ++v)  // rows of ally (num_train + num_val <= allx.rows)
    require(ds.labels[v] >= 0, [&] {
      return path("ally") + ": row " + std::to_string(v) + " (a " + (v < num_train ? "training" : "validation") +
             " node) is all zeros: no label";
    });
  ds.test.assign(test_ids.begin(), test_ids.end());
  std::sort(ds.test.begin(), ds.test.end());
  for (int32_t v : ds.test)
    require(ds.labels[v] >= 0, [&] { return path("ty") + ": test node " + std::to_string(v) + " has no label"; });
  ds.validate();
  return ds;
}

}  // namespace pdadmm
