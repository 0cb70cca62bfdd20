// Wire codecs on the host: loops over the per-element math of kernels/codec.cuh.
#include "host/quant/wire.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <vector>

#include "host/backend/avx2_clone.h"
#include "host/io/error.h"
#include "host/quant/uniform_codes.h"
#include "kernels/codec.cuh"

namespace pdadmm {

const char* wire_name(WireFormat f) {
  switch (f) {
    case WireFormat::Native: return "native";
    case WireFormat::Fp32: return "fp32";
    case WireFormat::Fp16: return "fp16";
    case WireFormat::Bf16: return "bf16";
    case WireFormat::Int8: return "int8";
    case WireFormat::Codes: return "codes";
  }
  return "?";
}

WireFormat parse_wire(const std::string& s, const std::string& key) {
  for (WireFormat f : {WireFormat::Native, WireFormat::Fp32, WireFormat::Fp16, WireFormat::Bf16,
                       WireFormat::Int8, WireFormat::Codes})
    if (s == wire_name(f)) return f;
  throw Error(key + ": unknown wire format '" + s + "' (expected fp32, fp16, bf16, int8, codes or native)");
}

namespace {

const Grid& grid_of(const WireSpec& spec) {
  if (spec.grid == nullptr || spec.grid->empty())
    throw Error("wire format 'codes' needs a grid (admm.grid)");
  return *spec.grid;
}

void check_shape(int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    throw Error("wire: bad tensor shape " + std::to_string(rows) + " x " + std::to_string(cols));
  // rows * cols, and its packed codes' bits (up to 16 a value) plus 7 to round up to bytes, must
  // fit int64: fewer than 2^59 values (2^59 itself overflowed packed_code_bytes).
  if (rows > 0 && cols > ((int64_t(1) << 59) - 1) / rows)
    throw Error("wire: a " + std::to_string(rows) + " x " + std::to_string(cols) +
                " tensor is too large to send (2^59 values or more)");
}

template <typename V>
void put(uint8_t* out, int64_t i, V v) {
  std::memcpy(out + i * static_cast<int64_t>(sizeof(V)), &v, sizeof(V));
}

template <typename V>
V get(const uint8_t* in, int64_t i) {
  V v;
  std::memcpy(&v, in + i * static_cast<int64_t>(sizeof(V)), sizeof(V));
  return v;
}

// The float fast paths below have AVX2 twins (host/backend/avx2_clone.h; four doubles a vector
// against SSE2's two: 2.5x on both paths), the same bits on either (tested), and on the GPU's kernels.

// int8: the bits of int8_absmax_step, int8_encode and int8_decode (kernels/codec.cuh, which the
// GPU runs), with selects for their early returns so that both loops vectorize (scalar: 3.5 ns an
// element, 10 % of a Coauthor CS -Q run with encode_codes). rint of |q| <= 127 as
// (q + 1.5 * 2^52) - 1.5 * 2^52: ties to even, exactly, in the default rounding mode, and no libm
// call. tests/quant_codec_test.cpp compares it with the scalar functions.
template <typename T>
PDADMM_ALWAYS_INLINE void int8_encode_rows(T* x, int64_t rows, int64_t cols, uint8_t* out) {
  std::vector<double> absmax(static_cast<size_t>(cols), 0.0);
  double* am = absmax.data();
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const double a = std::fabs(static_cast<double>(xr[c]));
      const double finite = a <= 1.7976931348623157e308 ? a : 0.0;  // infinity and NaN: skipped
      am[c] = am[c] < finite ? finite : am[c];
    }
  }
  std::vector<float> scales(static_cast<size_t>(cols));
  float* sc = scales.data();
  for (int64_t c = 0; c < cols; ++c) {
    sc[c] = int8_scale(am[c]);
    put(out, c, sc[c]);
  }
  int8_t* codes = reinterpret_cast<int8_t*>(out + 4 * cols);
  constexpr double kRound = 6755399441055744.0, kMax = kInt8Max;
  const float kNaN = int8_decode(kInt8NonFinite, 1.0f);
  for (int64_t r = 0; r < rows; ++r) {
    T* xr = x + r * cols;
    int8_t* cr = codes + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const float s = sc[c];
      const double xd = static_cast<double>(xr[c]);
      const bool finite = std::fabs(xd) <= 1.7976931348623157e308;
      double q = xd / static_cast<double>(s);
      q = ((s > 0.0f) & finite) ? q : 0.0;  // no scale (an all-zero column): code 0
      q = q > kMax ? kMax : (q < -kMax ? -kMax : q);
      // int8_decode's value, NaN for the non-finite code, as selects of computed doubles and floats
      // (its branch, a select of the int8 code or of an expression left the loop scalar: 1.7 ns an
      // element against 1.2; -fopt-info-vec says which).
      const double rounded = (q + kRound) - kRound;
      const double k = finite ? rounded : kInt8NonFinite;
      cr[c] = static_cast<int8_t>(static_cast<int32_t>(k));
      xr[c] = static_cast<T>(static_cast<float>(k) * (finite ? s : kNaN));
    }
  }
}

