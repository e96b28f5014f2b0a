// The `avx2` tier of the fixed path (gemm_u8s8.h). Compiled with -mavx2 -mfma
// (kernels/isa_flags.cmake); nothing here may run unless the CPU reports avx2. Every function
// reproduces its `ref` twin bit for bit: the arithmetic is integer, and the one float step
// (quantize_src) uses the same IEEE operations in the same order.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/gemm/gemm_u8s8.h"

namespace lowbit::kernels {

namespace {

constexpr int kLanes = 8;       // int32 / float lanes of a ymm register
constexpr int kDepthStep = 16;  // bytes of k widened to one ymm of int16

std::size_t at(int row, int ld, int col) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(ld) +
         static_cast<std::size_t>(col);
}

// ---------------------------------------------------------------------------------------------
// GEMM. Both operands are widened to int16 and multiplied with vpmaddwd, which adds adjacent
// int16 × int16 products into int32: |255 · (−128)| · 2 < 2^31, so it never saturates and is
// exact for every input. The byte-level vpmaddubsw (u8 × s8 → adjacent pairs summed in int16)
// would halve the widening work but saturates: 255 · 127 · 2 = 64,770 > 32,767, so a full-range
// uint8 activation against ±127 weights gives a wrong sum (gemmlowp and oneDNN avoid it by
// restricting weights to 7 bits or activations to int7; our activations use all 8 bits).

__m256i load_u8_as_s16(const std::uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

__m256i load_s8_as_s16(const std::int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// The four horizontal sums of a0..a3, in order.
__m128i reduce4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

constexpr int kTileRows = 2;      // activation rows per tile
constexpr int kTileChannels = 4;  // weight rows per tile: 2 × 4 accumulators + 3 operands ≤ 16 ymm

// dst[m0..m0+R)[n0..n0+C) over the whole depth: the src rows are widened once per k step and
// reused against C weight rows. K tails (k mod 16) are added scalar after the reduction.
template <int R, int C>
void tile(const GemmU8S8Args& args, int m0, int n0) {
  const int depth = args.shape.k;
  const int vector_depth = depth - depth % kDepthStep;
  const std::uint8_t* x[R];
  const std::int8_t* w[C];
  for (int r = 0; r < R; ++r) x[r] = args.src + at(m0 + r, args.ld_src, 0);
  for (int c = 0; c < C; ++c) w[c] = args.weights + at(n0 + c, args.ld_weights, 0);

  __m256i acc[R][kTileChannels];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < kTileChannels; ++c) acc[r][c] = _mm256_setzero_si256();
  }
  for (int p = 0; p < vector_depth; p += kDepthStep) {
    __m256i xv[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) xv[r] = load_u8_as_s16(x[r] + p);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const __m256i wv = load_s8_as_s16(w[c] + p);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(xv[r], wv));
    }
  }
  for (int r = 0; r < R; ++r) {
    alignas(16) std::int32_t sums[kTileChannels];
    _mm_store_si128(reinterpret_cast<__m128i*>(sums),
                    reduce4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
    for (int c = 0; c < C; ++c) {
      for (int p = vector_depth; p < depth; ++p) {
        sums[c] += static_cast<std::int32_t>(x[r][p]) * w[c][p];
      }
      args.dst[at(m0 + r, args.ld_dst, n0 + c)] = sums[c];
    }
  }
}

template <int R>
void tile_row(const GemmU8S8Args& args, int m0) {
  const int n = args.shape.n;
  int n0 = 0;
  for (; n0 + kTileChannels <= n; n0 += kTileChannels) tile<R, kTileChannels>(args, m0, n0);
  switch (n - n0) {
    case 3:
      tile<R, 3>(args, m0, n0);
      break;
    case 2:
      tile<R, 2>(args, m0, n0);
      break;
    case 1:
      tile<R, 1>(args, m0, n0);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Requantization, 8 channels per ymm, reproducing requantize.h exactly:
//
// SRDHM(a, b) = (int32)((a·b + nudge) / 2^31) with C's truncating division and
// nudge = a·b ≥ 0 ? 2^30 : 1 − 2^30. For a·b < 0, truncation is a ceiling, and
// ceil((ab + 1 − 2^30) / 2^31) = floor((ab + 1 − 2^30 + 2^31 − 1) / 2^31) = floor((ab + 2^30) /
// 2^31), the same expression as for a·b ≥ 0. So SRDHM = (ab + 2^30) >> 31 (arithmetic) for every
// sign, with no blend. AVX2 has no 64-bit arithmetic shift, but only the low 32 bits of the
// quotient are kept, and those (bits 31..62 of the sum) are the same for a logical shift. The
// 64-bit products come from vpmuldq on the even lanes and on the odd lanes shifted down; the odd
// quotients are shifted *left* by 1 instead, which puts bits 31..62 in the high dword where they
// belong. The only product that does not fit, INT32_MIN², gives INT32_MIN and is flipped to
// INT32_MAX.
//
// RDBPOT(x, e) per lane: vpsravd for x >> e, and the remainder test of requantize.h.

struct ChannelBlock {
  __m256i bias;
  __m256i multiplier;
  __m256i left;   // max(e, 0)
  __m256i right;  // max(−e, 0)
  __m256i x_max;  // 2^(31 − left) − 1 = INT32_MAX >> left
  __m256i x_min;  // −2^(31 − left) = ~x_max
};

ChannelBlock load_channels(const std::int32_t* bias, const std::int32_t* multiplier,
                           const std::int32_t* exponent) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(exponent));
  ChannelBlock b;
  b.bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
  b.multiplier = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multiplier));
  b.left = _mm256_max_epi32(e, zero);
  b.right = _mm256_max_epi32(_mm256_sub_epi32(zero, e), zero);
  b.x_max = _mm256_srlv_epi32(_mm256_set1_epi32(INT32_MAX), b.left);
  b.x_min = _mm256_xor_si256(b.x_max, _mm256_set1_epi32(-1));
  return b;
}

