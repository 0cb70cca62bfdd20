// libFuzzer target: model.bin and state.bin as `pdadmm eval`, `export` and `train --resume` read
// them (tools/fuzz.sh). An input starting with the state file's magic goes to the state loader,
// any other to the checkpoint loader; a loaded checkpoint is then exported to .npz in memory. Odd
// sizes first get their checksums made right (when the header parses), so mutations reach the
// shape, size and value checks behind them instead of stopping at a checksum mismatch. Anything
// but pdadmm::Error escaping, or any sanitizer report, is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/io/checkpoint.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/framed_file.h"
#include "host/io/npz_writer.h"
#include "host/io/state_file.h"

namespace {

// The frame with the CRCs the loaders check recomputed; the bytes unchanged when the header does
// not parse as a JSON object.
std::string with_checksums(const std::string& s, bool state) {
  if (s.size() < 16) return s;
  uint64_t n = 0;
  std::memcpy(&n, s.data() + 8, 8);
  if (n > s.size() - 16) return s;
  nlohmann::json h = nlohmann::json::parse(s.substr(16, n), nullptr, false);
  if (!h.is_object()) return s;
  const std::string payload = s.substr(16 + n);
  h["crc32"] = pdadmm::crc32_of(payload.data(), payload.size());
  if (state) {
    h.erase("header_crc32");
    h["header_crc32"] = pdadmm::header_keys_crc(h, {"meta", "tensors"});
  } else {
    h["header_crc32"] = pdadmm::header_keys_crc(h, {"crc32", "layers", "meta"});
  }
  const std::string text = h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const uint64_t len = text.size();
  std::string out = s.substr(0, 8);
  out.append(reinterpret_cast<const char*>(&len), 8);
  return out + text + payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/pdadmm_fuzz_model." + std::to_string(::getpid());
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const bool state = size >= 8 && std::memcmp(data, "PDADMMS1", 8) == 0;
  if (size % 2 == 1) bytes = with_checksums(bytes, state);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    if (state) {
      pdadmm::load_state_file(path);
    } else {
      const pdadmm::Checkpoint ck = pdadmm::load_checkpoint(path);
      std::vector<pdadmm::NpzMember> members;
      for (size_t l = 0; l < ck.W.size(); ++l) {
        const pdadmm::HostMatrix<float>& w = ck.W[l];
        members.push_back({"W" + std::to_string(l + 1),
                           pdadmm::npy_file("<f4", {w.rows, w.cols}, w.data.data(), w.data.size() * 4)});
      }
      members.push_back({"config", pdadmm::npy_ascii_string(ck.meta.dump(-1, ' ', true,
                                                                         nlohmann::json::error_handler_t::replace))});
      size_t seen = 0;
      const size_t total = pdadmm::write_npz(members, [&](const char*, size_t k) { seen += k; });
      if (seen != total) __builtin_trap();
    }
  } catch (const pdadmm::Error&) {
  }
  return 0;
}
