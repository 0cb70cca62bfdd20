// Hostile and corrupt inputs for the data loaders: every one must end in pdadmm::Error (never a
// crash, hang or code execution). Includes truncation of real files at every byte. tools/fuzz.sh's data
// targets have found nothing yet (config_test has fuzz_config's); a finding goes here as its own test
// asserting the Error it must give.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "host/data/load_real.h"
#include "host/data/npz.h"
#include "host/data/pickle.h"
#include "host/data/planetoid.h"
#include "host/io/error.h"
#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::data_root;
using test::exists;
using test::f32;
using test::le32;
using test::npy;
using test::npy_f4;
using test::npy_i4;
using test::npy_i8;
using test::write_zip;

// Runs f, expects an Error, returns its message ("" and a test failure otherwise).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-pdadmm exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_ERROR_HAS(expr, needle)                                               \
  do {                                                                               \
    const std::string msg_ = error_of([&] { expr; });                                \
    EXPECT_NE(msg_.find(needle), std::string::npos) << "message: " << msg_;          \
  } while (0)

// Runs every interpreter on a pickle; the reader must either reject it with Error or succeed.
void all_interpreters(const std::string& bytes) {
  try {
    const PickleDoc d = unpickle(bytes, "fuzz.pkl");
    try { pickle_as_array(d); } catch (const Error&) {}
    try { pickle_as_csr(d); } catch (const Error&) {}
    try { pickle_as_adjacency_lists(d); } catch (const Error&) {}
  } catch (const Error&) {
  }
}

// ---- a tiny pickle writer for hand-made inputs ---------------------------------------------

struct P {
  std::string s = std::string("\x80\x02", 2);
  P& op(char c) { s += c; return *this; }
  P& raw(const std::string& r) { s += r; return *this; }
  P& global(const std::string& m, const std::string& n) { s += 'c' + m + '\n' + n + '\n'; return *this; }
  P& i(int32_t v) {
    s += 'J';
    for (int k = 0; k < 4; ++k) s += static_cast<char>((static_cast<uint32_t>(v) >> (8 * k)) & 0xff);
    return *this;
  }
  P& str(const std::string& b) {
    if (b.size() < 256) {
      s += 'U';
      s += static_cast<char>(b.size());
    } else {
      s += 'T';
      for (int k = 0; k < 4; ++k) s += static_cast<char>((b.size() >> (8 * k)) & 0xff);
    }
    s += b;
    return *this;
  }
  P& mark() { return op('('); }
  P& tuple() { return op('t'); }
  P& stop() { return op('.'); }
  // dtype(code, 0, 1) with BUILD state (3, order, None, None, None, -1, -1, 0)
  P& dtype(const std::string& code, const std::string& order) {
    global("numpy", "dtype").mark().str(code).i(0).i(1).tuple().op('R');
    return mark().i(3).str(order).op('N').op('N').op('N').i(-1).i(-1).i(0).tuple().op('b');
  }
  // _reconstruct(ndarray, (0,), 'b') BUILD (1, shape, dtype, fortran, data)
  P& ndarray(const std::vector<int32_t>& shape, const std::string& code, const std::string& order,
             const std::string& data, bool fortran = false) {
    global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").mark().i(0).tuple().str("b").op('\x87').op('R');
    mark().i(1).mark();
    for (int32_t d : shape) i(d);
    tuple();
    dtype(code, order);
    op(fortran ? '\x88' : '\x89').str(data).tuple().op('b');
    return *this;
  }
};

// csr_matrix with the given arrays: NEWOBJ + state dict + BUILD.
std::string csr_pickle(int32_t rows, int32_t cols, const std::vector<int32_t>& indptr,
                       const std::vector<int32_t>& indices, const std::vector<float>& data,
                       const std::string& format = "csr") {
  P p;
  p.global("scipy.sparse.csr", "csr_matrix").op(')').op('\x81').op('}').mark();
  p.str("format").str(format);
  p.str("_shape").mark().i(rows).i(cols).tuple();
  p.str("indptr").ndarray({static_cast<int32_t>(indptr.size())}, "i4", "<", le32(indptr));
  p.str("indices").ndarray({static_cast<int32_t>(indices.size())}, "i4", "<", le32(indices));
  p.str("data").ndarray({static_cast<int32_t>(data.size())}, "f4", "<", f32(data));
  p.op('u').op('b').stop();
  return p.s;
}

// ---- pickle: hand-made hostile inputs --------------------------------------------------------

TEST(DataMaliciousPickle, ValidHandMadeInputsWork) {
  const Csr m = pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 3}, {2, 0, 1}, {1, 2, 3}), "m.pkl"));
  EXPECT_EQ(m.rows, 2);
  EXPECT_EQ(m.indices, (std::vector<int32_t>{0, 2, 1}));  // row 0 sorted
  EXPECT_EQ(m.values, (std::vector<float>{2, 1, 3}));
  const NumpyArray a = pickle_as_array(unpickle(P().ndarray({2, 2}, "i4", "<", le32({1, 0, 0, 1})).stop().s, "a.pkl"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
}

// A csr_matrix state that gives a key twice is refused, not read with the last (or first) value.
TEST(DataMaliciousPickle, ACsrStateKeyGivenTwiceIsRefused) {
  for (const std::string key : {"data", "indptr", "_shape"}) {
    P p;
    p.global("scipy.sparse.csr", "csr_matrix").op(')').op('\x81').op('}').mark();
    p.str("format").str("csr");
    p.str("_shape").mark().i(2).i(3).tuple();
    p.str("indptr").ndarray({3}, "i4", "<", le32({0, 2, 3}));
    p.str("indices").ndarray({3}, "i4", "<", le32({2, 0, 1}));
    p.str("data").ndarray({3}, "f4", "<", f32({1, 2, 3}));
    if (key == "data") p.str("data").ndarray({3}, "f4", "<", f32({7, 8, 9}));
    if (key == "indptr") p.str("indptr").ndarray({3}, "i4", "<", le32({0, 1, 3}));
    if (key == "_shape") p.str("_shape").mark().i(2).i(4).tuple();
    p.op('u').op('b').stop();
    SCOPED_TRACE(key);
    EXPECT_EQ(error_of([&] { pickle_as_csr(unpickle(p.s, "dup.pkl")); }),
              "dup.pkl: csr_matrix state has key '" + key + "' twice");
  }
}

TEST(DataMaliciousPickle, ForbiddenGlobalsNamed) {
  EXPECT_ERROR_HAS(unpickle(P().global("os", "system").str("ls").op('\x85').op('R').stop().s, "evil.pkl"),
                   "evil.pkl: byte 2: opcode GLOBAL (0x63): global 'os system' is not allowed");
  EXPECT_ERROR_HAS(unpickle(P().global("posix", "system").stop().s, "evil.pkl"), "global 'posix system'");
  EXPECT_ERROR_HAS(unpickle(P().global("__builtin__", "eval").stop().s, "evil.pkl"), "'__builtin__ eval'");
  EXPECT_ERROR_HAS(unpickle(P().global("subprocess", "Popen").stop().s, "evil.pkl"), "'subprocess Popen'");
  EXPECT_ERROR_HAS(unpickle(P().global("numpy", "load").stop().s, "evil.pkl"), "'numpy load'");
  // An allowed module with a path-like name, and a name with control characters.
  EXPECT_ERROR_HAS(unpickle(P().global("numpy ", "dtype").stop().s, "evil.pkl"), "not allowed");
  EXPECT_ERROR_HAS(unpickle(P().global("numpy", std::string("dtype\x01", 6)).stop().s, "evil.pkl"), "'numpy dtype?'");
  // Allowed globals may not be called except the three modelled ones.
  EXPECT_ERROR_HAS(unpickle(P().global("__builtin__", "list").op(')').op('R').stop().s, "evil.pkl"),
                   "calling __builtin__.list is not allowed");
  EXPECT_ERROR_HAS(unpickle(P().global("numpy", "ndarray").op(')').op('\x81').stop().s, "evil.pkl"),
                   "NEWOBJ of numpy.ndarray is not allowed");
  // GLOBAL without a newline / with an overlong name.
  EXPECT_ERROR_HAS(unpickle(P().raw("cos").s, "evil.pkl"), "no terminating newline");
  EXPECT_ERROR_HAS(unpickle(P().raw("c" + std::string(1000, 'a') + "\nb\n").stop().s, "evil.pkl"), "longer than");
}

TEST(DataMaliciousPickle, UnknownOpcodesRejected) {
  // STRING, INST, OBJ, BINUNICODE, LONG_BINGET, STACK_GLOBAL, FRAME, SETITEM, PERSID, EXT1.
  for (char op : {'S', 'i', 'o', 'X', 'j', '\x93', '\x95', 's', 'P', '\x82', 'I', 'L', 'F', 'G', '0', '2', 'd', 'l'}) {
    const std::string msg = error_of([&] { unpickle(P().op(op).stop().s, "bad.pkl"); });
    EXPECT_NE(msg.find("bad.pkl: byte 2: opcode"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
  }
  EXPECT_ERROR_HAS(unpickle(std::string("\x80\x03.", 3), "p3.pkl"), "protocol 3 is not supported");
  EXPECT_ERROR_HAS(unpickle(std::string("\x80\x04.", 3), "p4.pkl"), "protocol 4");
  // Nor an older protocol's number in a PROTO opcode (PROTO itself is protocol 2's).
  EXPECT_ERROR_HAS(unpickle(std::string("\x80\x01N.", 4), "p1.pkl"), "protocol 1 is not supported");
  EXPECT_ERROR_HAS(unpickle(std::string("\x80\x00N.", 4), "p0.pkl"), "protocol 0 is not supported");
}

TEST(DataMaliciousPickle, HugeLengthFields) {
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string("T\xff\xff\xff\x7f", 5)).raw("abc").s, "big.pkl"),
                   "truncated: needs 2147483647 more bytes, 3 left");
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string("T\xff\xff\xff\xff", 5)).s, "neg.pkl"), "negative string length");
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string("U\xff", 2)).raw("abc").s, "short.pkl"), "truncated");
  // ndarray whose declared shape needs far more bytes than it carries, or overflows.
  EXPECT_ERROR_HAS(unpickle(P().ndarray({1 << 20, 1 << 20}, "f8", "<", "abcd").stop().s, "shape.pkl"),
                   "ndarray data has 4 bytes");
  EXPECT_ERROR_HAS(
      unpickle(P().ndarray({0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff}, "f8", "<", "").stop().s, "ovf.pkl"),
      "overflows");
  EXPECT_ERROR_HAS(unpickle(P().ndarray({-1}, "f4", "<", "").stop().s, "negdim.pkl"), "non-negative");
  // Memo abuse: huge LONG_BINPUT index, BINGET of an empty slot.
  EXPECT_ERROR_HAS(unpickle(P().op('N').raw(std::string("r\xff\xff\xff\xff", 5)).stop().s, "memo.pkl"),
                   "exceeds the limit");
  EXPECT_ERROR_HAS(unpickle(P().raw("h\x05").stop().s, "memo.pkl"), "memo index 5 was never stored");
}

