// Wire codecs: fp16 / bf16 bit exactness against an independent reference, int8 error bound and
// non-finite policy, packed codes for every width, and the encode-rounds-x = decode rule.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "host/backend/avx2_clone.h"
#include "host/io/error.h"
#include "host/quant/grid.h"
#include "host/quant/wire.h"
#include "kernels/codec.cuh"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

const float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

// ---- independent references (double arithmetic, no bit tricks) ----

// Value of a binary16 / bfloat16 pattern with `mbits` stored mantissa bits and exponent bias.
double ref_decode(uint16_t h, int ebits, int mbits) {
  const int bias = (1 << (ebits - 1)) - 1;
  const int e = (h >> mbits) & ((1 << ebits) - 1);
  const int m = h & ((1 << mbits) - 1);
  const double sign = (h >> 15) ? -1.0 : 1.0;
  if (e == (1 << ebits) - 1) return m ? std::nan("") : sign * HUGE_VAL;
  if (e == 0) return sign * std::ldexp(m, 1 - bias - mbits);
  return sign * std::ldexp((1 << mbits) + m, e - bias - mbits);
}

// Round d to precision p (significant bits incl. the implicit one), exponents >= emin
// (subnormals below), overflow to inf past emax; ties to even via nearbyint.
double ref_round(double d, int p, int emin, int emax) {
  if (std::isnan(d) || std::isinf(d) || d == 0) return d;
  const double a = std::fabs(d);
  const int e = std::max(std::ilogb(a), emin);
  const double q = std::ldexp(1.0, e - (p - 1));  // spacing of representable values near a
  double r = std::nearbyint(a / q) * q;
  if (r >= std::ldexp(1.0, emax + 1)) r = HUGE_VAL;
  return std::copysign(r, d);
}

double ref_fp16(float f) { return ref_round(f, 11, -14, 15); }
double ref_bf16(float f) { return ref_round(f, 8, -126, 127); }

bool fp16_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
bool bf16_is_nan(uint16_t h) { return (h & 0x7f80) == 0x7f80 && (h & 0x7f); }

TEST(QuantCodec, Fp16AllPatternsDecodeExactlyAndReencodeToThemselves) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (uint32_t p = 0; p < 65536; ++p) {
    const uint16_t h = static_cast<uint16_t>(p);
    const float f = fp16_bits_to_float(h);
    const uint16_t back = float_to_fp16_bits(f);
    if (fp16_is_nan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << p;
      ASSERT_TRUE(fp16_is_nan(back)) << std::hex << p;
      ASSERT_EQ(back & 0x8000, h & 0x8000) << std::hex << p;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), ref_decode(h, 5, 10)) << std::hex << p;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << p;
    ASSERT_EQ(back, h) << std::hex << p;
  }
}

TEST(QuantCodec, Bf16AllPatternsDecodeExactlyAndReencodeToThemselves) {
  for (uint32_t p = 0; p < 65536; ++p) {
    const uint16_t h = static_cast<uint16_t>(p);
    const float f = bf16_bits_to_float(h);
    const uint16_t back = float_to_bf16_bits(f);
    if (bf16_is_nan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << p;
      ASSERT_TRUE(bf16_is_nan(back)) << std::hex << p;
      ASSERT_EQ(back & 0x8000, h & 0x8000) << std::hex << p;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), ref_decode(h, 8, 7)) << std::hex << p;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << p;
    ASSERT_EQ(back, h) << std::hex << p;
  }
}

float next_up(float f, int steps) {
  for (int i = 0; i < steps; ++i) f = std::nextafter(f, kInf);
  for (int i = 0; i > steps; --i) f = std::nextafter(f, -kInf);
  return f;
}

// Floats that stress a 16-bit format: each representable value, the exact midpoints to its
// neighbours, a couple of float ulps either side, special values, and random bit patterns.
std::vector<float> sweep(float (*decode)(uint16_t), bool (*is_nan)(uint16_t), std::vector<float> special) {
  std::vector<float> v = std::move(special);
  for (uint32_t p = 0; p < 0x10000; ++p) {
    const uint16_t h = static_cast<uint16_t>(p);
    if (is_nan(h)) continue;
    const float a = decode(h);
    if (std::isinf(a)) continue;
    const float b = decode(static_cast<uint16_t>(p + 1));  // next in magnitude (may be inf)
    std::vector<float> centres{a};
    if (!std::isnan(b)) {
      const double mid = std::isinf(b) ? static_cast<double>(a) + (static_cast<double>(a) - decode(static_cast<uint16_t>(p - 1))) / 2
                                       : (static_cast<double>(a) + b) / 2;
      centres.push_back(static_cast<float>(mid));  // exact: one bit more than the format has
    }
    for (float c : centres)
      for (int s = -2; s <= 2; ++s) v.push_back(next_up(c, s));
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 1000000; ++i) {
    uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    v.push_back(f);
  }
  return v;
}

