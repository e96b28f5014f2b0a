// gemm_f32f16 for AVX-512 (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mf16c -mfma,
// kernels/isa_flags.cmake; run only where the CPU has all of them, kernels/gemm/gemm_f32f16.cpp).
//
// The algorithm of gemm_f32f16_avx2.cpp (read its comment first) on 16 lanes: vcvtph2ps widens
// 16 halves into a zmm, the same tiles (4 × 3 for batches of 4 and more, 1 × 8 for a GEMV, 3 × 3
// and 2 × 4 for the last rows; tuned on AVX2 and not re-tuned here, where 32 registers would allow
// wider ones), the same L2-sized output panels. K tails need no
// padded copy here: masked loads (vmovdqu16 and vmovups with a zeroing mask, AVX-512BW/F) read
// only the lanes below K and never fault on the others. As there, the tail is summed first.

// g++ 12 reports its own AVX-512 intrinsics (those that start from _mm512_undefined_ps and kin,
// written `__m512 __Y = __Y;`) as using uninitialized values when they are inlined at -O3: GCC bug
// 105593, fixed in g++ 13. The warnings point into the header, so silencing them around the
// include leaves this file's own code checked.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstddef>

#include "kernels/gemm/gemm_f32f16.h"

namespace lowbit::kernels {

namespace {

constexpr int kLanes = 16;
constexpr int kTileRows = 4;  // MR of the main tile
// Half weights per output panel for batches of more than one tile: half of a 512 KiB L2.
constexpr std::size_t kPanelBytes = 256 * 1024;

__m512 convert_weights(const std::uint16_t* weights) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights)));
}

// The halves at `weights` in the lanes of `mask`, the other lanes zero.
__m512 convert_weights_tail(const std::uint16_t* weights, __mmask16 mask) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, weights));
}

// The lanes below `count` (< 16).
__mmask16 lanes_below(int count) { return static_cast<__mmask16>((1u << count) - 1u); }

float sum_lanes(__m512 v) { return _mm512_reduce_add_ps(v); }

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
  // The K tail (K mod 16 elements) first, as the accumulators' starting values: with an empty
  // mask the loads read nothing and give zeros, so there is no branch.
  const int whole = args.k / kLanes * kLanes;
  const __mmask16 tail = lanes_below(args.k - whole);
  __m512 w_tail[NR];
  for (int j = 0; j < NR; ++j) w_tail[j] = convert_weights_tail(weights[j] + whole, tail);
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    const __m512 x = _mm512_maskz_loadu_ps(tail, src[i] + whole);
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_mul_ps(x, w_tail[j]);
  }
  for (int k = 0; k < whole; k += kLanes) {
    // Live inputs: either all NR weight vectors and one src vector at a time, or all MR src
    // vectors and one weight vector at a time, whichever is fewer, so that with the MR·NR
    // accumulators they fit the registers (4 × 3: 12 + 3 + 1; 1 × 8: 8 + 1 + 1).
    if constexpr (MR < NR) {
      __m512 x[MR];
      for (int i = 0; i < MR; ++i) x[i] = _mm512_loadu_ps(src[i] + k);
      for (int j = 0; j < NR; ++j) {
        const __m512 w = convert_weights(weights[j] + k);
        for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_fmadd_ps(x[i], w, acc[i][j]);
      }
    } else {
      __m512 w[NR];
      for (int j = 0; j < NR; ++j) w[j] = convert_weights(weights[j] + k);
      for (int i = 0; i < MR; ++i) {
        __m512 x = _mm512_loadu_ps(src[i] + k);
        // One load, not one per FMA (see gemm_f32f16_avx2.cpp).
        asm("" : "+v"(x));
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
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

void gemm_f32f16_avx512(const GemmF32F16Args& args) {
  if (args.batch <= 0 || args.n <= 0) return;
  const int step = panel_outputs(args);
  for (int o = 0; o < args.n; o += step) panel(args, o, std::min(args.n, o + step));
}

}  // namespace lowbit::kernels