TEST(DataMaliciousPickle, DeepNestingAndStackAbuse) {
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string(100, '(')).s, "marks.pkl"), "MARKs nested deeper than 64");
  P tuples;
  tuples.op(']');
  for (int k = 0; k < 1000; ++k) tuples.op('\x85');
  EXPECT_ERROR_HAS(unpickle(tuples.stop().s, "nest.pkl"), "nested deeper than 64");
  // A list appended to itself again and again (a cycle): depth grows each time.
  P cyc;
  cyc.op(']').raw(std::string("q\x00", 2));
  for (int k = 0; k < 100; ++k) cyc.raw(std::string("h\x00", 2)).op('a');
  EXPECT_ERROR_HAS(unpickle(cyc.stop().s, "cycle.pkl"), "nested deeper");
  // One self-append is legal; the interpreters reject it without recursing forever.
  const PickleDoc d = unpickle(P().op(']').raw(std::string("q\x00h\x00", 4)).op('a').stop().s, "cycle1.pkl");
  EXPECT_THROW(pickle_as_csr(d), Error);
  EXPECT_THROW(pickle_as_array(d), Error);
  EXPECT_THROW(pickle_as_adjacency_lists(d), Error);
  PickleLimits small;
  small.max_stack = 10;
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string(20, 'N')).s, "stack.pkl", small), "stack deeper than 10");
  small = PickleLimits();
  small.max_objects = 10;
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string(20, ']')).s, "objs.pkl", small), "more than 10 objects");
}

// The limits hold at their bounds: 64 containers nested in each other load, a 65th is refused;
// memo indices below max_memo are stored, max_memo itself is refused.
TEST(DataMaliciousPickle, LimitsHoldExactlyAtTheirBounds) {
  const auto nested = [](int tuples) { return P().op(']').raw(std::string(static_cast<size_t>(tuples), '\x85')).stop().s; };
  EXPECT_NO_THROW(unpickle(nested(64), "nest64.pkl"));
  EXPECT_ERROR_HAS(unpickle(nested(65), "nest65.pkl"), "containers nested deeper than 64");
  PickleLimits small;
  small.max_memo = 4;
  EXPECT_NO_THROW(unpickle(P().op('N').raw(std::string("q\x03", 2)).stop().s, "memo3.pkl", small));
  EXPECT_ERROR_HAS(unpickle(P().op('N').raw(std::string("q\x04", 2)).stop().s, "memo4.pkl", small),
                   "memo index 4 exceeds the limit 4");
}

// Memo indices and int values are keys of the unpickler's hash tables: keys a file chose as
// multiples of a table's bucket count all landed in one bucket under the identity hash (a 700 KB
// pickle took 10 s). Salted and mixed, they spread. The object limit's default holds PubMed's
// graph (39438 objects; DataLoaders reads it) at ~225 bytes an object.
TEST(DataMaliciousPickle, ChosenKeysSpreadOverTheHashTables) {
  std::unordered_map<int64_t, int, PickleKeyHash> table;
  table.reserve(50000);
  const auto buckets = static_cast<int64_t>(table.bucket_count());
  for (int64_t k = 0; k < 40000; ++k) table.emplace(k * buckets, 0);
  ASSERT_EQ(static_cast<int64_t>(table.bucket_count()), buckets);
  size_t fullest = 0;
  for (size_t b = 0; b < table.bucket_count(); ++b) fullest = std::max(fullest, table.bucket_size(b));
  EXPECT_LE(fullest, 16u);
  EXPECT_ERROR_HAS(unpickle(P().raw(std::string((size_t{1} << 18) + 1, ']')).s, "objs.pkl"),
                   "more than 262144 objects");
  // Items count too: one list of 2^22 + 1 Nones (4 MB of file, 8 bytes a pointer each and more
  // downstream; a 256 MiB graph took about 4 GB). PubMed's graph has 108394 (DataLoaders).
  EXPECT_ERROR_HAS(unpickle(P().op(']').mark().raw(std::string((size_t{1} << 22) + 1, 'N')).op('e').stop().s, "items.pkl"),
                   "more than 4194304 container items");
}

TEST(DataMaliciousPickle, StructureErrors) {
  EXPECT_ERROR_HAS(unpickle("", "empty.pkl"), "empty.pkl: truncated pickle");
  EXPECT_ERROR_HAS(unpickle(P().op('N').s, "nostop.pkl"), "before the STOP opcode");
  EXPECT_ERROR_HAS(unpickle(P().op('N').stop().raw("x").s, "trail.pkl"), "1 unexpected bytes after STOP");
  EXPECT_ERROR_HAS(unpickle(P().op('N').op('N').stop().s, "two.pkl"), "2 objects on the stack");
  EXPECT_ERROR_HAS(unpickle(P().stop().s, "zero.pkl"), "0 objects on the stack");
  EXPECT_ERROR_HAS(unpickle(P().op('N').mark().stop().s, "mark.pkl"), "open MARK");
  EXPECT_ERROR_HAS(unpickle(P().op('t').s, "nomark.pkl"), "no MARK to pop");
  EXPECT_ERROR_HAS(unpickle(P().op('a').s, "under.pkl"), "stack underflow");
  EXPECT_ERROR_HAS(unpickle(P().op('N').mark().op('\x85').s, "markunder.pkl"), "stack underflow");
  EXPECT_ERROR_HAS(unpickle(P().op('N').op('N').op('a').s, "app.pkl"), "APPEND target must be a list");
  EXPECT_ERROR_HAS(unpickle(P().op('}').mark().op('N').op('u').s, "odd.pkl"), "odd number of items");
  EXPECT_ERROR_HAS(unpickle(P().op('N').op(']').op('b').s, "build.pkl"), "BUILD on a None");
  EXPECT_ERROR_HAS(unpickle(P().op('N').op(')').op('R').s, "red.pkl"), "REDUCE callable must be a global");
}

TEST(DataMaliciousPickle, BadArraysAndMatrices) {
  EXPECT_ERROR_HAS(unpickle(P().ndarray({1}, "i4", ">", le32({1})).stop().s, "be.pkl"), "big-endian");
  EXPECT_ERROR_HAS(unpickle(P().ndarray({1}, "O8", "|", "").stop().s, "obj.pkl"), "dtype 'O8' is not supported");
  EXPECT_ERROR_HAS(unpickle(P().ndarray({1}, "i4", "<", le32({1}), true).stop().s, "f.pkl"), "Fortran");
  EXPECT_ERROR_HAS(unpickle(P().ndarray({3}, "i4", "<", le32({1, 2})).stop().s, "short.pkl"),
                   "ndarray data has 8 bytes, shape and dtype need 12");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 3}, {2, 5, 1}, {1, 2, 3}), "oob.pkl")),
                   "oob.pkl: indices[1] = 5 outside [0, 3) (the columns of shape 2x3)");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 3}, {2, -1, 1}, {1, 2, 3}), "neg.pkl")),
                   "] = -1 outside [0, 3)");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(3, 3, {0, 2, 3}, {2, 0, 1}, {1, 2, 3}), "ptr.pkl")),
                   "indptr has 3 entries, expected rows+1 = 4");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 3, 2}, {2, 0, 1}, {1, 2, 3}), "dec.pkl")),
                   "indptr decreases at row 1");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 4}, {2, 0, 1}, {1, 2, 3}), "end.pkl")),
                   "indptr[-1] = 4");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 3}, {2, 0, 1}, {1, 2}), "len.pkl")),
                   "len.pkl: indices has 3 entries, data 2");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 3}, {2, 0, 1}, {1, 2, 3}, "csc"), "fmt.pkl")),
                   "format is not 'csr'");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(-2, 3, {0}, {}, {}), "negshape.pkl")), "_shape out of range");
  EXPECT_ERROR_HAS(pickle_as_csr(unpickle(csr_pickle(2, 3, {0, 2, 3}, {2, 0, 1}, {1, std::nanf(""), 3}), "nan.pkl")),
                   "nan.pkl: data[1] = nan is not finite");
  // Graph: non-int keys, keys outside 0..N-1, duplicated keys.
  P g;
  g.global("collections", "defaultdict").global("__builtin__", "list").op('\x85').op('R').mark();
  g.raw(std::string("K\x00", 2)).op(']').raw("K\x05").op(']').op('u').stop();
  EXPECT_ERROR_HAS(pickle_as_adjacency_lists(unpickle(g.s, "g.pkl")), "g.pkl: graph key 5 outside 0..2-1");
  P g2;
  g2.op('}').mark().raw(std::string("K\x00", 2)).op(']').raw(std::string("K\x00", 2)).op(']').op('u').stop();
  EXPECT_ERROR_HAS(pickle_as_adjacency_lists(unpickle(g2.s, "g2.pkl")), "graph key 0 appears twice");
  P g3;
  g3.op('}').mark().str("a").op(']').op('u').stop();
  EXPECT_ERROR_HAS(pickle_as_adjacency_lists(unpickle(g3.s, "g3.pkl")), "graph key is a str");
}

