// Checkpoint encoding with strict size checks on load.
#include "host/io/checkpoint.h"

#include <cstring>

#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {

static const char kMagic[9] = "PDADMM01";

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  nlohmann::json h = {{"meta", c.meta}, {"layers", nlohmann::json::array()}};
  for (size_t l = 0; l < c.W.size(); ++l) h["layers"].push_back({{"rows", c.W[l].rows}, {"cols", c.W[l].cols}});
  const std::string header = h.dump();
  std::string out(kMagic, 8);
  uint64_t n = header.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += header;
  for (size_t l = 0; l < c.W.size(); ++l) {
    out.append(reinterpret_cast<const char*>(c.W[l].data.data()), c.W[l].data.size() * 4);
    out.append(reinterpret_cast<const char*>(c.b[l].data.data()), c.b[l].data.size() * 4);
  }
  write_file_atomic(path, out);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string s = read_file(path);
  const std::string what = "checkpoint " + path;
  require(s.size() >= 16 && std::memcmp(s.data(), kMagic, 8) == 0, what + ": not a pdadmm checkpoint");
  uint64_t n = 0;
  std::memcpy(&n, s.data() + 8, 8);
  require(n <= s.size() - 16, what + ": truncated header");
  nlohmann::json h = nlohmann::json::parse(s.substr(16, n), nullptr, false);
  require(!h.is_discarded() && h.contains("layers") && h["layers"].is_array(), what + ": corrupt header");
  Checkpoint c;
  c.meta = h.value("meta", nlohmann::json::object());
  size_t off = 16 + n;
  for (const auto& layer : h["layers"]) {
    const int64_t rows = layer.value("rows", int64_t{-1}), cols = layer.value("cols", int64_t{-1});
    require(rows > 0 && cols > 0 && rows < (1LL << 31) && cols < (1LL << 31), what + ": bad layer shape");
    const size_t bytes = static_cast<size_t>(rows) * static_cast<size_t>(cols + 1) * 4;
    require(bytes <= s.size() - off, what + ": truncated (layer " + std::to_string(c.W.size()) + ")");
    HostMatrix<float> w(rows, cols), b(rows, 1);
    std::memcpy(w.data.data(), s.data() + off, w.data.size() * 4);
    std::memcpy(b.data.data(), s.data() + off + w.data.size() * 4, b.data.size() * 4);
    off += bytes;
    c.W.push_back(std::move(w));
    c.b.push_back(std::move(b));
  }
  require(off == s.size(), what + ": " + std::to_string(s.size() - off) + " unexpected trailing bytes");
  return c;
}

}  // namespace pdadmm