// Packed codes of a float tensor on a uniform grid: uniform_grid_index and encode_codes_chunk's
// bits (kernels/, which the GPU runs) in blocks whose arithmetic vectorizes (uniform_codes.h).
// Returns false (nothing written) where this path does not apply. tests/quant_codec_test.cpp
// compares it with the scalar path.
PDADMM_ALWAYS_INLINE bool uniform_codes_float(const GridView& g, int bits, float* x, int64_t n, uint8_t* out) {
  if (!uniform_levels_exact(g)) return false;
  static_assert(kUniformBlock % kCodesPerChunk == 0, "whole chunks: a block's codes start on a byte");
  double code[kUniformBlock];
  uint32_t packed[kUniformBlock];
  for (int64_t b = 0; b < n; b += kUniformBlock) {
    const int64_t count = n - b < kUniformBlock ? n - b : kUniformBlock;
    float* xb = x + b;
    uniform_block_codes(g, xb, count, code);
    for (int64_t i = 0; i < count; ++i) xb[i] = static_cast<float>(g.lo + code[i] * g.step);
    if (bits == 8) {
      for (int64_t i = 0; i < count; ++i) out[b + i] = static_cast<uint8_t>(static_cast<int32_t>(code[i]));
    } else {
      for (int64_t i = 0; i < count; ++i) packed[i] = static_cast<uint32_t>(static_cast<int32_t>(code[i]));
      pack_codes(packed, count, bits, out + b / kCodesPerChunk * bits);
    }
  }
  return true;
}

PDADMM_TARGET_AVX2 void int8_encode_float_avx2(float* x, int64_t rows, int64_t cols, uint8_t* out) {
  int8_encode_rows(x, rows, cols, out);
}
PDADMM_TARGET_AVX2 bool uniform_codes_float_avx2(const GridView& g, int bits, float* x, int64_t n, uint8_t* out) {
  return uniform_codes_float(g, bits, x, n, out);
}

template <typename T>
size_t encode_impl(const WireSpec& spec, T* x, int64_t rows, int64_t cols, uint8_t* out) {
  check_shape(rows, cols);
  const int64_t n = rows * cols;
  switch (spec.format) {
    case WireFormat::Native:
      if (n > 0) std::memcpy(out, x, n * sizeof(T));
      break;
    case WireFormat::Fp32:
      for (int64_t i = 0; i < n; ++i) {
        const float f = static_cast<float>(x[i]);
        x[i] = static_cast<T>(f);
        put(out, i, f);
      }
      break;
    case WireFormat::Fp16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_fp16_bits(static_cast<float>(x[i]));
        x[i] = static_cast<T>(fp16_bits_to_float(h));
        put(out, i, h);
      }
      break;
    case WireFormat::Bf16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_bf16_bits(static_cast<float>(x[i]));
        x[i] = static_cast<T>(bf16_bits_to_float(h));
        put(out, i, h);
      }
      break;
    case WireFormat::Int8:
      if constexpr (std::is_same_v<T, float>)
        if (use_host_ops_avx2()) {
          int8_encode_float_avx2(x, rows, cols, out);
          break;
        }
      int8_encode_rows(x, rows, cols, out);
      break;
    case WireFormat::Codes: {
      const Grid& g = grid_of(spec);
      const GridView v = g.view();
      const int bits = g.bits();
      if constexpr (std::is_same_v<T, float>)
        if (use_host_ops_avx2() ? uniform_codes_float_avx2(v, bits, x, n, out) : uniform_codes_float(v, bits, x, n, out)) break;
      for (int64_t i = 0, chunk = 0; i < n; i += kCodesPerChunk, ++chunk) {
        const int count = static_cast<int>(n - i < kCodesPerChunk ? n - i : kCodesPerChunk);
        encode_codes_chunk(v, bits, x + i, count, out + chunk * bits);
      }
      break;
    }
  }
  return encoded_bytes(spec, rows, cols, sizeof(T));
}

