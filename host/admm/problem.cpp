// Loading a run's data into a Problem, and planning its host memory against what the machine has.
#include "host/admm/problem.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <tuple>

#include "host/admm/layer_plan.h"
#include "host/admm/solver.h"
#include "host/admm/trainer.h"
#include "host/comm/processes.h"
#include "host/data/load_real.h"
#include "host/data/npz.h"
#include "host/data/own_files.h"
#include "host/data/synthetic.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/host_memory.h"

namespace pdadmm {

namespace {

const char* data_env() {
  const char* e = std::getenv("PDADMM_DATA");
  return e && *e ? e : nullptr;  // empty: unset (not the file system's root)
}

// A missing file names where its folder came from, since the default (./data) is easy to miss.
void require_data_files(const Config& c, const std::string& root) {
  const std::vector<std::string> files = real_dataset_files(c.data.name);
  if (files.empty()) return;  // synthetic, or the user's own files: no data folder
  const std::string from = !c.data.root.empty() ? "data.root or --data"
                           : data_env()         ? "$PDADMM_DATA"
                                                : "the default; set --data, data.root or $PDADMM_DATA";
  // A root that is a file (--data README.md) read as "README.md/planetoid/...: file not found".
  std::error_code ec;
  const auto root_type = std::filesystem::status(root, ec).type();
  if (root_type != std::filesystem::file_type::not_found && root_type != std::filesystem::file_type::directory &&
      root_type != std::filesystem::file_type::none)
    throw Error("data folder " + root + " (from " + from + ") is not a folder");
  std::string base = root;  // "data/" read as "data//planetoid/…"
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  for (const std::string& f : files) {
    const std::string path = base + "/" + f;
    if (::access(path.c_str(), R_OK) == 0) {
      // A FIFO blocked the loader's open until a writer came.
      if (std::filesystem::is_regular_file(path, ec)) continue;
      throw Error(path + ": not a regular file (data folder " + root + ", from " + from + ")");
    }
    // "file not found" for a file there that cannot be read (its permissions, a symlink loop).
    if (errno != ENOENT && errno != ENOTDIR)
      throw Error(path + ": " + std::strerror(errno) + " (data folder " + root + ", from " + from + ")");
    // --data .../planetoid: the folder that holds planetoid/ and npz/ was meant.
    std::filesystem::path r = std::filesystem::absolute(root, ec).lexically_normal();  // ".", "planetoid/"
    if (!r.has_filename()) r = r.parent_path();
    const std::string leaf = r.filename().string(), sub = f.substr(0, f.find('/'));
    const std::string parent = r.parent_path().string();
    if (!ec && leaf == sub && ::access((parent + "/" + f).c_str(), R_OK) == 0)
      throw Error(path + ": file not found (data folder " + root + ", from " + from + ", is the " + sub +
                  "/ folder itself: give the folder that holds it, " + parent + ")");
    // PubMed's allx is the one file some copies lack (the project's own among them): the stand-in
    // for smoke tests and timings, where there is no internet to fetch it.
    const bool allx_alone = f == "planetoid/ind.pubmed.allx" && ::access((base + "/planetoid/ind.pubmed.x").c_str(), R_OK) == 0;
    throw Error(path + ": file not found (data folder " + root + ", from " + from +
                "; tools/fetch_datasets.sh downloads the data sets" +
                (allx_alone ? "; without internet, tools/pubmed_standin.py writes a stand-in allx for smoke tests "
                              "and timings, not accuracy: docs/data.md#pubmed-without-allx"
                            : "") +
                ")");
  }
}

// A user's own files are read from the current folder, which a relative path makes easy to miss,
// and a --data given for them (data.root: the named sets' folder) more so.
void require_own_file(const std::string& file, const std::string& key, const std::string& root) {
  std::error_code ec;
  // A folder (a path one level short) was "FOLDER: not a regular file", without the key.
  if (std::filesystem::is_directory(file, ec)) throw Error(file + ": a folder, not a file (" + key + ")");
  if (const auto st = std::filesystem::status(file, ec); std::filesystem::exists(st)) {
    // A FIFO or a device (/dev/stdin) is refused as the reader opens it: name the key here.
    if (!std::filesystem::is_regular_file(st)) throw Error(file + ": not a regular file (" + key + ")");
    return;
  }
  // A symlink loop or a name too long is no missing file.
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw Error(file + ": " + ec.message() + " (" + key + ")");
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  const bool relative = std::filesystem::path(file).is_relative() && !ec;
  throw Error(file + ": file not found (" + key +
              (relative ? ", relative to the current folder " + cwd.string() : std::string()) +
              (relative && !root.empty() ? "; --data and data.root are the named data sets' folder, not this one's"
                                         : "") +
              ")");
}

// data.npz's or data.files' split keys as the loader takes them.
SplitSizes own_split(const OwnSplitConfig& s, const std::string& keys) {
  return {s.train_per_class, s.test, s.val, keys, s.train};
}

// The synthetic set is generated before any other check: its dense nodes x features floats, and
// avg_degree x nodes / 2 edges as a list (16 bytes each), both directions as triplets (2 x 24) and
// in the CSR (2 x 8), beside 12 bytes a node of labels and row pointers.
void require_synthetic_memory(const SyntheticConfig& s) {
  const double n = static_cast<double>(s.nodes), m = s.avg_degree * n / 2;
  require_room(4 * n * s.features + 80 * m + 12 * n,
               "the synthetic data set (data.synthetic.nodes " + std::to_string(s.nodes) + " x features " +
                   std::to_string(s.features) + ", avg_degree " + stored_value_text(s.avg_degree) + ") needs",
               "; lower data.synthetic.nodes, features or avg_degree");
}

// X (d x N) is formed on the host before any layer group's check (require_host_memory), so a
// training set too large for it stops here, named, rather than under the kernel's OOM killer.
void require_augment_memory(const Problem& p) {
  const int64_t k = static_cast<int64_t>(p.data.train.size());
  require_room(augment_columns_bytes(p.data.num_nodes(), p.h.cols, p.aug, k),
               "the augmented training input (" + std::to_string(p.aug.blocks() * p.h.cols) + " features x " +
                   std::to_string(k) + " training nodes) needs",
               "; lower model.hops or the number of training nodes");
}

// The bytes a container's elements take (size, not capacity), for problem_bytes.
template <typename V>
double bytes_of(const V& v) {
  return static_cast<double>(v.size() * sizeof(typename V::value_type));
}
double bytes_of(const Csr& m) { return bytes_of(m.indptr) + bytes_of(m.indices) + bytes_of(m.values); }
double bytes_of(const Features& f) { return bytes_of(f.dense) + bytes_of(f.sparse); }

template <typename T>
std::string_view bytes_view(const T* v, size_t n) {
  return {reinterpret_cast<const char*>(v), n * sizeof(T)};
}

// The graph, features and labels as read, in one CRC32 (of each array's, in order). other_form:
// the features' CRCs as the other form would give them (dense rows, or the nonzeros of the dense
// rows as CSR), streamed a row at a time: the same data set as dense or sparse files trains the
// same bits, and a model of one is the other's.
uint32_t dataset_crc(const Dataset& d, bool other_form = false) {
  std::vector<uint32_t> parts;
  const auto add = [&](const auto& v) { parts.push_back(crc32_update(0, bytes_view(v.data(), v.size()))); };
  const Features& f = d.features;
  const bool sparse = f.is_sparse != other_form;
  const int64_t shape[3] = {f.rows, f.cols, sparse ? 1 : 0};
  parts.push_back(crc32_update(0, bytes_view(shape, 3)));
  add(d.adj.indptr);
  add(d.adj.indices);
  if (!other_form && f.is_sparse) {
    add(f.sparse.indptr);
    add(f.sparse.indices);
    add(f.sparse.values);
  } else if (!other_form) {
    add(f.dense);
  } else if (f.is_sparse) {  // as dense rows: the zeros between nonzeros as runs (indices sorted, unique)
    uint32_t crc = 0;
    for (int64_t r = 0; r < f.rows; ++r) {
      int64_t col = 0;
      for (int64_t e = f.sparse.indptr[r]; e < f.sparse.indptr[r + 1]; ++e) {
        require(f.sparse.indices[e] >= col, [] { return "internal: sparse features not in canonical order (sorted, unique)"; });
        crc = crc32_zeros(crc, static_cast<uint64_t>(f.sparse.indices[e] - col) * sizeof(float));
        crc = crc32_update(crc, bytes_view(&f.sparse.values[e], 1));
        col = f.sparse.indices[e] + 1;
      }
      crc = crc32_zeros(crc, static_cast<uint64_t>(f.cols - col) * sizeof(float));
    }
    parts.push_back(crc);
  } else {  // as CSR of the nonzeros
    int64_t at = 0;
    uint32_t ptr = crc32_update(0, bytes_view(&at, 1)), idx = 0, val = 0;
    std::vector<int32_t> cols;
    std::vector<float> vals;
    for (int64_t r = 0; r < f.rows; ++r) {
      cols.clear();
      vals.clear();
      for (int64_t j = 0; j < f.cols; ++j)
        if (const float v = f.dense[static_cast<size_t>(r * f.cols + j)]; v != 0.0f) {
          cols.push_back(static_cast<int32_t>(j));
          vals.push_back(v);
        }
      idx = crc32_update(idx, bytes_view(cols.data(), cols.size()));
      val = crc32_update(val, bytes_view(vals.data(), vals.size()));
      at += static_cast<int64_t>(cols.size());
      ptr = crc32_update(ptr, bytes_view(&at, 1));
    }
    parts.insert(parts.end(), {ptr, idx, val});
  }
  add(d.labels);
  const uint32_t crc = crc32_update(0, bytes_view(parts.data(), parts.size()));
  return crc == 0 ? 1 : crc;  // 0 is "not recorded"
}

}  // namespace

std::string data_root(const Config& c) {
  if (!c.data.root.empty()) return c.data.root;
  if (const char* e = data_env()) return e;
  return "data";
}

std::string hex32(uint32_t v) {
  char s[9];
  std::snprintf(s, sizeof s, "%08x", v);
  return s;
}

namespace {

// The data crc (dataset_crc) of each named set's published files as the loader reads them; 0 where
// unknown (PubMed: its ind.pubmed.allx was never at hand). A flipped byte in a feature or an edge
// that still parses trained silently (Cora: one feature 4.3e9, test 0.09 against 0.54).
uint32_t published_crc(const std::string& name, bool raw_counts) {
  if (name == "cora") return 0x2e9dd87d;
  if (name == "citeseer") return 0x9626b9b7;
  if (name == "amazon_computers") return 0xd643cf5e;
  if (name == "amazon_photo") return 0x185a9fdc;
  if (name == "coauthor_cs") return raw_counts ? 0xb4379c76 : 0x3ba81ca7;
  return 0;
}

}  // namespace

std::vector<std::string> data_warnings(const Config& c, const Problem& p) {
  std::vector<std::string> out;
  const Dataset& d = p.data;
  if (const uint32_t published = published_crc(c.data.name, c.data.raw_counts); published && p.data_crc != published)
    out.push_back("the " + c.data.name + " files in " + data_root(c) + " differ from the published ones (data crc " +
                  hex32(p.data_crc) + ", theirs " + hex32(published) + "): data.verify: true names the changed file " +
                  "(against SHA256SUMS), tools/fetch_datasets.sh fetches them again");
  // Features that are all zero carry nothing: the model sees the graph alone, through its biases.
  const Features& f = p.h;
  const auto zero = [](float v) { return v == 0.0f; };
  if (f.rows > 0 && f.cols > 0 &&
      (f.is_sparse ? std::all_of(f.sparse.values.begin(), f.sparse.values.end(), zero)
                   : std::all_of(f.dense.begin(), f.dense.end(), zero)))
    out.push_back("every feature is 0: the model cannot tell the nodes apart (the features file, or its columns?)");
  // A first column 0, 1, …, n − 1 is a row index: pandas' to_csv writes one unless index=False,
  // and it was read, silently, as a feature (row normalisation would hide it, so not then).
  const Features& h = p.h;
  if (!h.is_sparse && !c.data.row_normalize && h.rows >= 3 && h.cols >= 2) {
    for (const int base : {0, 1}) {  // from 1 too: an id column a user numbered so (R, a spreadsheet)
      bool index = true;
      for (int64_t r = 0; r < h.rows && index; ++r)
        index = h.dense[static_cast<size_t>(r * h.cols)] == static_cast<float>(r + base);
      if (index)
        out.push_back("the first feature column is the row number " + std::to_string(base) + ", " +
                      std::to_string(base + 1) + ", …, " + std::to_string(h.rows - 1 + base) +
                      ": an index column? (pandas' to_csv and reset_index write one; save with index=False)");
    }
  }
  // Row normalisation divides by the row's sum: with values of both signs a row whose values
  // cancel is scaled many times over (Gaussian features: 0.90 -> 0.59, without a word).
  if (c.data.row_normalize) {  // (the scaled features: a negative value is left where the signs mix)
    const std::vector<float>& v = h.is_sparse ? h.sparse.values : h.dense;
    const int64_t negative = std::count_if(v.begin(), v.end(), [](float x) { return x < 0; });
    if (negative > 0)
      out.push_back("data.row_normalize divides each feature row by its sum, and the features hold values of both "
                    "signs (" + std::to_string(negative) + " negative after the scaling): a row whose values cancel "
                    "is scaled many times over; leave it off for signed features (it suits counts, as bag-of-words)");
  }
  // A user's own labels: a class of one or two nodes beside classes 10 times larger is more often
  // a mistyped class id (a new class the model then has an output for) than a class.
  if (c.data.name == "npz" || c.data.name == "files") {
    std::vector<size_t> count(static_cast<size_t>(std::max(d.num_classes, 0)));
    for (int32_t y : d.labels)
      if (y >= 0) ++count[static_cast<size_t>(y)];
    const size_t largest = count.empty() ? 0 : *std::max_element(count.begin(), count.end());
    const auto rare = [&](size_t k) { return count[k] > 0 && count[k] <= 2 && 10 * count[k] <= largest; };
    std::vector<std::string> nodes(count.size());  // of the rare classes, in one pass over the labels
    for (size_t v = 0; v < d.labels.size(); ++v)
      if (const int32_t k = d.labels[v]; k >= 0 && rare(static_cast<size_t>(k)))
        nodes[k] += (nodes[k].empty() ? "" : ", ") + std::to_string(v);
    const size_t kShown = 10;  // a warning each; the rest counted in one line
    size_t rare_classes = 0;
    for (size_t k = 0; k < count.size(); ++k) {
      if (!rare(k) || ++rare_classes > kShown) continue;
      out.push_back("class " + std::to_string(k) + " has " + std::to_string(count[k]) + " labelled node" +
                    (count[k] == 1 ? " (node " : "s (nodes ") + nodes[k] + ") where another has " +
                    std::to_string(largest) + ": a mistyped class id? (the model has an output for every id up to " +
                    std::to_string(d.num_classes - 1) + "; -1 marks an unlabelled node)");
    }
    if (rare_classes > kShown)
      out.push_back(std::to_string(rare_classes - kShown) + " more classes have one or two labelled nodes where another "
                    "has " + std::to_string(largest) + " (the " + std::to_string(kShown) + " above are the first)");
  }
  std::vector<char> seen(static_cast<size_t>(std::max(d.num_classes, 0)), 0);
  for (int32_t v : d.train) seen[static_cast<size_t>(d.labels[v])] = 1;
  std::string missing;
  int count = 0;
  for (size_t k = 0; k < seen.size(); ++k)
    if (!seen[k] && count++ < 20) missing += (count > 1 ? ", " : "") + std::to_string(k);
  if (count == 0) return out;
  if (count > 20) missing += " and " + std::to_string(count - 20) + " more";
  const std::string key = c.data.name == "npz" ? "data.npz" : c.data.name == "files" ? "data.files" : "data";
  out.push_back("class" + std::string(count > 1 ? "es " : " ") + missing + " of " + std::to_string(d.num_classes) +
                (count > 1 ? " have" : " has") + " no training node (" + key +
                ".train draws the training nodes regardless of class): the model cannot learn " +
                (count > 1 ? "them" : "it") + "; " + key + ".train_per_class draws some of every class");
  return out;
}


void require_recorded_data(const nlohmann::json& recorded, const Problem& p, const std::string& file) {
  if (!recorded.is_number_unsigned() || p.data_crc == 0) return;
  const uint32_t then = recorded.get<uint32_t>();
  // The same features as the other form (dense or sparse files) are the same data set.
  require(then == p.data_crc || (p.data_crc_other_form != 0 && then == p.data_crc_other_form), [&] {
    return file + ": the data set read now is not the one its run trained on (its graph, features or labels "
                  "differ: files changed since, or another copy; CRC32 " + hex32(p.data_crc) + ", the run's " +
           hex32(then) + ")";
  });
}

Problem build_problem(const Config& c) {
  // Setup's parallel loops (augmentation, normalisation) keep to `threads` too: the OpenMP default
  // is every core, which oversubscribed a machine shared by mpirun's processes or by sweeps.
  omp_set_num_threads(total_cores(c));
  Problem p;
  if (c.data.name == "synthetic") {
    require_synthetic_memory(c.data.synthetic);
    p.data = make_synthetic(c.data.synthetic, static_cast<uint64_t>(c.seed));
  } else if (c.data.name == "npz") {
    const NpzConfig& f = c.data.npz;
    require_own_file(f.file, "data.npz.file", c.data.root);
    p.data = load_npz_file(f.file, static_cast<uint64_t>(c.data.split_seed), c.data.verify, c.data.raw_counts,
                           own_split(f, "data.npz"));
  } else if (c.data.name == "files") {
    const FilesConfig& f = c.data.files;
    require_own_file(f.edges, "data.files.edges", c.data.root);
    require_own_file(f.features, "data.files.features", c.data.root);
    require_own_file(f.labels, "data.files.labels", c.data.root);
    p.data = load_own_files({f.edges, f.features, f.labels}, static_cast<uint64_t>(c.data.split_seed), c.data.verify,
                            c.data.raw_counts, own_split(f, "data.files"));
  } else {
    const std::string root = data_root(c);
    require_data_files(c, root);
    p.data = load_real_dataset(c.data.name, root, static_cast<uint64_t>(c.data.split_seed), c.data.verify,
                               c.data.raw_counts);
  }
  p.data.validate();
  if (c.data.name != "synthetic") p.data_crc = dataset_crc(p.data);
  if (c.data.name == "files" || c.data.name == "npz") p.data_crc_other_form = dataset_crc(p.data, true);
  if (c.data.val_split_seed >= 0) redraw_train_val(p.data, static_cast<uint64_t>(c.data.val_split_seed));
  // The values live once, in p.h (a dense 100 000 x 1000 matrix is 400 MB); the data set keeps
  // the features' shape.
  p.h = std::move(p.data.features);
  if (c.data.row_normalize) p.h = row_normalized(p.h);
  p.data.features.rows = p.h.rows;
  p.data.features.cols = p.h.cols;
  p.data.features.is_sparse = p.h.is_sparse;
  p.ahat = normalized_adjacency(p.data.adj);
  p.aug.hops = c.model.hops;
  p.aug.descending = c.model.hop_order == "descending";
  // BLAS takes int dimensions: a wider input would wrap, not fail.
  const int64_t width = p.aug.blocks() * p.h.cols;
  require(width <= INT_MAX, [&] {
    return "the augmented input would be " + std::to_string(width) + " features wide (model.hops + 1 = " +
           std::to_string(p.aug.blocks()) + " blocks of " + std::to_string(p.h.cols) +
           "), past BLAS's 2147483647; lower model.hops or the feature count";
  });
  const int64_t n = static_cast<int64_t>(p.data.train.size());
  // One-hot, classes x training nodes: a labels file of many classes (each pair of nodes its own)
  // asked for gigabytes here, before the memory checks of the layers.
  require_room(static_cast<double>(p.data.num_classes) * static_cast<double>(n) * sizeof(float),
               "the one-hot training labels (" + std::to_string(p.data.num_classes) + " classes x " +
                   std::to_string(n) + " training nodes) need",
               "; check the labels file's class ids, or use fewer training nodes");
  require_augment_memory(p);
  p.x = augment_columns(p.h, p.ahat, p.aug, p.data.train);
  p.y = HostMatrix<float>(p.data.num_classes, n);
  for (int64_t j = 0; j < n; ++j) p.y(p.data.labels[p.data.train[j]], j) = 1.0f;
  p.dims.push_back(p.x.rows);
  for (int l = 0; l + 1 < c.model.layers; ++l) p.dims.push_back(c.model.hidden);
  p.dims.push_back(p.data.num_classes);
  return p;
}

HostMatrix<float> augmented_rows(const Problem& p, const std::vector<int32_t>& nodes, const std::string& what) {
  const int64_t k = static_cast<int64_t>(nodes.size()), d = p.aug.blocks() * p.h.cols;
  require_room(augment_columns_bytes(p.data.num_nodes(), p.h.cols, p.aug, k) + 4.0 * static_cast<double>(k * d),
               "the augmented input of the " + std::to_string(k) + " " + what + " nodes (" + std::to_string(d) +
                   " features each, and its transpose) needs",
               "");
  return transposed(augment_columns(p.h, p.ahat, p.aug, nodes));
}

double problem_bytes(const Problem& p) {
  const Dataset& d = p.data;
  return bytes_of(d.adj) + bytes_of(d.features) + bytes_of(d.labels) + bytes_of(d.train) + bytes_of(d.val) +
         bytes_of(d.test) + bytes_of(p.h) + bytes_of(p.ahat) + bytes_of(p.x.data) + bytes_of(p.y.data);
}

namespace {

// What a memory check counts beside the groups' tensors (host_side_bytes).
const char kHostSide[] = "the host's copy of the weights and an evaluation's buffers";

// `dims` the model's: process 0 holds a host copy of all its weights (the evaluations, model.bin),
// so where those alone exceed its room, more processes do not help.
std::string memory_advice(const Config& c, const ProblemShape& sh, int64_t room) {
  const std::vector<int64_t>& dims = sh.dims;
  const double weights = host_weight_bytes(c, dims);
  if (weights > static_cast<double>(room) && process_rank() == 0)
    return " (pdadmm info prints the plan per group); use fewer layers or hidden units: the host's copy of all "
           "the weights alone is " + human_bytes(weights) + ", which process 0 holds (it scores the evaluations and "
           "writes model.bin), so more processes do not help";
  // The least any process count leaves this process: one layer and its host side. Process 0: layer 1
  // (its group runs it in every partition) beside all the weights and the evaluations' buffers;
  // another process: the smallest other layer, its weights' host copy alone.
  const int L = static_cast<int>(dims.size()) - 1;
  const auto layer_bytes = [&](int l) { return plan_group_bytes(dims, l, l + 1, sh.n_cols, c.admm, sizeof(float)); };
  const auto w_bytes = [&](int l) { return layer_weight_bytes(dims, static_cast<size_t>(l)); };
  double layer = layer_bytes(0), side = host_side_bytes(c, sh);
  if (process_rank() > 0) {
    int best = 1;
    for (int l = 2; l < L; ++l)
      if (layer_bytes(l) + w_bytes(l) < layer_bytes(best) + w_bytes(best)) best = l;
    layer = layer_bytes(best);
    side = w_bytes(best);
  }
  if (side + layer > static_cast<double>(room))
    return " (pdadmm info prints the plan per group); use fewer layers, hidden units or nodes: with one layer per "
           "process this one would still need " + human_bytes(side + layer) + " (" +
           (process_rank() == 0 ? "layer 1, which process 0 runs, " : "its smallest layer ") + human_bytes(layer) +
           ", and " + human_bytes(side) + " for the weights' host copy" +
           (process_rank() == 0 ? " and the evaluations' buffers" : "") + "), so more processes do not help";
  return std::string(" (pdadmm info prints the plan per group); use fewer layers or hidden units, or ") +
         (process_count() > 1 ? "more groups (mpirun -np: fewer layers per process)"
                              : "run the groups as processes on several machines (mpirun)");
}

// Under mpirun the processes on a machine draw on its one memory (ulimit -v binds each alone):
// `here` is this process's need (checked alone before), `all` theirs together (processes_machine_sum).
void require_machine_share(double here, double all, const std::string& what_needs) {
  if (all <= here) return;
  const int others = processes_on_machine() - 1;
  require_machine_room(all, "with the other " + std::to_string(others) + (others == 1 ? " process" : " processes") +
                                " on this machine, " + what_needs,
                       " (pdadmm info prints the plan per group); use fewer layers or hidden units, or spread the "
                       "processes over more machines (mpirun --host or --hostfile)");
}

}  // namespace

void require_host_memory(const Config& c, const Problem& p, double held) {
  if (c.backend != "cpu") return;  // a GPU allocation that fails names itself
  // `held` is in use already (what this stage keeps of the one before), so not in the room left either.
  const double need = planned_host_bytes(c, p.dims, p.x.cols) + host_side_bytes(c, p);
  const std::string what = std::string("the layer groups' tensors, ") + kHostSide + " need";
  // Alone first: where this process cannot fit on any machine, more machines do not help.
  require_room(need, what,
               [&](int64_t room) {
                 return (held > 0 ? " beside the " + human_bytes(held) + " this stage keeps of the previous one"
                                  : std::string()) +
                        memory_advice(c, shape_of(p), room);
               });
  require_machine_share(need, processes_machine_sum({need})[0], what);  // collective: every process calls it
}

void require_stages_memory(const Config& given, const Problem& p, size_t from) {
  if (given.backend != "cpu") return;
  const Config c = planning_config(given);
  const std::vector<StageConfig> stages = run_stages(c);
  // What start_stage will check at each stage, plus the carry: not allocated yet, so in the room
  // now. The first stage of this run carries nothing (a resumed stage loads into a fresh solver).
  std::vector<double> need;
  std::vector<int> starts;  // each stage's first iteration
  for (size_t s = 0, it = 0; s < stages.size(); it += static_cast<size_t>(stages[s++].iterations)) {
    if (s < from) continue;
    const Config cs = stage_config(c, s);
    ProblemShape sh = shape_of(p);
    sh.dims = stage_dims(p.x.rows, p.y.rows, cs);
    need.push_back(planned_host_bytes(cs, sh.dims, sh.n_cols) + host_side_bytes(cs, sh) +
                   (s > from ? stage_carry_bytes(c, sh, s) : 0));
    starts.push_back(static_cast<int>(it) + 1);
  }
  const auto what = [&](size_t i) {
    const size_t s = from + i;
    return stages.size() == 1
               ? std::string("the layer groups' tensors, ") + kHostSide + " need"
               : "stage " + std::to_string(s + 1) + " of " + std::to_string(stages.size()) + " (" +
                     std::to_string(stages[s].layers) + " layers, from iteration " + std::to_string(starts[i]) +
                     ") will need for its layer groups' tensors, " +
                     (s > from ? "what it keeps of stage " + std::to_string(s) + ", " : std::string()) + kHostSide;
  };
  // The largest stage names itself: a user who shrinks the model for it shrinks it for the rest.
  // Alone first: where this process cannot fit on any machine, more machines do not help.
  const size_t mine = static_cast<size_t>(std::max_element(need.begin(), need.end()) - need.begin());
  const size_t at = from + mine;
  const double most = need[mine];
  require_room(most, what(mine), [&](int64_t room) {
    const Config cs = stage_config(c, at);
    ProblemShape sh = shape_of(p);
    sh.dims = stage_dims(p.x.rows, p.y.rows, cs);
    return memory_advice(cs, sh, room);
  });
  // On one machine, the stage whose processes need the most together (collective: every process
  // that got here calls it; one that failed above ends the others).
  const std::vector<double> all = processes_machine_sum(need);
  const size_t top = static_cast<size_t>(std::max_element(all.begin(), all.end()) - all.begin());
  require_machine_share(need[top], all[top], what(top));
}

}  // namespace pdadmm
