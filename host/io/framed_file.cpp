// The frame of model.bin and state.bin; the callers check their headers and payloads.
#include "host/io/framed_file.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "host/config/json_reader.h"
#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {

void write_framed_file(const std::string& path, const char* magic, const nlohmann::json& header,
                       const std::vector<std::string_view>& payload) {
  const std::string h = header.dump();
  const uint64_t n = h.size();
  AtomicFile f(path);
  f.write(magic, 8);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(h);
  for (const std::string_view piece : payload) f.write(piece.data(), piece.size());
  f.commit();
}

FramedFile read_framed_file(const std::string& path, const char* magic, const std::string& kind,
                            const std::string& noun) {
  const std::string what = kind + " " + path;
  FramedFile f;
  try {
    f.bytes = read_file(path);  // a folder or a device is refused there
  } catch (const Error& e) {
    throw Error(kind + ": " + std::string(e.what()));
  }
  const std::string& s = f.bytes;
  require(s.size() >= 16 && std::memcmp(s.data(), magic, 8) == 0, what + ": not a pdadmm " + noun);
  uint64_t n = 0;
  std::memcpy(&n, s.data() + 8, 8);
  require(n <= s.size() - 16, what + ": truncated header");
  // A damaged length field takes the weights' bytes into the header: the JSON reader's "contains a
  // NUL byte (not a text file?)" pointed at the wrong file, not at the damage.
  require(std::memchr(s.data() + 16, '\0', n) == nullptr,
          what + ": corrupt header (binary bytes in its text: its length field or text is damaged)");
  f.header = parse_json(s.substr(16, n), what + ": header");
  f.payload = 16 + n;
  return f;
}

nlohmann::json peek_framed_header(const std::string& path, const char* magic) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
  std::ifstream f(path, std::ios::binary);
  char head[16];
  uint64_t n = 0;
  if (!f.read(head, 16) || std::memcmp(head, magic, 8) != 0) return nullptr;
  std::memcpy(&n, head + 8, 8);
  if (n > (64u << 20)) return nullptr;
  std::string h(n, '\0');
  if (!f.read(h.data(), static_cast<std::streamsize>(n))) return nullptr;
  return nlohmann::json::parse(h, nullptr, false);  // discarded (not an object) when damaged
}

uint32_t header_keys_crc(const nlohmann::json& header, std::initializer_list<const char*> keys) {
  nlohmann::json part = nlohmann::json::object();
  for (const char* k : keys)
    if (header.contains(k)) part[k] = header[k];
  const std::string text = part.dump();
  return crc32_of(text.data(), text.size());
}

void require_known_header_keys(const nlohmann::json& header, std::initializer_list<const char*> known,
                               const std::string& what) {
  for (auto it = header.begin(); it != header.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == std::string_view(k);
    require(ok, what + ": corrupt header (unknown key " + nlohmann::json(it.key()).dump() + ")");
  }
}

}  // namespace pdadmm
