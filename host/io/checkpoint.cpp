// Checkpoint encoding with strict size checks on load.
#include "host/io/checkpoint.h"

#include <cmath>
#include <cstring>

#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/framed_file.h"
#include "host/io/state_file.h"

namespace pdadmm {

// What header_crc32 covers: the rest of the header. A changed byte in the meta (the config eval
// compares) or in the payload's CRC loaded silently before.
static const std::initializer_list<const char*> kCheckedKeys = {"crc32", "layers", "meta"};

namespace {
int64_t shape_field(const nlohmann::json& layer, const char* key, const std::string& what) {
  const auto it = layer.is_object() ? layer.find(key) : layer.end();
  require(it != layer.end() && it->is_number_integer() && it->get<int64_t>() > 0 && it->get<int64_t>() < (1LL << 31),
          what + ": bad layer shape in the header");
  return it->get<int64_t>();
}
}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) { save_checkpoint(path, c.meta, c.W, c.b); }

void save_checkpoint(const std::string& path, const nlohmann::json& meta, const std::vector<HostMatrix<float>>& W,
                     const std::vector<HostMatrix<float>>& b) {
  require(W.size() == b.size(), "checkpoint: one bias per layer expected");
  std::vector<std::string_view> payload;
  for (size_t l = 0; l < W.size(); ++l) {
    payload.push_back(byte_view(W[l]));
    payload.push_back(byte_view(b[l]));
  }
  nlohmann::json h = {{"meta", meta}, {"layers", nlohmann::json::array()}, {"crc32", crc32_of(payload)}};
  for (size_t l = 0; l < W.size(); ++l) h["layers"].push_back({{"rows", W[l].rows}, {"cols", W[l].cols}});
  h["header_crc32"] = header_keys_crc(h, kCheckedKeys);
  write_framed_file(path, kCheckpointMagic, h, payload);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string what = "checkpoint " + path;
  FramedFile f;
  try {
    f = read_framed_file(path, kCheckpointMagic, "checkpoint", "checkpoint");
  } catch (const Error&) {  // the file beside model.bin, given for it
    require(peek_state_meta(path).is_null() && !damaged_state_file(path),
            what + ": a state.bin, which train --resume continues; the model is the model.bin beside it");
    throw;
  }
  const std::string& s = f.bytes;
  const nlohmann::json& h = f.header;
  require(h.is_object() && h.contains("layers") && h["layers"].is_array(), what + ": corrupt header");
  require_known_header_keys(h, {"crc32", "header_crc32", "layers", "meta"}, what);
  // Files before 2026-12-05 have no header_crc32.
  require(!h.contains("header_crc32") ||
              (h["header_crc32"].is_number_unsigned() && h["header_crc32"].get<uint64_t>() == header_keys_crc(h, kCheckedKeys)),
          what + ": header checksum mismatch, the checkpoint is corrupted");
  // Without a header checksum (older files) nothing vouches for the header: a meta that is not an
  // object ended eval and export in "internal: … cannot use value() with string", and layers
  // that do not chain (501 x 255 then 5 x 256, the same bytes) were exported as a model.
  require(!h.contains("meta") || h["meta"].is_object(), what + ": corrupt header (meta is not an object)");
  for (size_t l = 1; l < h["layers"].size(); ++l)
    require(shape_field(h["layers"][l], "cols", what) == shape_field(h["layers"][l - 1], "rows", what), [&] {
      return what + ": corrupt header: layer " + std::to_string(l + 1) + " takes " +
             std::to_string(shape_field(h["layers"][l], "cols", what)) + " inputs, layer " + std::to_string(l) +
             " gives " + std::to_string(shape_field(h["layers"][l - 1], "rows", what));
    });
  Checkpoint c;
  c.meta = h.value("meta", nlohmann::json::object());
  const auto layer_bytes = [&](const nlohmann::json& layer) {
    return static_cast<size_t>(shape_field(layer, "rows", what)) *
           static_cast<size_t>(shape_field(layer, "cols", what) + 1) * 4;
  };
  // The sizes before the checksum: a cut or padded copy was reported as corrupted weights.
  size_t end = f.payload;
  for (size_t l = 0; l < h["layers"].size(); ++l) {
    const size_t bytes = layer_bytes(h["layers"][l]);
    require(bytes <= s.size() - end,
            what + ": truncated (layer " + std::to_string(l + 1) + "): the file ends before its weights");
    end += bytes;
  }
  require(end == s.size(), what + ": " + std::to_string(s.size() - end) + " unexpected trailing bytes");
  size_t off = f.payload;
  if (h.contains("crc32"))  // files before 2026-12-04 have none
    require(h["crc32"].is_number_unsigned() && h["crc32"].get<uint64_t>() == crc32_of(s.data() + off, s.size() - off),
            what + ": checksum mismatch, the weights are corrupted");
  for (const auto& layer : h["layers"]) {
    const int64_t rows = shape_field(layer, "rows", what), cols = shape_field(layer, "cols", what);
    const size_t bytes = layer_bytes(layer);
    HostMatrix<float> w(rows, cols), b(rows, 1);
    std::memcpy(w.data.data(), s.data() + off, w.data.size() * 4);
    std::memcpy(b.data.data(), s.data() + off + w.data.size() * 4, b.data.size() * 4);
    for (const HostMatrix<float>* m : {&w, &b})
      for (float v : m->data)
        require(std::isfinite(v),  // a lazy message: a string per weight took seconds on Coauthor CS
                [&] { return what + ": layer " + std::to_string(c.W.size() + 1) + " holds NaN or infinite weights"; });
    off += bytes;
    c.W.push_back(std::move(w));
    c.b.push_back(std::move(b));
  }
  return c;
}

}  // namespace pdadmm
