// Wire codecs on the host: loops over the per-element math of kernels/codec.cuh.
#include "host/quant/wire.h"

#include <cstring>
#include <vector>

#include "host/io/error.h"
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
  // rows * cols, and its packed codes' bits (up to 16 a value), must fit int64: 2^59 values.
  if (rows > 0 && cols > (int64_t(1) << 59) / rows)
    throw Error("wire: a " + std::to_string(rows) + " x " + std::to_string(cols) +
                " tensor is too large to send (more than 2^59 values)");
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
    case WireFormat::Int8: {
      std::vector<double> absmax(cols, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) absmax[c] = int8_absmax_step(absmax[c], x[r * cols + c]);
      std::vector<float> scale(cols);
      for (int64_t c = 0; c < cols; ++c) {
        scale[c] = int8_scale(absmax[c]);
        put(out, c, scale[c]);
      }
      int8_t* codes = reinterpret_cast<int8_t*>(out + 4 * cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          const int64_t i = r * cols + c;
          codes[i] = int8_encode(x[i], scale[c]);
          x[i] = static_cast<T>(int8_decode(codes[i], scale[c]));
        }
      break;
    }
    case WireFormat::Codes: {
      const Grid& g = grid_of(spec);
      const GridView v = g.view();
      const int bits = g.bits();
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

size_t encode_host(const WireSpec& s, float* x, int64_t r, int64_t c, uint8_t* o) { return encode_impl(s, x, r, c, o); }
size_t encode_host(const WireSpec& s, double* x, int64_t r, int64_t c, uint8_t* o) { return encode_impl(s, x, r, c, o); }
void decode_host(const WireSpec& s, const uint8_t* i, int64_t r, int64_t c, float* x) { decode_impl(s, i, r, c, x); }
void decode_host(const WireSpec& s, const uint8_t* i, int64_t r, int64_t c, double* x) { decode_impl(s, i, r, c, x); }

}  // namespace pdadmm
