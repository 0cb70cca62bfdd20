// Restricted, non-executing reader for the Python-2 protocol-2 pickles of the Planetoid data
// sets: a fixed opcode subset and a fixed allow-list of globals, every length and index checked.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/data/csr.h"
#include "host/data/npz.h"

namespace pdadmm {

// One unpickled object. Only the kinds the Planetoid files contain exist; nothing is ever called:
// the allowed globals are recognised by name and their effect is modelled here.
struct PyObj {
  enum class Kind { None, Bool, Int, Bytes, Tuple, List, Dict, Global, Dtype, NdArray, CsrMatrix };
  enum class Global { Reconstruct, NdArrayType, DtypeType, CsrMatrixType, DefaultDict, ListType };

  Kind kind = Kind::None;
  size_t nesting = 0;                            // depth of containers inside this one
  int64_t num = 0;                               // Int, Bool
  std::string bytes;                             // Bytes (Python 2 str: raw bytes)
  std::vector<PyObj*> items;                     // Tuple, List
  std::vector<std::pair<PyObj*, PyObj*>> dict;   // Dict (insertion order)
  Global global = Global::Reconstruct;           // Global
  // Dtype: numpy type code ("i4", "f4", "i8", "f8", "b1") and byte order ('<', '|'; 0 = not built).
  std::string type_code;
  char byte_order = 0;
  // NdArray / CsrMatrix: filled by BUILD. Objects are referenced, never copied, so a pickle
  // cannot multiply its size by reusing one big memo entry.
  bool built = false;
  std::vector<int64_t> shape;   // NdArray (at most 32 dimensions)
  const PyObj* dtype = nullptr;  // NdArray: a built Dtype
  const PyObj* raw = nullptr;    // NdArray: the Bytes object with the C-order data
  const PyObj* state = nullptr;  // CsrMatrix: the state Dict
};

// The result of unpickling: owns every object (an arena, so cyclic references cannot leak).
class PickleDoc {
 public:
  const PyObj* root() const { return root_; }
  const std::string& what() const { return what_; }

 private:
  friend class Unpickler;
  std::string what_;
  std::vector<std::unique_ptr<PyObj>> arena_;
  PyObj* root_ = nullptr;
};

// Limits of the reader; the defaults are far above what the real files need.
struct PickleLimits {
  size_t max_mark_depth = 64;        // open MARKs at once
  size_t max_nesting = 64;           // containers inside containers
  size_t max_stack = size_t{1} << 24;
  size_t max_memo = size_t{1} << 22;  // memo index bound (BINPUT / LONG_BINPUT)
  size_t max_objects = size_t{1} << 18;  // PubMed's graph needs 39438 (~225 bytes each)
  size_t max_items = size_t{1} << 22;    // container items in all; PubMed's graph has 108394
};

// The unpickler's hash of memo indices and int values: salted per process and mixed, since the
// standard library's identity hash let a file put every key in one bucket (a 700 KB pickle of
// chosen ints took 10 s to read).
struct PickleKeyHash {
  size_t operator()(uint64_t key) const;
};

// Unpickles `bytes`; `what` (the file name) starts every error message. Throws Error naming the
// byte offset and the opcode or global at fault for anything outside the supported subset.
PickleDoc unpickle(const std::string& bytes, const std::string& what, const PickleLimits& limits = {});

// Interpreters for the three Planetoid object kinds. Each throws Error (prefixed with the
// document's name) when the object is not what it should be.
NumpyArray pickle_as_array(const PickleDoc& doc);  // numpy.ndarray (y, ty, ally)
Csr pickle_as_csr(const PickleDoc& doc);          // scipy csr_matrix (x, tx, allx)
std::vector<std::vector<int64_t>> pickle_as_adjacency_lists(const PickleDoc& doc);  // graph

// Planetoid files past this size are refused before they are read.
constexpr std::uintmax_t kMaxPickleFileBytes = std::uintmax_t{256} << 20;
// Reads the whole file into memory; throws Error naming the path when it cannot be read or is
// larger than kMaxPickleFileBytes.
std::string load_file_bytes(const std::string& path);

}  // namespace pdadmm
