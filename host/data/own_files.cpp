// data.name "files": strict text parsing (std::from_chars, whole fields only), the .npy parser for
// binary features and labels, the npz path's CSR reading for sparse features, then its CSR
// building, label checks and split.
#include "host/data/own_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string_view>
#include <type_traits>

#include "host/data/sha256.h"
#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {

namespace {

bool is_npy(const std::string& bytes) { return bytes.compare(0, 6, "\x93NUMPY", 6) == 0; }
bool is_zip(const std::string& bytes) { return bytes.compare(0, 2, "PK", 2) == 0; }

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == ','; }

bool numeric_start(std::string_view f) {
  return std::isdigit(static_cast<unsigned char>(f[0])) || f[0] == '-' || f[0] == '+' || f[0] == '.';
}

// "file:line: msg"
std::string at_line(const std::string& file, int64_t line, const std::string& msg) {
  return file + ":" + std::to_string(line) + ": " + msg;
}

// Semicolons separate fields in CSV that a decimal-comma locale's spreadsheet writes: named, since
// "0;1" read as one field that is no number.
std::string semicolon_hint(std::string_view text) {
  return text.find(';') == std::string_view::npos ? "" : " (fields are separated by spaces, tabs or commas, not ';')";
}

// An integer field written as a float ("0.000000000000000000e+00", numpy's savetxt default) or
// as NaN (a missing label): what the writer did, for the error.
std::string float_hint(std::string_view field, const char* what) {
  double v = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || end != field.data() + field.size()) return "";
  if (std::isnan(v) && std::string_view(what).find("class id") != std::string_view::npos)
    return " (-1 labels an unlabelled node)";
  if (std::isfinite(v) && v == std::floor(v))
    return " (written as a float: numpy's savetxt writes floats unless given fmt=\"%d\")";
  return "";
}

// A field quoted for an error, cut short: a binary file's "line" may be long.
std::string quoted(std::string_view f) {
  std::string s(f.substr(0, 40));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return "\"" + s + (f.size() > 40 ? "...\"" : "\"");
}

// Fields "0", "1", …: the column names pandas' to_csv writes for a frame of a NumPy array.
bool pandas_column_names(const std::vector<std::string_view>& fields) {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i] != std::to_string(i)) return false;
  return !fields.empty();
}

