// libFuzzer target: .npy parsing and, for inputs starting with "PK", .npz archives read from memory
// through libzip (stored and deflated members) up to a full gnn-benchmark Dataset: CSR assembly,
// symmetrising, split and validation (tools/fuzz.sh). Anything but pdadmm::Error escaping, or any
// sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "host/data/npz.h"
#include "host/io/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    if (size >= 2 && bytes[0] == 'P' && bytes[1] == 'K') {
      const pdadmm::NpzArchive z = pdadmm::NpzArchive::open_memory(bytes, "fuzz.npz");
      for (const std::string& key : z.keys()) {
        try {
          z.array(key).to_double();
        } catch (const pdadmm::Error&) {
        }
      }
      // Split sizes small graphs can meet, so the split and Dataset::validate run too: per class,
      // fractions, or a fixed train count (chosen by the input size), with and without raw counts.
      pdadmm::SplitSizes sizes;
      sizes.per_class = 1;
      sizes.test = sizes.val = 2;
      if (size % 3 == 1) sizes.test = sizes.val = 0.25;
      if (size % 3 == 2) sizes.train = 3;
      pdadmm::gnn_benchmark_from_archive(z, "fuzz", 1, size % 2 == 0, sizes);
    } else {
      const pdadmm::NumpyArray a = pdadmm::parse_npy(bytes, "fuzz.npy");
      if (a.is_integer()) a.to_int64("fuzz");
      a.to_double();
      if (a.shape.size() == 1 && a.is_integer()) {
        // Reuse the array as indptr and indices of a square CSR: exercises the CSR checks.
        const std::vector<int64_t> v = a.to_int64("fuzz");
        const int64_t rows = static_cast<int64_t>(v.size()) - 1;
        if (rows >= 0) pdadmm::csr_from_scipy_arrays(rows, rows, v, v, a.to_double(), "fuzz csr");
      }
    }
  } catch (const pdadmm::Error&) {
  }
  return 0;
}
