// gemm_lowbit on eight interleaved output rows (kernels/gemm/lowbit_x8.h), AVX2 (compiled with
// -mavx2 -mf16c -ffp-contract=off, kernels/isa_flags.cmake; run only where the CPU has avx2 and
// f16c, kernels/gemm/gemm_lowbit.cpp).
//
// For a tile of R activation rows × one block of 8 outputs, per quad of 4 inputs: one vector of
// codes (lane j: output j's four codes), unpacked once and multiplied with each row's four
// activations broadcast to every lane (vpmaddubsw, int16), so lane j gathers output j's dot
// with no horizontal reduction. Per 32-input chunk the int16 sums are widened to int32
// (vpmaddwd by ones); per group, the pinned fp32 steps of kernels/gemm/gemm_lowbit.h run on the 8
// lanes — s = d_w · d_x, p = float(dot) · s, acc = acc + p, groups in order — so each output's
// bits equal the reference's.
//
// Integer bounds: a code u ≤ 15 and |q_x| ≤ 127, so one vpmaddubsw lane is at most
// 2 · 15 · 127 = 3,810 in magnitude and a chunk's 8 quads 30,480 < 2^15: int16 never saturates
// within a chunk. z · Σ q_x ≤ 15 · 127 · 128 < 2^18, exact in int32.
//
// Order: output blocks outermost, so one block's packed codes (K · bits bytes, 16 KiB at 4096
// 4-bit inputs) stay in L1 while every row tile of the batch walks them; the int8 activations
// (K bytes a row) stream from L2.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/gemm/gemm_lowbit.h"
#include "kernels/gemm/lowbit_x8.h"

namespace lowbit::kernels {

namespace {

constexpr int kQuads = kX8Chunk / 4;

// The per-quad steps must inline into the tile: as calls, the sums travel through memory and
// every call pays a vzeroupper, which cost 3× at batch 64.
#define LOWBIT_INLINE inline __attribute__((always_inline))

// Quad q of the chunk at p, as 32 unsigned codes (lane j: output j).
template <int kBits, int q>
LOWBIT_INLINE __m256i quad_codes(const std::uint8_t* p) {
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  if constexpr (kBits == 4) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + (q / 2) * 32));
    const __m256i shifted = q % 2 == 0 ? v : _mm256_srli_epi16(v, 4);
    return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
  } else {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + (q / 4) * 32));
    __m256i codes = _mm256_and_si256(_mm256_srli_epi16(v, 2 * (q % 4)), mask2);
    if constexpr (kBits == 3) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
      // Bit q of each byte, moved to bit 2: shift the 16-bit lanes, then keep only bit 2.
      const __m256i moved = q >= 2 ? _mm256_srli_epi16(h, q - 2) : _mm256_slli_epi16(h, 2 - q);
      codes = _mm256_or_si256(codes, _mm256_and_si256(moved, _mm256_set1_epi8(0x04)));
    }
    return codes;
  }
}

LOWBIT_INLINE __m256i broadcast4(const std::int8_t* x) {
  std::int32_t v = 0;
  std::memcpy(&v, x, sizeof(v));
  return _mm256_set1_epi32(v);
}

template <int kBits, int q, int R>
LOWBIT_INLINE void quad_step(const std::uint8_t* chunk, const std::int8_t* const (&x)[R],
                             std::size_t k0, __m256i (&sums)[R]) {
  const __m256i u = quad_codes<kBits, q>(chunk);
  for (int r = 0; r < R; ++r) {
    sums[r] = _mm256_add_epi16(sums[r], _mm256_maddubs_epi16(u, broadcast4(x[r] + k0 + 4 * q)));
  }
}

template <int kBits, int R, int... q>
LOWBIT_INLINE void chunk_steps(const std::uint8_t* chunk, const std::int8_t* const (&x)[R],
                               std::size_t k0, __m256i (&sums)[R],
                               std::integer_sequence<int, q...>) {
  (quad_step<kBits, q, R>(chunk, x, k0, sums), ...);
}

