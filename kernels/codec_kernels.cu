// Wire codec kernels (kernels/codec_kernels.cuh) over kernels/codec.cuh. Element-wise codecs use
// one thread per element; int8 a block per 32 columns (the scale is a column max); grid codes one
// thread per chunk of 8 codes, which fills whole bytes, so no two threads share a byte.
#include "cuda/check.h"
#include "kernels/codec.cuh"
#include "kernels/codec_kernels.cuh"
#include "kernels/launch.cuh"

namespace pdadmm {
namespace kernels {

namespace {

template <typename T>
__global__ void encode_fp32_kernel(T* __restrict__ x, int64_t n, float* __restrict__ out) {
  PDADMM_GRID_STRIDE(i, n) {
    const float f = static_cast<float>(x[i]);
    out[i] = f;
    x[i] = static_cast<T>(f);
  }
}

template <typename T>
__global__ void decode_fp32_kernel(const float* __restrict__ in, int64_t n, T* __restrict__ x) {
  PDADMM_GRID_STRIDE(i, n) x[i] = static_cast<T>(in[i]);
}

__device__ __forceinline__ uint16_t to_half_bits(HalfFormat f, float v) {
  return f == HalfFormat::Fp16 ? float_to_fp16_bits(v) : float_to_bf16_bits(v);
}
__device__ __forceinline__ float from_half_bits(HalfFormat f, uint16_t h) {
  return f == HalfFormat::Fp16 ? fp16_bits_to_float(h) : bf16_bits_to_float(h);
}

template <typename T>
__global__ void encode_half_kernel(HalfFormat f, T* __restrict__ x, int64_t n, uint16_t* __restrict__ out) {
  PDADMM_GRID_STRIDE(i, n) {
    const uint16_t h = to_half_bits(f, static_cast<float>(x[i]));
    out[i] = h;
    x[i] = static_cast<T>(from_half_bits(f, h));
  }
}

template <typename T>
__global__ void decode_half_kernel(HalfFormat f, const uint16_t* __restrict__ in, int64_t n, T* __restrict__ x) {
  PDADMM_GRID_STRIDE(i, n) x[i] = static_cast<T>(from_half_bits(f, in[i]));
}

// A block owns kInt8TileCols adjacent columns (a warp reads 32 adjacent addresses of a row: coalesced) and
// its kInt8TileRows rows of threads split the rows, so a column's max is a shared-memory reduction instead
// of one thread walking the whole column. A max does not depend on the order, so the bytes are the host's.
constexpr int kInt8TileCols = 32, kInt8TileRows = 16;

// The bound keeps nvcc from giving an instance more registers than a 512-thread block can have
// (the launch would fail with cudaErrorLaunchOutOfResources on every int8 wire).
template <typename T>
__global__ void __launch_bounds__(kInt8TileCols * kInt8TileRows) encode_int8_kernel(T* __restrict__ x, int64_t rows, int64_t cols, float* __restrict__ scales,
                                   int8_t* __restrict__ codes) {
  __shared__ double part[kInt8TileRows][kInt8TileCols];
  __shared__ float tile_scale[kInt8TileCols];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t tile = blockIdx.x; tile * kInt8TileCols < cols; tile += gridDim.x) {
    const int64_t c = tile * kInt8TileCols + tx;
    double absmax = 0.0;
    if (c < cols)
      for (int64_t r = ty; r < rows; r += kInt8TileRows) absmax = int8_absmax_step(absmax, x[r * cols + c]);
    part[ty][tx] = absmax;
    __syncthreads();
    if (ty == 0) {
      for (int k = 1; k < kInt8TileRows; ++k) absmax = part[k][tx] > absmax ? part[k][tx] : absmax;
      tile_scale[tx] = int8_scale(absmax);
      if (c < cols) scales[c] = tile_scale[tx];
    }
    __syncthreads();
    const float scale = tile_scale[tx];
    if (c < cols)
      for (int64_t r = ty; r < rows; r += kInt8TileRows) {
        const int64_t i = r * cols + c;
        const int8_t code = int8_encode(x[i], scale);
        codes[i] = code;
        x[i] = static_cast<T>(int8_decode(code, scale));
      }
    __syncthreads();  // part and tile_scale are reused by the block's next tile
  }
}

template <typename T>
__global__ void decode_int8_kernel(const float* __restrict__ scales, const int8_t* __restrict__ codes, int64_t rows,
                                   int64_t cols, T* __restrict__ x) {
  PDADMM_GRID_STRIDE(i, rows * cols) x[i] = static_cast<T>(int8_decode(codes[i], scales[i % cols]));
}

template <typename T>
__global__ void encode_codes_kernel(GridView grid, int bits, T* __restrict__ x, int64_t n, uint8_t* __restrict__ out) {
  const int64_t chunks = (n + kCodesPerChunk - 1) / kCodesPerChunk;
  PDADMM_GRID_STRIDE(c, chunks) {
    const int64_t first = c * kCodesPerChunk;
    const int count = static_cast<int>(n - first < kCodesPerChunk ? n - first : kCodesPerChunk);
    encode_codes_chunk(grid, bits, x + first, count, out + c * bits);
  }
}

template <typename T>
__global__ void decode_codes_kernel(GridView grid, int bits, const uint8_t* __restrict__ in, int64_t n,
                                    T* __restrict__ x) {
  PDADMM_GRID_STRIDE(i, n) x[i] = decode_code<T>(grid, bits, in, i);
}


}  // namespace

template <typename T>
void encode_fp32(T* x, int64_t n, uint8_t* out, cudaStream_t stream) {
  if (n <= 0) return;
  encode_fp32_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(x, n, reinterpret_cast<float*>(out));
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void decode_fp32(const uint8_t* in, int64_t n, T* x, cudaStream_t stream) {
  if (n <= 0) return;
  decode_fp32_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(reinterpret_cast<const float*>(in), n, x);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void encode_half(HalfFormat f, T* x, int64_t n, uint8_t* out, cudaStream_t stream) {
  if (n <= 0) return;
  encode_half_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(f, x, n, reinterpret_cast<uint16_t*>(out));
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void decode_half(HalfFormat f, const uint8_t* in, int64_t n, T* x, cudaStream_t stream) {
  if (n <= 0) return;
  decode_half_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(f, reinterpret_cast<const uint16_t*>(in),
                                                                          n, x);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void encode_int8(T* x, int64_t rows, int64_t cols, uint8_t* out, cudaStream_t stream) {
  if (cols <= 0) return;
  const int64_t tiles = (cols + kInt8TileCols - 1) / kInt8TileCols;
  encode_int8_kernel<<<static_cast<int>(tiles < kMaxGridBlocks ? tiles : kMaxGridBlocks),
                       dim3(kInt8TileCols, kInt8TileRows), 0, stream>>>(
      x, rows, cols, reinterpret_cast<float*>(out), reinterpret_cast<int8_t*>(out + 4 * cols));
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void decode_int8(const uint8_t* in, int64_t rows, int64_t cols, T* x, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  decode_int8_kernel<<<elementwise_blocks(rows * cols), kBlockThreads, 0, stream>>>(
      reinterpret_cast<const float*>(in), reinterpret_cast<const int8_t*>(in + 4 * cols), rows, cols, x);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void encode_codes(const GridView& grid, int bits, T* x, int64_t n, uint8_t* out, cudaStream_t stream) {
  if (n <= 0) return;
  const int64_t chunks = (n + kCodesPerChunk - 1) / kCodesPerChunk;
  encode_codes_kernel<<<elementwise_blocks(chunks), kBlockThreads, 0, stream>>>(grid, bits, x, n, out);
  CUDA_LAUNCH_CHECK(stream);
}

template <typename T>
void decode_codes(const GridView& grid, int bits, const uint8_t* in, int64_t n, T* x, cudaStream_t stream) {
  if (n <= 0) return;
  decode_codes_kernel<<<elementwise_blocks(n), kBlockThreads, 0, stream>>>(grid, bits, in, n, x);
  CUDA_LAUNCH_CHECK(stream);
}

#define PDADMM_INSTANTIATE(T)                                                                       \
  template void encode_fp32<T>(T*, int64_t, uint8_t*, cudaStream_t);                                 \
  template void decode_fp32<T>(const uint8_t*, int64_t, T*, cudaStream_t);                           \
  template void encode_half<T>(HalfFormat, T*, int64_t, uint8_t*, cudaStream_t);                     \
  template void decode_half<T>(HalfFormat, const uint8_t*, int64_t, T*, cudaStream_t);               \
  template void encode_int8<T>(T*, int64_t, int64_t, uint8_t*, cudaStream_t);                        \
  template void decode_int8<T>(const uint8_t*, int64_t, int64_t, T*, cudaStream_t);                  \
  template void encode_codes<T>(const GridView&, int, T*, int64_t, uint8_t*, cudaStream_t);          \
  template void decode_codes<T>(const GridView&, int, const uint8_t*, int64_t, T*, cudaStream_t);
PDADMM_INSTANTIATE(float)
PDADMM_INSTANTIATE(double)
#undef PDADMM_INSTANTIATE

}  // namespace kernels
}  // namespace pdadmm
