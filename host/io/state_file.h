// Resume state files (OUT/state.bin): a JSON header and named float32 tensors, framed as model.bin
// is (magic, u64 header length, header with the CRC32 of the payload, raw row-major values), written
// atomically. The trainer fills `meta`; the solver's tensors travel as they are stored.
#pragma once
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/backend/host_matrix.h"
#include "host/io/framed_file.h"

namespace pdadmm {

// state.bin's first bytes (framed_file.h), by which other commands also tell one.
inline constexpr char kStateMagic[9] = "PDADMMS1";

struct StateFile {
  nlohmann::json meta;
  std::vector<std::string> names;          // one per tensor, unique
  std::vector<HostMatrix<float>> tensors;  // 0 x 0 allowed
};

void save_state_file(const std::string& path, const StateFile& s);

// Writes a state file a tensor at a time, so that no more than the tensor at hand is held (a
// state of every group's tensors, collected first, doubled a run's memory at a save; under mpirun
// every process held all of it). The names and shapes come first; the header's room is reserved
// and filled at commit() with the payload's CRC, padded with spaces (JSON's whitespace).
class StateFileWriter {
 public:
  StateFileWriter(const std::string& path, nlohmann::json meta, const std::vector<std::string>& names,
                  const std::vector<std::pair<int64_t, int64_t>>& shapes);
  void add(const HostMatrix<float>& t);  // the next tensor, of the next announced shape
  void commit();                         // after the last tensor

 private:
  nlohmann::json header_;
  std::unique_ptr<FramedFileWriter> file_;  // made once the header's room is known
  std::vector<std::pair<int64_t, int64_t>> shapes_;
  size_t next_ = 0;
  uint32_t crc_ = 0;
};
// Throws Error naming the file when it is missing, truncated, corrupted or not a state file.
StateFile load_state_file(const std::string& path);

// A state file read a tensor at a time (load_state_file's checks and errors): the constructor
// checks the frame, the header and the sizes against the file's without reading the payload;
// check() reads it through once, handing each tensor to `each` (one held at a time), and then
// compares its CRC, whose mismatch goes before any error of `each`; read() reads one again.
class StateFileReader {
 public:
  explicit StateFileReader(const std::string& path);
  const nlohmann::json& meta() const { return meta_; }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<std::pair<int64_t, int64_t>>& shapes() const { return shapes_; }
  void check(const std::function<void(size_t, const HostMatrix<float>&)>& each);
  void read(size_t i, HostMatrix<float>& into);

 private:
  std::string what_;
  std::ifstream in_;
  nlohmann::json meta_;
  uint64_t crc_ = 0;  // as the header has it (a damaged one may not fit 32 bits)
  std::vector<std::string> names_;
  std::vector<std::pair<int64_t, int64_t>> shapes_;
  std::vector<uint64_t> offsets_;
};
// The header's meta alone, read without the tensors (100s of MB); null when path is no regular
// file, not a state file or its header is damaged (its checksum). The tensors unchecked: for a
// note or a config, not to resume from.
nlohmann::json peek_state_meta(const std::string& path);
// A state file (its magic) whose header cannot be read back whole.
bool damaged_state_file(const std::string& path);

}  // namespace pdadmm
