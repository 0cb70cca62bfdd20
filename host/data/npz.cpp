// .npy / .npz reading (libzip) and scipy-style CSR conversion (the gnn-benchmark loader that
// uses them is gnn_benchmark.cpp).
#include "host/data/npz.h"

#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <utility>

#include "host/io/error.h"

namespace pdadmm {

// ---- NumpyArray ----------------------------------------------------------------------------

namespace {

// A supported dtype: its bytes and kind ('f' float, 'i' signed, 'u' unsigned, 'b' bool); {0, 0}
// otherwise. Narrow integers too: pandas' category codes are int8 (-1 for a missing value), and
// counts are often saved as uint8 or uint16.
struct Dtype {
  int size;
  char kind;
};
Dtype dtype_of(const std::string& descr) {
  static const std::pair<const char*, Dtype> known[] = {
      {"<f4", {4, 'f'}}, {"<f8", {8, 'f'}}, {"|i1", {1, 'i'}}, {"<i2", {2, 'i'}}, {"<i4", {4, 'i'}},
      {"<i8", {8, 'i'}}, {"|u1", {1, 'u'}}, {"<u2", {2, 'u'}}, {"<u4", {4, 'u'}}, {"<u8", {8, 'u'}},
      {"|b1", {1, 'b'}}};
  for (const auto& [name, d] : known)
    if (descr == name) return d;
  return {0, 0};
}

}  // namespace

int numpy_itemsize(const std::string& descr) { return dtype_of(descr).size; }

int64_t numpy_checked_bytes(const std::vector<int64_t>& shape, int itemsize, const std::string& what) {
  require(itemsize > 0, what + ": unsupported dtype");
  int64_t n = itemsize;
  for (int64_t d : shape) {
    require(d >= 0, what + ": negative dimension " + std::to_string(d));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw Error(what + ": array size overflows");
    n *= d;
  }
  // A 0 dimension makes the array empty, whatever the others say.
  for (int64_t d : shape)
    if (d == 0) return 0;
  return n;
}

int64_t NumpyArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // parse_npy / the unpickler checked for overflow
  return n;
}

int NumpyArray::itemsize() const { return numpy_itemsize(descr); }

bool NumpyArray::is_integer() const {
  const char k = dtype_of(descr).kind;
  return k == 'i' || k == 'u' || k == 'b';
}

namespace {

uint64_t load_le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// An integer element's value: sign-extended for 'i', 0/1 for 'b'; a uint64 past int64 is held at
// INT64_MAX, which every caller's range check refuses (it wrapped negative, and 2^64 - 1, what
// numpy makes of -1 cast to uint64, became -1: an unlabelled node, dropped without a word).
int64_t integer_value(uint64_t raw, Dtype d) {
  if (d.kind == 'b') return raw != 0;
  if (d.kind == 'u' && raw > static_cast<uint64_t>(INT64_MAX)) return INT64_MAX;
  if (d.kind == 'u' || d.size == 8) return static_cast<int64_t>(raw);
  const int shift = 64 - 8 * d.size;
  return static_cast<int64_t>(raw << shift) >> shift;
}

// The element at p, of the resolved dtype d, as a double.
double element_value(const char* p, Dtype d) {
  const uint64_t raw = load_le(p, d.size);
  if (d.kind == 'f' && d.size == 4) {
    const uint32_t r32 = static_cast<uint32_t>(raw);
    float f;
    std::memcpy(&f, &r32, sizeof f);
    return f;
  }
  if (d.kind == 'f') {
    double v;
    std::memcpy(&v, &raw, sizeof v);
    return v;
  }
  if (d.kind == 'u') return static_cast<double>(raw);
  return static_cast<double>(integer_value(raw, d));
}

}  // namespace

std::vector<int64_t> NumpyArray::to_int64(const std::string& what) const {
  require(is_integer(), what + ": expected an integer array, found dtype " + descr);
  const Dtype d = dtype_of(descr);
  // NOLINTNEXTLINE(clang-analyzer-core.DivideZero): an integer dtype (required above) has a size
  const size_t n = data.size() / static_cast<size_t>(d.size);
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = integer_value(load_le(data.data() + i * d.size, d.size), d);
  return out;
}

std::vector<double> NumpyArray::to_double() const {
  const Dtype d = dtype_of(descr);  // once, not per element
  if (d.size == 0) return {};
  const size_t n = data.size() / static_cast<size_t>(d.size);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = element_value(data.data() + i * d.size, d);
  return out;
}

double NumpyArray::at(int64_t i) const {
  const Dtype d = dtype_of(descr);
  return element_value(data.data() + static_cast<size_t>(i) * d.size, d);
}

