// SHA-256 (FIPS 180-4) over bytes and files, and checking files against a SHA256SUMS list.
#include "host/data/sha256.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "host/io/error.h"

namespace pdadmm {

namespace {

constexpr std::array<uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

class Sha256 {
 public:
  void update(const unsigned char* p, size_t n) {
    total_ += n;
    while (n > 0) {
      const size_t take = std::min(n, sizeof buf_ - fill_);
      std::memcpy(buf_ + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == sizeof buf_) {
        block(buf_);
        fill_ = 0;
      }
    }
  }
  std::string hex() {
    const uint64_t bits = total_ * 8;
    const unsigned char pad = 0x80, zero = 0;
    update(&pad, 1);
    while (fill_ != 56) update(&zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    update(len, 8);
    std::string out;
    const char* digits = "0123456789abcdef";
    for (uint32_t w : h_)
      for (int s = 28; s >= 0; s -= 4) out += digits[(w >> s) & 15];
    return out;
  }

 private:
  void block(const unsigned char* p) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      // NOLINTNEXTLINE(bugprone-implicit-widening-of-multiplication-result): i < 16
      w[i] = uint32_t{p[4 * i]} << 24 | uint32_t{p[4 * i + 1]} << 16 | uint32_t{p[4 * i + 2]} << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d;
    h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
  }

  uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  unsigned char buf_[64];
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

std::string sha256_hex(const void* data, size_t size) {
  Sha256 s;
  s.update(static_cast<const unsigned char*>(data), size);
  return s.hex();
}

std::string sha256_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open file (missing or unreadable)");
  Sha256 s;
  std::vector<char> buf(size_t{1} << 20);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = f.gcount();
    if (got > 0) s.update(reinterpret_cast<const unsigned char*>(buf.data()), static_cast<size_t>(got));
  }
  if (f.bad()) throw Error(path + ": read error");
  return s.hex();
}

void verify_sha256sums(const std::string& root, const std::vector<std::string>& relpaths) {
  const std::string list = root + "/SHA256SUMS";
  // Named with the key that asked for it: a user's file has no SHA256SUMS until one is written.
  std::error_code ec;
  if (std::filesystem::exists(list, ec) && !std::filesystem::is_regular_file(list, ec))  // a FIFO blocked the open
    throw Error(list + ": not a regular file (data.verify checks the files against it)");
  errno = 0;
  std::ifstream in(list);
  if (!in)
    throw Error(list + ": cannot open checksum list (" + (errno ? std::string(std::strerror(errno)) + "; " : "") +
                "data.verify checks the files against it)");
  std::map<std::string, std::string> expected;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // "<64 hex>  <path>" (text mode) or "<64 hex> *<path>" (binary mode)
    bool ok = line.size() > 66 && line[64] == ' ' && (line[65] == ' ' || line[65] == '*');
    for (size_t i = 0; ok && i < 64; ++i) ok = std::isxdigit(static_cast<unsigned char>(line[i])) != 0;
    if (!ok) throw Error(list + ": line " + std::to_string(lineno) + " is not '<sha256>  <path>'");
    std::string hex = line.substr(0, 64);
    for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t from = 66;  // `sha256sum ./file` writes "./": dropped (all at once: one by one was quadratic)
    while (line.compare(from, 2, "./") == 0) from += 2;
    std::string listed = line.substr(from);
    expected[listed] = hex;
  }
  for (const std::string& rel : relpaths) {
    const std::string path = root + "/" + rel;
    if (!std::filesystem::is_regular_file(path, ec))  // a folder would open, then fail to read
      throw Error(path + (std::filesystem::exists(path, ec) ? ": not a regular file" : ": file not found") +
                  " (to be checked against " + list + ")");
    auto it = expected.find(rel);
    if (it == expected.end()) throw Error(list + ": no checksum listed for " + rel);
    const std::string got = sha256_file(path);
    if (got != it->second)
      throw Error(path + ": SHA-256 mismatch (expected " + it->second + ", got " + got +
                  "); the file is corrupt or a different version");
  }
}

void verify_sha256sum_beside(const std::string& path) {
  const std::filesystem::path p(path);
  verify_sha256sums(p.has_parent_path() ? p.parent_path().string() : ".", {p.filename().string()});
}

}  // namespace pdadmm