void expect_matches_reference(uint16_t (*encode)(float), float (*decode)(uint16_t), double (*ref)(float),
                              const std::vector<float>& xs) {
  for (float f : xs) {
    const float got = decode(encode(f));
    const double want = ref(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(got)) << f;
      continue;
    }
    ASSERT_EQ(static_cast<double>(got), want) << std::hexfloat << f;
    ASSERT_EQ(std::signbit(got), std::signbit(f)) << std::hexfloat << f;
  }
}

TEST(QuantCodec, Fp16RoundingMatchesReference) {
  const float denorm = std::numeric_limits<float>::denorm_min();
  const std::vector<float> special{0.0f, -0.0f, denorm, -denorm, std::numeric_limits<float>::min(),
                                   std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                                   kInf, -kInf, kNan, -kNan,
                                   0x1p-24f, 0x1p-25f, next_up(0x1p-25f, 1), next_up(0x1p-25f, -1), 0x1.8p-24f,
                                   0x1.8p-25f, 1023 * 0x1p-24f, 0x1p-14f, next_up(0x1p-14f, -1), 2047 * 0x1p-25f,
                                   65504.0f, 65519.0f, next_up(65520.0f, -1), 65520.0f, -65520.0f, 65536.0f,
                                   1.0f, 1.0f + 0x1p-11f, 1.0f + 0x1p-10f + 0x1p-11f, -2.5f, 1e-8f, 3e-5f};
  expect_matches_reference(float_to_fp16_bits, fp16_bits_to_float, ref_fp16,
                           sweep(fp16_bits_to_float, fp16_is_nan, special));
  // Spot checks of the boundaries in bits.
  EXPECT_EQ(float_to_fp16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16_bits(next_up(65520.0f, -1)), 0x7bff);
  EXPECT_EQ(float_to_fp16_bits(65520.0f), 0x7c00);
  EXPECT_EQ(float_to_fp16_bits(-kInf), 0xfc00);
  EXPECT_EQ(float_to_fp16_bits(0x1p-24f), 0x0001);
  EXPECT_EQ(float_to_fp16_bits(0x1p-25f), 0x0000);  // tie to even (0)
  EXPECT_EQ(float_to_fp16_bits(0x1.8p-24f), 0x0002);  // tie to even (2)
  EXPECT_EQ(float_to_fp16_bits(-0.0f), 0x8000);
  EXPECT_EQ(float_to_fp16_bits(next_up(0x1p-14f, -1)), 0x0400);  // rounds up into the normals
  EXPECT_TRUE(fp16_is_nan(float_to_fp16_bits(kNan)));
  uint32_t snan_bits = 0x7f800001u;  // signalling NaN, payload only in bits dropped by fp16
  float snan;
  std::memcpy(&snan, &snan_bits, 4);
  EXPECT_TRUE(fp16_is_nan(float_to_fp16_bits(snan)));
}

TEST(QuantCodec, Bf16RoundingMatchesReference) {
  const float denorm = std::numeric_limits<float>::denorm_min();
  const float fmax = std::numeric_limits<float>::max();
  const std::vector<float> special{0.0f, -0.0f, denorm, -denorm, std::numeric_limits<float>::min(), fmax, -fmax,
                                   kInf, -kInf, kNan, -kNan, 0x1.fep127f, 0x1.ffp127f, next_up(0x1.ffp127f, -1),
                                   1.0f + 0x1p-8f, 1.0f + 0x1p-7f + 0x1p-8f, 0x1p-133f, 0x1p-134f, 0x1.8p-133f,
                                   3.14159265f, -1e-40f};
  expect_matches_reference(float_to_bf16_bits, bf16_bits_to_float, ref_bf16,
                           sweep(bf16_bits_to_float, bf16_is_nan, special));
  EXPECT_EQ(float_to_bf16_bits(fmax), 0x7f80);  // rounds to inf
  EXPECT_EQ(float_to_bf16_bits(0x1.fep127f), 0x7f7f);
  EXPECT_EQ(float_to_bf16_bits(1.0f + 0x1p-8f), 0x3f80);  // tie to even
  EXPECT_TRUE(bf16_is_nan(float_to_bf16_bits(kNan)));
  uint32_t snan_bits = 0x7f800001u;
  float snan;
  std::memcpy(&snan, &snan_bits, 4);
  EXPECT_TRUE(bf16_is_nan(float_to_bf16_bits(snan)));
}

// ---- int8 ----