// ---- .npy header -----------------------------------------------------------------------------

namespace {

// Parser for the header dict, a tiny subset of Python literal syntax:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class NpyHeaderParser {
 public:
  NpyHeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{');
    skip_ws();
    while (peek() != '}') {
      const std::string key = string_literal();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        require(!have_descr, what_ + ": .npy header has 'descr' twice");
        if (peek() != '\'' && peek() != '"') fail("'descr' must be a simple type string (structured dtypes are not supported)");
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        require(!have_fortran, what_ + ": .npy header has 'fortran_order' twice");
        fortran = boolean();
        have_fortran = true;
      } else if (key == "shape") {
        require(!have_shape, what_ + ": .npy header has 'shape' twice");
        shape = tuple();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != '}') {
        fail("expected ',' or '}'");
      }
    }
    ++pos_;
    skip_ws();
    require(pos_ == s_.size(), what_ + ": .npy header has trailing characters after the dict");
    require(have_descr && have_fortran && have_shape,
            what_ + ": .npy header must have 'descr', 'fortran_order' and 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(what_ + ": malformed .npy header at character " + std::to_string(pos_) + ": " + msg);
  }
  char peek() const {
    if (pos_ >= s_.size()) fail("header ends early");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void skip_ws() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    ++pos_;
    std::string out;
    while (peek() != q) {
      const char c = s_[pos_++];
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        fail("unsupported character in string");
      out += c;
      if (out.size() > 64) fail("string too long");
    }
    ++pos_;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  int64_t integer() {
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a non-negative integer");
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int digit = s_[pos_++] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("integer too large");
      v = v * 10 + digit;
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long literal
    return v;
  }
  std::vector<int64_t> tuple() {
    expect('(');
    skip_ws();
    std::vector<int64_t> out;
    bool trailing_comma = false;
    while (peek() != ')') {
      out.push_back(integer());
      if (out.size() > 32) fail("more than 32 dimensions");
      skip_ws();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        skip_ws();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in shape");
      }
    }
    if (out.size() == 1 && !trailing_comma) fail("shape '(n)' is not a tuple; expected '(n,)'");
    ++pos_;
    return out;
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

}  // namespace

namespace {

constexpr uint64_t kMaxNpyHeader = uint64_t{1} << 20;  // the dict's bytes

// Where a .npy's header ends, from its preamble (magic, version, the header's length: 10 or 12
// bytes); 0 while `b` is shorter than that.
uint64_t npy_header_end(const std::string& b) {
  if (b.size() < 8) return 0;
  const int len_bytes = static_cast<unsigned char>(b[6]) == 1 ? 2 : 4;
  return b.size() >= 8u + len_bytes ? 8 + len_bytes + load_le(b.data() + 8, len_bytes) : 0;
}

// The header of a .npy: fills a.descr and a.shape (C order, not big-endian) and returns where the
// data starts.
size_t parse_npy_header(const std::string& bytes, const std::string& what, NumpyArray& a, bool& fortran) {
  static const char kMagic[] = "\x93NUMPY";
  require(bytes.size() >= 10 && bytes.compare(0, 6, kMagic, 6) == 0, what + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  require((major == 1 || major == 2) && minor == 0,
          what + ": .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
              " is not supported (1.0, 2.0)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  require(bytes.size() >= 8 + len_bytes, what + ": truncated .npy header");
  const uint64_t header_len = load_le(bytes.data() + 8, static_cast<int>(len_bytes));
  const size_t start = 8 + len_bytes;
  require(header_len <= kMaxNpyHeader, what + ": .npy header length " + std::to_string(header_len) + " too large");
  require(header_len <= bytes.size() - start, what + ": truncated .npy header (declares " +
                                                  std::to_string(header_len) + " bytes, " +
                                                  std::to_string(bytes.size() - start) + " present)");
  std::string header = bytes.substr(start, header_len);
  require(!header.empty() && header.back() == '\n', what + ": .npy header does not end with a newline");
  header.pop_back();

  NpyHeaderParser(header, what).parse(a.descr, fortran, a.shape);
  if (!a.descr.empty() && a.descr[0] == '>')
    throw Error(what + ": big-endian dtype '" + a.descr + "' is not supported (save it as little-endian: "
                       "np.save(file, x.astype(x.dtype.newbyteorder('<')))");
  return start + header_len;
}

// A .npy's header read and its dtype checked for `kind`: where the data start and how many bytes
// they take. Checked on a member's first bytes before the rest is inflated, and on the whole file.
struct NpyLayout {
  NumpyArray array;  // descr and shape; no data
  bool fortran = false;
  size_t start = 0;
  int64_t data_bytes = 0;
};

NpyLayout npy_layout(const std::string& bytes, NpyKind kind, const std::string& what) {
  NpyLayout l;
  l.start = parse_npy_header(bytes, what, l.array, l.fortran);
  const std::string& descr = l.array.descr;
  if (kind == NpyKind::numbers) {
    const int item = numpy_itemsize(descr);
    require(item > 0, [&] {
      return what + ": dtype '" + descr +
             "' is not supported (float32/64, int8/16/32/64, uint8/16/32/64 or bool: features any of them, labels "
             "and indices the integers or bool)";
    });
    l.data_bytes = numpy_checked_bytes(l.array.shape, item, what);
  } else {
    int k = 0;
    if (descr.size() >= 3 && descr.size() <= 4 && descr.compare(0, 2, "|S") == 0)
      for (size_t i = 2; i < descr.size() && descr[i] >= '0' && descr[i] <= '9'; ++i) k = k * 10 + (descr[i] - '0');
    require(k >= 1 && descr == "|S" + std::to_string(k),
            what + ": dtype '" + descr + "' is not a byte string ('|S1' to '|S99')");
    require(l.array.shape.empty(), what + ": must be a 0-d array (one byte string)");
    l.data_bytes = k;
  }
  return l;
}

// `have`: the data bytes after the header.
void require_data_bytes(const NpyLayout& l, NpyKind kind, uint64_t have, const std::string& what) {
  require(have == static_cast<uint64_t>(l.data_bytes), [&] {
    return what + (kind == NpyKind::numbers ? ": shape and dtype need " : ": dtype '" + l.array.descr + "' needs ") +
           std::to_string(l.data_bytes) + " data bytes but the file has " + std::to_string(have);
  });
}

// A Fortran-order 2-D array's bytes in C order: np.save writes F order for what is F-contiguous,
// as pandas' DataFrame.to_numpy() often is.
std::string fortran_to_c(const std::string& data, int64_t rows, int64_t cols, int item) {
  std::string c(data.size(), '\0');
  for (int64_t j = 0; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i)
      std::memcpy(&c[static_cast<size_t>((i * cols + j) * item)], &data[static_cast<size_t>((j * rows + i) * item)],
                  static_cast<size_t>(item));
  return c;
}

}  // namespace

NumpyArray parse_npy(const std::string& bytes, const std::string& what) {
  NpyLayout l = npy_layout(bytes, NpyKind::numbers, what);
  require_data_bytes(l, NpyKind::numbers, bytes.size() - l.start, what);
  NumpyArray a = std::move(l.array);
  a.data = bytes.substr(l.start);
  // One or no dimension of more than one element: F order is C order.
  if (l.fortran && std::count_if(a.shape.begin(), a.shape.end(), [](int64_t d) { return d > 1; }) > 1) {
    require(a.shape.size() == 2, what + ": a Fortran-order array of " + std::to_string(a.shape.size()) +
                                     " dimensions is not supported (save np.ascontiguousarray(x))");
    a.data = fortran_to_c(a.data, a.shape[0], a.shape[1], a.itemsize());
  }
  return a;
}

std::string parse_npy_bytes(const std::string& bytes, const std::string& what) {
  const NpyLayout l = npy_layout(bytes, NpyKind::byte_string, what);
  require_data_bytes(l, NpyKind::byte_string, bytes.size() - l.start, what);
  std::string s = bytes.substr(l.start);
  while (!s.empty() && s.back() == '\0') s.pop_back();  // numpy's padding of shorter strings
  return s;
}

// ---- .npz archive --------------------------------------------------------------------------

struct NpzArchive::Impl {
  zip_t* za = nullptr;
  ~Impl() {
    if (za) zip_discard(za);
  }
};

NpzArchive::NpzArchive(NpzArchive&&) noexcept = default;
NpzArchive& NpzArchive::operator=(NpzArchive&&) noexcept = default;
NpzArchive::~NpzArchive() = default;

namespace {

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

}  // namespace

NpzArchive NpzArchive::open_file(const std::string& path) {
  std::error_code ec;  // a folder, or a FIFO that zip_open would wait on
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(path + ": not a regular file");
  NpzArchive a;
  a.what_ = path;
  a.impl_ = std::make_unique<Impl>();
  int err = 0;
  a.impl_->za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!a.impl_->za) {
    if (err == ZIP_ER_NOENT || err == ZIP_ER_OPEN) throw Error(path + ": cannot open file (missing or unreadable)");
    throw Error(path + ": not a readable .npz (zip) archive: " + zip_error_text(err));
  }
  require(zip_get_num_entries(a.impl_->za, 0) > 0, path + ": empty archive (no arrays)");
  return a;
}

NpzArchive NpzArchive::open_memory(const std::string& bytes, const std::string& what) {
  NpzArchive a;
  a.what_ = what;
  a.impl_ = std::make_unique<Impl>();
  zip_error_t e;
  zip_error_init(&e);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &e);
  if (!src) {
    std::string msg = zip_error_strerror(&e);
    zip_error_fini(&e);
    throw Error(what + ": " + msg);
  }
  a.impl_->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &e);
  if (!a.impl_->za) {
    zip_source_free(src);
    std::string msg = zip_error_strerror(&e);
    zip_error_fini(&e);
    throw Error(what + ": not a readable .npz (zip) archive: " + msg);
  }
  zip_error_fini(&e);
  require(zip_get_num_entries(a.impl_->za, 0) > 0, what + ": empty archive (no arrays)");
  return a;
}

