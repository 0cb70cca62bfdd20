// SHA-256 of files (self-contained implementation, FIPS 180-4) and SHA256SUMS verification.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pdadmm {

// Lower-case hex digest of a byte string / of a file's contents (Error naming the path when the
// file cannot be read).
std::string sha256_hex(const void* data, size_t size);
std::string sha256_file(const std::string& path);

// Checks root/<relpath> against its line in root/SHA256SUMS (sha256sum format: "<hex>  <path>")
// for every relpath. Throws Error naming the file on a mismatch, a missing file, a relpath with
// no entry, or a missing / malformed SHA256SUMS.
void verify_sha256sums(const std::string& root, const std::vector<std::string>& relpaths);
// The same for one file of a user's own (data.npz, data.files), against SHA256SUMS in its folder.
void verify_sha256sum_beside(const std::string& path);

}  // namespace pdadmm
