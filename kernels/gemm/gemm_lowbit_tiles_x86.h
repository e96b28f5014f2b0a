#pragma once
// The vector algorithm shared by gemm_lowbit_avx2.cpp and gemm_lowbit_avx512vnni.cpp
// (kernels/gemm/gemm_lowbit.h). Include it only from those files: it is compiled with their -m
// flags, and everything here has internal linkage (an anonymous namespace), so each ISA file gets
// its own copy and the linker can never hand one ISA's code to a caller of the other.
//
// The tiers differ only in the instruction that multiplies 32 unsigned codes by 32 signed
// activations and sums them: `Dot` supplies it (AVX2: vpmaddubsw into int16, widened by
// vpmaddwd once per group; VNNI: vpdpbusd straight into int32).
//
// Algorithm: a tile of R activation rows × C outputs (R · C ≤ 8) walks every group. Per 32-code
// block, the R activation vectors are loaded once and each output's codes are unpacked once
// (block_pack.h's layout makes that a shift and a mask, in order) and multiplied with all R.
// At the end of a group the R · C partial vectors are summed horizontally into one vector whose
// lane l is output (l / C, l % C), and the pinned fp32 steps of gemm_lowbit.h run on the 8
// lanes at once: one output per lane, groups in order, so every lane's bits equal the scalar
// reference's. Outputs are processed in panels whose packed weights fit half of L2, so at
// batch > R the weights are read from memory once per panel, not once per row tile.
//
// Integer bounds: a code u ≤ 15 and |q_x| ≤ 127, so one vpmaddubsw lane (two products) is at
// most 3,810 in magnitude and four blocks (G = 128) 15,240 < 2^15: the int16 sums never saturate.
// The zero point is applied after the sum, as Σ u·q_x − z · Σ q_x (Σ q_x comes with the
// activations), which keeps the multiply unsigned × signed, as both instructions want.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/gemm/block_pack.h"
#include "kernels/gemm/gemm_lowbit.h"

namespace lowbit::kernels {
namespace {

constexpr int kLanes = 8;
constexpr std::size_t kHighBlockBytes = kPackBlock / 8;
constexpr std::size_t kPanelBytes = 256 * 1024;  // packed weights per panel: half of a 512 KiB L2

template <int kBits>
constexpr std::size_t low_block_bytes() {
  return kPackBlock * (kBits == 3 ? 2 : kBits) / 8;
}

// The 32 codes of one packed block as unsigned bytes, in order (block_pack.h).
template <int kBits>
__m256i unpack_block(const std::uint8_t* low, const std::uint8_t* high) {
  if constexpr (kBits == 4) {
    // Byte j holds codes j (low nibble) and j + 16 (high nibble).
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low));
    const __m256i both =
        _mm256_inserti128_si256(_mm256_castsi128_si256(bytes), _mm_srli_epi16(bytes, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
  } else {
    // Byte j holds codes j, j + 8, j + 16, j + 24 in its four 2-bit fields: 64-bit lane s
    // shifted right by 2s has field s at the bottom of every byte.
    std::int64_t word = 0;
    std::memcpy(&word, low, sizeof(word));
    const __m256i shifted =
        _mm256_srlv_epi64(_mm256_set1_epi64x(word), _mm256_setr_epi64x(0, 2, 4, 6));
    __m256i codes = _mm256_and_si256(shifted, _mm256_set1_epi8(0x03));
    if constexpr (kBits == 3) {
      // Bit t of high byte j is bit 2 of code 8j + t: spread byte j over lanes 8j .. 8j + 7,
      // keep each lane's own bit, and turn it into the value 4.
      std::int32_t plane = 0;
      std::memcpy(&plane, high, sizeof(plane));
      const __m256i byte_of_lane =
          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                           2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
      const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(plane), byte_of_lane);
      const __m256i bit_of_lane =
          _mm256_set1_epi64x(static_cast<std::int64_t>(0x8040201008040201ULL));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit_of_lane), bit_of_lane);
      codes = _mm256_or_si256(codes, _mm256_and_si256(set, _mm256_set1_epi8(0x04)));
    }
    return codes;
  }
}