struct Int8Payload {
  std::vector<float> scale;
  std::vector<int8_t> code;
};

Int8Payload split_int8(const std::vector<uint8_t>& buf, int64_t rows, int64_t cols) {
  Int8Payload p{std::vector<float>(cols), std::vector<int8_t>(rows * cols)};
  std::memcpy(p.scale.data(), buf.data(), 4 * cols);
  std::memcpy(p.code.data(), buf.data() + 4 * cols, rows * cols);
  return p;
}

TEST(QuantCodec, Int8ErrorAtMostHalfAScalePerColumn) {
  const int64_t rows = 37, cols = 11;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] = c == 4 ? 0.0f : g(rng) * std::pow(10.0f, c - 5.0f);
  x[3 * cols + 4] = -0.0f;
  const std::vector<float> orig = x;
  const WireSpec spec{WireFormat::Int8, nullptr};
  std::vector<uint8_t> buf(encoded_bytes(spec, rows, cols, 4));
  ASSERT_EQ(buf.size(), static_cast<size_t>(4 * cols + rows * cols));
  ASSERT_EQ(encode_host(spec, x.data(), rows, cols, buf.data()), buf.size());
  const Int8Payload p = split_int8(buf, rows, cols);
  for (int64_t c = 0; c < cols; ++c) {
    float absmax = 0;
    for (int64_t r = 0; r < rows; ++r) absmax = std::max(absmax, std::fabs(orig[r * cols + c]));
    // scale = max|x| / 127 rounded up to 17 significant bits (so code * scale is exact).
    if (absmax > 0) {
      EXPECT_GE(static_cast<double>(p.scale[c]) * 127, absmax) << "column " << c;
      EXPECT_LE(static_cast<double>(p.scale[c]) * 127, absmax * (1 + 0x1p-16)) << "column " << c;
      uint32_t bits;
      std::memcpy(&bits, &p.scale[c], 4);
      EXPECT_EQ(bits & 0x7fu, 0u) << "column " << c;
    }
    bool hit_127 = false;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r * cols + c;
      ASSERT_GE(p.code[i], -127);
      ASSERT_LE(p.code[i], 127);
      hit_127 |= std::abs(p.code[i]) == 127;
      ASSERT_EQ(x[i], static_cast<float>(p.code[i]) * p.scale[c]);
      const double err = std::fabs(static_cast<double>(orig[i]) - x[i]);
      ASSERT_LE(err, p.scale[c] * 0.5) << "row " << r << " column " << c;
    }
    if (c == 4) {
      EXPECT_EQ(p.scale[c], 0.0f);
      for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(p.code[r * cols + c], 0);
    } else {
      EXPECT_TRUE(hit_127) << "the largest |x| of column " << c << " codes to ±127";
    }
  }
  std::vector<float> y(rows * cols, 42.0f);
  decode_host(spec, buf.data(), rows, cols, y.data());
  EXPECT_EQ(std::memcmp(x.data(), y.data(), 4 * x.size()), 0);
}

TEST(QuantCodec, Int8RoundsHalfToEven) {
  EXPECT_EQ(int8_encode(2.5f, 1.0f), 2);
  EXPECT_EQ(int8_encode(3.5f, 1.0f), 4);
  EXPECT_EQ(int8_encode(-2.5f, 1.0f), -2);
  EXPECT_EQ(int8_encode(500.0f, 1.0f), 127);
  EXPECT_EQ(int8_encode(-500.0f, 1.0f), -127);
}

