// Wire codecs per element: fp16, bf16, int8 with a per-column scale, packed grid codes.
// Shared by the host codecs (host/quant/wire.cpp) and CUDA kernels. Written as integer bit
// manipulation (no _Float16 / __half), so host and device produce the same bits.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/hd.cuh"
#include "kernels/quant.cuh"

namespace pdadmm {

PDADMM_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
#endif
}

PDADMM_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// ---- fp16 (IEEE binary16) ----

// Round to nearest, ties to even. Overflow (|f| >= 65520) gives inf; NaN stays NaN (quieted,
// top payload bits kept); subnormal halves are produced exactly.
PDADMM_HD uint16_t float_to_fp16_bits(float f) {
  const uint32_t x = float_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // 65520 and up, inf
  if (ax >= 0x38800000u) {  // normal half: rebias the exponent (127 -> 15), round 23 -> 10 bits
    const uint32_t r = ax - 0x38000000u;
    return static_cast<uint16_t>(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));  // carry may bump the exponent
  }
  if (ax < 0x33000000u) return static_cast<uint16_t>(sign);  // below 2^-25 (the tie at 2^-25 goes to 0 too)
  // Subnormal half: m * 2^-24 with m = mant * 2^(e - 126); a round-up to 0x400 is the smallest normal.
  const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - (ax >> 23);  // 14..24
  uint32_t m = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (m & 1u))) ++m;
  return static_cast<uint16_t>(sign | m);
}

// Exact (every half is a float).
PDADMM_HD float fp16_bits_to_float(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  int32_t e = (h >> 10) & 0x1f;
  uint32_t m = h & 0x3ffu;
  if (e == 0x1f) return bits_to_float(sign | 0x7f800000u | (m << 13));  // inf, NaN (payload kept)
  if (e == 0) {
    if (m == 0) return bits_to_float(sign);
    e = 1;  // subnormal: normalise so the leading one becomes the implicit bit
    while (!(m & 0x400u)) {
      m <<= 1;
      --e;
    }
    m &= 0x3ffu;
  }
  return bits_to_float(sign | (static_cast<uint32_t>(e + 112) << 23) | (m << 13));
}

// ---- bf16 (top half of a float) ----

