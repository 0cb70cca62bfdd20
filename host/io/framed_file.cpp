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
  std::string h = header.dump();
  FramedFileWriter f(path, magic, h.size());
  for (const std::string_view piece : payload) f.write(piece);
  f.commit(std::move(h));
}

FramedFileWriter::FramedFileWriter(const std::string& path, const char* magic, size_t room) : file_(path), room_(room) {
  const uint64_t n = room;
  file_.write(magic, 8);
  file_.write(reinterpret_cast<const char*>(&n), 8);
  file_.write(std::string(room, ' '));
}

void FramedFileWriter::commit(std::string header_text) {
  require(header_text.size() <= room_, "internal: a framed file's header outgrew its room");
  header_text.resize(room_, ' ');
  file_.write_at(16, header_text.data(), header_text.size());
  file_.commit();
}

namespace {

// The frame's checks; at(offset, n) gives n bytes of the file that are there (size bytes in all).
template <typename At>
FramedHeader frame_header(uint64_t size, const At& at, const char* magic, const std::string& what,
                          const std::string& noun) {
  require(size >= 16 && std::memcmp(at(0, 8).data(), magic, 8) == 0, what + ": not a pdadmm " + noun);
  uint64_t n = 0;
  std::memcpy(&n, at(8, 8).data(), 8);
  require(n <= size - 16, what + ": truncated header");
  const std::string text = at(16, n);
  // A damaged length field takes the weights' bytes into the header: the JSON reader's "contains a
  // NUL byte (not a text file?)" pointed at the wrong file, not at the damage.
  require(std::memchr(text.data(), '\0', n) == nullptr,
          what + ": corrupt header (binary bytes in its text: its length field or text is damaged)");
  FramedHeader f;
  f.header = parse_json(text, what + ": header");
  f.payload = 16 + n;
  f.size = size;
  return f;
}

}  // namespace

FramedFile read_framed_file(const std::string& path, const char* magic, const std::string& kind,
                            const std::string& noun) {
  FramedFile f;
  try {
    f.bytes = read_file(path);  // a folder or a device is refused there
  } catch (const Error& e) {
    throw Error(kind + ": " + std::string(e.what()));
  }
  const std::string& s = f.bytes;
  const auto at = [&](uint64_t off, uint64_t n) { return s.substr(off, n); };
  FramedHeader h = frame_header(s.size(), at, magic, kind + " " + path, noun);
  f.header = std::move(h.header);
  f.payload = h.payload;
  return f;
}

FramedHeader read_framed_header(std::ifstream& in, const std::string& path, const char* magic,
                                const std::string& kind, const std::string& noun) {
  const std::string what = kind + " " + path;
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  require(in && end >= 0, what + ": cannot read its size");
  const auto at = [&](uint64_t off, uint64_t n) {
    std::string b(n, '\0');
    in.seekg(static_cast<std::streamoff>(off));
    require(static_cast<bool>(in.read(b.data(), static_cast<std::streamsize>(n))), what + ": cannot read it");
    return b;
  };
  return frame_header(static_cast<uint64_t>(end), at, magic, what, noun);
}

nlohmann::json peek_framed_header(const std::string& path, const char* magic) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
  std::ifstream f(path, std::ios::binary);
  char head[16];
  uint64_t n = 0;
  if (!f.read(head, 16) || std::memcmp(head, magic, 8) != 0) return nullptr;
  std::memcpy(&n, head + 8, 8);
  const uintmax_t size = std::filesystem::file_size(path, ec);  // a header grows with the iterations
  if (ec || size < 16 || n > size - 16 || f.peek() != '{') return nullptr;  // a damaged length: no big read
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