TEST(DataMaliciousPickle, ReuseCannotAmplifyMemory) {
  // Found in review: a memo'd list shared by many graph keys would be copied per key
  // (64 KB of pickle -> GBs). Shared lists are rejected.
  P g;
  g.op('}').raw(std::string("q\x00", 2)).mark();
  g.raw(std::string("K\x00", 2)).op(']').raw(std::string("q\x01", 2)).mark();
  for (int k = 0; k < 300; ++k) g.raw(std::string("K\x07", 2));
  g.op('e');
  for (int k = 1; k < 200; ++k) g.raw("K").raw(std::string(1, static_cast<char>(k))).raw(std::string("h\x01", 2));
  g.op('u').stop();
  EXPECT_ERROR_HAS(pickle_as_adjacency_lists(unpickle(g.s, "shared.pkl")), "is shared with another node");
  // One big memo'd string / state dict reused by thousands of BUILDs is referenced, not copied:
  // this parses at once and holds one copy of the 1 MB string.
  P a;
  a.op(']').mark().str(std::string(1 << 20, 'x')).raw(std::string("q\x00", 2));
  a.global("numpy", "dtype").mark().str("b1").i(0).i(1).tuple().op('R');
  a.mark().i(3).str("|").op('N').op('N').op('N').i(-1).i(-1).i(0).tuple().op('b').raw(std::string("q\x01", 2));
  for (int k = 0; k < 5000; ++k) {
    a.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").mark().i(0).tuple().str("b").op('\x87').op('R');
    a.mark().i(1).mark().i(1 << 20).tuple().raw(std::string("h\x01", 2)).op('\x89').raw(std::string("h\x00", 2)).tuple().op('b');
  }
  a.op('e').stop();
  const PickleDoc doc = unpickle(a.s, "reuse.pkl");
  EXPECT_EQ(doc.root()->items.size(), 5002u);
  EXPECT_THROW(pickle_as_array(doc), Error);  // the root is a list, not an array
  // Shapes with absurdly many dimensions are refused.
  EXPECT_ERROR_HAS(unpickle(P().ndarray(std::vector<int32_t>(40, 1), "b1", "|", "x").stop().s, "dims.pkl"),
                   "more than 32 dimensions");
}

// The three calls the reader models, with arguments of another shape than numpy and cPickle write:
// each is named with its byte and opcode (REDUCE), not read as something else.
TEST(DataMaliciousPickle, ModelledCallsWithOtherArgumentsNamed) {
  // _reconstruct(ndarray, (0,)) without its 'b': REDUCE at byte 2 + 36 + 15 + 7 + 1 = 61.
  const std::string two = P().global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").mark().i(0).tuple()
                              .op('\x86').op('R').stop().s;
  EXPECT_EQ(error_of([&] { unpickle(two, "r.pkl"); }),
            "r.pkl: byte 61: opcode REDUCE (0x52): _reconstruct expects (numpy.ndarray, shape, str)");
  // numpy.dtype('i4', 0) without its third argument: REDUCE at byte 2 + 13 + 1 + 4 + 5 + 1 = 26.
  const std::string dt = P().global("numpy", "dtype").mark().str("i4").i(0).tuple().op('R').stop().s;
  EXPECT_EQ(error_of([&] { unpickle(dt, "t.pkl"); }), "t.pkl: byte 26: opcode REDUCE (0x52): numpy.dtype expects (str, int, int)");
  // defaultdict(numpy.ndarray): only list is a default factory here. REDUCE at 2 + 25 + 15 + 1 = 43.
  const std::string dd = P().global("collections", "defaultdict").global("numpy", "ndarray").op('\x85').op('R').stop().s;
  EXPECT_EQ(error_of([&] { unpickle(dd, "d.pkl"); }),
            "d.pkl: byte 43: opcode REDUCE (0x52): collections.defaultdict expects (list,)");
  // The accepted forms of the same calls still load (defaultdict() with no factory too).
  EXPECT_NO_THROW(unpickle(P().global("collections", "defaultdict").op(')').op('R').stop().s, "ok.pkl"));
  EXPECT_NO_THROW(unpickle(P().global("numpy", "dtype").mark().str("i4").i(0).i(1).tuple().op('R').stop().s, "ok.pkl"));
}

// A graph whose node maps to something other than a list of ints ({0: None}, {0: [None]}) is
// named by node, not read as an empty or a zero neighbour.
TEST(DataMaliciousPickle, AdjacencyListsOfOtherTypesNamed) {
  const std::string none = P().op('}').mark().raw(std::string("K\x00", 2)).op('N').op('u').stop().s;
  EXPECT_EQ(error_of([&] { pickle_as_adjacency_lists(unpickle(none, "g.pkl")); }),
            "g.pkl: neighbours of node 0 are a None, expected a list");
  const std::string inner = P().op('}').mark().raw(std::string("K\x00", 2)).op(']').op('N').op('a').op('u').stop().s;
  EXPECT_EQ(error_of([&] { pickle_as_adjacency_lists(unpickle(inner, "g.pkl")); }),
            "g.pkl: neighbour of node 0 is a None, expected an int");
  const std::string text = P().op('}').mark().raw(std::string("K\x00", 2)).op(']').str("1").op('a').op('u').stop().s;
  EXPECT_EQ(error_of([&] { pickle_as_adjacency_lists(unpickle(text, "g.pkl")); }),
            "g.pkl: neighbour of node 0 is a str, expected an int");
  // The same dict with an int neighbour loads.
  const std::string ok = P().op('}').mark().raw(std::string("K\x00", 2)).op(']').raw(std::string("K\x00", 2)).op('a').op('u').stop().s;
  EXPECT_EQ(pickle_as_adjacency_lists(unpickle(ok, "g.pkl")), (std::vector<std::vector<int64_t>>{{0}}));
}

// ---- pickle: real files truncated / corrupted ------------------------------------------------

void expect_every_prefix_rejected(const std::string& rel, size_t stride) {
  const std::string path = data_root() + "/" + rel;
  if (!exists(path)) GTEST_SKIP() << "real data not found: " << path;
  const std::string bytes = load_file_bytes(path);
  all_interpreters(bytes);
  EXPECT_NO_THROW(unpickle(bytes, path));
  size_t tested = 0;
  for (size_t n = 0; n < bytes.size(); n += (n + 64 >= bytes.size() ? 1 : stride)) {
    try {
      unpickle(bytes.substr(0, n), path);
      ADD_FAILURE() << rel << " truncated to " << n << " bytes was accepted";
    } catch (const Error&) {
    }
    ++tested;
  }
  EXPECT_GT(tested, 0u);
}

TEST(DataMaliciousPickle, CoraYTruncatedAtEveryByte) { expect_every_prefix_rejected("planetoid/ind.cora.y", 1); }
TEST(DataMaliciousPickle, CoraXTruncatedAtEveryByte) { expect_every_prefix_rejected("planetoid/ind.cora.x", 1); }
TEST(DataMaliciousPickle, CoraGraphTruncatedSampled) { expect_every_prefix_rejected("planetoid/ind.cora.graph", 97); }
TEST(DataMaliciousPickle, CiteSeerAllxTruncatedSampled) {
  expect_every_prefix_rejected("planetoid/ind.citeseer.allx", 4999);
}

TEST(DataMaliciousPickle, CoraYEveryByteCorrupted) {
  const std::string path = data_root() + "/planetoid/ind.cora.y";
  if (!exists(path)) GTEST_SKIP() << "real data not found: " << path;
  const std::string bytes = load_file_bytes(path);
  for (size_t k = 0; k < bytes.size(); ++k) {
    for (unsigned char v : {0x00, 0xff, 0x28, 0x2e, 0x85}) {
      std::string b = bytes;
      b[k] = static_cast<char>(v);
      all_interpreters(b);  // Error or success; never a crash (run under ASan via tools/fuzz.sh too)
    }
  }
}