// dst rows m0 .. m0 + R − 1, outputs of block nb.
template <int kBits, int kChunksPerGroup, int R>
void tile(const GemmLowbitX8Args& args, int m0, int nb) {
  const LowbitX8View& w = args.weights;
  const Q8BlocksView& src = args.src;
  const auto groups = static_cast<std::size_t>(w.groups);
  const std::size_t chunks = groups * kChunksPerGroup;
  constexpr std::size_t kChunkBytes = static_cast<std::size_t>(kBits) * kX8Chunk;
  const std::uint8_t* codes = w.codes + static_cast<std::size_t>(nb) * chunks * kChunkBytes;
  const std::size_t param0 = static_cast<std::size_t>(nb) * groups * kX8Rows;
  const std::int8_t* x[R];
  std::size_t x_row[R];
  for (int r = 0; r < R; ++r) {
    const auto m = static_cast<std::size_t>(m0 + r);
    x[r] = src.codes + m * src.ld_codes;
    x_row[r] = m * groups;
  }
  // Locals, not loads through args each group: the compiler cannot prove the stores to dst
  // leave them alone.
  const std::int32_t* const x_sums = src.sums;
  const float* const x_scales = src.scales;
  const std::uint8_t* const zero_points = w.zero_points;
  const std::uint16_t* const scales = w.scales;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i symmetric_z = _mm256_set1_epi32(1 << (kBits - 1));
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (std::size_t g = 0; g < groups; ++g) {
    __m256i dot[R];
    for (int r = 0; r < R; ++r) dot[r] = _mm256_setzero_si256();
    for (int c = 0; c < kChunksPerGroup; ++c) {
      const std::size_t chunk = g * kChunksPerGroup + static_cast<std::size_t>(c);
      __m256i sums[R];
      for (int r = 0; r < R; ++r) sums[r] = _mm256_setzero_si256();
      chunk_steps<kBits, R>(codes + chunk * kChunkBytes, x, chunk * kX8Chunk, sums,
                            std::make_integer_sequence<int, kQuads>{});
      for (int r = 0; r < R; ++r)
        dot[r] = _mm256_add_epi32(dot[r], _mm256_madd_epi16(sums[r], ones));
    }
    const std::size_t param = param0 + g * kX8Rows;
    const __m256i z = zero_points != nullptr
                          ? _mm256_cvtepu8_epi32(_mm_loadl_epi64(
                                reinterpret_cast<const __m128i*>(zero_points + param)))
                          : symmetric_z;
    const __m256 d_w =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + param)));
    for (int r = 0; r < R; ++r) {
      const __m256i correction = _mm256_mullo_epi32(z, _mm256_set1_epi32(x_sums[x_row[r] + g]));
      const __m256i exact = _mm256_sub_epi32(dot[r], correction);
      // The pinned steps: s = d_w · d_x, p = float(dot) · s, acc = acc + p.
      const __m256 scale = _mm256_mul_ps(d_w, _mm256_set1_ps(x_scales[x_row[r] + g]));
      acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_cvtepi32_ps(exact), scale));
    }
  }
  const int n0 = nb * kX8Rows;
  const int valid = w.n - n0 < kX8Rows ? w.n - n0 : kX8Rows;
  for (int r = 0; r < R; ++r) {
    float* out = args.dst +
                 static_cast<std::size_t>(m0 + r) * static_cast<std::size_t>(args.ld_dst) +
                 static_cast<std::size_t>(n0);
    if (valid == kX8Rows) {
      _mm256_storeu_ps(out, acc[r]);
    } else {
      alignas(32) float lanes[kX8Rows];
      _mm256_store_ps(lanes, acc[r]);
      std::memcpy(out, lanes, static_cast<std::size_t>(valid) * sizeof(float));
    }
  }
}

template <int kBits, int kChunksPerGroup>
void gemm(const GemmLowbitX8Args& args) {
  constexpr int kTileRows = 4;
  const int m = args.src.m;
  for (int nb = 0; nb < args.weights.blocks; ++nb) {
    int m0 = 0;
    for (; m0 + kTileRows <= m; m0 += kTileRows)
      tile<kBits, kChunksPerGroup, kTileRows>(args, m0, nb);
    switch (m - m0) {
      case 3:
        tile<kBits, kChunksPerGroup, 3>(args, m0, nb);
        break;
      case 2:
        tile<kBits, kChunksPerGroup, 2>(args, m0, nb);
        break;
      case 1:
        tile<kBits, kChunksPerGroup, 1>(args, m0, nb);
        break;
      default:
        break;
    }
  }
}

template <int kBits>
void gemm_for_group(const GemmLowbitX8Args& args) {
  switch (args.weights.group_size) {
    case 32:
      return gemm<kBits, 1>(args);
    case 64:
      return gemm<kBits, 2>(args);
    default:
      return gemm<kBits, 4>(args);
  }
}

}  // namespace

void gemm_lowbit_x8_avx2(const GemmLowbitX8Args& args) {
  switch (args.weights.bits) {
    case 2:
      return gemm_for_group<2>(args);
    case 3:
      return gemm_for_group<3>(args);
    default:
      return gemm_for_group<4>(args);
  }
}

#undef LOWBIT_INLINE

}  // namespace lowbit::kernels