// Round to nearest, ties to even; the carry handles subnormals, binade steps and overflow to
// inf; NaN stays NaN (quieted).
PDADMM_HD uint16_t float_to_bf16_bits(float f) {
  const uint32_t x = float_to_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

PDADMM_HD float bf16_bits_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

// ---- int8, one fp32 scale per column ----
// scale = max |x| over the column's finite values / 127, rounded UP to 17 significant bits;
// code = round-half-even(x / scale) clamped to [-127, 127]; value = float(code) * scale.
// With 17-bit scales the product (7 x 17 bits) is exact in float, so |x - value| <= scale / 2 holds exactly
// for finite float x (and max |x| still codes to ±127 for columns above ~4.5e-41, whose scales are
// subnormal with fewer bits). Non-finite policy: NaN and ±inf code to -128, which no finite value
// takes, and decode to NaN, on both sides of the boundary: an overflowed p or q stops the run as
// "diverged", as over an fp32 wire or within one group (an int8 wire hid it as 0 or ±127 * scale).
// Neither enters the scale. A zero (or all-non-finite) column gets scale 0, its finite codes 0.
// Columns beyond float's range (double tensors only) saturate.

constexpr int kInt8Max = 127;
constexpr int kInt8NonFinite = -128;
// The largest 17-bit float s with 127 * s <= FLT_MAX (66052 * 2^105 ≈ 2.6794e36): a column up to
// FLT_MAX then misses ±127 * s by under 1e-4 * s, inside the half-scale bound (a rounder cap
// such as 2.6e36 left floats above 3.30e38 off by up to 4 scales).
constexpr double kInt8MaxScale = 0x1.0204p+121;

// Running max of |x| over finite values (start from 0).
template <typename T>
PDADMM_HD double int8_absmax_step(double running, T x) {
  const double a = fabs(static_cast<double>(x));
  return (a > running && a <= 1.7976931348623157e308) ? a : running;
}

PDADMM_HD float int8_scale(double absmax) {
  if (!(absmax > 0.0)) return 0.0f;
  double s = absmax / kInt8Max;
  if (s > kInt8MaxScale) s = kInt8MaxScale;  // keeps 127 * scale finite; already 17 bits, so the round-up keeps it
  uint32_t u = float_to_bits(static_cast<float>(s));
  if (static_cast<double>(bits_to_float(u)) < s) ++u;  // next float up (also lifts 0 to the smallest subnormal)
  // Round up to 17 significant bits (a carry gives 2^k: still exact). A normal float drops 7 of its
  // 24; a subnormal has fewer, so it drops only those past its own 17th (dropping 7 there left
  // columns under ~6e-39 with a coarse scale whose max coded to less than 127).
  uint32_t drop = 7;
  if (u < 0x800000u) {
    drop = 0;
    for (uint32_t t = u >> 17; t != 0; t >>= 1) ++drop;
  }
  const uint32_t mask = (1u << drop) - 1u;
  u = (u + mask) & ~mask;
  return bits_to_float(u);
}

template <typename T>
PDADMM_HD int8_t int8_encode(T x, float scale) {
  if (!(fabs(static_cast<double>(x)) <= 1.7976931348623157e308)) return kInt8NonFinite;  // NaN, ±inf
  if (!(scale > 0.0f)) return 0;
  double q = static_cast<double>(x) / static_cast<double>(scale);  // IEEE division: same on host and device
  if (!(q == q)) return 0;  // NaN
  q = q > kInt8Max ? kInt8Max : (q < -kInt8Max ? -kInt8Max : q);
  return static_cast<int8_t>(rint(q));  // default rounding mode: ties to even
}

PDADMM_HD float int8_decode(int8_t code, float scale) {
  return code == kInt8NonFinite ? bits_to_float(0x7fc00000u) : static_cast<float>(code) * scale;
}

// ---- packed grid codes ----
// Index i occupies bits [i*b, i*b + b) of the stream, bit j of the stream being bit j%8 of byte
// j/8 (LSB first); the last byte is zero-padded. Eight codes fill exactly b bytes, so a CUDA
// thread per 8 elements writes whole bytes without atomics.

constexpr int kCodesPerChunk = 8;

PDADMM_HD int64_t packed_code_bytes(int64_t n, int bits) { return (n * bits + 7) / 8; }

// Packs count codes (each < 2^bits, bits in 1..16) into packed_code_bytes(count, bits) bytes.
PDADMM_HD void pack_codes(const uint32_t* codes, int64_t count, int bits, uint8_t* out) {
  uint32_t acc = 0;  // at most 7 + 16 pending bits
  int pending = 0;
  for (int64_t i = 0; i < count; ++i) {
    acc |= codes[i] << pending;
    pending += bits;
    while (pending >= 8) {
      *out++ = static_cast<uint8_t>(acc & 0xffu);
      acc >>= 8;
      pending -= 8;
    }
  }
  if (pending > 0) *out = static_cast<uint8_t>(acc & 0xffu);
}

// Code i of a packed stream; reads only the (at most 3) bytes that hold it.
PDADMM_HD uint32_t unpack_code(const uint8_t* in, int64_t i, int bits) {
  const int64_t first_bit = i * bits;
  const int64_t first = first_bit >> 3, last = (first_bit + bits - 1) >> 3;
  uint32_t w = 0;
  for (int64_t j = first; j <= last; ++j) w |= static_cast<uint32_t>(in[j]) << (8 * (j - first));
  return (w >> (first_bit & 7)) & ((1u << bits) - 1u);
}

// Projects x[0..count) onto Δ in place (x becomes exactly what decode gives) and packs the
// indices; count <= kCodesPerChunk. Call with x, out advanced by 8*c elements and c*bits bytes.
// NaN policy: projection sends NaN to index 0 (the lowest level).
template <typename T>
PDADMM_HD void encode_codes_chunk(const GridView& g, int bits, T* x, int count, uint8_t* out) {
  uint32_t idx[kCodesPerChunk];
  for (int i = 0; i < count; ++i) {
    const int32_t k = grid_index(g, x[i]);
    idx[i] = static_cast<uint32_t>(k);
    x[i] = static_cast<T>(g.levels[k]);
  }
  pack_codes(idx, count, bits, out);
}

// Level of code i. An index >= m (only from a corrupt payload) clamps to the top level rather
// than reading past the table.
template <typename T>
PDADMM_HD T decode_code(const GridView& g, int bits, const uint8_t* in, int64_t i) {
  uint32_t k = unpack_code(in, i, bits);
  if (k >= static_cast<uint32_t>(g.m)) k = static_cast<uint32_t>(g.m - 1);
  return static_cast<T>(g.levels[k]);
}

}  // namespace pdadmm
