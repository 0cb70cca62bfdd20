// Model checkpoints: the trained W and b of every layer plus the model description, in one
// binary file written atomically. Layout: "PDADMM01", u64 header length, JSON header (with the
// CRC32 of what follows and header_crc32, that of the rest of the header, each checked on load
// when present: files of older binaries lack them; an unknown key is damage), then
// the float32 values of W_0, b_0, W_1, b_1, … in row-major order.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/backend/host_matrix.h"

namespace pdadmm {

// model.bin's first bytes (framed_file.h), by which other commands also tell one.
inline constexpr char kCheckpointMagic[9] = "PDADMM01";

struct Checkpoint {
  nlohmann::json meta;  // free-form: config, iteration, data set
  std::vector<HostMatrix<float>> W, b;
};

void save_checkpoint(const std::string& path, const Checkpoint& c);
// The same from the weights where they are (no copy: train's model.bin).
void save_checkpoint(const std::string& path, const nlohmann::json& meta, const std::vector<HostMatrix<float>>& W,
                     const std::vector<HostMatrix<float>>& b);
// Throws Error naming the file when it is missing, truncated or not a checkpoint.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace pdadmm