// ---- npy / npz -------------------------------------------------------------------------------

TEST(DataMaliciousNpy, HeaderParsing) {
  const NumpyArray ok = parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", f32({1, 2})), "a.npy");
  EXPECT_EQ(ok.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ok.to_double(), (std::vector<double>{1, 2}));
  EXPECT_EQ(parse_npy(npy("{\"shape\": (3L,), \"fortran_order\": False, \"descr\": \"|b1\"}", std::string("\x01\x00\x02", 3), 2), "b.npy")
                .to_int64("b"),
            (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(parse_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", std::string(8, '\0')), "s.npy").size(), 1);
  // Narrow and unsigned integers (pandas' category codes are int8, -1 for a missing value): signed
  // ones sign-extended, unsigned ones as they are.
  const std::string b2("\xff\xfe\x07\x00", 4);
  EXPECT_EQ(parse_npy(npy("{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }", b2), "i1.npy").to_int64("i1"),
            (std::vector<int64_t>{-1, -2, 7, 0}));
  EXPECT_EQ(parse_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", b2), "u1.npy").to_int64("u1"),
            (std::vector<int64_t>{255, 254, 7, 0}));
  EXPECT_EQ(parse_npy(npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", b2), "i2.npy").to_int64("i2"),
            (std::vector<int64_t>{-257, 7}));
  EXPECT_EQ(parse_npy(npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", b2), "u2.npy").to_double(),
            (std::vector<double>{65279, 7}));
  EXPECT_EQ(parse_npy(npy("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", b2), "u4.npy").to_double(),
            (std::vector<double>{524031}));

  EXPECT_ERROR_HAS(parse_npy("PK\x03\x04garbage", "m.npy"), "m.npy: not a .npy file (bad magic)");
  EXPECT_ERROR_HAS(parse_npy(std::string("\x93NUMPY\x03\x00\x00\x00\x00\x00", 12), "v.npy"), "version 3.0 is not supported");
  EXPECT_ERROR_HAS(parse_npy(std::string("\x93NUMPY\x01\x00\xff\x7f{", 11), "len.npy"), "truncated .npy header");
  EXPECT_ERROR_HAS(parse_npy(std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12), "len2.npy"), "too large");
  EXPECT_ERROR_HAS(parse_npy(std::string("\x93NUMPY\x01\x00\x02\x00{}", 12), "nl.npy"), "does not end with a newline");
  // Fortran order (np.save of an F-contiguous array, as pandas' to_numpy() often gives) is read
  // into C order: [[1, 2, 3], [4, 5, 6]] is stored column by column.
  const NumpyArray f = parse_npy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f32({1, 4, 2, 5, 3, 6})), "f.npy");
  EXPECT_EQ(f.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.to_double(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(parse_npy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }", f32({1, 2, 3})), "r.npy").to_double(),
            (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(parse_npy(npy("{'descr': '<i8', 'fortran_order': True, 'shape': (2,), }", std::string("\x07\0\0\0\0\0\0\0\x09\0\0\0\0\0\0\0", 16)), "v.npy")
                .to_int64("v"),
            (std::vector<int64_t>{7, 9}));
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1, 2), }", f32({1, 2, 3, 4})), "f3.npy"),
                   "f3.npy: a Fortran-order array of 3 dimensions is not supported (save np.ascontiguousarray(x))");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", f32({1})), "be.npy"),
                   "big-endian");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "x"), "o.npy"),
                   "dtype '|O' is not supported");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<U19', 'fortran_order': False, 'shape': (1,), }", "x"), "u.npy"),
                   "not supported");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "x"), "s.npy"),
                   "structured dtypes");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", f32({1, 2, 3, 4})), "n.npy"),
                   "n.npy: shape and dtype need 20 data bytes but the file has 16");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5), }", f32({1})), "t.npy"),
                   "not a tuple");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", ""), "neg.npy"),
                   "non-negative integer");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", ""),
                             "ovf.npy"),
                   "overflows");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", ""),
                             "big.npy"),
                   "integer too large");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, }", ""), "miss.npy"),
                   "must have 'descr', 'fortran_order' and 'shape'");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", ""), "dup.npy"),
                   "'descr' twice");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), 'x': 1}", ""), "key.npy"),
                   "unexpected key 'x'");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0,)} junk", ""), "junk.npy"),
                   "trailing characters");
  EXPECT_ERROR_HAS(parse_npy(npy("{'descr': '<f4', 'fortran_order': Nope, 'shape': (0,)}", ""), "b.npy"), "True or False");
  // Float data where integers are needed.
  EXPECT_ERROR_HAS(parse_npy(npy_f4({1.5f}), "fl.npy").to_int64("fl.npy labels"), "fl.npy labels: expected an integer array");
}

// Header syntax errors name the character where the parser stopped (positions within the dict text).
TEST(DataMaliciousNpy, HeaderSyntaxErrorsNamed) {
  const std::string tail = "'fortran_order': False, 'shape': (1,), }";
  auto header_error = [](const std::string& dict) { return error_of([&] { parse_npy(npy(dict, f32({1})), "h.npy"); }); };
  // No comma after a value: "{'descr': '<f4' " is 16 characters.
  EXPECT_EQ(header_error("{'descr': '<f4' " + tail), "h.npy: malformed .npy header at character 16: expected ',' or '}'");
  // A backslash (an escape) inside a string: the reader takes none; character 13 is read, 14 is next.
  EXPECT_EQ(header_error("{'descr': '<f\\4', " + tail), "h.npy: malformed .npy header at character 14: unsupported character in string");
  EXPECT_EQ(header_error("{'descr': '<f\x01', " + tail), "h.npy: malformed .npy header at character 14: unsupported character in string");
  // A key of 65 characters: the 65th (character 66) is one too many.
  EXPECT_EQ(header_error("{'" + std::string(65, 'k') + "': '<f4', " + tail),
            "h.npy: malformed .npy header at character 67: string too long");
  EXPECT_NE(header_error("{'" + std::string(64, 'k') + "': '<f4', " + tail).find("unexpected key"), std::string::npos);
  // Dimensions without a comma: "(2 3)" stops at the 3 (character 53).
  EXPECT_EQ(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }"),
            "h.npy: malformed .npy header at character 53: expected ',' or ')' in shape");
}

// Every element type becomes the double it holds, bit for bit where a double can hold it:
// negative and 2^62-sized int64 values, int32 extremes, and any non-zero bool byte as 1.
TEST(DataMaliciousNpy, ElementsDecodeToExactDoubles) {
  const int64_t big = int64_t{1} << 62;
  EXPECT_EQ(parse_npy(npy_i8({-3, big, -big, 0}), "i8.npy").to_double(), (std::vector<double>{-3.0, 0x1p62, -0x1p62, 0.0}));
  EXPECT_EQ(parse_npy(npy_i4({-7, 2147483647, -2147483647 - 1}), "i4.npy").to_double(),
            (std::vector<double>{-7.0, 2147483647.0, -2147483648.0}));
  EXPECT_EQ(parse_npy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x01\x07", 3)),
                      "b1.npy")
                .to_double(),
            (std::vector<double>{0.0, 1.0, 1.0}));
  std::string f8(16, '\0');
  const double pair[2] = {-0.1, 1e300};
  std::memcpy(f8.data(), pair, 16);
  EXPECT_EQ(parse_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8), "f8.npy").to_double(),
            (std::vector<double>{-0.1, 1e300}));
}

TEST(DataMaliciousNpy, EveryPrefixOfAValidFileRejected) {
  const std::string full = npy_i8({1, 2, 3});
  EXPECT_NO_THROW(parse_npy(full, "ok.npy"));
  for (size_t n = 0; n < full.size(); ++n)
    EXPECT_THROW(parse_npy(full.substr(0, n), "cut.npy"), Error) << n;
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "pdadmm_npz_" + name; }

// A small, valid gnn-benchmark archive: n nodes on a ring (stored one way), 2 classes, 3 features.
struct Bench {
  int32_t n = 2100;
  std::vector<int32_t> adj_indptr, adj_indices, attr_indptr, attr_indices;
  std::vector<float> adj_data, attr_data;
  std::vector<int64_t> labels, adj_shape, attr_shape;
  Bench() {
    adj_indptr.push_back(0);
    attr_indptr.push_back(0);
    for (int32_t v = 0; v < n; ++v) {
      adj_indices.push_back((v + 1) % n);
      adj_data.push_back(1.0f);
      adj_indptr.push_back(v + 1);
      attr_indices.push_back(v % 3);
      attr_data.push_back(static_cast<float>(v % 5));
      attr_indptr.push_back(v + 1);
      labels.push_back(v % 2);
    }
    adj_shape = {n, n};
    attr_shape = {n, 3};
  }
  std::vector<std::tuple<std::string, std::string, bool>> members(bool deflate) const {
    return {{"adj_data.npy", npy_f4(adj_data), deflate},         {"adj_indices.npy", npy_i4(adj_indices), deflate},
            {"adj_indptr.npy", npy_i4(adj_indptr), deflate},     {"adj_shape.npy", npy_i8(adj_shape), deflate},
            {"attr_data.npy", npy_f4(attr_data), deflate},       {"attr_indices.npy", npy_i4(attr_indices), deflate},
            {"attr_indptr.npy", npy_i4(attr_indptr), deflate},   {"attr_shape.npy", npy_i8(attr_shape), deflate},
            {"labels.npy", npy_i8(labels), deflate}};
  }
};

