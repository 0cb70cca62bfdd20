// .npy arrays and .npz archives as numpy.savez writes them (C order, format 1.0, stored zip
// members), for `pdadmm export`: what np.load reads without allow_pickle.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pdadmm {

// A whole .npy file: header dict padded to 64 bytes, then `bytes` raw (little-endian values of
// descr, e.g. "<f4", C order; their count must match shape).
std::string npy_file(const std::string& descr, const std::vector<int64_t>& shape, const void* data, size_t bytes);
// A 0-d unicode string ('<U', UTF-32LE) holding ASCII text: np.load gives str(a) back.
std::string npy_ascii_string(const std::string& text);

struct NpzMember {
  std::string key;    // np.load's key: the member is KEY.npy
  std::string bytes;  // a whole .npy file
};
// The archive (stored members, a fixed DOS timestamp: one model exports to the same bytes in any
// time zone), handed to
// `sink` in pieces; returns its size. Built in memory: the members and the archive, once each.
size_t write_npz(const std::vector<NpzMember>& members, const std::function<void(const char*, size_t)>& sink);

}  // namespace pdadmm
