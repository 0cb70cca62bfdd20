// Writes .npy arrays and .npz (zip) archives for the tests (scipy.sparse.save_npz's among them), and a
// small labelled graph in the gnn-benchmark layout that a user's own file (data.name "npz") has.
#pragma once
#include <gtest/gtest.h>
#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace pdadmm::test {

inline std::string le32(const std::vector<int32_t>& v) {
  std::string s;
  for (int32_t x : v)
    for (int k = 0; k < 4; ++k) s += static_cast<char>((static_cast<uint32_t>(x) >> (8 * k)) & 0xff);
  return s;
}
inline std::string f32(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  if (!v.empty()) std::memcpy(&s[0], v.data(), s.size());  // an empty vector's data() may be null
  return s;
}
inline std::string f64(const std::vector<double>& v) {
  std::string s(v.size() * 8, '\0');
  if (!v.empty()) std::memcpy(&s[0], v.data(), s.size());  // an empty vector's data() may be null
  return s;
}

// A .npy file: magic, version, the header dict padded as numpy pads it, then the data.
inline std::string npy(const std::string& header_dict, const std::string& data, int major = 1) {
  std::string h = header_dict;
  const size_t pre = major == 1 ? 10 : 12;
  while ((pre + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string s = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const size_t n = h.size();
  s += static_cast<char>(n & 0xff);
  s += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    s += static_cast<char>((n >> 16) & 0xff);
    s += static_cast<char>((n >> 24) & 0xff);
  }
  return s + h + data;
}

// A C-order array of this dtype and shape ("(3,)", "(2, 4)") holding `data`.
inline std::string npy_shaped(const std::string& descr, const std::string& shape, const std::string& data) {
  return npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data);
}
inline std::string npy_i4(const std::vector<int32_t>& v) {
  return npy_shaped("<i4", "(" + std::to_string(v.size()) + ",)", le32(v));
}
inline std::string npy_f4(const std::vector<float>& v) {
  return npy_shaped("<f4", "(" + std::to_string(v.size()) + ",)", f32(v));
}
inline std::string npy_i8(const std::vector<int64_t>& v) {
  std::string d;
  for (int64_t x : v)
    for (int k = 0; k < 8; ++k) d += static_cast<char>((static_cast<uint64_t>(x) >> (8 * k)) & 0xff);
  return npy_shaped("<i8", "(" + std::to_string(v.size()) + ",)", d);
}

using NpzMembers = std::vector<std::tuple<std::string, std::string, bool>>;  // name, bytes, deflate?

// scipy.sparse.save_npz's members for a CSR matrix, as numpy.savez_compressed writes them (all
// deflated): format a 0-d '|S3' array (the 3 raw bytes after the header), shape <i8.
inline NpzMembers save_npz_members(int64_t rows, int64_t cols, const std::vector<int32_t>& indptr,
                                   const std::vector<int32_t>& indices, const std::vector<float>& data,
                                   const std::string& format = "csr") {
  return {{"indices.npy", npy_i4(indices), true},
          {"indptr.npy", npy_i4(indptr), true},
          {"format.npy", npy_shaped("|S" + std::to_string(format.size()), "()", format), true},
          {"shape.npy", npy_i8({rows, cols}), true},
          {"data.npy", npy_f4(data), true}};
}

// Writes a zip of (name, bytes, deflate?) members with libzip.
inline void write_zip(const std::string& path, const NpzMembers& members) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(za, nullptr) << "zip_open " << path << " failed: " << err;
  for (const auto& [name, bytes, deflate] : members) {
    zip_source_t* src = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
    ASSERT_NE(src, nullptr);
    const zip_int64_t idx = zip_file_add(za, name.c_str(), src, ZIP_FL_OVERWRITE);
    ASSERT_GE(idx, 0);
    ASSERT_EQ(zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0),
              0);
  }
  ASSERT_EQ(zip_close(za), 0) << zip_strerror(za);
}