TEST(QuantCodec, Int8NonFinitePolicy) {
  // One column (rows x 1): NaN and ±inf -> code -128, which no finite value takes, decoded as NaN
  // on both sides (the sender keeps it), so an overflowed p or q stops the run as over fp32; they
  // stay out of the scale.
  std::vector<float> x{1.0f, kNan, -kInf, kInf, -0.5f, 0.25f};
  const int64_t rows = static_cast<int64_t>(x.size());
  const WireSpec spec{WireFormat::Int8, nullptr};
  std::vector<uint8_t> buf(encoded_bytes(spec, rows, 1, 4));
  encode_host(spec, x.data(), rows, 1, buf.data());
  const Int8Payload p = split_int8(buf, rows, 1);
  EXPECT_EQ(p.scale[0], int8_scale(1.0));
  EXPECT_GE(p.scale[0] * 127.0, 1.0);
  EXPECT_EQ(p.code, (std::vector<int8_t>{127, -128, -128, -128, -63, 32}));
  std::vector<float> got(x.size());
  decode_host(spec, buf.data(), rows, 1, got.data());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(std::isnan(x[i]), i >= 1 && i <= 3) << i << ": " << x[i];
    EXPECT_EQ(std::isnan(got[i]), i >= 1 && i <= 3) << i << ": " << got[i];
    if (!std::isnan(x[i])) {
      EXPECT_EQ(got[i], x[i]) << i;  // the sender keeps what the receiver decodes
    }
  }
  // The scalar functions (which the GPU runs) agree, doubles included.
  EXPECT_EQ(int8_encode(kNan, 1.0f), -128);
  EXPECT_EQ(int8_encode(-std::numeric_limits<double>::infinity(), 0.0f), -128);
  EXPECT_EQ(int8_encode(1e300, 1.0f), 127);  // finite beyond float's range: saturates
  EXPECT_TRUE(std::isnan(int8_decode(-128, 1.0f)));
  EXPECT_EQ(int8_decode(-127, 1.0f), -127.0f);
  // An all-NaN column: scale 0, and still NaN on both sides; a zero beside it stays 0.
  std::vector<float> z{kNan, kNan, 0.0f};
  encode_host(spec, z.data(), 3, 1, buf.data());
  EXPECT_EQ(split_int8(buf, 3, 1).scale[0], 0.0f);
  EXPECT_TRUE(std::isnan(z[0]));
  EXPECT_TRUE(std::isnan(z[1]));
  EXPECT_EQ(z[2], 0.0f);
  // Tiny values whose max / 127 underflows keep a non-zero scale and the error bound.
  const float d = std::numeric_limits<float>::denorm_min();
  std::vector<float> t{3 * d, -d, 0.0f, 100 * d};
  const std::vector<float> t0 = t;
  encode_host(spec, t.data(), 4, 1, buf.data());
  const float s = split_int8(buf, 4, 1).scale[0];
  EXPECT_GT(s, 0.0f);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_LE(std::fabs(t[i] - t0[i]), s / 2) << i;
}

TEST(QuantCodec, Int8ColumnsNearFloatMaxKeepTheErrorBound) {
  // Columns whose max |x| / 127 is at or near the scale cap: the cap must still let max |x| code
  // to ±127 within half a scale, and 127 * scale must stay finite.
  const float big = std::numeric_limits<float>::max();
  std::vector<float> x{big, -3.35e38f, 3.31e38f, 1.0f, -big, 0.0f};
  const int64_t rows = 2, cols = 3;
  const std::vector<float> orig = x;
  const WireSpec spec{WireFormat::Int8, nullptr};
  std::vector<uint8_t> buf(encoded_bytes(spec, rows, cols, 4));
  encode_host(spec, x.data(), rows, cols, buf.data());
  const Int8Payload p = split_int8(buf, rows, cols);
  for (int64_t c = 0; c < cols; ++c) {
    EXPECT_TRUE(std::isfinite(127.0f * p.scale[c])) << "column " << c;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r * cols + c;
      EXPECT_LE(std::fabs(static_cast<double>(orig[i]) - x[i]), p.scale[c] * 0.5) << "row " << r << " column " << c;
    }
  }
}

TEST(QuantCodec, Int8TinyColumnsStillCodeTheirMaxTo127) {
  // max |x| / 127 is a subnormal scale here; rounded up to 17 significant bits of its own it stays
  // within 1/254 of it, so the max codes to ±127 like any other column's.
  for (float m : {1e-40f, -4e-39f, 1.1e-38f}) {
    std::vector<float> x{m, m / 3, 0.0f};
    const std::vector<float> orig = x;
    const WireSpec spec{WireFormat::Int8, nullptr};
    std::vector<uint8_t> buf(encoded_bytes(spec, 3, 1, 4));
    encode_host(spec, x.data(), 3, 1, buf.data());
    const Int8Payload p = split_int8(buf, 3, 1);
    EXPECT_EQ(std::abs(p.code[0]), 127) << m;
    for (int i = 0; i < 3; ++i) EXPECT_LE(std::fabs(static_cast<double>(orig[i]) - x[i]), p.scale[0] * 0.5) << m;
  }
}

// ---- packed codes ----

