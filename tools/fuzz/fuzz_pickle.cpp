// libFuzzer target: the restricted unpickler and its three Planetoid interpreters (tools/fuzz.sh).
// Anything but pdadmm::Error escaping, or any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "host/data/pickle.h"
#include "host/io/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const pdadmm::PickleDoc doc = pdadmm::unpickle(bytes, "fuzz.pkl");
    try {
      pdadmm::NumpyArray a = pdadmm::pickle_as_array(doc);
      if (a.is_integer()) a.to_int64("fuzz");
      a.to_double();
    } catch (const pdadmm::Error&) {
    }
    try {
      pdadmm::Csr m = pdadmm::pickle_as_csr(doc);
      m.validate("fuzz csr");
    } catch (const pdadmm::Error&) {
    }
    try {
      pdadmm::pickle_as_adjacency_lists(doc);
    } catch (const pdadmm::Error&) {
    }
  } catch (const pdadmm::Error&) {
  }
  return 0;
}
