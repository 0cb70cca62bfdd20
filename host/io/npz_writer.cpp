// .npz writing through libzip into memory.
#include "host/io/npz_writer.h"

#include <zip.h>

#include <memory>
#include <vector>

#include "host/io/error.h"

namespace pdadmm {

std::string npy_file(const std::string& descr, const std::vector<int64_t>& shape, const void* data, size_t bytes) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // "(3,)" for one dimension, "(2, 4)" for two
  else if (shape.size() == 1) dims.pop_back();
  std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  constexpr size_t kPrefix = 10;  // magic, version, u16 header length
  h.append((64 - (kPrefix + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  require(h.size() < 65536, "npy header too long");  // format 1.0's u16
  std::string s("\x93NUMPY\x01\x00", 8);
  s += static_cast<char>(h.size() & 0xff);
  s += static_cast<char>(h.size() >> 8);
  s += h;
  s.append(static_cast<const char*>(data), bytes);
  return s;
}

std::string npy_ascii_string(const std::string& text) {
  std::string utf32;
  utf32.reserve(text.size() * 4);
  for (char c : text) {
    require(static_cast<unsigned char>(c) < 0x80, "npy_ascii_string: not ASCII");
    utf32 += c;
    utf32.append(3, '\0');
  }
  return npy_file("<U" + std::to_string(text.size()), {}, utf32.data(), utf32.size());
}

namespace {
std::string zip_error_message(zip_error_t* e) {
  std::string s = zip_error_strerror(e);
  zip_error_fini(e);
  return s;
}
}  // namespace

size_t write_npz(const std::vector<NpzMember>& members, const std::function<void(const char*, size_t)>& sink) {
  zip_error_t e;
  zip_error_init(&e);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &e);
  if (!buf) throw Error("npz: " + zip_error_message(&e));
  const std::unique_ptr<zip_source_t, void (*)(zip_source_t*)> hold(buf, zip_source_free);
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, &e);
  if (!za) throw Error("npz: " + zip_error_message(&e));
  zip_source_keep(buf);  // zip_close writes into it; read back below
  const auto fail = [&](const std::string& what) {
    const std::string msg = "npz: " + what + ": " + zip_strerror(za);
    zip_discard(za);
    throw Error(msg);
  };
  // 1980-01-01 00:00 as the DOS date and time themselves: a time_t would be converted in the local
  // time zone, so the bytes of one model's export differed between zones.
  constexpr zip_uint16_t kDosTime = 0, kDosDate = (1 << 5) | 1;  // (year - 1980) << 9 | month << 5 | day
  for (const NpzMember& m : members) {
    zip_source_t* s = zip_source_buffer(za, m.bytes.data(), m.bytes.size(), 0);
    if (!s) fail(m.key);
    const zip_int64_t i = zip_file_add(za, (m.key + ".npy").c_str(), s, ZIP_FL_ENC_UTF_8);
    if (i < 0) {
      zip_source_free(s);
      fail(m.key);
    }
    if (zip_set_file_compression(za, static_cast<zip_uint64_t>(i), ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za, static_cast<zip_uint64_t>(i), kDosTime, kDosDate, 0) != 0)
      fail(m.key);
  }
  if (zip_close(za) != 0) fail("closing");
  zip_stat_t st;
  zip_stat_init(&st);
  require(zip_source_open(buf) == 0 && zip_source_stat(buf, &st) == 0 && (st.valid & ZIP_STAT_SIZE),
          "npz: cannot read the archive back from memory");
  std::vector<char> piece(size_t{8} << 20);
  zip_uint64_t done = 0;
  while (done < st.size) {
    const zip_int64_t n = zip_source_read(buf, piece.data(), piece.size());
    if (n <= 0) break;
    sink(piece.data(), static_cast<size_t>(n));
    done += static_cast<zip_uint64_t>(n);
  }
  zip_source_close(buf);
  require(done == st.size, "npz: short read of the archive from memory");
  return static_cast<size_t>(done);
}

}  // namespace pdadmm