TEST(QuantCodec, CodesPackUnpackEveryWidth) {
  std::mt19937_64 rng(9);
  for (int bits = 1; bits <= 16; ++bits) {
    for (int64_t n : {0, 1, 7, 8, 13, 1001}) {
      SCOPED_TRACE("bits " + std::to_string(bits) + ", n " + std::to_string(n));
      std::vector<uint32_t> codes(n);
      for (auto& c : codes) c = static_cast<uint32_t>(rng() & ((1u << bits) - 1));
      const int64_t nbytes = packed_code_bytes(n, bits);
      ASSERT_EQ(nbytes, (n * bits + 7) / 8);
      std::vector<uint8_t> whole(nbytes + 1, 0xab);  // one guard byte
      pack_codes(codes.data(), n, bits, whole.data());
      EXPECT_EQ(whole[nbytes], 0xab) << "wrote past the end";
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(unpack_code(whole.data(), i, bits), codes[i]) << i;
      if ((n * bits) % 8) {
        EXPECT_EQ(whole[nbytes - 1] >> ((n * bits) % 8), 0) << "padding bits are zero";
      }
      // Eight codes per chunk land on whole bytes: chunked packing gives the same stream.
      std::vector<uint8_t> chunked(nbytes + 1, 0xab);
      for (int64_t i = 0; i < n; i += kCodesPerChunk)
        pack_codes(codes.data() + i, std::min<int64_t>(kCodesPerChunk, n - i), bits,
                   chunked.data() + (i / kCodesPerChunk) * bits);
      EXPECT_EQ(chunked, whole);
      // LSB-first layout, checked bit by bit.
      for (int64_t i = 0; i < std::min<int64_t>(n, 20); ++i)
        for (int b = 0; b < bits; ++b) {
          const int64_t bit = i * bits + b;
          ASSERT_EQ((whole[bit / 8] >> (bit % 8)) & 1, (codes[i] >> b) & 1);
        }
    }
  }
}

TEST(QuantCodec, CodesWireRoundTripEveryWidthIsLossless) {
  std::mt19937_64 rng(13);
  for (int bits = 1; bits <= 16; ++bits) {
    for (int m : {(1 << (bits - 1)) + 1, 1 << bits}) {
      if (m < 2) continue;
      const Grid g = make_uniform_grid(-3.0, 0.5, m);
      ASSERT_EQ(g.bits(), bits);
      const WireSpec spec{WireFormat::Codes, &g};
      for (int64_t n : {1, 7, 13, 1001}) {
        SCOPED_TRACE("levels " + std::to_string(m) + ", n " + std::to_string(n));
        // Rows x cols with an odd count of elements, every value on Δ.
        std::vector<float> x(n);
        for (auto& v : x) v = static_cast<float>(g.levels[rng() % m]);
        const std::vector<float> orig = x;
        const size_t nbytes = encoded_bytes(spec, n, 1, 4);
        ASSERT_EQ(nbytes, static_cast<size_t>((n * bits + 7) / 8));
        ASSERT_EQ(encoded_bytes(spec, 1, n, 4), nbytes);
        std::vector<uint8_t> buf(nbytes + 1, 0xcd);
        ASSERT_EQ(encode_host(spec, x.data(), n, 1, buf.data()), nbytes);
        EXPECT_EQ(buf[nbytes], 0xcd);
        EXPECT_EQ(x, orig) << "values on Δ are not changed";
        std::vector<float> y(n, 99.0f);
        decode_host(spec, buf.data(), n, 1, y.data());
        ASSERT_EQ(y, orig);
      }
    }
  }
}

// The largest tensor a wire takes: 2^59 - 1 values, whose 16-bit codes' byte count (n * 16 + 7) / 8
// fits int64; at 2^59 that sum overflowed (signed, undefined), so it is refused.
TEST(QuantCodec, TheLargestTensorsByteCountFitsInt64) {
  const Grid g = make_uniform_grid(0, 1.0, 40000);  // 16-bit codes
  ASSERT_EQ(g.bits(), 16);
  const WireSpec spec{WireFormat::Codes, &g};
  const int64_t most = (int64_t(1) << 59) - 1;
  EXPECT_EQ(encoded_bytes(spec, 1, most, 4), static_cast<size_t>(most) * 2);
  EXPECT_EQ(test::error_of([&] { encoded_bytes(spec, 1, most + 1, 4); }),
            "wire: a 1 x 576460752303423488 tensor is too large to send (2^59 values or more)");
  EXPECT_NE(test::error_of([&] { encoded_bytes(spec, 8, (most + 1) / 8, 4); }).find("too large to send"), std::string::npos);
}