// Calls f(line number, fields) for every line that is not blank or a comment. A line longer than
// max_line is refused: a text record is short, and a long one means a binary or wrong file.
// `per_node`: row k is node k (features, labels), so a blank line between rows is refused: a
// missing row shifted every node after it by one, and the count error after blamed the other file.
template <typename F>
void for_each_record(const std::string& text, const std::string& file, size_t max_line, bool per_node, F&& f) {
  std::vector<std::string_view> fields;
  int64_t line = 0, blank = 0, records = 0;  // blank: the first blank line since the last record
  // A UTF-8 byte-order mark (Notepad, Excel's "CSV UTF-8") is no field: it made the first number
  // unreadable ("\"???0\" is not a node id"). The config reader skips it too.
  const size_t bom = text.compare(0, 3, "\xef\xbb\xbf") == 0 ? 3 : 0;
  // Lines ended by CR alone (classic Mac OS, some spreadsheet exports) read as one line: "40
  // labels for 1 nodes". CR ends a line where no LF does anywhere.
  const char eol = text.find('\n') == std::string::npos && text.find('\r') != std::string::npos ? '\r' : '\n';
  for (size_t pos = bom; pos < text.size();) {
    ++line;
    size_t end = text.find(eol, pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view l(text.data() + pos, end - pos);
    pos = end + 1;
    require(l.size() <= max_line, [&] {
      return at_line(file, line, "line of " + std::to_string(l.size()) + " bytes, longer than " +
                                     std::to_string(max_line) + " (not a text file?)");
    });
    fields.clear();
    // Runs of spaces and tabs are one separator, but a comma ends a field: an empty one (",," or a
    // comma at either end of the line) is a missing value. Merged with its neighbours, "1,,3" read
    // as "1 3", so a column left empty in every row shifted the columns after it without a word.
    bool field_since_comma = false, any_comma = false;
    size_t empty_field = 0;  // the first empty one's number, from 1; 0: none
    size_t space_field = 0;  // the first field after spaces alone, from 1; 0: none
    for (size_t i = 0; i < l.size();) {
      size_t j = i;
      while (j < l.size() && !is_separator(l[j])) ++j;
      if (j > i) {
        if (field_since_comma && space_field == 0) space_field = fields.size() + 1;
        fields.push_back(l.substr(i, j - i));
        field_since_comma = true;
      }
      if (j < l.size() && l[j] == ',') {
        if (!field_since_comma && empty_field == 0) empty_field = fields.size() + 1;
        field_since_comma = false;
        any_comma = true;
      }
      i = j + 1;
    }
    if (fields.empty() && !any_comma) {
      if (blank == 0) blank = line;
      continue;
    }
    if (!fields.empty() && fields[0][0] == '#') continue;
    require(!per_node || blank == 0 || records == 0, [&] {
      return at_line(file, blank, "a blank line between rows, in a file of one row per node: a missing row? (-1 labels "
                                  "an unlabelled node; lines starting with # are comments)");
    });
    blank = 0;
    ++records;
    if (any_comma && !field_since_comma && empty_field == 0) empty_field = fields.size() + 1;  // "1,2,"
    require(empty_field == 0, [&] {
      // ",0,1,2": pandas' df.to_csv(f) writes an empty index name before the column names.
      const bool names = records == 1 && empty_field == 1 && pandas_column_names(fields);
      return at_line(file, line,
                     "field " + std::to_string(empty_field) +
                         " is empty (two commas in a row, or one at either end of the line: a missing value?)" +
                         (names ? "; with 0, 1, … after it, pandas' index and column names? (write the file with "
                                  "to_csv(f, header=False, index=False))"
                                : ""));
    });
    // "0,5 1,25": a decimal-comma locale's numbers between spaces read as four fields, and a file
    // of them as twice the columns, without a word. No format separates fields both ways; words
    // ("feature a, feature b") go on to the header hint.
    require(!any_comma || space_field == 0 || !numeric_start(fields[space_field - 2]) ||
                !numeric_start(fields[space_field - 1]),
            [&] {
              return at_line(file, line,
                             "fields " + std::to_string(space_field - 1) + " and " + std::to_string(space_field) +
                                 " are separated by spaces, others by commas: decimal commas (\"0,5\")? Write "
                                 "decimals with '.' and separate fields one way");
            });
    if (records > 1) {
      f(line, fields);
      continue;
    }
    try {
      f(line, fields);
    } catch (const Error& e) {  // "src dst" on the first line: a header, which text tools write
      double v = 0;
      const bool word = std::any_of(fields.begin(), fields.end(), [&](std::string_view x) {
        return std::isalpha(static_cast<unsigned char>(x[0])) &&
               std::from_chars(x.data(), x.data() + x.size(), v).ec != std::errc();
      });
      if (!word) throw;
      throw Error(std::string(e.what()) + " (a header line? lines starting with # are skipped)");
    }
  }
}

// A whole field as a T, or the error naming it.
template <typename T>
T number(std::string_view field, const std::string& file, int64_t line, const char* what) {
  T v{};
  // from_chars reads no '+' sign, which some tools write ("+1", "+0.5e-3"): not before a sign.
  const std::string_view digits =
      field.size() > 1 && field[0] == '+' && field[1] != '-' && field[1] != '+' ? field.substr(1) : field;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  // A number past T's range is a number still ("99999999999999999999 is not a node id (an integer)").
  require(ec != std::errc::result_out_of_range || end != digits.data() + digits.size(),
          [&] { return at_line(file, line, quoted(field) + " is out of range for " + what); });
  require(ec == std::errc() && end == digits.data() + digits.size(), [&] {
    const std::string hint = std::is_integral_v<T> ? float_hint(field, what) : "";
    return at_line(file, line, quoted(field) + " is not " + what + (hint.empty() ? semicolon_hint(field) : hint));
  });
  return v;
}

void require_fields(const std::vector<std::string_view>& fields, size_t want, const std::string& file, int64_t line,
                    const std::string& record) {
  require(fields.size() == want, [&] {
    std::string hint;
    for (std::string_view f : fields)
      if (hint.empty()) hint = semicolon_hint(f);
    return at_line(file, line,
                   std::to_string(fields.size()) + " fields, expected " + std::to_string(want) + " (" + record + ")" + hint);
  });
}

// Node ids are 32-bit (the splits' int32 indices).
void require_nodes(int64_t n, const std::string& file) {
  require(n >= 1 && n <= std::numeric_limits<int32_t>::max(),
          file + ": " + std::to_string(n) + " nodes (rows), 1 to 2^31 - 1 supported");
}

Features csv_features(const std::string& text, const std::string& file) {
  Features f;
  for_each_record(text, file, size_t{1} << 30, true, [&](int64_t line, const std::vector<std::string_view>& fields) {
    if (f.rows == 0) {
      f.cols = static_cast<int64_t>(fields.size());
      // pandas' to_csv(index=False) still writes the column names, 0 … d−1 for a frame of a NumPy
      // array: read as node 0, it shifted every node's row by one against the edge list's ids.
      require(fields.size() < 3 || !pandas_column_names(fields), [&] {
        return at_line(file, line, "the first row is 0, 1, …, " + std::to_string(fields.size() - 1) +
                                       ": pandas' column names? (write the file with to_csv(f, header=False, "
                                       "index=False); a first node whose values are these, write as 0.0, 1.0, …)");
      });
    }
    require(static_cast<int64_t>(fields.size()) == f.cols, [&] {
      return at_line(file, line, std::to_string(fields.size()) + " values, the first row has " + std::to_string(f.cols));
    });
    for (const std::string_view field : fields) {
      const double v = number<double>(field, file, line, "a number");
      const float x = static_cast<float>(v);  // as training reads it: finite in float32 too
      require(std::isfinite(x), [&] {
        return at_line(file, line, "value " + quoted(field) + " is not finite" + (std::isfinite(v) ? " in float32" : ""));
      });
      f.dense.push_back(x);
    }
    ++f.rows;
  });
  require(f.rows > 0, file + ": no feature rows (empty file)");
  return f;
}

// scipy.sparse.save_npz's file: format (b"csr"), shape, data, indices, indptr, read as a
// gnn-benchmark .npz's attr_* are; other members (_is_array, for sparse arrays) are not needed.
Features save_npz_features(const std::string& bytes, const std::string& file) {
  const NpzArchive z = NpzArchive::open_memory(bytes, file);
  require(!z.has("adj_shape"), file + ": a gnn-benchmark graph .npz, not features (train on it whole with "
                                      "data.name \"npz\" and data.npz.file)");
  // The format first: a COO or CSC matrix lacks indices or indptr, but is a save_npz file.
  if (z.has("format")) {
    const std::string format = z.byte_string("format");
    require(format == "csr", file + ": format " + quoted(std::string_view(format)) +
                                 " is not supported (save the matrix as CSR: X.tocsr())");
  }
  std::string missing;
  for (const char* key : {"format", "shape", "data", "indices", "indptr"})
    if (!z.has(key)) missing += (missing.empty() ? "" : ", ") + std::string(key);
  require(missing.empty(), [&] {
    return file + ": a zip but not a scipy.sparse.save_npz file: no " + missing +
           " (write it with scipy.sparse.save_npz(\"features.npz\", X.tocsr()))";
  });
  return sparse_features(z, "", -1);
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> parse_edge_list(const std::string& text, int64_t n, const std::string& file) {
  require(!is_npy(text), file + ": a .npy file, not a text edge list (\"u v\" a line)");
  // A zip read as text failed on its first "line" with "8 fields, expected 2".
  require(!is_zip(text), file + ": a zip (.npz) file, not a text edge list (\"u v\" a line)");
  std::vector<std::pair<int64_t, int64_t>> edges;
  for_each_record(text, file, 4096, false, [&](int64_t line, const std::vector<std::string_view>& fields) {
    require_fields(fields, 2, file, line, "an edge is \"u v\"");
    int64_t ends[2];
    for (int k = 0; k < 2; ++k) {
      ends[k] = number<int64_t>(fields[k], file, line, "a node id (an integer)");
      require(ends[k] >= 0 && ends[k] < n, [&] {
        return at_line(file, line, "node id " + std::to_string(ends[k]) + " outside [0, " + std::to_string(n) +
                                       ") (the features have " + std::to_string(n) + " rows)");
      });
    }
    edges.emplace_back(ends[0], ends[1]);
  });
  require(!edges.empty(), file + ": no edges (empty file)");
  // Self-loops are dropped (the augmentation adds every node's own): a file of only those was a
  // graph of no edges, trained without a word.
  const bool all_loops = std::all_of(edges.begin(), edges.end(), [](const auto& e) { return e.first == e.second; });
  require(!all_loops, [&] {
    return file + ": no edges between two nodes: its " + std::to_string(edges.size()) +
           " lines are all self-loops (u u), which are dropped (the augmentation adds each node's own)";
  });
  return edges;
}

Features parse_features(const std::string& bytes, const std::string& file) {
  Features f = is_npy(bytes)   ? dense_features(parse_npy(bytes, file), -1, file)
               : is_zip(bytes) ? save_npz_features(bytes, file)
                               : csv_features(bytes, file);
  require_nodes(f.rows, file);
  return f;
}

std::vector<int64_t> parse_labels(const std::string& bytes, const std::string& file) {
  if (is_npy(bytes)) {
    const NumpyArray a = parse_npy(bytes, file);
    require(a.shape.size() == 1, file + ": labels must be one-dimensional (one per node)");
    return a.to_int64(file);
  }
  require(!is_zip(bytes),
          file + ": a zip (.npz) file, not labels (a text file, one class id a line, or a .npy of integers)");
  std::vector<int64_t> labels;
  for_each_record(bytes, file, 4096, true, [&](int64_t line, const std::vector<std::string_view>& fields) {
    require_fields(fields, 1, file, line, "one class id a line");
    const int64_t y = number<int64_t>(fields[0], file, line, "a class id (an integer)");
    require(label_in_range(y), [&] {
      return at_line(file, line, "class id " + std::to_string(y) + " out of range (-1 for unlabelled, 0 to 2^20 - 1)");
    });
    labels.push_back(y);
  });
  require(!labels.empty(), file + ": no labels (empty file)");
  return labels;
}

Dataset own_files_dataset(const OwnFiles& paths, const ReadFile& read, uint64_t split_seed, bool raw_counts,
                          const SplitSizes& sizes) {
  Dataset ds;
  namespace fs = std::filesystem;
  ds.name = fs::path(paths.edges).filename().string() + " + " + fs::path(paths.features).filename().string() + " + " +
            fs::path(paths.labels).filename().string();
  ds.features = parse_features(read(paths.features), paths.features);
  const int64_t n = ds.features.rows;
  bool text_labels = false;
  const std::vector<int64_t> y = [&] {
    const std::string bytes = read(paths.labels);
    text_labels = !is_npy(bytes);
    return parse_labels(bytes, paths.labels);
  }();
  // Features saved as X.T (features x nodes) blamed the labels: the columns then match them (and,
  // graphs having more nodes than features, outnumber the rows).
  require(static_cast<int64_t>(y.size()) == n, [&] {
    const bool transposed = ds.features.cols == static_cast<int64_t>(y.size()) && n < ds.features.cols;
    const bool one_more = static_cast<int64_t>(y.size()) == n + 1 && text_labels;
    return paths.labels + ": " + std::to_string(y.size()) + " labels for " + std::to_string(n) +
           " nodes (the rows of " + paths.features + ")" +
           (one_more ? "; one more: is line 1 a column name (pandas' to_csv writes one unless header=False)?" : "") +
           (transposed ? "; " + paths.features + " is " + std::to_string(n) + " x " + std::to_string(ds.features.cols) +
                             ", one row per feature: transposed? (one row per node is expected)"
                       : "");
  });
  ds.adj = symmetrize_binary(n, parse_edge_list(read(paths.edges), n, paths.edges));
  finish_gnn_benchmark(ds, y, paths.labels, raw_counts, split_seed, sizes);
  return ds;
}

Dataset own_files_dataset(const OwnFiles& paths, const std::string& edges, const std::string& features,
                          const std::string& labels, uint64_t split_seed, bool raw_counts, const SplitSizes& sizes) {
  // Told apart by which member of `paths` is asked for, so that equal paths still work.
  const ReadFile bytes = [&](const std::string& path) {
    return &path == &paths.edges ? edges : &path == &paths.features ? features : labels;
  };
  return own_files_dataset(paths, bytes, split_seed, raw_counts, sizes);
}

Dataset load_own_files(const OwnFiles& paths, uint64_t split_seed, bool verify, bool raw_counts,
                       const SplitSizes& sizes) {
  if (verify)
    for (const std::string* p : {&paths.edges, &paths.features, &paths.labels}) verify_sha256sum_beside(*p);
  return own_files_dataset(paths, read_file, split_seed, raw_counts, sizes);
}

}  // namespace pdadmm
