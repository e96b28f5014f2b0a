#pragma once
// The int4 path's weights re-laid for batched SIMD kernels: eight output rows interleaved
// (kernels/gemm/gemm_lowbit_x8_avx2.cpp). The row layout of kernels/quant/block_quant.h keeps one
// output's codes together, so a kernel must sum each output's products across a vector and reduce
// it horizontally once per group, then gather eight outputs' scales lane by lane: at batch 64 that
// bookkeeping, not the multiplies, is the cost. Here one 32-bit lane holds four consecutive
// codes of one output, and a vector eight outputs: a vpmaddubsw against four activations
// broadcast to every lane leaves output j's partial dot in lane j. No reduction, and a group's
// eight scales (and zero points) sit next to each other.
//
// Same bits a weight as the row layout (each width moves the same bytes), the same codes, scales
// and zero points — a re-arrangement, done once when the engine is built (oneDNN reorders its
// weights the same way).
//
// Layout, per block of 8 outputs nb (rows 8·nb .. 8·nb + 7; rows past n are padding with scale
// 0), per chunk c of 32 inputs along the padded row (chunk c covers inputs 32c .. 32c + 31; a
// group of G holds G / 32 chunks): `bits` · 32 bytes at codes[(nb · chunks + c) · bits · 32].
// Quad q (q = 0..7) of a chunk is inputs 32c + 4q .. 32c + 4q + 3; lane j (bytes 4j .. 4j + 3)
// of quad q's vector holds output 8·nb + j's four codes, byte t for input 32c + 4q + t.
//   4 bits: four 32-byte vectors; vector i holds quad 2i in its low nibbles, quad 2i + 1 in
//           its high nibbles.
//   2 bits: two vectors; vector i holds quad 4i + s in bits 2s, 2s + 1 (s = 0..3).
//   3 bits: the low two bits as 2 bits (64 bytes), then 32 bytes whose byte b holds in bit q
//           the third bit of quad q's byte b.
// Scales and zero points: 8 per (nb, group) at [(nb · groups + g) · 8 + j].

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lowbit::kernels {

struct LowbitWeightsView;

inline constexpr int kX8Rows = 8;    // outputs interleaved in one vector
inline constexpr int kX8Chunk = 32;  // inputs per chunk: 8 quads of 4

// Plain pointers: the ISA file includes this (see kernels/gemm/gemm_lowbit.h on why).
struct LowbitX8View {
  int bits = 4;
  int n = 0;  // outputs, before padding to a multiple of 8
  int k = 0;  // inputs, before padding
  int group_size = 32;
  int groups = 0;  // per row
  int blocks = 0;  // ceil(n / 8)
  const std::uint8_t* codes = nullptr;
  const std::uint16_t* scales = nullptr;      // IEEE half
  const std::uint8_t* zero_points = nullptr;  // nullptr: symmetric, z = 2^(bits − 1)
};

struct LowbitX8Weights {
  int bits = 4;
  int n = 0;
  int k = 0;
  int group_size = 32;
  int groups = 0;
  int blocks = 0;
  std::vector<std::uint8_t> codes;
  std::vector<std::uint16_t> scales;
  std::vector<std::uint8_t> zero_points;  // empty when symmetric

  // What a kernel reads: codes (padding included), scales, zero points.
  std::int64_t bytes() const;
};

// The same weights as the row layout (kernels/gemm/gemm_lowbit.h; view_of a BlockQuantMatrix),
// interleaved. Exact: every code, scale and zero point is copied.
LowbitX8Weights interleave_x8(const LowbitWeightsView& weights);

LowbitX8View view_of(const LowbitX8Weights& weights);

}  // namespace lowbit::kernels