TEST(QuantCodec, CodesProjectFirstAndSendNanToTheLowestLevel) {
  const Grid g = paper_grid();
  const WireSpec spec{WireFormat::Codes, &g};
  std::vector<double> x{0.4, 0.5, 0.6, -7.0, 100.0, std::nan(""), 19.5, 3.0};
  std::vector<uint8_t> buf(encoded_bytes(spec, 2, 4, 8));
  ASSERT_EQ(buf.size(), 5u);  // 8 codes * 5 bits
  encode_host(spec, x.data(), 2, 4, buf.data());
  EXPECT_EQ(x, (std::vector<double>{0, 0, 1, -1, 20, -1, 19, 3}));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(g.levels[unpack_code(buf.data(), i, 5)], x[i]);
  EXPECT_EQ(unpack_code(buf.data(), 5, 5), 0u);  // NaN -> index 0
  // A corrupt index past the table decodes to the top level instead of reading out of bounds.
  std::vector<uint8_t> bad(buf.size(), 0xff);
  std::vector<double> y(8);
  decode_host(spec, bad.data(), 2, 4, y.data());
  for (double v : y) EXPECT_EQ(v, 20.0);
  // The same for 8-bit codes (their own decode loop): 200 levels, bytes 199..255 give the top one.
  const Grid g8 = make_uniform_grid(0, 0.5, 200);
  const WireSpec spec8{WireFormat::Codes, &g8};
  std::vector<uint8_t> bytes8{0, 1, 198, 199, 200, 255};
  std::vector<float> y8(bytes8.size());
  decode_host(spec8, bytes8.data(), 2, 3, y8.data());
  EXPECT_EQ(y8, (std::vector<float>{0.0f, 0.5f, 99.0f, 99.5f, 99.5f, 99.5f}));
}

// ---- every format: encode rounds x to exactly what decode gives ----

template <typename T>
std::vector<T> mixed_values(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.5, 2.0);
  std::vector<T> x(n);
  for (auto& v : x) v = static_cast<T>(g(rng));
  const T inf = std::numeric_limits<T>::infinity();
  const std::vector<T> special{T(0), -T(0), inf, -inf, std::numeric_limits<T>::quiet_NaN(), T(1e-30), T(-7e4),
                               T(65519.99), T(0.1)};
  for (size_t i = 0; i < special.size() && i < x.size(); ++i) x[i * 7 % n] = special[i];
  return x;
}

template <typename T>
void check_round_trip_bit_exact() {
  const Grid ref = reference_grid(), list = make_list_grid({-1.0, -0.25, 0.0, 0.3, 1.0, 5.0, 5.5});
  struct Case {
    WireFormat f;
    const Grid* g;
  };
  const std::vector<Case> cases{{WireFormat::Native, nullptr}, {WireFormat::Fp32, nullptr}, {WireFormat::Fp16, nullptr},
                                {WireFormat::Bf16, nullptr},   {WireFormat::Int8, nullptr}, {WireFormat::Codes, &ref},
                                {WireFormat::Codes, &list}};
  for (const Case& c : cases) {
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{13, 7}, {1, 1}, {64, 140}, {3, 0}}) {
      SCOPED_TRACE(std::string(wire_name(c.f)) + " " + std::to_string(rows) + "x" + std::to_string(cols));
      const WireSpec spec{c.f, c.g};
      std::vector<T> x = mixed_values<T>(std::max<int64_t>(rows * cols, 1), rows * 1000 + cols);
      x.resize(rows * cols);
      const size_t nbytes = encoded_bytes(spec, rows, cols, sizeof(T));
      std::vector<uint8_t> buf(nbytes + 1, 0x5a);
      ASSERT_EQ(encode_host(spec, x.data(), rows, cols, buf.data()), nbytes);
      ASSERT_EQ(buf[nbytes], 0x5a) << "wrote past encoded_bytes";
      std::vector<T> y(rows * cols, T(-123));
      decode_host(spec, buf.data(), rows, cols, y.data());
      // No memcmp for the 3x0 case: an empty vector's data() may be null, which memcmp must not get.
      ASSERT_TRUE(x.empty() || std::memcmp(x.data(), y.data(), sizeof(T) * x.size()) == 0)
          << "sender and receiver differ";
      // Encoding the rounded values again changes nothing (payload and x).
      std::vector<uint8_t> buf2(nbytes + 1, 0x5a);
      std::vector<T> x2 = x;
      encode_host(spec, x2.data(), rows, cols, buf2.data());
      ASSERT_TRUE(x.empty() || std::memcmp(x2.data(), x.data(), sizeof(T) * x.size()) == 0);
      ASSERT_EQ(buf2, buf);  // int8 too: the rounded column max is 127 * scale exactly
    }
  }
}

TEST(QuantCodec, EncodeRoundsXToExactlyWhatDecodeGivesFloat) { check_round_trip_bit_exact<float>(); }
TEST(QuantCodec, EncodeRoundsXToExactlyWhatDecodeGivesDouble) { check_round_trip_bit_exact<double>(); }

// ---- encode_host's float fast paths against kernels/'s per-element math (the GPU's) ----

