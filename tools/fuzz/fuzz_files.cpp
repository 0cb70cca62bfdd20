// libFuzzer target: a user's own files (data.name "files") read from memory up to a split Dataset
// (tools/fuzz.sh). The input is the edge list, then the features (CSV, .npy or save_npz's .npz),
// then the labels, separated by "@@@\n"; a part left out is a small valid one. Anything but
// pdadmm::Error escaping, or any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "host/data/own_files.h"
#include "host/io/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string part[3] = {"0 1\n2 3\n", "1,0\n0,1\n1,1\n0,0\n1,0\n0,1\n", "0\n1\n0\n1\n0\n1\n"};
  for (size_t k = 0, from = 0; k < 3 && from <= bytes.size(); ++k) {
    const size_t at = bytes.find("@@@\n", from);
    part[k] = bytes.substr(from, at == std::string::npos ? std::string::npos : at - from);
    if (at == std::string::npos) break;
    from = at + 4;
  }
  try {
    pdadmm::parse_edge_list(part[0], 1000, "e.txt");
  } catch (const pdadmm::Error&) {
  }
  try {
    // Sizes small graphs can meet: per class, or a class-blind fraction (chosen by the input size).
    pdadmm::SplitSizes sizes{1, 1, 1, "data.files"};
    if (size % 2) sizes = {1, 0.25, 0.25, "data.files", 0.25};
    pdadmm::own_files_dataset({"e.txt", "f.csv", "l.txt"}, part[0], part[1], part[2], 1, size % 3 == 0, sizes);
  } catch (const pdadmm::Error&) {
  }
  return 0;
}
