// gemm_f32f16 for AVX2 + FMA + F16C (compiled with -mavx2 -mfma -mf16c, kernels/isa_flags.cmake;
// run only where the CPU has all three, kernels/gemm/gemm_f32f16.cpp).
//
// The weights are [out][in], so every output is a dot product along K: 8 halves at a time are
// widened with vcvtph2ps and multiplied into 8 fp32 lanes with vfmadd231ps; the lanes are summed
// once, at the end of K. A tile of MR rows of src × NR rows of weights keeps MR·NR accumulators in
// registers, so each converted weight vector serves MR rows and each src vector NR outputs:
//   batch ≥ 4: 4 × 3 tiles (12 accumulators, 3 conversions and 4 src loads per 12 FMAs; with
//              the 3 weight vectors and 1 src vector that is all 16 ymm registers);
//   batch 1:   1 × 8 tiles, a GEMV that streams the weights once with 8 independent FMA chains
//              (1 × 4, which leaves the FMA latency exposed, measured 15–30% slower here);
//   the last 1..3 rows of a larger batch use a tile of their height (3 × 3, 2 × 4, 1 × 8).
// Outputs left over after the NR-wide tiles take narrower tiles of the same height.
// For batches above one tile the outputs are walked in panels whose halves fit in L2, so the
// weights come from memory once per panel rather than once per 4 rows.
// The K tail (K mod 8) reuses the last whole vector of each row with the lanes already summed
// masked to zero, so no load reaches past a row (a row of K < 8 takes a masked src load and a
// zero-padded copy of its halves).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "kernels/gemm/gemm_f32f16.h"

namespace lowbit::kernels {

namespace {

constexpr int kLanes = 8;
constexpr int kTileRows = 4;  // MR of the main tile
// Half weights per output panel for batches of more than one tile: half of a 512 KiB L2.
constexpr std::size_t kPanelBytes = 256 * 1024;

__m256 convert_weights(const std::uint16_t* weights) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(weights)));
}

// The `count` (< 8) halves of a row shorter than a vector, the other lanes zero. A fixed-length
// loop rather than memcpy of `count` bytes, which would be a call.
__m256 convert_weights_short(const std::uint16_t* weights, int count) {
  alignas(16) std::uint16_t padded[kLanes];
  for (int i = 0; i < kLanes; ++i) padded[i] = i < count ? weights[i] : std::uint16_t{0};
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(padded)));
}

// All ones in the lanes from `first` on.
__m256i lanes_from(int first) {
  return _mm256_cmpgt_epi32(_mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8), _mm256_set1_epi32(first));
}