// Lane l of the result = the sum of the eight int32 lanes of v[l].
__m256i reduce8(const __m256i (&v)[kLanes]) {
  const __m256i v01 = _mm256_hadd_epi32(v[0], v[1]);
  const __m256i v23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i v45 = _mm256_hadd_epi32(v[4], v[5]);
  const __m256i v67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i v0123 = _mm256_hadd_epi32(v01, v23);  // [0 1 2 3 | 0 1 2 3], halves of each sum
  const __m256i v4567 = _mm256_hadd_epi32(v45, v67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(v0123, v4567, 0x20),
                          _mm256_permute2x128_si256(v0123, v4567, 0x31));
}

template <typename Dot, int kBits, int kGroup, int R, int C>
void tile(const GemmLowbitArgs& args, int m0, int n0) {
  static_assert(R * C <= kLanes);
  const LowbitWeightsView& w = args.weights;
  const Q8BlocksView& src = args.src;
  constexpr int kBlocks = kGroup / kPackBlock;
  constexpr std::size_t kLowBytes = low_block_bytes<kBits>();
  const auto groups = static_cast<std::size_t>(w.groups);
  const std::uint8_t* low[C];
  const std::uint8_t* high[C];
  std::size_t w_row[C];
  for (int c = 0; c < C; ++c) {
    const auto n = static_cast<std::size_t>(n0 + c);
    low[c] = w.low + n * w.low_stride;
    high[c] = kBits == 3 ? w.high + n * w.high_stride : nullptr;
    w_row[c] = n * groups;
  }
  const std::int8_t* x[R];
  std::size_t x_row[R];
  for (int r = 0; r < R; ++r) {
    const auto m = static_cast<std::size_t>(m0 + r);
    x[r] = src.codes + m * src.ld_codes;
    x_row[r] = m * groups;
  }
  __m256 acc = _mm256_setzero_ps();
  for (std::size_t g = 0; g < groups; ++g) {
    typename Dot::Acc sums[R][C];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) sums[r][c] = Dot::zero();
    }
    for (int b = 0; b < kBlocks; ++b) {
      const std::size_t block = g * kBlocks + static_cast<std::size_t>(b);
      __m256i xv[R];
      for (int r = 0; r < R; ++r) {
        xv[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r] + block * kPackBlock));
      }
      for (int c = 0; c < C; ++c) {
        const __m256i u = unpack_block<kBits>(
            low[c] + block * kLowBytes, kBits == 3 ? high[c] + block * kHighBlockBytes : nullptr);
        for (int r = 0; r < R; ++r) sums[r][c] = Dot::step(sums[r][c], u, xv[r]);
      }
    }
    __m256i widened[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      widened[l] = l < R * C ? Dot::to_i32(sums[l / C][l % C]) : _mm256_setzero_si256();
    }
    // Per lane: z · Σ q_x, the half scale of the output and the scale of the activation row.
    std::int32_t correction[kLanes] = {};
    std::uint16_t w_scale[kLanes] = {};
    float x_scale[kLanes] = {};
    for (int l = 0; l < R * C; ++l) {
      const int r = l / C;
      const int c = l % C;
      const std::int32_t z =
          w.zero_points != nullptr ? w.zero_points[w_row[c] + g] : (1 << (kBits - 1));
      correction[l] = z * src.sums[x_row[r] + g];
      w_scale[l] = w.scales[w_row[c] + g];
      x_scale[l] = src.scales[x_row[r] + g];
    }
    const __m256i dot = _mm256_sub_epi32(
        reduce8(widened),
        _mm256_setr_epi32(correction[0], correction[1], correction[2], correction[3], correction[4],
                          correction[5], correction[6], correction[7]));
    const __m256 d_w = _mm256_cvtph_ps(
        _mm_setr_epi16(static_cast<short>(w_scale[0]), static_cast<short>(w_scale[1]),
                       static_cast<short>(w_scale[2]), static_cast<short>(w_scale[3]),
                       static_cast<short>(w_scale[4]), static_cast<short>(w_scale[5]),
                       static_cast<short>(w_scale[6]), static_cast<short>(w_scale[7])));
    const __m256 d_x = _mm256_setr_ps(x_scale[0], x_scale[1], x_scale[2], x_scale[3], x_scale[4],
                                      x_scale[5], x_scale[6], x_scale[7]);
    // The pinned steps: s = d_w · d_x, p = float(dot) · s, acc = acc + p.
    const __m256 scale = _mm256_mul_ps(d_w, d_x);
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(dot), scale));
  }
  alignas(32) float out[kLanes];
  _mm256_store_ps(out, acc);
  for (int l = 0; l < R * C; ++l) {
    args.dst[static_cast<std::size_t>(m0 + l / C) * static_cast<std::size_t>(args.ld_dst) +
             static_cast<std::size_t>(n0 + l % C)] = out[l];
  }
}