// Values that probe every select of the fast paths: ReLU zeros, ±0, NaN, ±inf, FLT_MAX, subnormals,
// the grid's levels and midpoints and the floats next to them, values past both ends, and a
// column whose int8 quotients are exact ties (scale 0.25, x = (k + 1/2) / 4).
std::vector<float> probing_values(int64_t rows, int64_t cols, double lo, double step, int m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> level(0, m - 1), pick(0, 15);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float& v = x[static_cast<size_t>(r * cols + c)];
      if (c == 1) {  // the ties column: its max 31.75 gives scale 0.25 exactly
        v = r == 0 ? 31.75f : static_cast<float>((level(rng) % 127 + 0.5) * 0.25 * (r % 2 ? 1 : -1));
        continue;
      }
      const double mid = lo + (level(rng) + 0.5) * step;
      switch (pick(rng)) {
        case 0: v = 0.0f; break;
        case 1: v = -0.0f; break;
        case 2: v = kNan; break;
        case 3: v = r % 2 ? kInf : -kInf; break;
        case 4: v = r % 2 ? std::numeric_limits<float>::max() : std::numeric_limits<float>::denorm_min(); break;
        case 5: v = static_cast<float>(lo + level(rng) * step); break;
        case 6: v = static_cast<float>(mid); break;
        case 7: v = std::nextafter(static_cast<float>(mid), kInf); break;
        case 8: v = std::nextafter(static_cast<float>(mid), -kInf); break;
        case 9: v = static_cast<float>(lo - std::fabs(normal(rng)) * step * 3); break;
        case 10: v = static_cast<float>(lo + (m - 1 + std::fabs(normal(rng)) * 3) * step); break;
        default: v = static_cast<float>(std::max(0.0, normal(rng)) * step * m / 3 + lo); break;
      }
    }
  return x;
}

// What encode_host wrote before its fast paths: kernels/codec.cuh's functions, element by element.
std::vector<uint8_t> scalar_encode(const WireSpec& spec, std::vector<float>& x, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out(encoded_bytes(spec, rows, cols, sizeof(float)));
  if (spec.format == WireFormat::Int8) {
    std::vector<float> scale(static_cast<size_t>(cols));
    for (int64_t c = 0; c < cols; ++c) {
      double absmax = 0.0;
      for (int64_t r = 0; r < rows; ++r) absmax = int8_absmax_step(absmax, x[static_cast<size_t>(r * cols + c)]);
      scale[static_cast<size_t>(c)] = int8_scale(absmax);
      std::memcpy(out.data() + 4 * c, &scale[static_cast<size_t>(c)], 4);
    }
    for (int64_t i = 0; i < rows * cols; ++i) {
      const int8_t k = int8_encode(x[static_cast<size_t>(i)], scale[static_cast<size_t>(i % cols)]);
      out[static_cast<size_t>(4 * cols + i)] = static_cast<uint8_t>(k);
      x[static_cast<size_t>(i)] = int8_decode(k, scale[static_cast<size_t>(i % cols)]);
    }
    return out;
  }
  const GridView v = spec.grid->view();
  const int bits = spec.grid->bits();
  const int64_t n = rows * cols;
  for (int64_t i = 0, chunk = 0; i < n; i += kCodesPerChunk, ++chunk)
    encode_codes_chunk(v, bits, x.data() + i, static_cast<int>(std::min<int64_t>(kCodesPerChunk, n - i)),
                       out.data() + chunk * bits);
  return out;
}

TEST(QuantCodec, FloatFastPathsGiveTheScalarBits) {
  struct G {
    double lo, step;
    int m;
  };
  // 8-bit [0, 8] (the npz -Q configs), 6-bit [0, 2] (Cora-Q), the paper's integers, a step with no
  // exact binary form and a negative start, 1 and 16 bits, 9 bits (Computers-Q).
  const std::vector<G> grids{{0, 8.0 / 255, 256}, {0, 2.0 / 63, 64}, {-1, 1, 22}, {-1, 3.0 / 999, 1000},
                             {0.5, 0.25, 2},      {-3, 6.0 / 65535, 65536},      {0, 8.0 / 511, 512}};
  const bool avx2 = host_ops_avx2(true);
  for (bool allow : {true, false}) {
    if (allow && !avx2) continue;  // no AVX2 here: the baseline build is the one in use
    host_ops_avx2(allow);
    for (size_t gi = 0; gi <= grids.size(); ++gi) {
      const bool int8 = gi == grids.size();
      const G g = int8 ? G{0, 0.01, 100} : grids[gi];
      const Grid grid = make_uniform_grid(g.lo, g.step, g.m);
      const WireSpec spec = int8 ? WireSpec{WireFormat::Int8, nullptr} : WireSpec{WireFormat::Codes, &grid};
      for (auto [rows, cols] : {std::pair<int64_t, int64_t>{37, 29}, {300, 17}, {1, 3}, {9, 256}}) {
        SCOPED_TRACE(std::string(allow ? "avx2 " : "baseline ") + (int8 ? "int8 " : "codes ") + std::to_string(g.m) +
                     " levels " + std::to_string(rows) + "x" + std::to_string(cols));
        std::vector<float> fast = probing_values(rows, cols, g.lo, g.step, g.m, gi * 7919 + rows * cols);
        std::vector<float> slow = fast;
        std::vector<uint8_t> out(encoded_bytes(spec, rows, cols, sizeof(float)), 0xa5);
        encode_host(spec, fast.data(), rows, cols, out.data());
        EXPECT_EQ(out, scalar_encode(spec, slow, rows, cols));
        EXPECT_EQ(std::memcmp(fast.data(), slow.data(), fast.size() * sizeof(float)), 0) << "rounded x differs";
      }
    }
  }
  host_ops_avx2(true);
}

