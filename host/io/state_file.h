// Resume state files (OUT/state.bin): a JSON header and named float32 tensors, framed as model.bin
// is (magic, u64 header length, header with the CRC32 of the payload, raw row-major values), written
// atomically. The trainer fills `meta`; the solver's tensors travel as they are stored.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/backend/host_matrix.h"

namespace pdadmm {

struct StateFile {
  nlohmann::json meta;
  std::vector<std::string> names;          // one per tensor, unique
  std::vector<HostMatrix<float>> tensors;  // 0 x 0 allowed
};

void save_state_file(const std::string& path, const StateFile& s);
// Throws Error naming the file when it is missing, truncated, corrupted or not a state file.
StateFile load_state_file(const std::string& path);
// The header's meta alone, read without the tensors (100s of MB); null when path is no regular
// file or not a state file. Unchecked: for a note, not to resume from.
nlohmann::json peek_state_meta(const std::string& path);

}  // namespace pdadmm
