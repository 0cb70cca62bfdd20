// Launchers for the wire codecs on the device. Payload layouts are those of host/quant/wire.cpp
// and every kernel calls the same element functions of kernels/codec.cuh, so a GPU payload is
// byte-identical to the host's. Encoders also round x in place to what the receiver decodes.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

#include "kernels/quant.cuh"

namespace pdadmm {
namespace kernels {

enum class HalfFormat { Fp16, Bf16 };

// n floats.
template <typename T>
void encode_fp32(T* x, int64_t n, uint8_t* out, cudaStream_t stream);
template <typename T>
void decode_fp32(const uint8_t* in, int64_t n, T* x, cudaStream_t stream);
// n 16-bit words (IEEE half or bfloat16 bits).
template <typename T>
void encode_half(HalfFormat f, T* x, int64_t n, uint8_t* out, cudaStream_t stream);
template <typename T>
void decode_half(HalfFormat f, const uint8_t* in, int64_t n, T* x, cudaStream_t stream);
// cols fp32 scales, then rows x cols int8 codes (row-major); one scale per column.
template <typename T>
void encode_int8(T* x, int64_t rows, int64_t cols, uint8_t* out, cudaStream_t stream);
template <typename T>
void decode_int8(const uint8_t* in, int64_t rows, int64_t cols, T* x, cudaStream_t stream);
// Packed grid indices, `bits` each (grid.levels on the device).
template <typename T>
void encode_codes(const GridView& grid, int bits, T* x, int64_t n, uint8_t* out, cudaStream_t stream);
template <typename T>
void decode_codes(const GridView& grid, int bits, const uint8_t* in, int64_t n, T* x, cudaStream_t stream);

}  // namespace kernels
}  // namespace pdadmm