TEST(DataMaliciousNpz, ValidStoredAndDeflatedArchivesLoad) {
  for (bool deflate : {false, true}) {
    const std::string path = temp_path(deflate ? "deflated.npz" : "stored.npz");
    write_zip(path, Bench().members(deflate));
    const Dataset ds = load_gnn_benchmark(path, "ring", 3);
    EXPECT_EQ(ds.num_nodes(), 2100);
    EXPECT_EQ(ds.num_edges(), 2100);
    EXPECT_EQ(ds.num_classes, 2);
    EXPECT_EQ(ds.train.size(), 40u);
    EXPECT_EQ(ds.features.sparse.nnz(), 2100);
  }
}

// A data path that is no regular file (a folder, a device that never ends) is named, not read.
TEST(DataMaliciousPickle, NotARegularFile) {
  EXPECT_ERROR_HAS(load_file_bytes("/dev/zero"), "/dev/zero: not a regular file");
  EXPECT_ERROR_HAS(load_file_bytes(::testing::TempDir()), "not a regular file");
}

TEST(DataMaliciousNpz, NotAZipAndMissing) {
  const std::string path = temp_path("notzip.npz");
  std::ofstream(path, std::ios::binary) << "this is not a zip archive at all";
  EXPECT_ERROR_HAS(NpzArchive::open_file(path), path + ": not a readable .npz (zip) archive");
  EXPECT_ERROR_HAS(load_gnn_benchmark(path, "x", 0), path);
  EXPECT_ERROR_HAS(NpzArchive::open_file(temp_path("nowhere.npz")), "cannot open file");
  EXPECT_ERROR_HAS(NpzArchive::open_file(::testing::TempDir()), "not a regular file");  // zip_open would read a folder
  std::ofstream(temp_path("empty.npz"), std::ios::binary).flush();
  EXPECT_THROW(NpzArchive::open_file(temp_path("empty.npz")), Error);
}

// A graph whose stored entries are all zeros or self-loops has no edges: refused, as an edge list
// of only self-loops is.
TEST(DataMaliciousNpz, AGraphOfNoEdgesIsRefused) {
  const std::string path = temp_path("no_edges.npz");
  Bench b;
  for (float& v : b.adj_data) v = 0.0f;
  write_zip(path, b.members(false));
  EXPECT_ERROR_HAS(load_gnn_benchmark(path, "x", 0),
                   path + ": no edges between two nodes (the adj_* entries are all zeros or self-loops)");
}

// scipy.sparse.save_npz's file (the features a user's own graph takes) given as data.npz.file is
// named as what it is, not as a missing adj_shape.
TEST(DataMaliciousNpz, SaveNpzMatrixIsNoGraph) {
  const std::string path = temp_path("features_sp.npz");
  write_zip(path, test::save_npz_members(2, 3, {0, 1, 2}, {0, 2}, {1.0f, 2.0f}));
  EXPECT_ERROR_HAS(load_gnn_benchmark(path, "x", 0),
                   path + ": a scipy.sparse.save_npz matrix, not a graph (data.npz.file is a gnn-benchmark .npz with "
                          "adj_* arrays; a save_npz file is data.files.features, beside data.files.edges and labels)");
}

TEST(DataMaliciousNpz, CorruptMembers) {
  const std::string path = temp_path("members.npz");
  write_zip(path, {{"badmagic.npy", "NOTNUMPY" + std::string(100, ' '), false},
                   {"short.npy", npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", le32({1, 2})), true},
                   {"ok.npy", npy_i4({1, 2}), true}});
  const NpzArchive z = NpzArchive::open_file(path);
  EXPECT_ERROR_HAS(z.array("badmagic"), path + ": badmagic.npy: not a .npy file (bad magic)");
  EXPECT_ERROR_HAS(z.array("short"), "short.npy: shape and dtype need 16 data bytes but the file has 8");
  EXPECT_ERROR_HAS(z.array("absent"), path + ": no array 'absent'");
  EXPECT_EQ(z.array("ok").to_int64("ok"), (std::vector<int64_t>{1, 2}));
}

// A deflated member of 64 MiB whose header claims four int32s is refused from its header, before the
// rest is inflated: its deflate stream is broken past the first quarter, which only a full read meets
// (the error was then "read error"). A header cut short by the member's end says so as before.
TEST(DataMaliciousNpz, MemberSizeIsCheckedAgainstItsHeaderFirst) {
  const std::string path = temp_path("bomb.npz");
  const std::string header = npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", "");
  write_zip(path, {{"big.npy", header + std::string(size_t{64} << 20, '\0'), true},
                   {"cut.npy", header.substr(0, 40), true}});
  zip_uint64_t comp = 0;
  {
    int err = 0;
    zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
    ASSERT_NE(za, nullptr);
    zip_stat_t st;
    ASSERT_EQ(zip_stat(za, "big.npy", 0, &st), 0);
    comp = st.comp_size;
    zip_discard(za);
  }
  std::string bytes = test::slurp(path);
  ASSERT_EQ(bytes.compare(0, 4, "PK\x03\x04"), 0);  // big.npy's local header comes first
  const size_t data = 30 + (static_cast<unsigned char>(bytes[26]) | static_cast<unsigned char>(bytes[27]) << 8) +
                      (static_cast<unsigned char>(bytes[28]) | static_cast<unsigned char>(bytes[29]) << 8);
  ASSERT_GT(comp, 1000u);
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(data + comp / 4),
            bytes.begin() + static_cast<std::ptrdiff_t>(data + comp), '\xff');
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const NpzArchive z = NpzArchive::open_file(path);
  EXPECT_ERROR_HAS(z.array("big"), path + ": big.npy: shape and dtype need 16 data bytes but the file has " +
                                       std::to_string(size_t{64} << 20));
  EXPECT_ERROR_HAS(z.array("cut"), path + ": cut.npy: truncated .npy header (declares 118 bytes, 30 present)");
}

TEST(DataMaliciousNpz, BadCsrAndShapes) {
  const std::string path = temp_path("badcsr.npz");
  auto load_with = [&](const std::function<void(Bench&)>& edit) {
    Bench b;
    edit(b);
    write_zip(path, b.members(false));
    load_gnn_benchmark(path, "bad", 0);
  };
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_indices[7] = b.n; }),
                   path + ": adj_indices[7] = 2100 outside [0, 2100) (the columns of adj_shape 2100x2100)");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_indices[7] = -5; }), "adj_indices[7] = -5 outside");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.attr_indices[3] = 3; }), "attr_indices[3] = 3 outside [0, 3)");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_indptr.pop_back(); }), "adj_indptr has 2100 entries, expected rows+1 = 2101");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_indptr[5] = 100; }), "adj_indptr decreases at row 5 (100 to 6)");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_indptr[0] = 1; }), "adj_indptr[0] is 1");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_data.pop_back(); }), "adj_indices has 2100 entries, adj_data 2099");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_shape = {b.n, b.n + 1}; }), "adjacency is not square");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_shape = {b.n}; }), "adj_shape: must have shape (2,)");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.attr_shape = {b.n - 1, 3}; }), "attr_shape has 2099 rows for 2100 nodes");
  // A shape without columns, and duplicates whose sum leaves float's range, named by their arrays
  // (they were "data set 'bad' features: ..." from the last check of every loader).
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.attr_shape = {b.n, 0}; }),
                   path + ": attr_shape: 0 feature columns (1 to 2^31 - 1 supported)");
  EXPECT_ERROR_HAS(load_with([](Bench& b) {
                     b.attr_indices.insert(b.attr_indices.begin() + 4, 1);  // row 4: column 1 twice
                     b.attr_data[4] = 3e38f;
                     b.attr_data.insert(b.attr_data.begin() + 4, 3e38f);
                     for (size_t r = 5; r < b.attr_indptr.size(); ++r) ++b.attr_indptr[r];
                   }),
                   path + ": attr_data: the entries stored for row 4, column 1 sum to inf (duplicates are summed, as "
                          "scipy sums them), past float's range");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.labels.pop_back(); }), "labels must have shape (2100,)");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.labels[0] = -7; }), "label -7 of node 0 out of range");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.labels[0] = int64_t{1} << 40; }), "out of range");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.labels.assign(b.n, 0); }), "fewer than 2 classes");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { for (int v = 0; v < 30; ++v) b.labels[v] = 2; b.labels[40] = 3; }),
                   "class 3 has 1 labelled node (node 40), fewer than 20");
  // A NaN or infinite value, in the features or in the (otherwise binarised) adjacency.
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.attr_data[3] = std::nanf(""); }),
                   path + ": attr_data[3] = nan is not finite");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.attr_data[4] = -HUGE_VALF; }), "attr_data[4] = -inf is not finite");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { b.adj_data[5] = HUGE_VALF; }), "adj_data[5] = inf is not finite");
  EXPECT_ERROR_HAS(load_with([](Bench& b) { 
    b.adj_shape = {int64_t{1} << 40, int64_t{1} << 40};
    b.attr_shape = {int64_t{1} << 40, 3};
  }),
                   ": adj_shape 1099511627776x1099511627776 too large");
}

