// The binary files pdadmm writes for itself (model.bin, state.bin) share one frame: 8 magic
// bytes, the JSON header's length (u64), the header, then the raw payload. Written atomically.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace pdadmm {

void write_framed_file(const std::string& path, const char* magic, const nlohmann::json& header,
                       const std::string& payload);

struct FramedFile {
  nlohmann::json header;
  std::string bytes;   // the whole file
  size_t payload = 0;  // offset of the payload in bytes
};

// Reads path; errors are one line starting "KIND PATH: …" (a missing file: "KIND: …"), e.g.
// "checkpoint x.bin: not a pdadmm checkpoint" with noun "checkpoint".
FramedFile read_framed_file(const std::string& path, const char* magic, const std::string& kind,
                            const std::string& noun);

}  // namespace pdadmm
