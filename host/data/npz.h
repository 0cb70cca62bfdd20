// numpy arrays on the host: strict .npy parsing, .npz (zip) archives through libzip, CSR from
// scipy-style arrays, and the gnn-benchmark loader (Amazon Computers/Photo, Coauthor CS, a user's
// own file).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/data/csr.h"
#include "host/data/dataset.h"

namespace pdadmm {

// A C-order little-endian numpy array: descr is one of "<f4" "<i4" "<i8" "<f8" "|b1".
struct NumpyArray {
  std::string descr;
  std::vector<int64_t> shape;
  std::string data;  // raw bytes, size() * itemsize() of them

  int64_t size() const;      // product of shape (1 for a 0-d array)
  int itemsize() const;      // bytes per element
  bool is_integer() const;   // <i4 <i8 |b1
  // Values converted; integer conversion of a float array throws Error naming `what`.
  std::vector<int64_t> to_int64(const std::string& what) const;
  std::vector<double> to_double() const;
  double at(int64_t i) const;  // element i (C order) converted; i < size()
};

// Bytes per element for a supported descr, or 0 when the descr is not supported.
int numpy_itemsize(const std::string& descr);
// Size of an array with this shape and itemsize; throws Error naming `what` on negative
// dimensions or when the byte size overflows.
int64_t numpy_checked_bytes(const std::vector<int64_t>& shape, int itemsize, const std::string& what);

// Parses a whole .npy file (format 1.0 or 2.0). Throws Error naming `what` for a bad magic or
// version, a malformed header dict, an unsupported dtype, fortran order, or a shape that does not
// match the number of data bytes.
NumpyArray parse_npy(const std::string& bytes, const std::string& what);
// A 0-d byte-string .npy ('|S1' to '|S99'), as numpy saves np.array(b"csr") (scipy.sparse.save_npz's
// format): its bytes less numpy's trailing NUL padding. Errors name `what`.
std::string parse_npy_bytes(const std::string& bytes, const std::string& what);

// What a member holds: a numeric array (parse_npy) or one byte string (parse_npy_bytes).
enum class NpyKind { numbers, byte_string };

// A read-only .npz archive (stored or deflated members).
class NpzArchive {
 public:
  // Opens a file; throws Error naming the path when it is missing, not a regular file or not a zip
  // archive.
  static NpzArchive open_file(const std::string& path);
  // Opens an archive held in memory (the bytes must outlive the archive); `what` names it.
  static NpzArchive open_memory(const std::string& bytes, const std::string& what);
  NpzArchive(NpzArchive&&) noexcept;
  NpzArchive& operator=(NpzArchive&&) noexcept;
  ~NpzArchive();

  bool has(const std::string& key) const;  // key without ".npy"
  std::vector<std::string> keys() const;
  // Parsed array / byte string; throw Error naming the archive and key when absent or corrupt.
  NumpyArray array(const std::string& key) const;
  std::string byte_string(const std::string& key) const;
  const std::string& what() const { return what_; }

 private:
  NpzArchive() = default;
  // A member's bytes, its .npy header checked (as `kind`) against its size before the rest is read.
  std::string read_member(const std::string& key, NpyKind kind) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string what_;
};

// A stored value for an error message: 1e+300, not std::to_string's 301 digits.
std::string stored_value_text(double v);

// Builds a canonical Csr (indices sorted within each row, duplicates summed) from scipy-style
// arrays, after checking indptr length / monotonicity and index ranges. Errors name `what` (the
// file) and the arrays as stored: PREFIXindptr, PREFIXindices, PREFIXdata, PREFIXshape.
Csr csr_from_scipy_arrays(int64_t rows, int64_t cols, const std::vector<int64_t>& indptr,
                          const std::vector<int64_t>& indices, const std::vector<double>& values,
                          const std::string& what, const std::string& prefix = "");

// Sizes of a gnn-benchmark split (the reference's: 20 per class, 1000 test, 1000 val). A size in
// (0, 1) is a fraction of the labelled nodes: floor(size * labelled) of them, as Python's
// int(size * labelled). `keys`, when set, is the config section they come from ("data.npz"):
// errors about a class or a set too small for them name its keys, the ones to change.
struct SplitSizes {
  int per_class = 20;
  double test = 1000;
  double val = 1000;
  std::string keys;
  double train = 0;  // > 0: this many training nodes regardless of class (per_class unused)
};

// Loads a gnn-benchmark .npz (adj_*, attr_* or attr_matrix, labels) and draws the split as the
// reference's split_dataset does with torch.manual_seed(split_seed) (the reference uses 100): per
// class, the first sizes.per_class of a random permutation of its nodes train; then a random
// permutation of the other labelled nodes (ascending ids) gives sizes.test test and then sizes.val
// val nodes. With sizes.train > 0 instead, one random permutation of all labelled nodes (ascending
// ids) gives sizes.train train, then sizes.test test, then sizes.val val nodes. Features: CSR
// attr_data/attr_indices/attr_indptr/attr_shape, else a dense 2-D attr_matrix (<f4 or <f8), as
// gnn-benchmark's load_npz_to_sparse_graph prefers them; every stored value > 0 becomes 1, as
// PyG's read_npz (and so the reference) reads them, unless raw_counts.
Dataset load_gnn_benchmark(const std::string& file, const std::string& name, uint64_t split_seed,
                           bool raw_counts = false, const SplitSizes& sizes = {});
// The same from an open archive (used by load_gnn_benchmark and the fuzz target).
Dataset gnn_benchmark_from_archive(const NpzArchive& archive, const std::string& name, uint64_t split_seed,
                                   bool raw_counts = false, const SplitSizes& sizes = {});
// CSR features from PREFIXdata, PREFIXindices, PREFIXindptr and PREFIXshape ("attr_" in a
// gnn-benchmark .npz, "" in scipy.sparse.save_npz's file), checked by csr_from_scipy_arrays; n < 0:
// as many nodes as rows. Errors name the archive and the array.
Features sparse_features(const NpzArchive& z, const std::string& prefix, int64_t n);
// A dense nodes x features attr_matrix (or a user's features .npy, n < 0: as many nodes as rows):
// <f4 or <f8, every value finite in float32. Errors name `what`.
Features dense_features(const NumpyArray& a, int64_t n, const std::string& what);
// Class ids a loader accepts: -1 (unlabelled) up to 2^20 - 1.
inline bool label_in_range(int64_t y) { return y >= -1 && y < (int64_t{1} << 20); }
// A gnn-benchmark load after the graph and features are read (ds.adj, ds.features; shared with a
// user's own files): features x > 0 -> 1 unless raw_counts, one label per node checked (errors
// name `what`), the split drawn, the whole validated.
void finish_gnn_benchmark(Dataset& ds, const std::vector<int64_t>& labels, const std::string& what, bool raw_counts,
                          uint64_t split_seed, const SplitSizes& sizes);
// torch.manual_seed(seed); torch.randperm(n) on the CPU, bit for bit (exposed for tests).
std::vector<int64_t> torch_randperm(int64_t n, uint64_t seed);
// The split on its own (exposed for tests): labels -1 are never picked.
void draw_gnn_benchmark_split(Dataset& ds, uint64_t split_seed, const SplitSizes& sizes = {});

}  // namespace pdadmm