// Bench's archive with its CSR features replaced by attr_matrix.npy (the bytes given), or by nothing.
test::NpzMembers with_attr_matrix(const std::string& matrix) {
  test::NpzMembers m;
  for (auto& member : Bench().members(false))
    if (std::get<0>(member).rfind("attr_", 0) != 0) m.push_back(member);
  if (!matrix.empty()) m.emplace_back("attr_matrix.npy", matrix, true);
  return m;
}

// A dense attr_matrix (gnn-benchmark's other feature layout) is checked as strictly as the CSR one:
// dtype, dimensions, rows against the nodes, finite values in float32; its shape against its bytes
// is parse_npy's (HeaderParsing). CSR features win when both are there, as in gnn-benchmark's loader.
TEST(DataMaliciousNpz, BadDenseFeatures) {
  const std::string path = temp_path("dense.npz");
  const int n = Bench().n;
  auto load_with = [&](const std::string& matrix) {
    write_zip(path, with_attr_matrix(matrix));
    return load_gnn_benchmark(path, "dense", 0);
  };
  const std::string shape = "(" + std::to_string(n) + ", 2)";
  std::vector<float> x(static_cast<size_t>(n) * 2, 0.5f);
  EXPECT_EQ(load_with(test::npy_shaped("<f4", shape, f32(x))).features.dense.size(), x.size());
  EXPECT_ERROR_HAS(load_with(""), path + ": no node features: neither attr_data (CSR");
  EXPECT_EQ(load_with(test::npy_shaped("<i4", shape, std::string(x.size() * 4, '\0'))).features.dense,
            std::vector<float>(x.size(), 0.0f));  // integer counts: read as their values
  EXPECT_ERROR_HAS(load_with(npy_f4(x)),
                   path + ": attr_matrix: must be two-dimensional (nodes x features), has shape (4200,)");
  EXPECT_ERROR_HAS(load_with(test::npy_shaped("<f4", "(" + std::to_string(n) + ", 1, 2)", f32(x))),
                   "must be two-dimensional (nodes x features), has shape (2100, 1, 2)");
  EXPECT_ERROR_HAS(load_with(test::npy_shaped("<f4", "(" + std::to_string(n / 2) + ", 4)", f32(x))),
                   path + ": attr_matrix has 1050 rows for 2100 nodes");
  EXPECT_ERROR_HAS(load_with(test::npy_shaped("<f4", "(" + std::to_string(n) + ", 0)", "")), "0 feature columns");
  // No bytes for a huge claim: the shape must match the data (no allocation from the header).
  EXPECT_ERROR_HAS(load_with(test::npy_shaped("<f4", "(" + std::to_string(n) + ", 1000000000)", f32(x))),
                   "attr_matrix.npy: shape and dtype need 8400000000000 data bytes but the file has 16800");
  x[5] = std::nanf("");
  EXPECT_ERROR_HAS(load_with(test::npy_shaped("<f4", shape, f32(x))),
                   path + ": attr_matrix: value nan of node 2, feature 1 is not finite");
  std::vector<double> big(x.size(), 1.0);
  big[2] = 1e300;
  EXPECT_ERROR_HAS(load_with(test::npy_shaped("<f8", shape, test::f64(big))),
                   "attr_matrix: value 1e+300 of node 1, feature 0 is not finite in float32");
  // Both layouts: the CSR features are read, the dense matrix is not looked at.
  test::NpzMembers both = Bench().members(false);
  both.emplace_back("attr_matrix.npy", "not even an array", false);
  write_zip(path, both);
  const Dataset ds = load_gnn_benchmark(path, "both", 0);
  EXPECT_TRUE(ds.features.is_sparse);
  EXPECT_EQ(ds.features.cols, 3);
}

// Entries that do not survive as stored: an explicit zero in adj_data is no edge (docs/data.md:
// every nonzero entry is one, as scipy's eliminate_zeros leaves them; PyG's read_npz would keep the
// zero, which no named set stores), and only positive features become 1 (PyG's x[x > 0] = 1
// leaves -2 as -2).
TEST(DataMaliciousNpz, StoredZeroEdgeDroppedAndNegativeFeatureKept) {
  const std::string path = temp_path("zeros.npz");
  Bench b;
  b.adj_data[10] = 0.0f;   // edge 10 -> 11 of the ring
  b.attr_data[1] = -2.0f;  // node 1, feature 1
  b.attr_data[3] = 7.0f;   // node 3, feature 0
  write_zip(path, b.members(false));
  const Dataset ds = load_gnn_benchmark(path, "zeros", 3);
  EXPECT_EQ(ds.num_edges(), 2099);
  EXPECT_EQ(ds.adj.indptr[11] - ds.adj.indptr[10], 1);  // node 10 keeps only its edge to 9
  EXPECT_EQ(ds.adj.indices[ds.adj.indptr[10]], 9);
  const Csr& f = ds.features.sparse;
  ASSERT_EQ(f.nnz(), 2100);
  EXPECT_EQ(f.values[0], 0.0f);   // stored 0 stays 0
  EXPECT_EQ(f.values[1], -2.0f);  // negative: not binarised
  EXPECT_EQ(f.values[2], 1.0f);
  EXPECT_EQ(f.values[3], 1.0f);
  const Dataset raw = load_gnn_benchmark(path, "zeros", 3, /*raw_counts=*/true);
  EXPECT_EQ(raw.num_edges(), 2099);
  EXPECT_EQ(raw.features.sparse.values[3], 7.0f);
}