float sum_lanes(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// dst[b0 + i][o0 + j] for i < MR, j < NR, over all of K.
template <int MR, int NR>
void tile(const GemmF32F16Args& args, int b0, int o0) {
  const float* src[MR];
  for (int i = 0; i < MR; ++i) {
    src[i] = args.src + static_cast<std::size_t>(b0 + i) * static_cast<std::size_t>(args.ld_src);
  }
  const std::uint16_t* weights[NR];
  for (int j = 0; j < NR; ++j) {
    weights[j] =
        args.weights + static_cast<std::size_t>(o0 + j) * static_cast<std::size_t>(args.ld_weights);
  }
  // The K tail (K mod 8 elements) first, into the accumulators' starting values (zeros when
  // there is none), so that the tail's branches touch no accumulator: after them, g++ would
  // keep every accumulator in memory.
  const int whole = args.k / kLanes * kLanes;
  const int rest = args.k - whole;
  __m256 x_tail[MR];
  __m256 w_tail[NR];
  if (rest == 0) {
    for (int i = 0; i < MR; ++i) x_tail[i] = _mm256_setzero_ps();
    for (int j = 0; j < NR; ++j) w_tail[j] = _mm256_setzero_ps();
  } else if (args.k >= kLanes) {
    // The vector that ends at the row's end, its first kLanes − rest lanes (the main loop's)
    // zeroed in both operands: 0 · 0 adds nothing, even where a weight is infinite.
    const int start = args.k - kLanes;
    const __m256 keep = _mm256_castsi256_ps(lanes_from(kLanes - rest));
    for (int i = 0; i < MR; ++i) x_tail[i] = _mm256_and_ps(_mm256_loadu_ps(src[i] + start), keep);
    for (int j = 0; j < NR; ++j)
      w_tail[j] = _mm256_and_ps(convert_weights(weights[j] + start), keep);
  } else {
    // K < 8: a row is shorter than a vector.
    const __m256i mask = _mm256_xor_si256(lanes_from(rest), _mm256_set1_epi32(-1));
    for (int i = 0; i < MR; ++i) x_tail[i] = _mm256_maskload_ps(src[i], mask);
    for (int j = 0; j < NR; ++j) w_tail[j] = convert_weights_short(weights[j], rest);
  }
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_mul_ps(x_tail[i], w_tail[j]);
  }
  for (int k = 0; k < whole; k += kLanes) {
    // Live inputs: either all NR weight vectors and one src vector at a time, or all MR src
    // vectors and one weight vector at a time, whichever is fewer, so that with the MR·NR
    // accumulators they fit the registers (4 × 3: 12 + 3 + 1; 1 × 8: 8 + 1 + 1).
    if constexpr (MR < NR) {
      __m256 x[MR];
      for (int i = 0; i < MR; ++i) x[i] = _mm256_loadu_ps(src[i] + k);
      for (int j = 0; j < NR; ++j) {
        const __m256 w = convert_weights(weights[j] + k);
        for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(x[i], w, acc[i][j]);
      }
    } else {
      __m256 w[NR];
      for (int j = 0; j < NR; ++j) w[j] = convert_weights(weights[j] + k);
      for (int i = 0; i < MR; ++i) {
        __m256 x = _mm256_loadu_ps(src[i] + k);
        // Left alone, g++ folds each src load into the NR FMAs that use it as a memory operand:
        // NR loads where one will do, and loads, not FMAs, then bound the loop (1.6× slower at
        // batch 64). The empty asm makes x a register.
        asm("" : "+x"(x));
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(x, w[j], acc[i][j]);
      }
    }
  }
  for (int i = 0; i < MR; ++i) {
    float* dst =
        args.dst + static_cast<std::size_t>(b0 + i) * static_cast<std::size_t>(args.ld_dst);
    for (int j = 0; j < NR; ++j) dst[o0 + j] = sum_lanes(acc[i][j]);
  }
}

// Rows b0 .. b0 + MR − 1, outputs o_begin .. o_end − 1: NR at a time, then the fewer than NR
// left over with narrower tiles.
template <int MR, int NR>
void rows(const GemmF32F16Args& args, int b0, int o_begin, int o_end) {
  int o = o_begin;
  for (; o + NR <= o_end; o += NR) tile<MR, NR>(args, b0, o);
  if constexpr (NR > 1) rows<MR, NR - 1>(args, b0, o, o_end);
}

// Every row of the batch against outputs o_begin .. o_end − 1.
void panel(const GemmF32F16Args& args, int o_begin, int o_end) {
  int b = 0;
  for (; b + kTileRows <= args.batch; b += kTileRows) rows<kTileRows, 3>(args, b, o_begin, o_end);
  switch (args.batch - b) {
    case 3:
      rows<3, 3>(args, b, o_begin, o_end);
      break;
    case 2:
      rows<2, 4>(args, b, o_begin, o_end);
      break;
    case 1:
      rows<1, 8>(args, b, o_begin, o_end);
      break;
    default:
      break;
  }
}

// Outputs per panel: all of them when one tile of rows covers the batch (the weights are read
// once anyway), else as many as fit kPanelBytes, a multiple of every tile's NR.
int panel_outputs(const GemmF32F16Args& args) {
  if (args.batch <= kTileRows) return args.n;
  constexpr std::size_t kStep = 24;
  const std::size_t row_bytes =
      std::max<std::size_t>(1, static_cast<std::size_t>(args.k) * sizeof(std::uint16_t));
  const std::size_t fit = std::max(kStep, kPanelBytes / row_bytes / kStep * kStep);
  return static_cast<int>(std::min(fit, static_cast<std::size_t>(args.n)));
}

}  // namespace

void gemm_f32f16_avx2(const GemmF32F16Args& args) {
  if (args.batch <= 0 || args.n <= 0) return;
  const int step = panel_outputs(args);
  for (int o = 0; o < args.n; o += step) panel(args, o, std::min(args.n, o + step));
}

}  // namespace lowbit::kernels
