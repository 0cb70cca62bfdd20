// Wire codecs on the host. Native/Fp32 so far; the lossy codecs and grid codes come with -Q.
#include "host/quant/wire.h"

#include <cstring>

#include "host/io/error.h"

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

size_t encoded_bytes(const WireSpec& spec, int64_t rows, int64_t cols, size_t scalar_bytes) {
  const size_t n = static_cast<size_t>(rows * cols);
  switch (spec.format) {
    case WireFormat::Native: return n * scalar_bytes;
    case WireFormat::Fp32: return n * 4;
    default: throw Error(std::string("wire format '") + wire_name(spec.format) + "' is not implemented yet");
  }
}

template <typename T>
static size_t encode_impl(const WireSpec& spec, T* x, int64_t rows, int64_t cols, uint8_t* out) {
  const int64_t n = rows * cols;
  switch (spec.format) {
    case WireFormat::Native:
      std::memcpy(out, x, n * sizeof(T));
      return n * sizeof(T);
    case WireFormat::Fp32:
      for (int64_t i = 0; i < n; ++i) {
        float f = static_cast<float>(x[i]);
        x[i] = static_cast<T>(f);
        std::memcpy(out + 4 * i, &f, 4);
      }
      return n * 4;
    default: throw Error(std::string("wire format '") + wire_name(spec.format) + "' is not implemented yet");
  }
}

template <typename T>
static void decode_impl(const WireSpec& spec, const uint8_t* in, int64_t rows, int64_t cols, T* x) {
  const int64_t n = rows * cols;
  switch (spec.format) {
    case WireFormat::Native: std::memcpy(x, in, n * sizeof(T)); return;
    case WireFormat::Fp32:
      for (int64_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, in + 4 * i, 4);
        x[i] = static_cast<T>(f);
      }
      return;
    default: throw Error(std::string("wire format '") + wire_name(spec.format) + "' is not implemented yet");
  }
}

size_t encode_host(const WireSpec& s, float* x, int64_t r, int64_t c, uint8_t* o) { return encode_impl(s, x, r, c, o); }
size_t encode_host(const WireSpec& s, double* x, int64_t r, int64_t c, uint8_t* o) { return encode_impl(s, x, r, c, o); }
void decode_host(const WireSpec& s, const uint8_t* i, int64_t r, int64_t c, float* x) { decode_impl(s, i, r, c, x); }
void decode_host(const WireSpec& s, const uint8_t* i, int64_t r, int64_t c, double* x) { decode_impl(s, i, r, c, x); }

}  // namespace pdadmm
