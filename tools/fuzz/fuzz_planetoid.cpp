// libFuzzer target: a whole Planetoid load from memory (tools/fuzz.sh): the input is the eight
// files x y tx ty allx ally graph test.index joined by kSep (missing parts are empty), assembled
// as load_planetoid does (tx reordering, padding, graph symmetrising, splits, validation).
// Anything but pdadmm::Error escaping, or any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "host/data/planetoid.h"
#include "host/io/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kSep = "\xff" "PART" "\xff";  // also in planetoid.dict and tools/fuzz/seeds.py
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  size_t pos = 0;
  while (parts.size() + 1 < pdadmm::planetoid_parts().size()) {
    const size_t at = bytes.find(kSep, pos);
    if (at == std::string::npos) break;
    parts.push_back(bytes.substr(pos, at - pos));
    pos = at + kSep.size();
  }
  parts.push_back(bytes.substr(pos));
  parts.resize(pdadmm::planetoid_parts().size());
  try {
    pdadmm::planetoid_from_bytes(parts, "fuzz", "set");
  } catch (const pdadmm::Error&) {
  }
  return 0;
}