bool NpzArchive::has(const std::string& key) const {
  return zip_name_locate(impl_->za, (key + ".npy").c_str(), 0) >= 0;
}

std::vector<std::string> NpzArchive::keys() const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(impl_->za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(impl_->za, static_cast<zip_uint64_t>(i), 0);
    if (!name) continue;
    std::string s = name;
    if (s.size() > 4 && s.compare(s.size() - 4, 4, ".npy") == 0) out.push_back(s.substr(0, s.size() - 4));
  }
  return out;
}

std::string NpzArchive::read_member(const std::string& key, NpyKind kind) const {
  const std::string member = key + ".npy";
  const std::string where = what_ + ": member " + member;
  const zip_int64_t idx = zip_name_locate(impl_->za, member.c_str(), 0);
  require(idx >= 0, what_ + ": no array '" + key + "' (member " + member + " is missing)");
  zip_stat_t st;
  zip_stat_init(&st);
  require(zip_stat_index(impl_->za, static_cast<zip_uint64_t>(idx), 0, &st) == 0, where + ": cannot stat");
  require((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE) && (st.valid & ZIP_STAT_COMP_METHOD),
          where + ": incomplete zip directory entry");
  require(!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) || st.encryption_method == ZIP_EM_NONE,
          where + ": encrypted members are not supported");
  require(st.comp_method == ZIP_CM_STORE || st.comp_method == ZIP_CM_DEFLATE,
          where + ": compression method " + std::to_string(st.comp_method) + " is not supported (stored, deflated)");
  const zip_uint64_t kMaxMember = zip_uint64_t{1} << 31;
  require(st.size <= kMaxMember, where + ": " + std::to_string(st.size) + " bytes is over the 2 GiB limit");
  // Deflate expands at most ~1032:1; a larger claim is a corrupt or hostile directory entry.
  require(st.comp_method == ZIP_CM_STORE ? st.size == st.comp_size : st.size <= st.comp_size * 1032 + 1024,
          where + ": uncompressed size " + std::to_string(st.size) + " impossible for compressed size " +
              std::to_string(st.comp_size));
  // Closed on every way out (a throw, or bad_alloc growing `out`); the end's close is checked.
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(zip_fopen_index(impl_->za, static_cast<zip_uint64_t>(idx), 0),
                                                         zip_fclose);
  zip_file_t* zf = file.get();
  if (!zf) throw Error(where + ": cannot open: " + zip_strerror(impl_->za));
  std::string out;
  const size_t chunk = size_t{1} << 20;
  std::vector<char> buf(chunk);
  // The .npy header first (12 bytes of preamble, at most 1 MiB of dict), then the data it sizes.
  size_t want = std::min<size_t>(st.size, 12);
  bool head_checked = false;
  for (;;) {
    if (!head_checked && out.size() >= want) {
      const uint64_t head = npy_header_end(out);
      const uint64_t next = std::min<uint64_t>(head, st.size);
      if (head <= 12 + kMaxNpyHeader && next > out.size()) {
        want = static_cast<size_t>(next);  // read to the header's end, then check
      } else {
        // The errors the whole member's parse would give, named as array() names them.
        const NpyLayout l = npy_layout(out, kind, what_ + ": " + member);
        require_data_bytes(l, kind, st.size - l.start, what_ + ": " + member);
        head_checked = true;
      }
    }
    const size_t ask = head_checked ? chunk : std::min(chunk, want - out.size());
    const zip_int64_t got = zip_fread(zf, buf.data(), ask);
    if (got < 0) throw Error(where + ": read error: " + zip_file_strerror(zf));
    if (got == 0) break;
    if (out.size() + static_cast<size_t>(got) > st.size)
      throw Error(where + ": more data than the declared " + std::to_string(st.size) + " bytes");
    out.append(buf.data(), static_cast<size_t>(got));
  }
  const int rc = zip_fclose(file.release());
  require(rc == 0, where + ": " + zip_error_text(rc));
  require(out.size() == st.size, where + ": truncated (" + std::to_string(out.size()) + " of " +
                                     std::to_string(st.size) + " bytes)");
  return out;
}