__m256i saturating_rounding_doubling_high_mul(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(std::int64_t{1} << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i odd =
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  const __m256i high =
      _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0b10101010);
  const __m256i int_min = _mm256_set1_epi32(INT32_MIN);
  const __m256i overflow =
      _mm256_and_si256(_mm256_cmpeq_epi32(a, int_min), _mm256_cmpeq_epi32(b, int_min));
  return _mm256_xor_si256(high, overflow);  // INT32_MIN ^ 0xffffffff = INT32_MAX
}

__m256i rounding_divide_by_pot(__m256i x, __m256i exponent) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, exponent), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  // cmpgt yields −1 for true: subtracting it adds 1.
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(zero, x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, exponent), _mm256_cmpgt_epi32(remainder, threshold));
}

// Eight requantized values in [act_min, act_max], as int32.
__m256i requantize8(__m256i acc, const ChannelBlock& b, __m256i low, __m256i high,
                    __m256i zero_point) {
  __m256i x = _mm256_add_epi32(acc, b.bias);
  x = _mm256_max_epi32(_mm256_min_epi32(x, b.x_max), b.x_min);
  x = _mm256_sllv_epi32(x, b.left);
  const __m256i r =
      rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, b.multiplier), b.right);
  return _mm256_add_epi32(_mm256_max_epi32(_mm256_min_epi32(r, high), low), zero_point);
}

// Eight int32 in [0, 255] to eight bytes (both packs are exact in that range).
void store_u8x8(std::uint8_t* dst, __m256i v) {
  const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(words, words));
}

}  // namespace

void gemm_u8s8_s32_avx2(const GemmU8S8Args& args) {
  const int m = args.shape.m;
  int m0 = 0;
  for (; m0 + kTileRows <= m; m0 += kTileRows) tile_row<kTileRows>(args, m0);
  if (m0 < m) tile_row<1>(args, m0);
}

void requantize_s32_u8_avx2(const RequantizeU8Args& args) {
  const __m256i zero_point = _mm256_set1_epi32(args.zero_point);
  const __m256i low = _mm256_set1_epi32(args.act_min - args.zero_point);
  const __m256i high = _mm256_set1_epi32(args.act_max - args.zero_point);
  const int full = args.channels - args.channels % kLanes;
  const int tail = args.channels - full;

  // The last channels go through the same vector code, padded to 8 lanes with a zero multiplier
  // (whose lanes are computed and dropped).
  alignas(32) std::int32_t tail_bias[kLanes] = {};
  alignas(32) std::int32_t tail_multiplier[kLanes] = {};
  alignas(32) std::int32_t tail_exponent[kLanes] = {};
  for (int c = 0; c < tail; ++c) {
    tail_bias[c] = args.bias[full + c];
    tail_multiplier[c] = args.multiplier[full + c];
    tail_exponent[c] = args.exponent[full + c];
  }
  const ChannelBlock tail_block = load_channels(tail_bias, tail_multiplier, tail_exponent);

  for (int i = 0; i < args.rows; ++i) {
    const std::int32_t* acc = args.acc + at(i, args.ld_acc, 0);
    std::uint8_t* dst = args.dst + at(i, args.ld_dst, 0);
    for (int c = 0; c < full; c += kLanes) {
      const ChannelBlock b = load_channels(args.bias + c, args.multiplier + c, args.exponent + c);
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + c));
      store_u8x8(dst + c, requantize8(a, b, low, high, zero_point));
    }
    if (tail > 0) {
      alignas(32) std::int32_t tail_acc[kLanes] = {};
      std::memcpy(tail_acc, acc + full, static_cast<std::size_t>(tail) * sizeof(std::int32_t));
      std::uint8_t bytes[kLanes];
      store_u8x8(bytes, requantize8(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail_acc)),
                                    tail_block, low, high, zero_point));
      std::memcpy(dst + full, bytes, static_cast<std::size_t>(tail));
    }
  }
}

void quantize_src_u8_avx2(const QuantizeSrcArgs& args) {
  const std::size_t count = args.src.size();
  const std::size_t full = count - count % kLanes;
  const __m256 scale = _mm256_set1_ps(args.scale);
  const __m256 zero_point = _mm256_set1_ps(static_cast<float>(args.zero_point));
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 zero = _mm256_setzero_ps();
  const __m256 top = _mm256_set1_ps(255.0f);
  for (std::size_t i = 0; i < full; i += kLanes) {
    const __m256 v = _mm256_div_ps(_mm256_loadu_ps(args.src.data() + i), scale);
    // std::round (half away from zero), which vroundps has no mode for: truncate, then step one
    // away from zero when the dropped fraction (exact: v − trunc(v) loses no bits) is ≥ 1/2.
    const __m256 truncated = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 fraction = _mm256_andnot_ps(sign_bit, _mm256_sub_ps(v, truncated));
    const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign_bit), one);  // ±1 with v's sign
    const __m256 rounded =
        _mm256_add_ps(truncated, _mm256_and_ps(_mm256_cmp_ps(fraction, half, _CMP_GE_OQ), step));
    // vmaxps returns its second operand when either is NaN: NaN → 0, as fmax in the ref.
    const __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(rounded, zero_point), zero), top);
    store_u8x8(args.dst + i, _mm256_cvttps_epi32(q));
  }
  if (full < count) {
    quantize_src_u8_ref({args.src.subspan(full), args.scale, args.zero_point, args.dst + full});
  }
}

}  // namespace lowbit::kernels
