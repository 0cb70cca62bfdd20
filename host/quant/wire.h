// Wire formats for boundary tensors (p backward, q forward) and their byte accounting.
// Rule (DESIGN.md): the sender rounds, keeps the rounded value itself, and sends it, so both
// copies of the dual u stay bit-identical. encode_host therefore also rounds x in place.
// Per-element math: kernels/codec.cuh (shared with the CUDA kernels).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "host/quant/grid.h"

namespace pdadmm {

// Payloads of a row-major rows x cols tensor (n = rows * cols; a column is a node):
enum class WireFormat {
  Native,  // n scalars of the backend's own type (float or double), lossless
  Fp32,    // n floats
  Fp16,    // n uint16 IEEE half bits, round to nearest even
  Bf16,    // n uint16 bfloat16 bits, round to nearest even
  Int8,    // cols fp32 scales, then n int8 codes (symmetric, one scale per column)
  Codes,   // packed grid indices, grid.bits() bits each, LSB first, ceil(n * bits / 8) bytes;
           // encode projects onto Δ first, so it is lossless for values already on Δ
};
// Multi-byte values are in the machine's byte order (little-endian on every supported target).
// Doubles go through float for fp16 / bf16; int8 scales and codes the double itself (values past
// float's range saturate) and decodes to floats. Either way the in-place rounding matches decode.

const char* wire_name(WireFormat f);
// Parses "fp32", "fp16", "bf16", "int8", "codes", "native"; throws Error naming `key` otherwise.
WireFormat parse_wire(const std::string& s, const std::string& key);

struct WireSpec {
  WireFormat format = WireFormat::Native;
  const Grid* grid = nullptr;  // required for Codes
};

// Whether sending through this wire leaves a tensor of scalar_bytes-sized values unchanged (Native,
// Codes, and Fp32 for floats); the others round the sender's copy in place.
bool wire_is_lossless(const WireSpec& w, size_t scalar_bytes);

// Bytes of the encoded payload of a rows x cols tensor (without transport headers); exact.
size_t encoded_bytes(const WireSpec& spec, int64_t rows, int64_t cols, size_t scalar_bytes);

// What fp32 pdADMM-G hands the transport per iteration for this model and grouping: every
// group boundary sends q forward and p backward, n x N floats each (the transport adds no header).
// dims = {d, n_1, ..., C}, partition = layers per group. The yardstick for the -Q byte ratio.
size_t fp32_baseline_bytes(const std::vector<int64_t>& dims, const std::vector<int>& partition, int64_t n_cols);
// " (4.55 x fewer than fp32 pdADMM-G, 163840 per iteration)" for train's and bench's bytes line; ""
// where the codecs changed nothing ("1.00 x fewer" for an fp32 run read as a saving). int8's scale
// per node can outweigh its codes (hidden 1: 5 bytes a value): "x more" then.
std::string fp32_comparison_text(size_t bytes, size_t fp32_bytes);

// Encode row-major x (rows x cols) into out (encoded_bytes long); x is rounded in place to the
// values the receiver will decode, bit for bit. Returns the bytes written.
size_t encode_host(const WireSpec& spec, float* x, int64_t rows, int64_t cols, uint8_t* out);
size_t encode_host(const WireSpec& spec, double* x, int64_t rows, int64_t cols, uint8_t* out);
void decode_host(const WireSpec& spec, const uint8_t* in, int64_t rows, int64_t cols, float* x);
void decode_host(const WireSpec& spec, const uint8_t* in, int64_t rows, int64_t cols, double* x);

// encode_host's float paths (int8, codes on a uniform grid) have AVX2 twins, switched with the
// other host loops' (host_ops_avx2 in host/backend/avx2_clone.h).
// Which build of those paths runs here: "avx2" or "baseline" (bench's machine record).
const char* host_codecs_build();

}  // namespace pdadmm
