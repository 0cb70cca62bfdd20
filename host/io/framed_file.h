// The binary files pdadmm writes for itself (model.bin, state.bin) share one frame: 8 magic
// bytes, the JSON header's length (u64), the header, then the raw payload. Written atomically.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/io/files.h"

namespace pdadmm {

// The payload goes in pieces (each tensor's bytes where they are): a model.bin or state.bin of
// GiBs is not copied into one string first, which doubled the host memory a save took.
void write_framed_file(const std::string& path, const char* magic, const nlohmann::json& header,
                       const std::vector<std::string_view>& payload);

// The same frame with the payload streamed before the header is known (its CRC): `room` bytes of
// header text are reserved, and commit() fills them, padded with spaces (JSON's whitespace).
class FramedFileWriter {
 public:
  FramedFileWriter(const std::string& path, const char* magic, size_t room);
  void write(std::string_view bytes) { file_.write(bytes.data(), bytes.size()); }
  void commit(std::string header_text);  // at most `room` bytes

 private:
  AtomicFile file_;
  size_t room_;
};

struct FramedFile {
  nlohmann::json header;
  std::string bytes;   // the whole file
  size_t payload = 0;  // offset of the payload in bytes
};

// Reads path; errors are one line starting "KIND PATH: …" (a missing file: "KIND: …"), e.g.
// "checkpoint x.bin: not a pdadmm checkpoint" with noun "checkpoint".
FramedFile read_framed_file(const std::string& path, const char* magic, const std::string& kind,
                            const std::string& noun);

// The same checks and errors from the file's first bytes alone, `in` open on it (open_input):
// the header, the payload's offset and the file's size, for a caller that reads the payload in
// pieces (state.bin, a tensor at a time).
struct FramedHeader {
  nlohmann::json header;
  uint64_t payload = 0, size = 0;
};
FramedHeader read_framed_header(std::ifstream& in, const std::string& path, const char* magic,
                                const std::string& kind, const std::string& noun);

// The header alone, without reading the payload (100s of MB); null when path is no regular file
// (a FIFO would block), has another magic or a damaged frame. Unchecked: for notes, not to load.
nlohmann::json peek_framed_header(const std::string& path, const char* magic);

// CRC32 of the header's `keys` (those present) as dumped: a parsed header dumps to the same text.
uint32_t header_keys_crc(const nlohmann::json& header, std::initializer_list<const char*> keys);

// Refuses a header key outside `known` ("WHAT: corrupt header (unknown key …)"): a changed byte in a
// key's name would otherwise pass for an older file without that key (a "crc32" so changed loaded
// the file with no checksum checked).
void require_known_header_keys(const nlohmann::json& header, std::initializer_list<const char*> known,
                               const std::string& what);

}  // namespace pdadmm
