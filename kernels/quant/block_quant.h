#pragma once
// Group-wise weight quantization of the int4 compute path (int4 at 2..4 bits; docs/precision.md
// "int4: packed 2-, 3- and 4-bit weights"), after llama.cpp's Q4_0 / Q4_1 (ggml-quants.c): the
// weights of a [out][in] matrix are cut along the input dimension into groups of G ∈ {32, 64, 128};
// each group has its own scale and zero point and b-bit unsigned codes u ∈ [0, 2^b − 1]:
//
//     w ≈ d · (u − z),   d an IEEE half, z an integer code.
//
// Symmetric groups fix z = 2^(b−1) (Q4_0's "− 8"); asymmetric ones store z per group, one byte.
//
// Why the zero point is an integer code rather than Q4_1's float min: a weight of exactly 0
// (a pruned one) must dequantize to exactly 0. With d · (u − z) it does whenever u = z, and every
// code choice here maps 0 to z (round(0 / d) = 0); the asymmetric range is first extended to
// include 0 so that z is a valid code. A float min m would need d·u + m = 0 to hold in rounded
// arithmetic, which it generally does not. The kernels also like it: Σ (u − z)·q_x stays an
// exact integer (kernels/gemm/gemm_lowbit.h).
//
// Why the scale is fp16 (as in llama.cpp), not fp32: at batch 1 the GEMV streams the weights, and
// scale bytes are a real share of them (4-bit, G = 32: 16 bytes of codes + 2 of scale; fp32 would
// add another 11 %, at 2 bits 20 %). Half's relative rounding (2^-11) is far below a code step
// (1/2^b of the range), and the scale search below scores every candidate with the rounded half
// scale, so the rounding is part of what it minimizes. Scales beyond the half range are clamped
// to ±65504 (the group saturates); a group whose scale rounds to 0 stores all codes as z.
//
// Scale search: plain min-max wastes levels on outliers. kSearch tries a grid of clipped ranges
// (the min-max range is the first candidate), refines each by least squares (for fixed codes and
// z, d = Σ x·(u − z) / Σ (u − z)², then re-rounds the codes), and keeps the candidate with the
// least squared error over the group — so it is never worse than kMinMax on any group.
//
// Padding: a row of K weights is stored as ceil(K / G) whole groups; the codes past K are z
// (they dequantize to 0), and the last group's parameters come from its real weights only.
// Codes are packed per kernels/gemm/block_pack.h.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernels/gemm/gemm_lowbit.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

enum class ScaleSearch : std::uint8_t { kMinMax, kSearch };
std::string to_string(ScaleSearch s);  // "minmax", "search"

// One group's parameters: w ≈ half_to_float(scale) · float(u − zero_point).
struct GroupParams {
  std::uint16_t scale = 0;  // IEEE half bit pattern; may be negative (symmetric, see .cpp)
  std::uint8_t zero_point = 0;
};

// z of a symmetric group of b bits: the code of 0.
constexpr int symmetric_zero_point(int bits) { return 1 << (bits - 1); }

// Quantizes one group x (1 ≤ size ≤ 128, finite values) to `bits` ∈ {2, 3, 4} bits; writes
// x.size() codes. kMinMax: symmetric d = m / −2^(b−1) with m the element of largest |x| (Q4_0);
// asymmetric d = (hi − lo) / (2^b − 1), z = round(−lo / d) with lo = min(x, 0), hi = max(x, 0).
// `importance` (empty, or one finite weight ≥ 0 per element): the search minimizes
// Σ importance_i · (x_i − x̂_i)² instead of the plain squared error — with importance_i = E[a_i²]
// over the inputs a the layer sees, that is the expected squared error of the layer's output
// from this group (the diagonal of the inputs' second moments; kernels/quant/int4_calibration.h).
// Codes are still the nearest level for the chosen scale, so a 0 still maps to z.
// Throws std::invalid_argument for a bad width, size or value.
GroupParams quantize_group(std::span<const float> x, int bits, QuantScheme scheme,
                           ScaleSearch search, std::span<std::uint8_t> codes,
                           std::span<const float> importance = {});

// x̂ = half_to_float(scale) · float(code − zero_point): one rounding.
float dequantize_code(std::uint8_t code, GroupParams params);

// Σ (x − x̂)², in double: the quantity the search minimizes.
double group_squared_error(std::span<const float> x, std::span<const std::uint8_t> codes,
                           GroupParams params);

struct BlockQuantSpec {
  int bits = 4;         // 2, 3 or 4
  int group_size = 32;  // 32, 64 or 128
  QuantScheme scheme = QuantScheme::kSymmetric;
  ScaleSearch search = ScaleSearch::kSearch;
};

// Throws std::invalid_argument naming the field ("bits", "group_size") when it is out of range.
void check_block_quant_spec(const BlockQuantSpec& spec);

// A rows × cols ([out][in]) weight matrix in packed groups. Row r's codes are the
// padded_cols() codes at low[r · low_bytes_per_row() ...] (and high[...] for 3 bits); its
// group parameters are scales / zero_points[r · groups_per_row() + g].
struct BlockQuantMatrix {
  int rows = 0;
  int cols = 0;
  BlockQuantSpec spec;
  std::vector<std::uint8_t> low;          // rows × low_bytes_per_row()
  std::vector<std::uint8_t> high;         // rows × high_bytes_per_row(); 3 bits only
  std::vector<std::uint16_t> scales;      // rows × groups_per_row(), IEEE half
  std::vector<std::uint8_t> zero_points;  // rows × groups_per_row(); empty when symmetric

  int groups_per_row() const { return (cols + spec.group_size - 1) / spec.group_size; }
  int padded_cols() const { return groups_per_row() * spec.group_size; }
  std::size_t low_bytes_per_row() const;
  std::size_t high_bytes_per_row() const;
  GroupParams group(int row, int g) const;
  // The storage the kernels read: codes (padding included), scales, zero points.
  std::int64_t bytes() const;
};

// `importance`: empty, or one weight per input column (cols values), used by every group as
// quantize_group describes. Throws std::invalid_argument for a bad spec, rows or cols < 1, a
// size mismatch or a non-finite weight.
BlockQuantMatrix quantize_block_matrix(std::span<const float> weights, int rows, int cols,
                                       const BlockQuantSpec& spec,
                                       std::span<const float> importance = {});

// A matrix from codes chosen elsewhere (kernels/quant/int4_calibration.h's GPTQ): `codes` is rows ×
// padded_cols() with padding codes already set, `params` rows × groups_per_row(). Throws
// std::invalid_argument for a bad spec, a size mismatch or a code out of range.
BlockQuantMatrix pack_block_matrix(int rows, int cols, const BlockQuantSpec& spec,
                                   std::span<const std::uint8_t> codes,
                                   std::span<const GroupParams> params);

// rows × cols weights as the kernels see them (padding dropped).
std::vector<float> dequantize_block_matrix(const BlockQuantMatrix& matrix);

// What the int4 GEMM tiers read (kernels/gemm/gemm_lowbit.h): pointers into `matrix`, which must
// outlive the view.
LowbitWeightsView view_of(const BlockQuantMatrix& matrix);

}  // namespace lowbit::kernels