NumpyArray NpzArchive::array(const std::string& key) const {
  return parse_npy(read_member(key, NpyKind::numbers), what_ + ": " + key + ".npy");
}

std::string NpzArchive::byte_string(const std::string& key) const {
  return parse_npy_bytes(read_member(key, NpyKind::byte_string), what_ + ": " + key + ".npy");
}

// ---- CSR from scipy arrays -----------------------------------------------------------------

std::string stored_value_text(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

Csr csr_from_scipy_arrays(int64_t rows, int64_t cols, const std::vector<int64_t>& indptr,
                          const std::vector<int64_t>& indices, const std::vector<double>& values,
                          const std::string& what, const std::string& prefix) {
  const std::string at = what + ": ", ptr = prefix + "indptr", idx = prefix + "indices", dat = prefix + "data";
  const std::string shape = prefix + "shape " + std::to_string(rows) + "x" + std::to_string(cols);
  require(rows >= 0 && cols >= 0, at + shape + " is negative");
  require(rows < std::numeric_limits<int32_t>::max() && cols <= std::numeric_limits<int32_t>::max(),
          at + shape + " too large");
  require(static_cast<int64_t>(indptr.size()) == rows + 1,
          at + ptr + " has " + std::to_string(indptr.size()) + " entries, expected rows+1 = " + std::to_string(rows + 1));
  require(indices.size() == values.size(), at + idx + " has " + std::to_string(indices.size()) + " entries, " + dat + " " +
                                               std::to_string(values.size()));
  require(indptr[0] == 0, at + ptr + "[0] is " + std::to_string(indptr[0]) + ", must be 0");
  for (int64_t r = 0; r < rows; ++r)
    require(indptr[r] <= indptr[r + 1], [&] {
      return at + ptr + " decreases at row " + std::to_string(r) + " (" + std::to_string(indptr[r]) + " to " +
             std::to_string(indptr[r + 1]) + ")";
    });
  require(indptr[rows] == static_cast<int64_t>(indices.size()),
          at + ptr + "[-1] = " + std::to_string(indptr[rows]) + " but " + idx + " has " +
              std::to_string(indices.size()) + " entries");
  for (size_t e = 0; e < indices.size(); ++e)
    require(indices[e] >= 0 && indices[e] < cols, [&] {
      return at + idx + "[" + std::to_string(e) + "] = " + std::to_string(indices[e]) + " outside [0, " +
             std::to_string(cols) + ") (the columns of " + shape + ")";
    });
  for (size_t e = 0; e < values.size(); ++e)  // as stored (float32 or float64) and as training reads it
    require(std::isfinite(static_cast<float>(values[e])), [&] {
      return at + dat + "[" + std::to_string(e) + "] = " + stored_value_text(values[e]) + " is not finite" +
             (std::isfinite(values[e]) ? " in float32" : "");
    });
  Csr m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<size_t>(rows) + 1, 0);
  m.indices.reserve(indices.size());
  m.values.reserve(values.size());
  std::vector<std::pair<int64_t, double>> row;
  for (int64_t r = 0; r < rows; ++r) {
    row.clear();
    for (int64_t e = indptr[r]; e < indptr[r + 1]; ++e) row.emplace_back(indices[e], values[e]);
    std::stable_sort(row.begin(), row.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0 && row[i].first == row[i - 1].first) {
        m.values.back() += static_cast<float>(row[i].second);  // sum duplicates, as scipy does
      } else {
        m.indices.push_back(static_cast<int32_t>(row[i].first));
        m.values.push_back(static_cast<float>(row[i].second));
      }
    }
    for (size_t e = static_cast<size_t>(m.indptr[r]); e < m.indices.size(); ++e)  // each finite, not their sum
      require(std::isfinite(m.values[e]), [&] {
        return at + dat + ": the entries stored for row " + std::to_string(r) + ", column " +
               std::to_string(m.indices[e]) + " sum to " + stored_value_text(m.values[e]) +
               " (duplicates are summed, as scipy sums them), past float's range";
      });
    m.indptr[r + 1] = static_cast<int64_t>(m.indices.size());
  }
  return m;
}

}  // namespace pdadmm