// scipy sums duplicate (row, col) entries of a CSR matrix; keeping one of them would silently
// change weights or feature counts.
TEST(DataMaliciousNpz, ScipyCsrDuplicatesAreSummed) {
  const Csr m = csr_from_scipy_arrays(2, 3, {0, 3, 4}, {2, 0, 2, 1}, {1.5, 4, 2.5, 6}, "dup");
  EXPECT_EQ(m.indptr, (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(m.indices, (std::vector<int32_t>{0, 2, 1}));
  EXPECT_EQ(m.values, (std::vector<float>{4, 4, 6}));
}

TEST(DataMaliciousNpz, TruncatedAndFlippedArchives) {
  const std::string path = temp_path("small.npz");
  std::vector<std::tuple<std::string, std::string, bool>> members = {{"labels.npy", npy_i8({0, 1, 0}), true},
                                                                     {"adj_shape.npy", npy_i8({3, 3}), false}};
  write_zip(path, members);
  const std::string bytes = load_file_bytes(path);
  ASSERT_NO_THROW(NpzArchive::open_memory(bytes, "small.npz").array("labels"));
  auto read_all = [](const std::string& data) {
    try {
      const NpzArchive z = NpzArchive::open_memory(data, "mem.npz");
      for (const std::string& k : z.keys()) z.array(k);
      return true;
    } catch (const Error&) {
      return false;
    }
  };
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(read_all(bytes.substr(0, n))) << "prefix " << n << " accepted";
  // A flipped byte inside the stored member's array data is caught by the zip CRC.
  const size_t data_at = bytes.rfind("\x93NUMPY") + 130;
  ASSERT_LT(data_at, bytes.size());
  std::string flipped = bytes;
  flipped[data_at] = static_cast<char>(flipped[data_at] ^ 1);
  EXPECT_ERROR_HAS(NpzArchive::open_memory(flipped, "flip.npz").array("adj_shape"), "CRC error");
  // Flipping any byte must never crash; a flip inside a member's data (the stored one's and the
  // deflated one's, found through the central directory) must be refused: by the CRC, inflate, the
  // sizes or the .npy header. Only the bytes around them (times, names) may change unnoticed.
  std::vector<bool> in_data(bytes.size(), false);
  const auto byte = [&](size_t at) { return size_t{static_cast<unsigned char>(bytes[at])}; };
  const auto u16 = [&](size_t at) { return byte(at) | byte(at + 1) << 8; };
  const auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  size_t members_seen = 0;
  for (size_t cd = bytes.find("PK\x01\x02"); cd != std::string::npos; cd = bytes.find("PK\x01\x02", cd + 4)) {
    const size_t comp = u32(cd + 20), local = u32(cd + 42);
    ASSERT_EQ(bytes.compare(local, 4, "PK\x03\x04"), 0) << "no local header at " << local;
    const size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    ASSERT_LE(data + comp, bytes.size());
    ASSERT_GT(comp, 0u);
    for (size_t k = data; k < data + comp; ++k) in_data[k] = true;
    ++members_seen;
  }
  ASSERT_EQ(members_seen, members.size());
  size_t data_flips = 0;
  for (size_t k = 0; k < bytes.size(); ++k) {
    std::string c = bytes;
    c[k] = static_cast<char>(c[k] ^ 0x5a);
    const bool accepted = read_all(c);
    if (in_data[k]) {
      EXPECT_FALSE(accepted) << "a flip of byte " << k << ", inside a member's data, was accepted";
      ++data_flips;
    }
  }
  EXPECT_GT(data_flips, 128u) << "both members' data: two npy headers and their arrays";
}

TEST(DataMaliciousNpz, RealArchiveTruncated) {
  const std::string src = data_root() + "/npz/amazon_electronics_photo.npz";
  if (!exists(src)) GTEST_SKIP() << "real data not found: " << src;
  const std::string bytes = load_file_bytes(src);
  for (size_t n : {size_t{0}, size_t{100}, bytes.size() / 2, bytes.size() - 22, bytes.size() - 1}) {
    const std::string path = temp_path("photo_cut.npz");
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(n));
    EXPECT_THROW(load_gnn_benchmark(path, "photo", 0), Error) << "truncated to " << n;
  }
}

// ---- Planetoid: real Cora with one file replaced ---------------------------------------------

// Copies the eight real Cora files into a fresh folder (name) and returns it, "" when absent.
std::string cora_copy(const std::string& name) {
  const std::string src = data_root() + "/planetoid";
  const std::string dir = ::testing::TempDir() + "pdadmm_planetoid_" + name;
  for (const std::string& part : planetoid_parts())
    if (!exists(src + "/ind.cora." + part)) return "";
  std::filesystem::create_directories(dir);
  for (const std::string& part : planetoid_parts()) {
    const std::string from = src + "/ind.cora." + part;
    const std::string bytes = load_file_bytes(from);
    std::ofstream(dir + "/ind.cora." + part, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  return dir;
}

// The array as a pickle again (same dtype and shape), for pickle_as_array.
std::string array_pickle(const NumpyArray& a) {
  std::vector<int32_t> shape(a.shape.begin(), a.shape.end());
  return P().ndarray(shape, a.descr.substr(1), a.descr.substr(0, 1), a.data).stop().s;
}

// Element k of an integer or float array set to 1.
void set_one(NumpyArray& a, int64_t k) {
  const int w = a.itemsize();
  char* at = &a.data[static_cast<size_t>(k * w)];
  if (a.descr == "<f4") {
    const float one = 1;
    std::memcpy(at, &one, 4);
  } else if (a.descr == "<f8") {
    const double one = 1;
    std::memcpy(at, &one, 8);
  } else {
    std::memset(at, 0, static_cast<size_t>(w));
    at[0] = 1;
  }
}

// A label row with two classes set (multi-hot) has no single label: GCN's argmax would silently
// take the first, so the loader refuses it and names the row.
TEST(DataMaliciousPlanetoid, MultiHotLabelRowRejected) {
  const std::string dir = cora_copy("multihot");
  if (dir.empty()) GTEST_SKIP() << "real data not found: " << data_root() << "/planetoid/ind.cora.*";
  ASSERT_NO_THROW(load_planetoid(dir, "cora"));
  const std::string ally = dir + "/ind.cora.ally";
  NumpyArray a = pickle_as_array(unpickle(load_file_bytes(ally), ally));
  ASSERT_EQ(a.shape, (std::vector<int64_t>{1708, 7}));
  const std::vector<double> v = a.to_double();
  const std::vector<double> row5(v.begin() + 5 * 7, v.begin() + 6 * 7);
  ASSERT_EQ(std::count(row5.begin(), row5.end(), 1.0), 1) << "row 5 of ind.cora.ally is not one-hot already";
  const int64_t other = row5[0] == 1.0 ? 1 : 0;
  set_one(a, 5 * 7 + other);
  std::ofstream(ally, std::ios::binary | std::ios::trunc) << array_pickle(a);
  EXPECT_ERROR_HAS(load_planetoid(dir, "cora"), ally + ": row 5 is not one-hot");
}

// An id twice in test.index would give one node two tx rows (and leave another without one).
TEST(DataMaliciousPlanetoid, TestIndexIdListedTwiceRejected) {
  const std::string dir = cora_copy("twice");
  if (dir.empty()) GTEST_SKIP() << "real data not found: " << data_root() << "/planetoid/ind.cora.*";
  const std::string index = dir + "/ind.cora.test.index";
  std::vector<int64_t> ids = parse_test_index(load_file_bytes(index), index);
  ASSERT_EQ(ids.size(), 1000u);
  ASSERT_EQ(ids[0], 2692);
  ids[1] = ids[0];  // 1000 ids still, all inside the test range
  std::ofstream out(index, std::ios::binary | std::ios::trunc);
  for (int64_t v : ids) out << v << "\n";
  out.close();
  EXPECT_ERROR_HAS(load_planetoid(dir, "cora"), index + ": id 2692 listed twice");
}

// Another set's file under a set's name (CiteSeer's graph among Cora's files, the Computers npz
// named as Photo's): each alone parses, and the sets loaded with a wrong node count, zero features
// beyond the files' rows, or the other set's classes. The named sets' shapes are known.
TEST(DataMaliciousPlanetoid, AnotherSetsFilesUnderTheNameAreNamed) {
  const std::string src = data_root();
  for (const char* f : {"planetoid/ind.citeseer.graph", "npz/amazon_electronics_computers.npz"})
    if (!exists(src + "/" + f)) GTEST_SKIP() << "real data not found: " << src << "/" << f;
  for (const std::string& part : planetoid_parts())
    if (!exists(src + "/planetoid/ind.cora." + part)) GTEST_SKIP() << "real data not found: " << src;
  const std::string root = ::testing::TempDir() + "pdadmm_swapped";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/planetoid");
  std::filesystem::create_directories(root + "/npz");
  for (const std::string& part : planetoid_parts())
    std::filesystem::create_symlink(src + "/planetoid/ind." + (part == "graph" ? "citeseer." : "cora.") + part,
                                    root + "/planetoid/ind.cora." + part);
  std::filesystem::create_symlink(src + "/npz/amazon_electronics_computers.npz", root + "/npz/amazon_electronics_photo.npz");
  EXPECT_ERROR_HAS(load_real_dataset("cora", root, 0, false),
                   root + "/planetoid/ind.cora.* holds 3327 nodes, 1433 features, 7 classes; cora has 2708 nodes, 1433 "
                          "features, 7 classes (another data set's files, or altered ones: data.verify checks them");
  EXPECT_ERROR_HAS(load_real_dataset("amazon_photo", root, 0, false),
                   root + "/npz/amazon_electronics_photo.npz holds 13752 nodes, 767 features, 10 classes; amazon_photo "
                          "has 7650 nodes, 745 features, 8 classes");
  std::filesystem::remove_all(root);
}

// planetoid_from_bytes with the eight parts in planetoid_parts() order, as fuzz_planetoid gives them.
std::string planetoid_error(const std::vector<std::string>& parts) {
  std::vector<std::string> all = parts;
  all.resize(planetoid_parts().size());
  return error_of([&] { planetoid_from_bytes(all, "d", "s"); });
}

// The hand-made set of AssemblyFollowsGcnLoadData, in planetoid_parts() order (x, y, tx, ty, allx,
// ally, graph, test.index): 507 nodes, allx rows 0..502, test range 503..506, graph 0: [1, 1, 0],
// 2: graph_2 ([3] by default: 3 does not list 2), every other node [].
std::vector<std::string> hand_made_planetoid(const std::vector<int32_t>& graph_2 = {3}) {
  const int32_t nall = 503, n = 507;  // allx rows 0..502, test range 503..506
  std::vector<int32_t> ptr = {0}, idx, flat;
  std::vector<float> val;
  for (int32_t r = 0; r < nall; ++r) {
    idx.push_back(r % 4);
    val.push_back(1);
    ptr.push_back(static_cast<int32_t>(idx.size()));
    for (int c = 0; c < 2; ++c) flat.push_back(r != 502 && r % 2 == c);  // row 502: no label
  }
  const std::string allx = csr_pickle(nall, 4, ptr, idx, val);
  const std::string ally = P().ndarray({nall, 2}, "i4", "<", le32(flat)).stop().s;
  const std::string x = csr_pickle(2, 4, {0, 1, 2}, {0, 1}, {1, 1});
  const std::string y = P().ndarray({2, 2}, "i4", "<", le32({1, 0, 0, 1})).stop().s;
  const std::string tx = csr_pickle(3, 4, {0, 2, 3, 4}, {3, 0, 1, 2}, {5, 2, 7, 9});
  const std::string ty = P().ndarray({3, 2}, "i4", "<", le32({0, 1, 1, 0, 0, 1})).stop().s;
  P g;  // defaultdict(list): 0: [1, 1, 0], 2: graph_2, every other node []
  g.global("collections", "defaultdict").global("__builtin__", "list").op('\x85').op('R').mark();
  for (int32_t i = 0; i < n; ++i) {
    g.i(i).op(']');
    if (i == 0) g.mark().i(1).i(1).i(0).op('e');
    if (i == 2) {
      g.mark();
      for (int32_t j : graph_2) g.i(j);
      g.op('e');
    }
  }
  g.op('u').stop();
  return {x, y, tx, ty, allx, ally, g.s, "506\n503\n505\n"};
}

// GCN's load_data on a hand-made set (no real data needed): node test.index[j] takes tx/ty row j,
// an id inside min..max of test.index without a row (CiteSeer's quirk) gets no features and no
// label and stays out of test, an all-zero label row is "no label", the graph is symmetrised with
// self-loops dropped and duplicates merged; train = 0..len(y)-1, val = the next 500.
TEST(DataPlanetoidHandMade, AssemblyFollowsGcnLoadData) {
  const std::vector<std::string> parts = hand_made_planetoid();
  const std::string &x = parts[0], &y = parts[1], &tx = parts[2], &allx = parts[4], &ally = parts[5], &graph = parts[6];
  const Dataset ds = planetoid_from_bytes(parts, "d", "s");
  EXPECT_EQ(ds.num_nodes(), 507);
  EXPECT_EQ(ds.num_classes, 2);
  // Edges 0-1 and 2-3 only.
  EXPECT_EQ(std::vector<int64_t>(ds.adj.indptr.begin(), ds.adj.indptr.begin() + 5), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ds.adj.indices, (std::vector<int32_t>{1, 0, 3, 2}));
  EXPECT_EQ(ds.num_edges(), 2);
  const Csr& f = ds.features.sparse;
  auto row = [&](int64_t v) {
    std::vector<std::pair<int32_t, float>> out;
    for (int64_t e = f.indptr[v]; e < f.indptr[v + 1]; ++e) out.emplace_back(f.indices[e], f.values[e]);
    return out;
  };
  using R = std::vector<std::pair<int32_t, float>>;
  EXPECT_EQ(row(10), (R{{2, 1.0f}}));
  EXPECT_EQ(row(506), (R{{0, 2.0f}, {3, 5.0f}}));  // tx row 0, columns sorted
  EXPECT_EQ(row(503), (R{{1, 7.0f}}));              // tx row 1
  EXPECT_EQ(row(504), R{});                          // isolated id in the test range
  EXPECT_EQ(row(505), (R{{2, 9.0f}}));              // tx row 2
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin() + 500, ds.labels.end()),
            (std::vector<int32_t>{0, 1, -1, 0, -1, 1, 1}));
  EXPECT_EQ(ds.train, (std::vector<int32_t>{0, 1}));
  ASSERT_EQ(ds.val.size(), 500u);
  EXPECT_EQ(ds.val.front(), 2);
  EXPECT_EQ(ds.val.back(), 501);
  EXPECT_EQ(ds.test, (std::vector<int32_t>{503, 505, 506}));
  // A test id whose ty row is all zero has no label to test on.
  const std::string ty0 = P().ndarray({3, 2}, "i4", "<", le32({0, 1, 0, 0, 0, 1})).stop().s;
  EXPECT_ERROR_HAS(planetoid_from_bytes({x, y, tx, ty0, allx, ally, graph, "506\n503\n505\n"}, "d", "s"),
                   "d/ind.s.ty: test node 503 has no label");
  // Nor a training or validation node (both rows of ally; val was scored as if unlabelled).
  for (const int32_t v : {1, 100}) {
    std::vector<int32_t> flat;
    for (int32_t r = 0; r < 503; ++r)
      for (int c = 0; c < 2; ++c) flat.push_back(r != 502 && r != v && r % 2 == c);
    const std::string ally0 = P().ndarray({503, 2}, "i4", "<", le32(flat)).stop().s;
    EXPECT_ERROR_HAS(planetoid_from_bytes({x, y, tx, parts[3], allx, ally0, graph, "506\n503\n505\n"}, "d", "s"),
                     "d/ind.s.ally: row " + std::to_string(v) + " (a " + (v == 1 ? "training" : "validation") +
                         " node) is all zeros: no label");
  }
}

// len(y) + 500 validation nodes may fill allx to its last row (GCN's load_data asks no more);
// one training row more is refused. And a graph of fewer nodes than allx has rows is named as
// such, not as test ids outside an empty test range.
TEST(DataPlanetoidHandMade, ValidationMayEndAtAllxsLastRow) {
  std::vector<std::string> parts = hand_made_planetoid();
  std::vector<int32_t> flat;  // every ally row labelled (the hand-made set leaves row 502 without)
  for (int32_t r = 0; r < 503; ++r)
    for (int c = 0; c < 2; ++c) flat.push_back(r % 2 == c);
  parts[5] = P().ndarray({503, 2}, "i4", "<", le32(flat)).stop().s;
  parts[0] = csr_pickle(3, 4, {0, 1, 2, 3}, {0, 1, 2}, {1, 1, 1});  // x and y: 3 training nodes
  parts[1] = P().ndarray({3, 2}, "i4", "<", le32({1, 0, 0, 1, 1, 0})).stop().s;
  const Dataset ds = planetoid_from_bytes(parts, "d", "s");
  EXPECT_EQ(ds.train, (std::vector<int32_t>{0, 1, 2}));
  ASSERT_EQ(ds.val.size(), 500u);
  EXPECT_EQ(ds.val.front(), 3);
  EXPECT_EQ(ds.val.back(), 502);
  parts[0] = csr_pickle(4, 4, {0, 1, 2, 3, 4}, {0, 1, 2, 3}, {1, 1, 1, 1});
  parts[1] = P().ndarray({4, 2}, "i4", "<", le32({1, 0, 0, 1, 1, 0, 0, 1})).stop().s;
  EXPECT_EQ(error_of([&] { planetoid_from_bytes(parts, "d", "s"); }),
            "d/ind.s.*: len(y) + 500 validation nodes exceed the 503 rows of allx");
  // A graph of 500 nodes for allx's 503 rows.
  parts = hand_made_planetoid();
  P g;
  g.global("collections", "defaultdict").global("__builtin__", "list").op('\x85').op('R').mark();
  for (int32_t i = 0; i < 500; ++i) {
    g.i(i).op(']');
    if (i == 0) g.mark().i(1).op('e');
  }
  g.op('u').stop();
  parts[6] = g.s;
  EXPECT_EQ(error_of([&] { planetoid_from_bytes(parts, "d", "s"); }), "d/ind.s.graph: 500 nodes but allx has 503 rows");
}

// An id of test.index outside the test range (below allx's rows, or past the graph's nodes) and a
// neighbour outside the graph are named with the file, not read out of bounds.
TEST(DataMaliciousPlanetoid, IdsOutsideTheGraphNamed) {
  std::vector<std::string> parts = hand_made_planetoid();
  ASSERT_NO_THROW(planetoid_from_bytes(parts, "d", "s"));
  for (const std::string index : {"506\n502\n505\n", "506\n507\n505\n"}) {
    parts[7] = index;
    const std::string id = index.substr(4, 3);
    EXPECT_EQ(error_of([&] { planetoid_from_bytes(parts, "d", "s"); }),
              "d/ind.s.test.index: id " + id + " outside the test range [503, 507)");
  }
  for (int32_t j : {507, -1}) {
    parts = hand_made_planetoid({3, j});
    EXPECT_EQ(error_of([&] { planetoid_from_bytes(parts, "d", "s"); }),
              "d/ind.s.graph: node 2 lists neighbour " + std::to_string(j) + " outside [0, 507)");
  }
}

// A file far larger than any Planetoid file (a sparse 300 MiB one here) is refused by its size,
// before it is read: 4 GiB took 42 s and 8 GiB, and 30 GB was read as its first 4 GiB.
TEST(DataMaliciousPlanetoid, AHugeFileIsRefusedBeforeItIsRead) {
  const std::string dir = ::testing::TempDir() + "pdadmm_planetoid_huge";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const std::string& part : planetoid_parts()) std::ofstream(dir + "/ind.cora." + part).close();
  const std::string x = dir + "/ind.cora.x";
  std::filesystem::resize_file(x, std::uintmax_t{300} << 20);
  EXPECT_ERROR_HAS(load_planetoid(dir, "cora"), x + ": 314572800 bytes, more than the 256 MiB a Planetoid file may have");
  std::filesystem::remove_all(dir);
}