template <typename T>
void decode_impl(const WireSpec& spec, const uint8_t* in, int64_t rows, int64_t cols, T* x) {
  check_shape(rows, cols);
  const int64_t n = rows * cols;
  switch (spec.format) {
    case WireFormat::Native:
      if (n > 0) std::memcpy(x, in, n * sizeof(T));
      return;
    case WireFormat::Fp32:
      for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(get<float>(in, i));
      return;
    case WireFormat::Fp16:
      for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(fp16_bits_to_float(get<uint16_t>(in, i)));
      return;
    case WireFormat::Bf16:
      for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(bf16_bits_to_float(get<uint16_t>(in, i)));
      return;
    case WireFormat::Int8: {
      std::vector<float> scale(cols);
      for (int64_t c = 0; c < cols; ++c) scale[c] = get<float>(in, c);
      const int8_t* codes = reinterpret_cast<const int8_t*>(in + 4 * cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) x[r * cols + c] = static_cast<T>(int8_decode(codes[r * cols + c], scale[c]));
      return;
    }
    case WireFormat::Codes: {
      const Grid& g = grid_of(spec);
      const GridView v = g.view();
      const int bits = g.bits();
      if (bits == 8) {  // a byte a code: decode_code's clamp and level without its bit unpacking (1.35 -> 0.5 ns)
        const uint8_t top = static_cast<uint8_t>(v.m - 1);
        for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(v.levels[in[i] < top ? in[i] : top]);
        return;
      }
      for (int64_t i = 0; i < n; ++i) x[i] = decode_code<T>(v, bits, in, i);
      return;
    }
  }
}

}  // namespace

bool wire_is_lossless(const WireSpec& w, size_t scalar_bytes) {
  return w.format == WireFormat::Native || w.format == WireFormat::Codes ||
         (w.format == WireFormat::Fp32 && scalar_bytes == 4);
}

size_t encoded_bytes(const WireSpec& spec, int64_t rows, int64_t cols, size_t scalar_bytes) {
  check_shape(rows, cols);
  const int64_t n = rows * cols;
  switch (spec.format) {
    case WireFormat::Native: return static_cast<size_t>(n) * scalar_bytes;
    case WireFormat::Fp32: return static_cast<size_t>(n) * 4;
    case WireFormat::Fp16:
    case WireFormat::Bf16: return static_cast<size_t>(n) * 2;
    case WireFormat::Int8: return static_cast<size_t>(4 * cols + n);
    case WireFormat::Codes: return static_cast<size_t>(packed_code_bytes(n, grid_of(spec).bits()));
  }
  throw Error("wire: unknown format");
}

size_t fp32_baseline_bytes(const std::vector<int64_t>& dims, const std::vector<int>& partition, int64_t n_cols) {
  size_t total = 0;
  size_t boundary = 0;  // layers before the boundary: p_{boundary} = q_{boundary-1} has dims[boundary] rows
  for (size_t g = 0; g + 1 < partition.size(); ++g) {
    boundary += static_cast<size_t>(partition[g]);
    require(boundary < dims.size(), "fp32_baseline_bytes: partition does not fit the model");
    total += 2 * encoded_bytes(WireSpec{WireFormat::Fp32, nullptr}, dims[boundary], n_cols, 4);
  }
  return total;
}

std::string fp32_comparison_text(size_t bytes, size_t fp32_bytes) {
  if (bytes == 0 || bytes == fp32_bytes) return "";
  const bool fewer = bytes < fp32_bytes;
  const double r = fewer ? static_cast<double>(fp32_bytes) / static_cast<double>(bytes)
                         : static_cast<double>(bytes) / static_cast<double>(fp32_bytes);
  char x[32];
  std::snprintf(x, sizeof x, "%.2f", r);
  return std::string(" (") + x + (fewer ? " x fewer" : " x more") + " than fp32 pdADMM-G, " +
         std::to_string(fp32_bytes) + " per iteration)";
}

const char* host_codecs_build() { return use_host_ops_avx2() ? "avx2" : "baseline"; }

size_t encode_host(const WireSpec& s, float* x, int64_t r, int64_t c, uint8_t* o) { return encode_impl(s, x, r, c, o); }
size_t encode_host(const WireSpec& s, double* x, int64_t r, int64_t c, uint8_t* o) { return encode_impl(s, x, r, c, o); }
void decode_host(const WireSpec& s, const uint8_t* i, int64_t r, int64_t c, float* x) { decode_impl(s, i, r, c, x); }
void decode_host(const WireSpec& s, const uint8_t* i, int64_t r, int64_t c, double* x) { decode_impl(s, i, r, c, x); }

}  // namespace pdadmm
