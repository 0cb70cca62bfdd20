// Restricted protocol-2 unpickler for the Planetoid files: a stack machine over an allow-list of
// opcodes and globals that builds plain data (arrays, csr matrices, dicts of lists), never code.
#include "host/data/pickle.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <iterator>
#include <random>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "host/io/error.h"

namespace pdadmm {

size_t PickleKeyHash::operator()(uint64_t key) const {
  static const uint64_t salt = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }();
  uint64_t z = key + salt + 0x9e3779b97f4a7c15ull;  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<size_t>(z ^ (z >> 31));
}

namespace {

const char* opcode_name(unsigned char op) {
  switch (op) {
    case 0x80: return "PROTO";
    case 'c': return "GLOBAL";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 'h': return "BINGET";
    case '(': return "MARK";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case ')': return "EMPTY_TUPLE";
    case '}': return "EMPTY_DICT";
    case ']': return "EMPTY_LIST";
    case 'R': return "REDUCE";
    case 0x81: return "NEWOBJ";
    case 'b': return "BUILD";
    case 'u': return "SETITEMS";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case 'N': return "NONE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'M': return "BININT2";
    case 'U': return "SHORT_BINSTRING";
    case 'T': return "BINSTRING";
    case '.': return "STOP";
    default: return nullptr;
  }
}

// Printable, bounded rendering of untrusted text for one-line error messages.
std::string printable(const std::string& s, size_t max_len = 64) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max_len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max_len) out += "...";
  return out;
}

std::string hex_byte(unsigned char b) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

const char* kind_name(PyObj::Kind k) {
  switch (k) {
    case PyObj::Kind::None: return "None";
    case PyObj::Kind::Bool: return "bool";
    case PyObj::Kind::Int: return "int";
    case PyObj::Kind::Bytes: return "str";
    case PyObj::Kind::Tuple: return "tuple";
    case PyObj::Kind::List: return "list";
    case PyObj::Kind::Dict: return "dict";
    case PyObj::Kind::Global: return "global";
    case PyObj::Kind::Dtype: return "numpy.dtype";
    case PyObj::Kind::NdArray: return "numpy.ndarray";
    case PyObj::Kind::CsrMatrix: return "csr_matrix";
  }
  return "?";
}

struct AllowedGlobal {
  const char* module;
  const char* name;
  PyObj::Global id;
};
const AllowedGlobal kAllowedGlobals[] = {
    {"numpy.core.multiarray", "_reconstruct", PyObj::Global::Reconstruct},
    {"numpy", "ndarray", PyObj::Global::NdArrayType},
    {"numpy", "dtype", PyObj::Global::DtypeType},
    {"scipy.sparse.csr", "csr_matrix", PyObj::Global::CsrMatrixType},
    {"collections", "defaultdict", PyObj::Global::DefaultDict},
    {"__builtin__", "list", PyObj::Global::ListType},
};

std::string global_name(PyObj::Global g) {
  for (const AllowedGlobal& a : kAllowedGlobals)
    if (a.id == g) return std::string(a.module) + "." + a.name;
  return "?";
}

}  // namespace

class Unpickler {
 public:
  Unpickler(const std::string& in, const std::string& what, const PickleLimits& limits)
      : in_(in), limits_(limits) {
    doc_.what_ = what;
  }

  PickleDoc run() {
    while (pos_ < in_.size()) {
      op_pos_ = pos_;
      op_ = static_cast<unsigned char>(in_[pos_++]);
      if (step()) {
        if (pos_ != in_.size())
          fail(std::to_string(in_.size() - pos_) + " unexpected bytes after STOP");
        return std::move(doc_);
      }
    }
    throw Error(doc_.what_ + ": truncated pickle: input ends at byte " + std::to_string(in_.size()) +
                " before the STOP opcode");
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    const char* name = opcode_name(op_);
    throw Error(doc_.what_ + ": byte " + std::to_string(op_pos_) + ": opcode " +
                (name ? name : "?") + " (" + hex_byte(op_) + "): " + msg);
  }