// Rows m0 .. m0 + R − 1 against outputs n_begin .. n_end − 1: C at a time, then narrower tiles
// for the fewer than C left.
template <typename Dot, int kBits, int kGroup, int R, int C>
void rows(const GemmLowbitArgs& args, int m0, int n_begin, int n_end) {
  int n = n_begin;
  for (; n + C <= n_end; n += C) tile<Dot, kBits, kGroup, R, C>(args, m0, n);
  if constexpr (C > 1) rows<Dot, kBits, kGroup, R, C - 1>(args, m0, n, n_end);
}

// Every activation row against outputs n_begin .. n_end − 1. Four rows × two outputs is the
// main tile (each unpacked block feeds four products); one row × eight outputs for a GEMV.
template <typename Dot, int kBits, int kGroup>
void panel(const GemmLowbitArgs& args, int n_begin, int n_end) {
  constexpr int kTileRows = 4;
  int m = 0;
  for (; m + kTileRows <= args.src.m; m += kTileRows) {
    rows<Dot, kBits, kGroup, kTileRows, 2>(args, m, n_begin, n_end);
  }
  switch (args.src.m - m) {
    case 3:
      rows<Dot, kBits, kGroup, 3, 2>(args, m, n_begin, n_end);
      break;
    case 2:
      rows<Dot, kBits, kGroup, 2, 4>(args, m, n_begin, n_end);
      break;
    case 1:
      rows<Dot, kBits, kGroup, 1, 8>(args, m, n_begin, n_end);
      break;
    default:
      break;
  }
}

template <typename Dot, int kBits, int kGroup>
void gemm_panels(const GemmLowbitArgs& args) {
  const int n = args.weights.n;
  if (args.src.m <= 0 || n <= 0) return;
  const std::size_t row_bytes = args.weights.low_stride + args.weights.high_stride + 1;
  std::size_t step = kPanelBytes / row_bytes / kLanes * kLanes;
  if (step < kLanes) step = kLanes;
  if (args.src.m <= 4 || step > static_cast<std::size_t>(n)) step = static_cast<std::size_t>(n);
  for (int begin = 0; begin < n; begin += static_cast<int>(step)) {
    const int end = n - begin < static_cast<int>(step) ? n : begin + static_cast<int>(step);
    panel<Dot, kBits, kGroup>(args, begin, end);
  }
}

template <typename Dot, int kBits>
void gemm_for_group(const GemmLowbitArgs& args) {
  switch (args.weights.group_size) {
    case 32:
      return gemm_panels<Dot, kBits, 32>(args);
    case 64:
      return gemm_panels<Dot, kBits, 64>(args);
    default:
      return gemm_panels<Dot, kBits, 128>(args);
  }
}

template <typename Dot>
void gemm_lowbit_x86(const GemmLowbitArgs& args) {
  switch (args.weights.bits) {
    case 2:
      return gemm_for_group<Dot, 2>(args);
    case 3:
      return gemm_for_group<Dot, 3>(args);
    default:
      return gemm_for_group<Dot, 4>(args);
  }
}

}  // namespace
}  // namespace lowbit::kernels