// A graph whose lists hold only the node itself (or nothing) has no edge once self-loops are
// dropped: refused, as the npz and own-file loaders refuse theirs (it trained as "0 edges").
TEST(DataMaliciousPlanetoid, AGraphOfSelfLoopsAloneRejected) {
  std::vector<std::string> parts = hand_made_planetoid();
  P g;
  g.global("collections", "defaultdict").global("__builtin__", "list").op('\x85').op('R').mark();
  for (int32_t i = 0; i < 507; ++i) {
    g.i(i).op(']');
    if (i % 3 == 0) g.mark().i(i).op('e');
  }
  g.op('u').stop();
  parts[6] = g.s;
  EXPECT_EQ(error_of([&] { planetoid_from_bytes(parts, "d", "s"); }),
            "d/ind.s.graph: no edges between two nodes (every list is empty or holds only its own node)");
}

// A (rows, 0) label array holds no bytes whatever rows says: the class count is checked before a
// per-row vector is sized (a (2^31 - 1, 0) y allocated 8 GiB before).
TEST(DataMaliciousPlanetoid, LabelsWithNoClassesRejectedBeforeSizing) {
  const std::string x = csr_pickle(1, 3, {0, 1}, {2}, {1});
  for (int32_t rows : {1, 2147483647}) {
    const std::string y = P().ndarray({rows, 0}, "i4", "<", "").stop().s;
    const std::string msg = planetoid_error({x, y});
    EXPECT_NE(msg.find("d/ind.s.y: 0 classes (2 to 2^31 - 1 supported)"), std::string::npos) << msg;
  }
  const std::string y1 = P().ndarray({1, 1}, "i4", "<", le32({1})).stop().s;
  EXPECT_NE(planetoid_error({x, y1}).find("d/ind.s.y: 1 classes"), std::string::npos);
}

TEST(DataMaliciousPlanetoid, WrongNumberOfPartsRejected) {
  EXPECT_ERROR_HAS(planetoid_from_bytes({"", ""}, "d", "s"), "2 files given, expected 8");
}

}  // namespace
}  // namespace pdadmm