TEST(QuantCodec, EncodedBytesAreExact) {
  const Grid g = reference_grid();  // 10 bits
  const int64_t r = 5, c = 7;
  EXPECT_EQ(encoded_bytes({WireFormat::Native, nullptr}, r, c, 4), 140u);
  EXPECT_EQ(encoded_bytes({WireFormat::Native, nullptr}, r, c, 8), 280u);
  EXPECT_EQ(encoded_bytes({WireFormat::Fp32, nullptr}, r, c, 8), 140u);
  EXPECT_EQ(encoded_bytes({WireFormat::Fp16, nullptr}, r, c, 4), 70u);
  EXPECT_EQ(encoded_bytes({WireFormat::Bf16, nullptr}, r, c, 8), 70u);
  EXPECT_EQ(encoded_bytes({WireFormat::Int8, nullptr}, r, c, 4), 28u + 35u);
  EXPECT_EQ(encoded_bytes({WireFormat::Codes, &g}, r, c, 4), 44u);  // ceil(350 / 8)
  EXPECT_EQ(encoded_bytes({WireFormat::Codes, &g}, 0, c, 4), 0u);
  EXPECT_THROW(encoded_bytes({WireFormat::Codes, nullptr}, r, c, 4), Error);
  EXPECT_THROW(encoded_bytes({WireFormat::Fp32, nullptr}, -1, c, 4), Error);
}

TEST(QuantCodec, ParseWire) {
  for (WireFormat f : {WireFormat::Native, WireFormat::Fp32, WireFormat::Fp16, WireFormat::Bf16, WireFormat::Int8,
                       WireFormat::Codes})
    EXPECT_EQ(parse_wire(wire_name(f), "admm.wire.q"), f);
  try {
    parse_wire("fp8", "admm.wire.q");
    ADD_FAILURE() << "fp8 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("admm.wire.q: unknown wire format 'fp8'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_wire("FP16", "admm.wire.p"), Error);
}

// Doubles past float's range on the host's int8 loop: the scale is capped (127 x scale stays
// finite), so such a value codes to ±127 as int8_encode says, not to whatever a cast of its
// unclamped quotient (1e300 / 2.7e36) to int gives; the sender keeps what the receiver decodes.
TEST(QuantCodec, Int8DoublesPastFloatSaturateOnTheHostLoop) {
  std::vector<double> x{1e300, -1e300, 1.0};
  const WireSpec spec{WireFormat::Int8, nullptr};
  std::vector<uint8_t> buf(encoded_bytes(spec, 3, 1, 8));
  encode_host(spec, x.data(), 3, 1, buf.data());
  const Int8Payload p = split_int8(buf, 3, 1);
  EXPECT_EQ(p.code, (std::vector<int8_t>{127, -127, 0}));
  EXPECT_EQ(p.code[0], int8_encode(1e300, p.scale[0]));
  std::vector<double> got(3);
  decode_host(spec, buf.data(), 3, 1, got.data());
  EXPECT_EQ(got, x);
  EXPECT_EQ(x[0], 127.0 * p.scale[0]);
}

// fp32 on the wire is lossless for float tensors only: a double solver's p and q are rounded to
// float in place (and its W p cache must then be formed again, group.cpp).
TEST(QuantCodec, Fp32IsLosslessForFloatsOnly) {
  EXPECT_TRUE(wire_is_lossless(WireSpec{WireFormat::Fp32, nullptr}, 4));
  EXPECT_FALSE(wire_is_lossless(WireSpec{WireFormat::Fp32, nullptr}, 8));
  EXPECT_TRUE(wire_is_lossless(WireSpec{WireFormat::Native, nullptr}, 8));
  EXPECT_FALSE(wire_is_lossless(WireSpec{WireFormat::Fp16, nullptr}, 4));
}

}  // namespace
}  // namespace pdadmm