// One member's bytes as stored (a test's own check of what a writer wrote), read with libzip.
inline std::string read_zip_member(const std::string& path, const std::string& name) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!za) return "";
  std::string out;
  if (zip_file_t* zf = zip_fopen(za, name.c_str(), 0)) {
    char buf[4096];
    for (zip_int64_t got; (got = zip_fread(zf, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(got));
    zip_fclose(zf);
  }
  zip_discard(za);
  return out;
}

// `classes` cliques of `per_class` nodes (node v in class v % classes), each edge stored once
// (u < v), plus a self-loop on node 0 and one edge between classes 0 and 1 stored twice: the loader
// symmetrises, drops the loop and merges the pair, leaving classes * per_class * (per_class - 1) / 2
// + 1 edges. Nodes v % 11 == 10 have label -1. Features: classes + 1 columns, 1.5 at the node's
// class, and a last column 0.25 * (v % 4) (real values, zero for every fourth node).
struct SmallGraph {
  int classes = 3;
  int per_class = 40;

  int n() const { return classes * per_class; }
  int64_t edges() const { return int64_t{classes} * per_class * (per_class - 1) / 2 + 1; }
  int label(int v) const { return v % 11 == 10 ? -1 : v % classes; }
  double feature(int v, int j) const {
    if (j == classes) return 0.25 * (v % 4);
    return j == v % classes ? 1.5 : 0.0;
  }
  int labelled(int c) const {
    int k = 0;
    for (int v = 0; v < n(); ++v) k += label(v) == c;
    return k;
  }

  // The stored edges (u, v), by u: the self-loop, the pair both ways, the cliques.
  std::vector<std::pair<int, int>> stored_edges() const {
    std::vector<std::pair<int, int>> e;
    for (int u = 0; u < n(); ++u) {
      if (u == 0) e.emplace_back(0, 0);  // self-loop
      if (u == 0 || u == 1) e.emplace_back(u, 1 - u);  // 0 - 1 across classes, both ways
      for (int v = u + 1; v < n(); ++v)
        if (v % classes == u % classes) e.emplace_back(u, v);
    }
    return e;
  }
  std::vector<double> dense_features() const {
    std::vector<double> x;
    for (int v = 0; v < n(); ++v)
      for (int j = 0; j <= classes; ++j) x.push_back(feature(v, j));
    return x;
  }
  // The features as CSR (indptr, indices, float32 values), the zeros left out.
  std::tuple<std::vector<int32_t>, std::vector<int32_t>, std::vector<float>> sparse_features() const {
    std::vector<int32_t> fptr{0}, fidx;
    std::vector<float> fval;
    for (int v = 0; v < n(); ++v) {
      for (int j = 0; j <= classes; ++j)
        if (feature(v, j) != 0) {
          fidx.push_back(j);
          fval.push_back(static_cast<float>(feature(v, j)));
        }
      fptr.push_back(static_cast<int32_t>(fidx.size()));
    }
    return {fptr, fidx, fval};
  }
  // The features as scipy.sparse.save_npz(path, csr_matrix(X)) writes them.
  NpzMembers save_npz() const {
    const auto [fptr, fidx, fval] = sparse_features();
    return save_npz_members(n(), classes + 1, fptr, fidx, fval);
  }
  std::string feature_shape() const { return "(" + std::to_string(n()) + ", " + std::to_string(classes + 1) + ")"; }

  // attr: "sparse" (attr_* CSR, <f4), "f4" or "f8" (a dense attr_matrix).
  NpzMembers members(const std::string& attr, bool deflate) const {
    std::vector<int32_t> indptr(static_cast<size_t>(n()) + 1, 0), indices;
    for (const auto& [u, v] : stored_edges()) {
      indices.push_back(v);
      indptr[u + 1] = static_cast<int32_t>(indices.size());
    }
    for (int u = 1; u <= n(); ++u) indptr[u] = std::max(indptr[u], indptr[u - 1]);
    NpzMembers m = {{"adj_data.npy", npy_f4(std::vector<float>(indices.size(), 1.0f)), deflate},
                    {"adj_indices.npy", npy_i4(indices), deflate},
                    {"adj_indptr.npy", npy_i4(indptr), deflate},
                    {"adj_shape.npy", npy_i8({n(), n()}), deflate}};
    std::vector<int64_t> labels;
    for (int v = 0; v < n(); ++v) labels.push_back(label(v));
    m.emplace_back("labels.npy", npy_i8(labels), deflate);
    const int d = classes + 1;
    if (attr == "sparse") {
      const auto [fptr, fidx, fval] = sparse_features();
      m.emplace_back("attr_data.npy", npy_f4(fval), deflate);
      m.emplace_back("attr_indices.npy", npy_i4(fidx), deflate);
      m.emplace_back("attr_indptr.npy", npy_i4(fptr), deflate);
      m.emplace_back("attr_shape.npy", npy_i8({n(), d}), deflate);
    } else {
      m.emplace_back("attr_matrix.npy", dense_npy(attr), deflate);
    }
    return m;
  }
  // The features as a dense .npy: "f4" or "f8".
  std::string dense_npy(const std::string& attr) const {
    const std::vector<double> x = dense_features();
    return attr == "f8" ? npy_shaped("<f8", feature_shape(), f64(x))
                        : npy_shaped("<f4", feature_shape(), f32(std::vector<float>(x.begin(), x.end())));
  }

  // The same graph as data.name "files" reads it, in `dir`: edges.txt (with comments, a blank line,
  // commas and tabs), features.npy ("f4", "f8"), features.csv ("csv") or scipy.sparse.save_npz's
  // features.npz ("sparse"), labels.txt.
  void write_files(const std::string& dir, const std::string& attr) const {
    std::string edges = "# a user's edge list\n\n";
    for (const auto& [u, v] : stored_edges())
      edges += std::to_string(u) + (u % 3 == 0 ? " " : u % 3 == 1 ? ",\t" : ",") + std::to_string(v) + "\n";
    std::string labels = "# class per node\n";
    for (int v = 0; v < n(); ++v) labels += std::to_string(label(v)) + "\n";
    std::string features;
    if (attr == "csv") {
      const std::vector<double> x = dense_features();
      for (size_t i = 0; i < x.size(); ++i) {
        std::ostringstream o;
        o.precision(17);
        o << x[i];
        features += o.str() + ((i + 1) % static_cast<size_t>(classes + 1) == 0 ? "\n" : ",");
      }
    } else if (attr != "sparse") {
      features = dense_npy(attr);
    }
    std::ofstream(dir + "/edges.txt", std::ios::binary) << edges;
    std::ofstream(dir + "/labels.txt", std::ios::binary) << labels;
    if (attr == "sparse")
      write_zip(dir + "/features.npz", save_npz());
    else
      std::ofstream(dir + (attr == "csv" ? "/features.csv" : "/features.npy"), std::ios::binary) << features;
  }
};

}  // namespace pdadmm::test
