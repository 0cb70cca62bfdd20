// Wire formats for boundary tensors (p backward, q forward) and their byte accounting.
// Rule (DESIGN.md): the sender rounds, keeps the rounded value itself, and sends it, so both
// copies of the dual u stay bit-identical. encode_host therefore also rounds x in place.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "host/quant/grid.h"

namespace pdadmm {

enum class WireFormat {
  Native,  // the backend's own scalar bytes (float or double), lossless
  Fp32,
  Fp16,
  Bf16,
  Int8,   // symmetric, one fp32 scale per column (node)
  Codes,  // packed grid indices, ceil(log2 |Δ|) bits each; lossless for values on Δ
};

const char* wire_name(WireFormat f);
// Parses "fp32", "fp16", "bf16", "int8", "codes", "native"; throws Error naming `key` otherwise.
WireFormat parse_wire(const std::string& s, const std::string& key);

struct WireSpec {
  WireFormat format = WireFormat::Native;
  const Grid* grid = nullptr;  // required for Codes
};

// Bytes of the encoded payload of a rows x cols tensor (without transport headers).
size_t encoded_bytes(const WireSpec& spec, int64_t rows, int64_t cols, size_t scalar_bytes);

// Encode row-major x (rows x cols) into out (encoded_bytes long); x is rounded in place to the
// values the receiver will decode. Returns the bytes written.
size_t encode_host(const WireSpec& spec, float* x, int64_t rows, int64_t cols, uint8_t* out);
size_t encode_host(const WireSpec& spec, double* x, int64_t rows, int64_t cols, uint8_t* out);
void decode_host(const WireSpec& spec, const uint8_t* in, int64_t rows, int64_t cols, float* x);
void decode_host(const WireSpec& spec, const uint8_t* in, int64_t rows, int64_t cols, double* x);

}  // namespace pdadmm
