// State file encoding; loading checks the magic, the checksum and every size before it copies.
#include "host/io/state_file.h"

#include <cstring>
#include <exception>

#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/framed_file.h"

namespace pdadmm {


// CRC32 of the header's meta and tensor list as dumped (a parsed header dumps to the same text):
// a changed digit in the header (ρ, the iteration, a loss) would otherwise resume silently.
static uint32_t header_crc(const nlohmann::json& h) { return header_keys_crc(h, {"meta", "tensors"}); }

void save_state_file(const std::string& path, const StateFile& s) {
  require(s.names.size() == s.tensors.size(), "state: one name per tensor expected");
  std::vector<std::pair<int64_t, int64_t>> shapes;
  for (const HostMatrix<float>& t : s.tensors) shapes.emplace_back(t.rows, t.cols);
  StateFileWriter w(path, s.meta, s.names, shapes);
  for (const HostMatrix<float>& t : s.tensors) w.add(t);
  w.commit();
}

StateFileWriter::StateFileWriter(const std::string& path, nlohmann::json meta, const std::vector<std::string>& names,
                                 const std::vector<std::pair<int64_t, int64_t>>& shapes)
    : shapes_(shapes) {
  require(names.size() == shapes.size(), "state: one name per tensor expected");
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < names.size(); ++i)
    list.push_back({{"name", names[i]}, {"rows", shapes[i].first}, {"cols", shapes[i].second}});
  header_ = {{"meta", std::move(meta)}, {"tensors", std::move(list)}};
  header_["header_crc32"] = header_crc(header_);
  header_["crc32"] = 0xffffffffu;  // the widest CRC: the room the real one fits in
  file_ = std::make_unique<FramedFileWriter>(path, kStateMagic, header_.dump().size());
}

void StateFileWriter::add(const HostMatrix<float>& t) {
  require(next_ < shapes_.size() && shapes_[next_] == std::make_pair(t.rows, t.cols) &&
              t.data.size() == static_cast<size_t>(t.rows * t.cols),
          "state: tensor " + std::to_string(next_) + " is not of the shape announced");
  const std::string_view bytes = byte_view(t);
  crc_ = crc32_update(crc_, bytes);
  file_->write(bytes);
  ++next_;
}

void StateFileWriter::commit() {
  require(next_ == shapes_.size(), "state: " + std::to_string(shapes_.size() - next_) + " tensor(s) not written");
  header_["crc32"] = crc_;
  file_->commit(header_.dump());
}

StateFile load_state_file(const std::string& path) {
  StateFileReader r(path);
  StateFile st;
  st.meta = r.meta();
  st.names = r.names();
  r.check([&](size_t, const HostMatrix<float>& t) { st.tensors.push_back(t); });
  return st;
}

StateFileReader::StateFileReader(const std::string& path) : what_("state " + path) {
  try {
    in_ = open_input(path);  // a folder or a device is refused there
  } catch (const Error& e) {
    throw Error("state: " + std::string(e.what()));
  }
  const FramedHeader f = read_framed_header(in_, path, kStateMagic, "state", "state file");
  const nlohmann::json& h = f.header;
  require(h.is_object() && h.contains("tensors") && h["tensors"].is_array() && h.contains("meta") &&
              h["meta"].is_object() && h.contains("crc32") && h["crc32"].is_number_unsigned(),
          what_ + ": corrupt header");
  require_known_header_keys(h, {"crc32", "header_crc32", "meta", "tensors"}, what_);
  // States written before the header had its own checksum have none.
  require(!h.contains("header_crc32") ||
              (h["header_crc32"].is_number_unsigned() && h["header_crc32"].get<uint64_t>() == header_crc(h)),
          what_ + ": header checksum mismatch, the state is corrupted");
  crc_ = h["crc32"].get<uint64_t>();
  meta_ = h["meta"];
  const uint64_t room = f.size - f.payload;
  uint64_t need = 0;  // checked against the file before anything is allocated
  for (const auto& t : h["tensors"]) {
    const auto dim = [&](const char* k) {
      const auto it = t.is_object() ? t.find(k) : t.end();
      require(it != t.end() && it->is_number_integer() && it->get<int64_t>() >= 0 && it->get<int64_t>() < (1LL << 31),
              what_ + ": bad tensor shape in the header");
      return it->get<int64_t>();
    };
    require(t.contains("name") && t["name"].is_string(), what_ + ": tensor without a name in the header");
    names_.push_back(t["name"].get<std::string>());
    shapes_.emplace_back(dim("rows"), dim("cols"));
    offsets_.push_back(f.payload + need);
    need += static_cast<uint64_t>(shapes_.back().first) * static_cast<uint64_t>(shapes_.back().second) * 4;
    require(need <= room, what_ + ": truncated (tensor " + names_.back() + ")");
  }
  require(need == room, what_ + ": " + std::to_string(room - need) + " unexpected trailing bytes");
}

void StateFileReader::read(size_t i, HostMatrix<float>& into) {
  require(i < shapes_.size(), what_ + ": no tensor " + std::to_string(i));
  const auto [rows, cols] = shapes_[i];
  if (into.rows != rows || into.cols != cols) {
    into = HostMatrix<float>();  // the old buffer goes before the new one comes: one tensor held
    into = HostMatrix<float>(rows, cols);
  }
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(offsets_[i]));
  // A 0-row or 0-column tensor has no buffer (data() may be null): nothing to read.
  if (!into.data.empty())
    require(static_cast<bool>(in_.read(reinterpret_cast<char*>(into.data.data()),
                                       static_cast<std::streamsize>(into.data.size() * 4))),
            what_ + ": truncated (tensor " + names_[i] + "; changed while it was read?)");
}

void StateFileReader::check(const std::function<void(size_t, const HostMatrix<float>&)>& each) {
  uint32_t crc = 0;
  std::exception_ptr failed;  // the checksum's error first: damage, not what it made of a value
  HostMatrix<float> t;
  for (size_t i = 0; i < shapes_.size(); ++i) {
    read(i, t);
    crc = crc32_update(crc, byte_view(t));
    if (failed) continue;
    try {
      each(i, t);
    } catch (...) {
      failed = std::current_exception();
    }
  }
  require(crc == crc_, what_ + ": checksum mismatch, the state is corrupted");
  if (failed) std::rethrow_exception(failed);
}

nlohmann::json peek_state_meta(const std::string& path) {
  const nlohmann::json j = peek_framed_header(path, kStateMagic);
  // A flipped byte that still parses would be read as another run's config or iteration.
  if (!j.is_object() || (j.contains("header_crc32") && (!j["header_crc32"].is_number_unsigned() ||
                                                        j["header_crc32"].get<uint64_t>() != header_crc(j))))
    return nullptr;
  return j.contains("meta") && j["meta"].is_object() ? j["meta"] : nlohmann::json();
}

bool damaged_state_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char head[8];
  return f.read(head, 8) && std::memcmp(head, kStateMagic, 8) == 0 && peek_state_meta(path).is_null();
}

}  // namespace pdadmm
