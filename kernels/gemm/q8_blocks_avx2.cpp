// quantize_q8_blocks with AVX2 (compiled with -mavx2 -ffp-contract=off, kernels/isa_flags.cmake;
// called only by tiers whose kernel needs AVX2 anyway, kernels/gemm/gemm_lowbit.cpp). The same IEEE
// operations as the scalar twin in the same order — |x| max (exact in any order), d = amax / 127,
// 1 / d, x · (1 / d), clamp to ±127, the add-subtract of 1.5 · 2^23 — so the codes, scales and
// sums are identical for every finite input (tests compare them).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm/q8_blocks.h"

namespace lowbit::kernels {

namespace {

constexpr float kQ8Max = 127.0f;
constexpr float kMagic = 12582912.0f;  // 1.5 · 2^23

float scalar_code(float x, float inverse) {
  float v = x * inverse;
  v = v > kQ8Max ? kQ8Max : (v >= -kQ8Max ? v : -kQ8Max);
  return (v + kMagic) - kMagic;
}

}  // namespace

void quantize_q8_rows_avx2(const float* src, int rows, int cols, int ld_src, Q8Blocks& dst) {
  const std::size_t ld = dst.ld_codes();
  const auto groups = static_cast<std::size_t>(dst.groups);
  const auto g_size = static_cast<std::size_t>(dst.group_size);
  const auto n_cols = static_cast<std::size_t>(cols);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 hi = _mm256_set1_ps(kQ8Max);
  const __m256 lo = _mm256_set1_ps(-kQ8Max);
  const __m256 magic = _mm256_set1_ps(kMagic);
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    const float* x = src + r * static_cast<std::size_t>(ld_src);
    std::int8_t* q = dst.codes.data() + r * ld;
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t first = g * g_size;
      const std::size_t end = first + g_size < n_cols ? first + g_size : n_cols;
      const std::size_t vector_end = first + (end - first) / 8 * 8;
      __m256 vmax = _mm256_setzero_ps();
      for (std::size_t k = first; k < vector_end; k += 8) {
        vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
      }
      alignas(32) float lanes[8];
      _mm256_store_ps(lanes, vmax);
      float amax = 0.0f;
      for (float v : lanes) amax = v > amax ? v : amax;
      for (std::size_t k = vector_end; k < end; ++k) {
        const float a = x[k] < 0.0f ? -x[k] : x[k];
        amax = a > amax ? a : amax;
      }
      const float d = amax / kQ8Max;
      const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
      const __m256 vinverse = _mm256_set1_ps(inverse);
      __m256i vsum = _mm256_setzero_si256();
      for (std::size_t k = first; k < vector_end; k += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + k), vinverse);
        v = _mm256_max_ps(_mm256_min_ps(v, hi), lo);
        v = _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
        const __m256i codes = _mm256_cvttps_epi32(v);
        vsum = _mm256_add_epi32(vsum, codes);
        const __m128i c16 =
            _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(q + k), _mm_packs_epi16(c16, c16));
      }
      alignas(32) std::int32_t partial[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(partial), vsum);
      std::int32_t sum = 0;
      for (std::int32_t v : partial) sum += v;
      for (std::size_t k = vector_end; k < end; ++k) {
        const auto code = static_cast<std::int8_t>(scalar_code(x[k], inverse));
        q[k] = code;
        sum += code;
      }
      for (std::size_t k = end; k < first + g_size; ++k) q[k] = 0;
      dst.scales[r * groups + g] = d;
      dst.sums[r * groups + g] = sum;
    }
  }
}

}  // namespace lowbit::kernels
