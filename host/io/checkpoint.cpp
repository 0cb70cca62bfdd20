// Checkpoint encoding with strict size checks on load.
#include "host/io/checkpoint.h"

#include <cmath>
#include <cstring>

#include "host/config/json_reader.h"
#include "host/io/error.h"
#include "host/io/files.h"

namespace pdadmm {

static const char kMagic[9] = "PDADMM01";

namespace {
int64_t shape_field(const nlohmann::json& layer, const char* key, const std::string& what) {
  const auto it = layer.is_object() ? layer.find(key) : layer.end();
  require(it != layer.end() && it->is_number_integer() && it->get<int64_t>() > 0 && it->get<int64_t>() < (1LL << 31),
          what + ": bad layer shape in the header");
  return it->get<int64_t>();
}
}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  std::string payload;
  for (size_t l = 0; l < c.W.size(); ++l) {
    payload.append(reinterpret_cast<const char*>(c.W[l].data.data()), c.W[l].data.size() * 4);
    payload.append(reinterpret_cast<const char*>(c.b[l].data.data()), c.b[l].data.size() * 4);
  }
  nlohmann::json h = {{"meta", c.meta}, {"layers", nlohmann::json::array()}, {"crc32", crc32_of(payload.data(), payload.size())}};
  for (size_t l = 0; l < c.W.size(); ++l) h["layers"].push_back({{"rows", c.W[l].rows}, {"cols", c.W[l].cols}});
  const std::string header = h.dump();
  std::string out(kMagic, 8);
  uint64_t n = header.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += header;
  out += payload;
  write_file_atomic(path, out);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string what = "checkpoint " + path;
  std::string s;
  try {
    s = read_file(path);  // a folder or a device is refused there
  } catch (const Error& e) {
    throw Error("checkpoint: " + std::string(e.what()));
  }
  require(s.size() >= 16 && std::memcmp(s.data(), kMagic, 8) == 0, what + ": not a pdadmm checkpoint");
  uint64_t n = 0;
  std::memcpy(&n, s.data() + 8, 8);
  require(n <= s.size() - 16, what + ": truncated header");
  const nlohmann::json h = parse_json(s.substr(16, n), what + ": header");
  require(h.is_object() && h.contains("layers") && h["layers"].is_array(), what + ": corrupt header");
  Checkpoint c;
  c.meta = h.value("meta", nlohmann::json::object());
  size_t off = 16 + n;
  if (h.contains("crc32"))  // files before 2026-12-04 have none
    require(h["crc32"].is_number_unsigned() && h["crc32"].get<uint64_t>() == crc32_of(s.data() + off, s.size() - off),
            what + ": checksum mismatch, the weights are corrupted");
  for (const auto& layer : h["layers"]) {
    const int64_t rows = shape_field(layer, "rows", what), cols = shape_field(layer, "cols", what);
    const size_t bytes = static_cast<size_t>(rows) * static_cast<size_t>(cols + 1) * 4;
    require(bytes <= s.size() - off, what + ": truncated (layer " + std::to_string(c.W.size()) + ")");
    HostMatrix<float> w(rows, cols), b(rows, 1);
    std::memcpy(w.data.data(), s.data() + off, w.data.size() * 4);
    std::memcpy(b.data.data(), s.data() + off + w.data.size() * 4, b.data.size() * 4);
    for (const HostMatrix<float>* m : {&w, &b})
      for (float v : m->data)
        require(std::isfinite(v), what + ": layer " + std::to_string(c.W.size()) + " holds NaN or infinite weights");
    off += bytes;
    c.W.push_back(std::move(w));
    c.b.push_back(std::move(b));
  }
  require(off == s.size(), what + ": " + std::to_string(s.size() - off) + " unexpected trailing bytes");
  return c;
}

}  // namespace pdadmm