  void need(size_t n) const {
    if (n > in_.size() - pos_)
      fail("truncated: needs " + std::to_string(n) + " more bytes, " + std::to_string(in_.size() - pos_) +
           " left");
  }
  uint32_t read_le(size_t n) {
    need(n);
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string read_line() {
    const size_t max_len = 256;
    size_t end = pos_;
    while (end < in_.size() && end - pos_ <= max_len && in_[end] != '\n') ++end;
    if (end >= in_.size()) fail("truncated: GLOBAL name has no terminating newline");
    if (in_[end] != '\n') fail("GLOBAL name longer than " + std::to_string(max_len) + " bytes");
    std::string s = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  PyObj* make(PyObj::Kind kind) {
    if (doc_.arena_.size() >= limits_.max_objects)
      fail("more than " + std::to_string(limits_.max_objects) + " objects");
    doc_.arena_.push_back(std::make_unique<PyObj>());
    PyObj* o = doc_.arena_.back().get();
    o->kind = kind;
    return o;
  }
  PyObj* make_int(int64_t v) {
    auto it = ints_.find(v);  // ints are immutable: share one object per value
    if (it != ints_.end()) return it->second;
    PyObj* o = make(PyObj::Kind::Int);
    o->num = v;
    ints_.emplace(v, o);
    return o;
  }
  // Items held by containers in all (a list's 2-byte BININT1 entries become 8-byte pointers, then
  // int64s and edge pairs: a 256 MiB graph file needed about 4 GB).
  void count_items(size_t n) {
    items_ += n;
    if (items_ > limits_.max_items) fail("more than " + std::to_string(limits_.max_items) + " container items");
  }
  PyObj* make_container(PyObj::Kind kind, std::vector<PyObj*> items) {
    count_items(items.size());
    size_t depth = 0;
    for (const PyObj* it : items) depth = std::max(depth, it->nesting + 1);
    if (depth > limits_.max_nesting) fail("containers nested deeper than " + std::to_string(limits_.max_nesting));
    PyObj* o = make(kind);
    o->items = std::move(items);
    o->nesting = depth;
    return o;
  }

  void push(PyObj* o) {
    if (stack_.size() >= limits_.max_stack) fail("stack deeper than " + std::to_string(limits_.max_stack));
    stack_.push_back(o);
  }
  PyObj* pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
    PyObj* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  PyObj* top() const {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
    return stack_.back();
  }
  std::vector<PyObj*> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyObj*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void expect(const PyObj* o, PyObj::Kind kind, const char* role) const {
    if (o->kind != kind)
      fail(std::string(role) + " must be a " + kind_name(kind) + ", got a " + kind_name(o->kind));
  }

  // Returns true at STOP.
  bool step() {
    switch (op_) {
      case 0x80: {  // PROTO
        const uint32_t v = read_le(1);
        if (v != 2) fail("protocol " + std::to_string(v) + " is not supported (only protocol 2)");
        return false;
      }
      case 'c': op_global(); return false;
      case 'q': memo_put(read_le(1)); return false;
      case 'r': memo_put(read_le(4)); return false;
      case 'h': {
        const uint32_t idx = read_le(1);
        auto it = memo_.find(idx);
        if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " was never stored");
        push(it->second);
        return false;
      }
      case '(':
        if (marks_.size() >= limits_.max_mark_depth)
          fail("MARKs nested deeper than " + std::to_string(limits_.max_mark_depth));
        marks_.push_back(stack_.size());
        return false;
      case 't': push(make_container(PyObj::Kind::Tuple, pop_mark())); return false;
      case 0x85: case 0x86: case 0x87: {
        const size_t n = static_cast<size_t>(op_ - 0x84);
        std::vector<PyObj*> items(n);
        for (size_t i = n; i-- > 0;) items[i] = pop();
        push(make_container(PyObj::Kind::Tuple, std::move(items)));
        return false;
      }
      case ')': push(make_container(PyObj::Kind::Tuple, {})); return false;
      case '}': push(make(PyObj::Kind::Dict)); return false;
      case ']': push(make_container(PyObj::Kind::List, {})); return false;
      case 'R': op_reduce(); return false;
      case 0x81: op_newobj(); return false;
      case 'b': op_build(); return false;
      case 'u': op_setitems(); return false;
      case 'a': {
        PyObj* v = pop();
        append_to(top(), {v});
        return false;
      }
      case 'e': {
        std::vector<PyObj*> items = pop_mark();
        append_to(top(), items);
        return false;
      }
      case 'N': case 0x88: case 0x89: {  // immutable: one shared object each
        PyObj*& o = op_ == 'N' ? none_ : op_ == 0x88 ? true_ : false_;
        if (!o) {
          o = make(op_ == 'N' ? PyObj::Kind::None : PyObj::Kind::Bool);
          o->num = op_ == 0x88 ? 1 : 0;
        }
        push(o);
        return false;
      }
      case 'J': push(make_int(static_cast<int32_t>(read_le(4)))); return false;
      case 'K': push(make_int(read_le(1))); return false;
      case 'M': push(make_int(read_le(2))); return false;
      case 'U': case 'T': {
        const uint32_t raw = read_le(op_ == 'U' ? 1 : 4);
        if (op_ == 'T' && static_cast<int32_t>(raw) < 0) fail("negative string length");
        need(raw);
        PyObj* o = make(PyObj::Kind::Bytes);
        o->bytes = in_.substr(pos_, raw);
        pos_ += raw;
        push(o);
        return false;
      }
      case '.':
        if (!marks_.empty()) fail("STOP with " + std::to_string(marks_.size()) + " open MARK(s)");
        if (stack_.size() != 1) fail("STOP with " + std::to_string(stack_.size()) + " objects on the stack (expected 1)");
        doc_.root_ = stack_.back();
        return true;
      default:
        throw Error(doc_.what_ + ": byte " + std::to_string(op_pos_) + ": opcode " + hex_byte(op_) +
                    (op_ >= 0x20 && op_ < 0x7f ? std::string(" ('") + static_cast<char>(op_) + "')" : "") +
                    " is not supported by this restricted unpickler");
    }
  }

  void memo_put(uint32_t idx) {
    if (idx >= limits_.max_memo) fail("memo index " + std::to_string(idx) + " exceeds the limit " + std::to_string(limits_.max_memo));
    memo_[idx] = top();
  }

  void op_global() {
    const std::string module = read_line();
    const std::string name = read_line();
    for (const AllowedGlobal& a : kAllowedGlobals) {
      if (module == a.module && name == a.name) {
        PyObj* o = make(PyObj::Kind::Global);
        o->global = a.id;
        push(o);
        return;
      }
    }
    fail("global '" + printable(module) + " " + printable(name) +
         "' is not allowed (only numpy/scipy array classes, collections.defaultdict, list)");
  }

  void op_reduce() {
    PyObj* args = pop();
    PyObj* callable = pop();
    expect(callable, PyObj::Kind::Global, "REDUCE callable");
    expect(args, PyObj::Kind::Tuple, "REDUCE arguments");
    const auto& a = args->items;
    switch (callable->global) {
      case PyObj::Global::Reconstruct: {
        // _reconstruct(ndarray, (0,), 'b'): an empty array that BUILD fills.
        if (a.size() != 3 || a[0]->kind != PyObj::Kind::Global || a[0]->global != PyObj::Global::NdArrayType ||
            a[1]->kind != PyObj::Kind::Tuple || a[2]->kind != PyObj::Kind::Bytes)
          fail("_reconstruct expects (numpy.ndarray, shape, str)");
        push(make(PyObj::Kind::NdArray));
        return;
      }
      case PyObj::Global::DtypeType: {
        // numpy.dtype('i4', 0, 1)
        if (a.size() != 3 || a[0]->kind != PyObj::Kind::Bytes || a[1]->kind != PyObj::Kind::Int ||
            a[2]->kind != PyObj::Kind::Int)
          fail("numpy.dtype expects (str, int, int)");
        const std::string& code = a[0]->bytes;
        if (code != "i4" && code != "f4" && code != "i8" && code != "f8" && code != "b1")
          fail("numpy dtype '" + printable(code) + "' is not supported (i4, f4, i8, f8, b1)");
        PyObj* o = make(PyObj::Kind::Dtype);
        o->type_code = code;
        push(o);
        return;
      }
      case PyObj::Global::DefaultDict: {
        if (a.size() > 1 || (a.size() == 1 && (a[0]->kind != PyObj::Kind::Global ||
                                               a[0]->global != PyObj::Global::ListType)))
          fail("collections.defaultdict expects (list,)");
        push(make(PyObj::Kind::Dict));
        return;
      }
      default:
        fail("calling " + global_name(callable->global) + " is not allowed");
    }
  }

  void op_newobj() {
    PyObj* args = pop();
    PyObj* cls = pop();
    expect(cls, PyObj::Kind::Global, "NEWOBJ class");
    expect(args, PyObj::Kind::Tuple, "NEWOBJ arguments");
    if (cls->global != PyObj::Global::CsrMatrixType) fail("NEWOBJ of " + global_name(cls->global) + " is not allowed");
    if (!args->items.empty()) fail("csr_matrix.__new__ takes no arguments here");
    push(make(PyObj::Kind::CsrMatrix));
  }

  void op_build() {
    PyObj* state = pop();
    PyObj* obj = top();
    switch (obj->kind) {
      case PyObj::Kind::Dtype: {
        // (3, '<', None, None, None, -1, -1, 0)
        expect(state, PyObj::Kind::Tuple, "dtype state");
        const auto& s = state->items;
        if (obj->byte_order != 0) fail("numpy.dtype built twice");
        if (s.size() != 8 || s[0]->kind != PyObj::Kind::Int || s[0]->num != 3 || s[1]->kind != PyObj::Kind::Bytes)
          fail("numpy.dtype state must be (3, byteorder, ...) with 8 entries");
        const std::string& bo = s[1]->bytes;
        const bool one_byte = obj->type_code == "b1";
        if (bo == ">") fail("big-endian arrays are not supported");
        if (!(bo == "<" || (bo == "|" && one_byte))) fail("dtype byte order '" + printable(bo) + "' is not supported");
        obj->byte_order = bo[0];
        return;
      }
      case PyObj::Kind::NdArray: {
        // (1, shape, dtype, is_fortran, raw_bytes)
        expect(state, PyObj::Kind::Tuple, "ndarray state");
        const auto& s = state->items;
        if (obj->built) fail("numpy.ndarray built twice");
        if (s.size() != 5 || s[0]->kind != PyObj::Kind::Int || s[0]->num != 1 || s[1]->kind != PyObj::Kind::Tuple ||
            s[2]->kind != PyObj::Kind::Dtype || s[4]->kind != PyObj::Kind::Bytes)
          fail("numpy.ndarray state must be (1, shape, dtype, is_fortran, bytes)");
        if ((s[3]->kind != PyObj::Kind::Bool && s[3]->kind != PyObj::Kind::Int) || s[3]->num != 0)
          fail("Fortran-order arrays are not supported");
        const PyObj* dt = s[2];
        if (dt->byte_order == 0) fail("ndarray dtype has no byte order (dtype state missing)");
        std::vector<int64_t> shape;
        if (s[1]->items.size() > 32) fail("ndarray has more than 32 dimensions");
        for (const PyObj* d : s[1]->items) {
          if (d->kind != PyObj::Kind::Int || d->num < 0) fail("ndarray shape entries must be non-negative ints");
          shape.push_back(d->num);
        }
        const int item = numpy_itemsize(std::string(1, dt->byte_order) + dt->type_code);
        int64_t bytes = 0;
        try {
          bytes = numpy_checked_bytes(shape, item, "ndarray");
        } catch (const Error& e) {
          fail(e.what());
        }
        if (static_cast<uint64_t>(bytes) != s[4]->bytes.size())
          fail("ndarray data has " + std::to_string(s[4]->bytes.size()) + " bytes, shape and dtype need " +
               std::to_string(bytes));
        obj->built = true;
        obj->shape = std::move(shape);
        obj->dtype = s[2];
        obj->raw = s[4];
        return;
      }
      case PyObj::Kind::CsrMatrix:
        expect(state, PyObj::Kind::Dict, "csr_matrix state");
        if (obj->built) fail("csr_matrix built twice");
        obj->built = true;
        obj->state = state;
        return;
      default:
        fail(std::string("BUILD on a ") + kind_name(obj->kind) + " is not supported");
    }
  }

  void op_setitems() {
    std::vector<PyObj*> items = pop_mark();
    PyObj* d = top();
    expect(d, PyObj::Kind::Dict, "SETITEMS target");
    if (items.size() % 2 != 0) fail("odd number of items for SETITEMS");
    count_items(items.size() / 2);
    for (size_t i = 0; i < items.size(); i += 2) {
      for (PyObj* v : {items[i], items[i + 1]})
        if (v->nesting + 1 > limits_.max_nesting) fail("containers nested deeper than " + std::to_string(limits_.max_nesting));
      d->dict.emplace_back(items[i], items[i + 1]);
    }
  }

  void append_to(PyObj* list, const std::vector<PyObj*>& items) {
    expect(list, PyObj::Kind::List, "APPEND target");
    count_items(items.size());
    for (PyObj* v : items) {
      if (v->nesting + 1 > limits_.max_nesting) fail("containers nested deeper than " + std::to_string(limits_.max_nesting));
      list->nesting = std::max(list->nesting, v->nesting + 1);
      list->items.push_back(v);
    }
  }

  const std::string& in_;
  PickleLimits limits_;
  PickleDoc doc_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  unsigned char op_ = 0;
  std::vector<PyObj*> stack_;
  std::vector<size_t> marks_;
  size_t items_ = 0;
  std::unordered_map<uint32_t, PyObj*, PickleKeyHash> memo_;
  std::unordered_map<int64_t, PyObj*, PickleKeyHash> ints_;
  PyObj* none_ = nullptr;
  PyObj* true_ = nullptr;
  PyObj* false_ = nullptr;
};

PickleDoc unpickle(const std::string& bytes, const std::string& what, const PickleLimits& limits) {
  return Unpickler(bytes, what, limits).run();
}

namespace {

NumpyArray array_of(const PyObj* o, const std::string& what) {
  require(o->kind == PyObj::Kind::NdArray && o->built,
          what + ": expected a numpy.ndarray, found a " + kind_name(o->kind));
  NumpyArray a;
  a.descr = std::string(1, o->dtype->byte_order) + o->dtype->type_code;
  a.shape = o->shape;
  a.data = o->raw->bytes;
  return a;
}

}  // namespace

NumpyArray pickle_as_array(const PickleDoc& doc) { return array_of(doc.root(), doc.what()); }

Csr pickle_as_csr(const PickleDoc& doc) {
  const std::string& what = doc.what();
  const PyObj* m = doc.root();
  require(m->kind == PyObj::Kind::CsrMatrix && m->built,
          what + ": expected a scipy csr_matrix, found a " + kind_name(m->kind));
  auto field = [&](const char* key) -> const PyObj* {
    const PyObj* found = nullptr;
    for (const auto& [k, v] : m->state->dict) {
      if (k->kind == PyObj::Kind::Bytes && k->bytes == key) {
        require(found == nullptr, what + ": csr_matrix state has key '" + key + "' twice");
        found = v;
      }
    }
    require(found != nullptr, what + ": csr_matrix state has no '" + key + "'");
    return found;
  };
  const PyObj* format = field("format");
  require(format->kind == PyObj::Kind::Bytes && format->bytes == "csr", what + ": csr_matrix format is not 'csr'");
  const PyObj* shape = field("_shape");
  require(shape->kind == PyObj::Kind::Tuple && shape->items.size() == 2 &&
              shape->items[0]->kind == PyObj::Kind::Int && shape->items[1]->kind == PyObj::Kind::Int,
          what + ": csr_matrix _shape must be a tuple of 2 ints");
  const int64_t rows = shape->items[0]->num, cols = shape->items[1]->num;
  require(rows >= 0 && cols >= 0 && cols <= INT32_MAX, what + ": csr_matrix _shape out of range");
  const NumpyArray indptr = array_of(field("indptr"), what + " indptr");
  const NumpyArray indices = array_of(field("indices"), what + " indices");
  const NumpyArray data = array_of(field("data"), what + " data");
  for (const NumpyArray* a : {&indptr, &indices, &data})
    require(a->shape.size() == 1, what + ": csr_matrix arrays must be one-dimensional");
  require(indptr.is_integer() && indices.is_integer(), what + ": csr_matrix indptr/indices must be integers");
  return csr_from_scipy_arrays(rows, cols, indptr.to_int64(what), indices.to_int64(what), data.to_double(), what);
}

std::vector<std::vector<int64_t>> pickle_as_adjacency_lists(const PickleDoc& doc) {
  const std::string& what = doc.what();
  const PyObj* d = doc.root();
  require(d->kind == PyObj::Kind::Dict, what + ": expected a dict of adjacency lists, found a " + kind_name(d->kind));
  const size_t n = d->dict.size();
  std::vector<std::vector<int64_t>> lists(n);
  std::vector<char> seen(n, 0);
  std::unordered_set<const PyObj*> used;  // one list object per node: sharing would amplify the size
  for (const auto& entry : d->dict) {
    const auto& k = entry.first;  // not a structured binding: C++17 lambdas cannot capture those
    const auto& v = entry.second;
    require(k->kind == PyObj::Kind::Int,
            [&] { return what + ": graph key is a " + kind_name(k->kind) + ", expected an int"; });
    require(k->num >= 0 && static_cast<uint64_t>(k->num) < n, [&] {
      return what + ": graph key " + std::to_string(k->num) + " outside 0.." + std::to_string(n) +
             "-1 (keys must be the node ids 0..N-1)";
    });
    require(!seen[k->num], [&] { return what + ": graph key " + std::to_string(k->num) + " appears twice"; });
    seen[k->num] = 1;
    require(v->kind == PyObj::Kind::List, [&] {
      return what + ": neighbours of node " + std::to_string(k->num) + " are a " + kind_name(v->kind) +
             ", expected a list";
    });
    require(used.insert(v).second,
            [&] { return what + ": neighbour list of node " + std::to_string(k->num) + " is shared with another node"; });
    auto& out = lists[k->num];
    out.reserve(v->items.size());
    for (const PyObj* j : v->items) {
      require(j->kind == PyObj::Kind::Int, [&] {
        return what + ": neighbour of node " + std::to_string(k->num) + " is a " + kind_name(j->kind) +
               ", expected an int";
      });
      out.push_back(j->num);
    }
  }
  return lists;
}

std::string load_file_bytes(const std::string& path) {
  std::error_code ec;  // a directory, or a device like /dev/zero that never ends
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(path + ": not a regular file");
  errno = 0;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open file" + (errno ? std::string(": ") + std::strerror(errno) : " (missing or unreadable)"));
  // A 4 GiB file took 42 s and 8 GiB before its error, and one of 30 GB was read as its first 4
  // GiB ("4294907449 unexpected bytes after STOP"). The real files are a few MB at most.
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read its size: " + ec.message());
  if (size > kMaxPickleFileBytes)
    throw Error(path + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(kMaxPickleFileBytes >> 20) +
                " MiB a Planetoid file may have (the real ones are a few MB at most)");
  std::string out(static_cast<size_t>(size), '\0');
  f.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (f.bad() || static_cast<size_t>(f.gcount()) != out.size() || f.peek() != std::char_traits<char>::eof())
    throw Error(path + ": read error (or the file changed while it was read)");
  return out;
}

}  // namespace pdadmm
